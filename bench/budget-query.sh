#!/usr/bin/env bash
# The 30-day budget query for a simulated fleet (1 000 agents × 20 checks × 3 profiles, rollups
# generated directly): p95 latency of the query, target under 50 ms.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BIN=$(dirname "$(realpath -m "${SONDA_AGENT:-$ROOT/.build/release/sonda-agent}")")
"$BIN/budget-query-bench" | awk '/^budget_query_30d_p95_ms/ { print $1, $2, "<=50ms" }'
