#!/usr/bin/env bash
# The status pages over a fleet-sized database (1 000 agents × 20 checks × 3 profiles, rollups
# generated directly): p95 time to render / (1h, 24h, 7d windows) and a check's page (1h, 24h),
# target under a second each.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BIN=$(dirname "$(realpath -m "${SONDA_AGENT:-$ROOT/.build/release/sonda-agent}")")
"$BIN/status-page-bench" | awk '/_p95_ms / { print $1, $2, $3 }'
