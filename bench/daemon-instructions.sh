#!/usr/bin/env bash
# User-space instructions per probe of `sonda-agent run` (callgrind), 50 plain-HTTP checks (HTTPS
# with KIND=https) every 10 s with spooling, signing and reporting, against the raw C libcurl
# loop: a repeatable twin of agent-daemon.sh's CPU ratio, and a profile
# (.build-bench/daemon-callgrind.out, read it with callgrind_annotate --inclusive=yes) of where
# the daemon's own work goes. Kernel time is not
# counted, so the ratio is higher than the CPU one (the kernel's share, connect and close, is
# the same for both).
# Prints: daemon_instr_http (or _https)  agent_Kinstr_per_probe  floor_Kinstr_per_probe  ratio
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
command -v valgrind >/dev/null || { echo "daemon-instructions: valgrind not installed (apt-get install valgrind)" >&2; exit 1; }
AGENT=$(realpath -m "${SONDA_AGENT:-$ROOT/.build/release/sonda-agent}")
source "$ROOT/bench/daemon-lab.sh"
# valgrind gives up on the DWARF of Swift release builds; the symbol table is enough.
strip --strip-debug -o "$WORK/sonda-agent" "$AGENT"
AGENT=$WORK/sonda-agent
KIND=${KIND:-http}
if [ "$KIND" = https ]; then url="https://localhost:$(port tls13)/small.txt"; else url="http://localhost:$(port http)/small.txt"; fi
config "$url" 10s

cd "$WORK"
valgrind --tool=callgrind --instr-atstart=no --callgrind-out-file="$WORK/callgrind.out" \
  "$AGENT" run --config agent.yaml --listen 127.0.0.1:0 >agent.log 2>&1 &
pid=$!
metric() { curl -s "http://127.0.0.1:$(grep -o 'on port [0-9]*' agent.log | grep -o '[0-9]*$')/metrics" | awk '$1 == "sonda_probes_total" { print $2 }'; }
sleep 25  # start-up and the first round of probes, outside the count
probes0=$(metric)
callgrind_control -i on "$pid" >/dev/null
sleep "${SECONDS_MEASURED:-40}"
callgrind_control -i off "$pid" >/dev/null
probes1=$(metric)
kill -TERM "$pid"; wait "$pid" || true
cp "$WORK/callgrind.out" "$ROOT/.build-bench/daemon-callgrind.out"
agent=$(callgrind_annotate "$WORK/callgrind.out" 2>/dev/null | awk '/PROGRAM TOTALS/ { gsub(",", "", $1); print $1 }')

instructions() { valgrind --tool=callgrind --callgrind-out-file=/dev/null "$@" 2>&1 >/dev/null | awk '/refs:/ { gsub(",", "", $NF); print $NF }'; }
f1=$(instructions "$FLOOR" "$url" 40 "$WORK/lab/bundle.pem")
f2=$(instructions "$FLOOR" "$url" 120 "$WORK/lab/bundle.pem")
python3 -c "a=$agent/($probes1-$probes0)/1e3; f=($f2-$f1)/80/1e3; print(f'daemon_instr_$KIND {a:.1f} {f:.1f} {a/f:.2f}')"
