#!/usr/bin/env bash
# Every training run of docs/RESULTS.md, most important first (each script
# skips runs whose report exists, so this resumes after a stop).
# About two and a half hours on 2 CPU cores at the default scale (96², 20 epochs).
set -euo pipefail
here="$(dirname "$0")"
bash "$here/table1-ceph.sh" balanced
IDFOPNET=1 bash "$here/fairness-protocol.sh" ceph
bash "$here/table2-hand.sh"
bash "$here/real-hand.sh"
bash "$here/fairness-protocol.sh" hand
ONLY_MAIN=1 bash "$here/table1-ceph.sh" imbalanced
ABLATIONS=1 bash "$here/table2-hand.sh"
