#!/usr/bin/env bash
# CPU cost per probe: `sonda-agent probe --count N` vs a raw C libcurl loop (curl_floor),
# both doing N sequential fresh-connection GETs against a local tls-lab.
# Prints: name  agent_ms_per_probe  floor_ms_per_probe  ratio  target
# Env: SONDA_AGENT (default .build/release/sonda-agent), N_HTTPS (1000), N_HTTP (3000), REPS (5).
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
AGENT=$(realpath -m "${SONDA_AGENT:-$ROOT/.build/release/sonda-agent}")
[ -x "$AGENT" ] || { echo "probe-cost: agent binary $AGENT not found (swift build -c release --product sonda-agent)" >&2; exit 1; }

mkdir -p "$ROOT/.build-bench"
FLOOR=$ROOT/.build-bench/curl_floor
cc -O2 -o "$FLOOR" "$ROOT/bench/curl_floor.c" -lcurl

LAB=$(mktemp -d)
trap '"$ROOT/scripts/tls-lab" stop "$LAB"; rm -rf "$LAB"' EXIT
"$ROOT/scripts/tls-lab" start "$LAB" >/dev/null
port() { python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["ports"][sys.argv[2]])' "$LAB/lab.json" "$1"; }

# Sanity check (and warm-up): a few agent probes must all report ok.
for url in "https://localhost:$(port tls13)/small.txt" "http://localhost:$(port http)/small.txt"; do
  "$AGENT" probe "$url" --count 3 --ca-file "$LAB/bundle.pem" --json |
    python3 -c 'import json,sys; r=[json.loads(l) for l in sys.stdin if l.strip()]; sys.exit(not r or not all(x.get("ok") for x in r))' ||
    { echo "probe-cost: agent probes of $url did not all succeed" >&2; exit 1; }
done

python3 - "$FLOOR" "$AGENT" "$LAB/bundle.pem" "${REPS:-5}" \
  "probe_cpu_https https://localhost:$(port tls13)/small.txt ${N_HTTPS:-1000} 1.10" \
  "probe_cpu_http http://localhost:$(port http)/small.txt ${N_HTTP:-3000} 1.5" <<'EOF'
import resource, statistics, subprocess, sys

floor, agent, cafile, reps = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])

def cpu_ms(cmd):
    """User+sys CPU milliseconds of one child run (stdout discarded)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    rc = subprocess.run(cmd, stdout=subprocess.DEVNULL).returncode
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if rc != 0:
        sys.exit(f"probe-cost: exit {rc}: {' '.join(cmd)}")
    return 1000 * (after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime)

for spec in sys.argv[5:]:
    name, url, n, target = spec.split()
    runs = {
        "floor": [floor, url, n, cafile],
        "agent": [agent, "probe", url, "--count", n, "--ca-file", cafile, "--json"],
    }
    cpu = {"floor": [], "agent": []}
    for rep in range(reps):  # interleaved, alternating which side goes first
        for side in (("floor", "agent") if rep % 2 == 0 else ("agent", "floor")):
            cpu[side].append(cpu_ms(runs[side]))
    agent_ms, floor_ms = (statistics.median(cpu[s]) / int(n) for s in ("agent", "floor"))
    print(f"{name}  {agent_ms:.3f}  {floor_ms:.3f}  {agent_ms / floor_ms:.2f}  <={target}", flush=True)
EOF
