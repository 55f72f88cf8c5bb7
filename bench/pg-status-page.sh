#!/usr/bin/env bash
# The status pages on PostgreSQL for status-page.sh's fleet-sized database (1 000 agents × 20
# checks × 3 profiles, rollups generated directly into the project's schema), each page timed
# alternately with SQLite's on the same rows in the same run: p95 (the slowest of 12) of / (1h,
# 24h, 7d windows) and a check's page (1h, 24h), target under a second each.
# Prints: pg_<page>_p95_ms  value  sqlite  ratio  <=1000ms
# Env: SONDA_AGENT (its folder holds the release builds); PG_COPIES (1): each latency row that many
# times in PostgreSQL, as that many batches appending to a key leave it.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BIN=$(dirname "$(realpath -m "${SONDA_AGENT:-$ROOT/.build/release/sonda-agent}")")
WORK=$(mktemp -d)
. "$ROOT/bench/pg-cluster.sh"
trap pg_cleanup EXIT
pg_start
"$BIN/status-page-bench" "$WORK/status.sqlite" --postgres "$PG_URL" --pg-copies "${PG_COPIES:-1}" >"$WORK/out"
awk '/^# [0-9]/ { print; next }
  /_p95_ms / && $1 !~ /^pg_/ { order[++n] = $1; sqlite[$1] = $2 }
  /^pg_.*_p95_ms / { pg[substr($1, 4)] = $2 }
  END { for (i = 1; i <= n; i++) printf "pg_%s  %s  %s  %.2f  <=1000ms\n", order[i], pg[order[i]], sqlite[order[i]], pg[order[i]] / sqlite[order[i]] }' "$WORK/out"
