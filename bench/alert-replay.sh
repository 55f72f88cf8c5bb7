#!/usr/bin/env bash
# The alert engine over a generated 30-day history (100 checks × 3 regions, one result per check
# per region per minute, injected outages, flapping and agent loss): SondaDown detection latency
# p95 (target: interval × for + evaluation period), true- and false-positive rates.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BIN=$(dirname "$(realpath -m "${SONDA_AGENT:-$ROOT/.build/release/sonda-agent}")")
"$BIN/alert-replay-bench" "${ALERT_REPLAY_DAYS:-30}" | tee /dev/stderr | awk '/^ROW / { print $2, $3, $4 }'
