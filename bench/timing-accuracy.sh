#!/usr/bin/env bash
# Timing accuracy: probe /delay/50 (server waits 50 ms before answering) and report the
# median |phases_ms.wait - 50| over COUNT probes.
# Prints: timing_wait_error_ms  value  target
# Env: SONDA_AGENT (default .build/release/sonda-agent), COUNT (30).
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
AGENT=$(realpath -m "${SONDA_AGENT:-$ROOT/.build/release/sonda-agent}")
[ -x "$AGENT" ] || { echo "timing-accuracy: agent binary $AGENT not found (swift build -c release --product sonda-agent)" >&2; exit 1; }

LAB=$(mktemp -d)
trap '"$ROOT/scripts/tls-lab" stop "$LAB"; rm -rf "$LAB"' EXIT
"$ROOT/scripts/tls-lab" start "$LAB" >/dev/null
PORT=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["ports"]["tls13"])' "$LAB/lab.json")

"$AGENT" probe "https://localhost:$PORT/delay/50" --count "${COUNT:-30}" --ca-file "$LAB/ca.pem" --json >"$LAB/out.jsonl"

python3 - "$LAB/out.jsonl" "${COUNT:-30}" <<'EOF'
import json, statistics, sys
rows = [json.loads(line) for line in open(sys.argv[1]) if line.strip()]
if len(rows) != int(sys.argv[2]) or not all(r.get("ok") for r in rows):
    sys.exit(f"timing-accuracy: expected {sys.argv[2]} ok probes, got {sum(bool(r.get('ok')) for r in rows)} of {len(rows)}")
err = statistics.median(abs(r["phases_ms"]["wait"] - 50) for r in rows)
print(f"timing_wait_error_ms  {err:.3f}  <=1.0")
EOF
