#!/usr/bin/env bash
# Instructions per HTTPS probe (callgrind), agent vs the raw C libcurl loop, direct and through
# tinyproxy on loopback: a repeatable version of probe-cost.sh's CPU ratios, which this 2-core
# machine makes noisy. Each side runs twice (N1 and N2 probes); the difference divided by N2-N1
# cancels start-up, including the one-time parse of the CA bundle.
# Prints: name  agent_Minstr_per_probe  floor_Minstr_per_probe  ratio  target
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
AGENT=$(realpath -m "${SONDA_AGENT:-$ROOT/.build/release/sonda-agent}")
FLOOR=$ROOT/.build-bench/curl_floor
command -v valgrind >/dev/null || { echo "probe-instructions: valgrind not installed (apt-get install valgrind)" >&2; exit 1; }
mkdir -p "$ROOT/.build-bench"
# valgrind gives up on the DWARF of some Swift release builds ("possibly corrupted debuginfo");
# instruction counts do not need it.
strip --strip-debug -o "$ROOT/.build-bench/sonda-agent" "$AGENT"
AGENT=$ROOT/.build-bench/sonda-agent
cc -O2 -o "$FLOOR" "$ROOT/bench/curl_floor.c" -lcurl

LAB=$(mktemp -d)
PROXY_PID=
trap '[ -n "$PROXY_PID" ] && kill "$PROXY_PID"; "$ROOT/scripts/tls-lab" stop "$LAB"; rm -rf "$LAB"' EXIT
"$ROOT/scripts/tls-lab" start "$LAB" >/dev/null
. "$ROOT/bench/loopback-proxy.sh"
port=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["ports"]["tls13"])' "$LAB/lab.json")
url="https://localhost:$port/small.txt"
N1=${N1:-40}
N2=${N2:-120}

instructions() { # command… → total instructions executed
  valgrind --tool=callgrind --callgrind-out-file=/dev/null "$@" 2>&1 >/dev/null | awk '/refs:/ { gsub(",", "", $NF); print $NF }'
}
floor_run() { instructions "$FLOOR" "${@:2}" "$url" "$1" "$LAB/bundle.pem"; }
agent_run() { instructions "$AGENT" probe "$url" --count "$1" --ca-file "$LAB/bundle.pem" --json "${@:2}"; }

cell() { # name [proxy]: the floor takes -x PROXY, the agent --proxy PROXY
  local name=$1 floor_args=() agent_args=()
  [ $# -gt 1 ] && floor_args=(-x "$2") && agent_args=(--proxy "$2")
  python3 - "$name" "$(floor_run "$N1" "${floor_args[@]}")" "$(floor_run "$N2" "${floor_args[@]}")" \
    "$(agent_run "$N1" "${agent_args[@]}")" "$(agent_run "$N2" "${agent_args[@]}")" "$N1" "$N2" <<'PY'
import sys
name = sys.argv[1]
f1, f2, a1, a2, n1, n2 = map(int, sys.argv[2:])
floor = (f2 - f1) / (n2 - n1) / 1e6
agent = (a2 - a1) / (n2 - n1) / 1e6
print(f"{name} {agent:.3f} {floor:.3f} {agent / floor:.3f} <=1.10")
PY
}
cell probe_instr_https
cell probe_instr_https_proxy "$PROXY"
