#!/usr/bin/env bash
# One command for the browser page: builds the wasm package into www/pkg and
# serves the page, the package and models/ on http://127.0.0.1:8080 (or
# FAIRMARK_BIND). Images are processed in the browser, never uploaded.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/build-web.sh
source scripts/setup.sh
exec cargo run --release -p fairmark-server -- \
    --bind "${FAIRMARK_BIND:-127.0.0.1:8080}" --www www --pkg www/pkg --models models "$@"
