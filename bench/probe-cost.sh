#!/usr/bin/env bash
# CPU cost per probe: `sonda-agent probe --count N` vs a raw C libcurl loop (curl_floor),
# both doing N sequential fresh-connection GETs against a local tls-lab: HTTPS, HTTP, and HTTPS
# through tinyproxy on loopback (both sides through the same proxy, CONNECT to the same nginx;
# the proxy's own CPU is in neither).
# The two sides take turns, REPS times; the ratio is the median of each turn's agent ÷ floor, so a
# drift of the machine's speed between turns (tens of percent within a minute on this host)
# cancels instead of landing on one side. 25 turns: single turns through the proxy spread from
# 0.86 to 1.36, and the median of 9 moved from 1.02 to 1.18 between runs of one build.
# Prints: name  agent_ms_per_probe  floor_ms_per_probe  ratio  target (the ms are medians), and a
#         note with the turns' lowest and highest ratio.
# Env: SONDA_AGENT (default .build/release/sonda-agent), N_HTTPS (1000), N_HTTP (3000),
#      N_PROXY (1000), REPS (25), CELLS (names of the cells to run; all by default).
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
AGENT=$(realpath -m "${SONDA_AGENT:-$ROOT/.build/release/sonda-agent}")
[ -x "$AGENT" ] || { echo "probe-cost: agent binary $AGENT not found (swift build -c release --product sonda-agent)" >&2; exit 1; }

mkdir -p "$ROOT/.build-bench"
FLOOR=$ROOT/.build-bench/curl_floor
cc -O2 -o "$FLOOR" "$ROOT/bench/curl_floor.c" -lcurl

LAB=$(mktemp -d)
PROXY_PID=
trap '[ -n "$PROXY_PID" ] && kill "$PROXY_PID"; "$ROOT/scripts/tls-lab" stop "$LAB"; rm -rf "$LAB"' EXIT
"$ROOT/scripts/tls-lab" start "$LAB" >/dev/null
port() { python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["ports"][sys.argv[2]])' "$LAB/lab.json" "$1"; }

. "$ROOT/bench/loopback-proxy.sh"

# Sanity check (and warm-up): a few agent probes must all report ok (through the proxy, with a
# proxy phase).
check() { # url [--proxy PROXY]
  "$AGENT" probe "$@" --count 3 --ca-file "$LAB/bundle.pem" --json |
    python3 -c 'import json,sys; r=[json.loads(l) for l in sys.stdin if l.strip()]
sys.exit(not r or not all(x.get("ok") and ("proxy" in x["phases_ms"]) == (len(sys.argv) > 1) for x in r))' "${@:2}" ||
    { echo "probe-cost: agent probes of $* did not all succeed" >&2; exit 1; }
}
check "https://localhost:$(port tls13)/small.txt"
check "http://localhost:$(port http)/small.txt"
check "https://localhost:$(port tls13)/small.txt" --proxy "$PROXY"

python3 - "$FLOOR" "$AGENT" "$LAB/bundle.pem" "${REPS:-25}" "${CELLS:-}" \
  "probe_cpu_https https://localhost:$(port tls13)/small.txt ${N_HTTPS:-1000} 1.10" \
  "probe_cpu_http http://localhost:$(port http)/small.txt ${N_HTTP:-3000} 1.5" \
  "probe_cpu_https_proxy https://localhost:$(port tls13)/small.txt ${N_PROXY:-1000} 1.10 $PROXY" <<'EOF'
import resource, statistics, subprocess, sys

floor, agent, cafile, reps, cells = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]), sys.argv[5].split()

def cpu_ms(cmd):
    """User+sys CPU milliseconds of one child run (stdout discarded)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    rc = subprocess.run(cmd, stdout=subprocess.DEVNULL).returncode
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if rc != 0:
        sys.exit(f"probe-cost: exit {rc}: {' '.join(cmd)}")
    return 1000 * (after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime)

for spec in sys.argv[6:]:
    name, url, n, target, *proxy = spec.split()
    if cells and name not in cells:
        continue
    runs = {
        "floor": [floor] + (["-x", proxy[0]] if proxy else []) + [url, n, cafile],
        "agent": [agent, "probe", url, "--count", n, "--ca-file", cafile, "--json"]
        + (["--proxy", proxy[0]] if proxy else []),
    }
    cpu = {"floor": [], "agent": []}
    for rep in range(reps):  # in turns, alternating which side goes first
        for side in (("floor", "agent") if rep % 2 == 0 else ("agent", "floor")):
            cpu[side].append(cpu_ms(runs[side]))
    ratios = sorted(a / f for a, f in zip(cpu["agent"], cpu["floor"]))
    agent_ms, floor_ms = (statistics.median(cpu[s]) / int(n) for s in ("agent", "floor"))
    print(f"{name}  {agent_ms:.3f}  {floor_ms:.3f}  {statistics.median(ratios):.2f}  <={target}")
    print(f"# {name}: {reps} turns, agent ÷ floor {ratios[0]:.2f} – {ratios[-1]:.2f}", flush=True)
EOF
