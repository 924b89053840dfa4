#!/usr/bin/env bash
# The main job on the embedded default: synthesise a cephalometric phantom set
# with an adult/adolescent split, simulate predictions with a known bias, audit
# them and write the report and chart. Output: demo-out/ (or the first argument).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/setup.sh

cargo run --release --quiet --bin fairmark -- demo --out "${1:-demo-out}"
