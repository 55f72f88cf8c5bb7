#!/usr/bin/env bash
# Ingest on PostgreSQL with two replicas: results/s that two `sonda-aggregator serve` processes on
# one database answer 200 for (signature checked, JSON decoded, one transaction per batch with the
# results, their minute rollups, the heartbeat and the audit entry; fsync on, so a 200 is durable;
# the CPU figures include the lease holder adding the rollups up into hours and days and its alert
# evaluator reading every result), from
# 8 signed loopback senders (8 agents, one per sender) posting batches of 500, half of them to each
# replica; and the ratio to a bare postgres-nio loop (Benchmarks/PostgresIngestBaseline) writing
# the same rows into the same schema with the same UNNEST clauses (without a batch id), 500 rows
# (BATCH) a transaction, on as many connections as there are senders, in another database of the server.
# Prints: pg_ingest_results_per_s  value  baseline  ratio  >=0.6;
#         pg_ingest_cpu_s_per_100k  replicas+server  bare-loop+server  ratio
#         and the CPU each side spent in its timed window alone (ingest's rollup mover and alert
#         evaluator go on after it), which is what the rate is bound by on these shared cores.
# Env: SONDA_AGGREGATOR, PG_INGEST_BASELINE (release builds), BATCHES (480, over all rounds),
#      ROUNDS (4: the two sides take turns), SENDERS (8), BATCH (500 results a batch, and rows a
#      transaction for the loop; an agent reporting as it probes sends a few: BATCH=4 BATCHES=20000),
#      CORES=split (the server on the first core, everything else on the second: as deployed, where
#      replicas do not take the database's CPU; needs 2 cores).
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
AGG=$(realpath -m "${SONDA_AGGREGATOR:-$ROOT/.build/release/sonda-aggregator}")
BASE=$(realpath -m "${PG_INGEST_BASELINE:-$(dirname "$AGG")/postgres-ingest-baseline}")
SENDERS=${SENDERS:-8}
BATCH=${BATCH:-500}
WORK=$(mktemp -d)
. "$ROOT/bench/pg-cluster.sh"
trap pg_cleanup EXIT
TEST_POSTGRES_FSYNC=on pg_start
client=()
if [ "${CORES:-}" = split ]; then
  # The postmaster's children inherit its core; the replicas, senders and loop take the other.
  master=$(head -1 "$PG_DIR/data/postmaster.pid")
  for pid in "$master" $(pgrep -P "$master"); do taskset -a -p -c 0 "$pid" >/dev/null; done
  client=(taskset -c 1)
fi
# One agent per sender, as a fleet has: an agent sends its batches one after the other.
keys=()
{
  echo "listen: 127.0.0.1:0"
  echo "database: \"$PG_URL\""
  echo "budgets: $ROOT/probes/budgets.yaml"
  echo "agents:"
  for k in $(seq 0 $((SENDERS - 1))); do
    echo "  - {id: bench-$k, region: sao_paulo, public_key: \"$(pg_agent_key "$WORK/agent$k.key")\"}"
    keys+=(--key "$WORK/agent$k.key")
  done
} >"$WORK/aggregator.yaml"
# One replica first, so the second finds the schema migrated (they would take turns anyway).
for r in 1 2; do
  pg_spawn "agg$r" "${client[@]}" "$AGG" serve --config "$WORK/aggregator.yaml" --port-file "$WORK/port$r"
  for _ in $(seq 300); do [ -s "$WORK/port$r" ] && break; sleep 0.1; done
  [ -s "$WORK/port$r" ] || { cat "$WORK/agg$r.log" >&2; exit 1; }
