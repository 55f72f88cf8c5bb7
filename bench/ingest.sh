#!/usr/bin/env bash
# Ingest with durable acknowledgement: results/s that `sonda-aggregator serve` answers 200 for
# (signature checked, JSON decoded, one SQLite transaction per batch with rollups, fsync'd WAL),
# from 8 concurrent loopback senders posting batches of 500; and the ratio to a bare GRDB insert
# loop of the same rows (same file settings, no HTTP, no decoding, no rollups).
# Prints: ingest_results_per_s  value  >=50000;  ingest_ratio_to_bare_grdb  value
# Env: SONDA_AGGREGATOR, INGEST_BASELINE (release builds), BATCHES (160), SENDERS (8).
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
AGG=$(realpath -m "${SONDA_AGGREGATOR:-$ROOT/.build/release/sonda-aggregator}")
BASE=$(realpath -m "${INGEST_BASELINE:-$ROOT/.build/release/ingest-baseline}")
WORK=$(mktemp -d)
cleanup() {
  [ -f "$WORK/agg.pid" ] && kill "$(cat "$WORK/agg.pid")" 2>/dev/null || true
  rm -rf "$WORK"
}
trap cleanup EXIT
public=$(python3 - "$WORK/agent.key" <<'PY'
import base64, sys
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives import serialization as s
k = Ed25519PrivateKey.generate()
open(sys.argv[1], "w").write(base64.b64encode(k.private_bytes(s.Encoding.Raw, s.PrivateFormat.Raw, s.NoEncryption())).decode())
print("ed25519:" + base64.b64encode(k.public_key().public_bytes(s.Encoding.Raw, s.PublicFormat.Raw)).decode())
PY
)
cat >"$WORK/aggregator.yaml" <<YAML
listen: 127.0.0.1:0
database: sonda.sqlite
agents: [{id: bench, region: sao_paulo, public_key: "$public"}]
budgets: $ROOT/probes/budgets.yaml
YAML
"$AGG" serve --config "$WORK/aggregator.yaml" --port-file "$WORK/port" 2>"$WORK/agg.log" & echo $! >"$WORK/agg.pid"
for _ in $(seq 100); do [ -f "$WORK/port" ] && break; sleep 0.1; done
read -r acked seconds rate < <(python3 "$ROOT/bench/ingest-load.py" --port "$(cat "$WORK/port")" --key "$WORK/agent.key" \
  --senders "${SENDERS:-8}" --batches "${BATCHES:-160}" --rows-out "$WORK/rows.jsonl")
agg_pid=$(cat "$WORK/agg.pid")
cpu_ticks=$(awk '{print $14 + $15}' "/proc/$agg_pid/stat")
count=$(curl -s "http://127.0.0.1:$(cat "$WORK/port")/v1/agents" | python3 -c 'import json,sys; print(json.load(sys.stdin)["agents"][0]["results"])')
[ "$count" = "$acked" ] || { echo "acknowledged $acked but stored $count" >&2; exit 1; }
baseline=$("$BASE" "$WORK/base.sqlite" "$WORK/rows.jsonl")
echo "# $acked results acknowledged in ${seconds}s; bare GRDB loop: $baseline results/s"
# CPU time is steadier than wall time on a shared machine: the aggregator's user+system seconds
# per 100 000 results, start-up included.
python3 -c "import os; print('ingest_cpu_s_per_100k  %.2f' % ($cpu_ticks / os.sysconf('SC_CLK_TCK') * 100000 / $acked))"
printf 'ingest_results_per_s  %s  >=50000\n' "$rate"
python3 -c "print('ingest_ratio_to_bare_grdb  %.2f' % ($rate / $baseline))"
