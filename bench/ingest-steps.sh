#!/usr/bin/env bash
# What a PostgreSQL replica does to a batch of 500 before the database, step by step on one core
# (Benchmarks/IngestSteps): each step's µs per batch and its ratio to the signature check, which
# every batch pays whatever the code does. For work on bench/pg-ingest.sh's replica share, whose
# own figures are too noisy here to show a change of a few percent.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BIN=$(dirname "$(realpath -m "${SONDA_AGENT:-$ROOT/.build/release/sonda-agent}")")
"$BIN/ingest-steps" "${INGEST_STEPS_ROUNDS:-400}"
