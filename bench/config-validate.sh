#!/usr/bin/env bash
# `validate` of a 500-check config set, in process: SondaConfig's whole load vs Yams alone, and
# the CLI's wall time for `sonda-agent validate` on the shipped probes/ for scale.
# Prints: config_validate_500_ms  sonda_ms  yams_ms  ratio  <=200 (the target is on sonda_ms).
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BIN=$(dirname "$(realpath -m "${SONDA_AGENT:-$ROOT/.build/release/sonda-agent}")")
[ -x "$BIN/config-bench" ] || { echo "config-validate: $BIN/config-bench not built (swift build -c release --product config-bench)" >&2; exit 1; }
"$BIN/config-bench" 500