done
ports="$(cat "$WORK/port1"),$(cat "$WORK/port2")"
# The two sides take turns, ROUNDS times: the host's speed drifts by tens of percent within a
# minute here, and a drift then slows both sides alike instead of one.
rounds=${ROUNDS:-4}
per_round=$((${BATCHES:-480} / rounds))
round_ratios=""
acked=0 seconds=0 cpu_ticks=0 server_ingest=0 baseline_results=0 baseline_seconds=0 client_cpu=0 server_baseline=0
window_replicas=0 window_server=0
replica_ticks() {
  local r total=0
  for r in 1 2; do total=$((total + $(awk '{print $14 + $15}' "/proc/$(cat "$WORK/agg$r.pid")/stat"))); done
  echo $total
}
# wait_until_none WHAT QUERY: polls QUERY (true while work is left) every 0.5 s, as each poll is
# server CPU counted against ingest; gives up after 60 s saying WHAT.
wait_until_none() {
  local left
  for _ in $(seq 120); do
    left=$(psql "$PG_URL" -qAtc "$2")
    [ "$left" = f ] && return 0
    sleep 0.5
  done
  echo "$1 within 60 s" >&2
  exit 1
}
for round in $(seq "$rounds"); do
  server_before=$(pg_server_cpu_ticks) replicas_before=$(replica_ticks)
  read -r n s _ < <("${client[@]}" python3 "$ROOT/bench/ingest-load.py" --ports "$ports" "${keys[@]}" \
    --senders "$SENDERS" --batch "$BATCH" --batches "$per_round" --rows-out "$WORK/rows.jsonl")
  window_replicas=$((window_replicas + $(replica_ticks) - replicas_before))
  window_server=$((window_server + $(pg_server_cpu_ticks) - server_before))
  # The lease holder moves ingest's pending rollup rows every 5 s (adding up hours and days), and
  # its alert evaluator reads every new result (page after page while behind): that work is part
  # of ingest's cost, so the CPU figures wait for both.
  wait_until_none "pending rollup rows were not moved" \
    "SELECT EXISTS (SELECT 1 FROM latency_pending) OR EXISTS (SELECT 1 FROM outcome_pending)"
  wait_until_none "the alert evaluator had not read every result" \
    "SELECT EXISTS (SELECT 1 FROM results WHERE ingest_xid >
       coalesce((SELECT value FROM alert_cursor WHERE name = 'results'), 0)::text::xid8)"
  cpu_ticks=$((cpu_ticks + $(replica_ticks) - replicas_before))
  server_ingest=$((server_ingest + $(pg_server_cpu_ticks) - server_before))
  acked=$((acked + n)) seconds=$(python3 -c "print(round($seconds + $s, 3))")
  # The same rows into a database of their own, by the bare loop.
  psql "$PG_URL" -qc "CREATE DATABASE baseline$round"
  server_before=$(pg_server_cpu_ticks)
  read -r rate cpu < <("${client[@]}" "$BASE" "${PG_URL%/*}/baseline$round" "$WORK/rows.jsonl" "$SENDERS" "$BATCH")
  sleep 0.5  # the loop's backends exit and are reaped
  server_baseline=$((server_baseline + $(pg_server_cpu_ticks) - server_before))
  read -r baseline_results baseline_seconds client_cpu round_ratio < <(python3 -c "
print($baseline_results + $n, $baseline_seconds + $n / $rate, $client_cpu + $cpu, '%.2f' % ($n / $s / $rate))")
  round_ratios+=" $round_ratio"
done
count=$(curl -s "http://127.0.0.1:$(cat "$WORK/port2")/v1/agents" | python3 -c 'import json,sys; print(sum(a["results"] for a in json.load(sys.stdin)["agents"]))')
[ "$count" = "$acked" ] || { echo "acknowledged $acked but stored $count" >&2; exit 1; }
pg_stop agg1
pg_stop agg2
psql "$PG_URL" -qc "CREATE DATABASE baseline_one"
read -r single _ < <("${client[@]}" "$BASE" "${PG_URL%/*}/baseline_one" "$WORK/rows.jsonl" 1 "$BATCH")
rate=$(python3 -c "print(round($acked / $seconds))")
baseline=$(python3 -c "print(round($baseline_results / $baseline_seconds))")
echo "# $acked results in batches of $BATCH acknowledged in ${seconds}s by 2 replicas over $rounds rounds; bare postgres-nio loop: $baseline results/s on $SENDERS connections, $single on 1"
echo "# each round's ratio:$round_ratios"
# CPU time is steadier than wall time on a shared machine: per 100 000 results, the replicas' and the
# server's under ingest, against the bare loop's (inserting only) and the server's.
python3 - <<PY
import os
t = os.sysconf("SC_CLK_TCK") / 100000 * $acked
full, bare = ($cpu_ticks + $server_ingest) / t, $client_cpu * 100000 / $acked + $server_baseline / t
print("# CPU-s per 100 000 results: replicas %.2f + server %.2f; bare loop %.2f + server %.2f"
      % ($cpu_ticks / t, $server_ingest / t, $client_cpu * 100000 / $acked, $server_baseline / t))
print("# of which in ingest's timed window: replicas %.2f + server %.2f"
      % ($window_replicas / t, $window_server / t))
# The server does the same work for a result in every run, while this host's speed moves by a
# fifth between runs: the replicas' CPU per server CPU compares replica binaries across runs.
print("# replicas' CPU per server CPU in the window: %.3f" % ($window_replicas / max($window_server, 1)))
print("pg_ingest_cpu_s_per_100k  %.2f  %.2f  %.2f" % (full, bare, full / bare))
print("pg_ingest_results_per_s  %s  %s  %.2f  >=0.6" % ($rate, $baseline, $rate / $baseline))
PY
