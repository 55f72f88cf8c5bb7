#!/usr/bin/env bash
# The 30-day budget query on PostgreSQL for budget-query.sh's simulated fleet (1 000 agents × 20
# checks × 3 profiles, rollups generated directly into the project's schema), timed alternately
# with SQLite's on the same rows in the same run: p50 and p95, target under 100 ms.
# Prints: pg_budget_query_30d_p50_ms, _p95_ms  value  sqlite  ratio  [<=100ms]
# Env: SONDA_AGENT (its folder holds the release builds); PG_COPIES (1): each day row that many
# times in PostgreSQL, as that many batches appending to a key leave it.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BIN=$(dirname "$(realpath -m "${SONDA_AGENT:-$ROOT/.build/release/sonda-agent}")")
WORK=$(mktemp -d)
. "$ROOT/bench/pg-cluster.sh"
trap pg_cleanup EXIT
pg_start
"$BIN/budget-query-bench" "$WORK/budget.sqlite" --postgres "$PG_URL" --pg-copies "${PG_COPIES:-1}" >"$WORK/out"
awk '/^#/ { print; next }
  $1 ~ /^budget_query_30d_p(50|95)_ms$/ { sqlite[$1] = $2 }
  $1 ~ /^pg_budget_query_30d_p(50|95)_ms$/ { pg[$1] = $2 }
  END {
    for (q = 50; q <= 95; q += 45) {
      name = "budget_query_30d_p" q "_ms"
      printf "pg_%s  %s  %s  %.2f%s\n", name, pg["pg_" name], sqlite[name], pg["pg_" name] / sqlite[name], (q == 95 ? "  <=100ms" : "")
    }
  }' "$WORK/out"
