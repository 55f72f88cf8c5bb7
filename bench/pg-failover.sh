#!/usr/bin/env bash
# Failover on PostgreSQL: two `sonda-aggregator serve` replicas on one database, alerts evaluated
# every second by the one holding the lease, the evaluating replica killed with SIGKILL every
# KILL_EVERY seconds (and started again as the standby) while agents make alerts fire and resolve
# (bench/pg-failover.py). Prints the worst time from a kill to the other replica's takeover and to
# its first committed round, each against the time the lease still had to run at the kill (no
# replica may take over sooner), target 20 s; and the duplicate notifications a local webhook got,
# target 0.
# Prints: pg_failover_takeover_ms, pg_failover_first_round_ms  value  lease-left  ratio  <=20000ms;
#         pg_failover_duplicates  value  <=0;  pg_failover_lost  value
# Env: SONDA_AGGREGATOR (release build); DURATION (600 s), KILL_EVERY (120 s); SHORT=1 for a quick
# check (75 s, a kill every 25 s).
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
AGG=$(realpath -m "${SONDA_AGGREGATOR:-$ROOT/.build/release/sonda-aggregator}")
if [ "${SHORT:-0}" = 1 ]; then DURATION=${DURATION:-75} KILL_EVERY=${KILL_EVERY:-25}; fi
WORK=$(mktemp -d)
. "$ROOT/bench/pg-cluster.sh"
trap pg_cleanup EXIT
pg_start
# Not exec: the trap stops the replicas (by the pid files the script keeps) and the cluster.
python3 "$ROOT/bench/pg-failover.py" --aggregator "$AGG" --url "$PG_URL" --work "$WORK" \
  --duration "${DURATION:-600}" --kill-every "${KILL_EVERY:-120}"
