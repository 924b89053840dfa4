#!/usr/bin/env bash
# Builds the browser package into www/pkg: the library for wasm32, then
# wasm-bindgen's ES-module glue (`--target web`). `FAIRMARK_WASM_OPT=1` also
# runs binaryen's wasm-opt (smaller download, a few minutes more).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/setup-browser.sh

cargo build --release -p fairmark --lib --target wasm32-unknown-unknown
wasm-bindgen --target web --out-dir www/pkg --out-name fairmark \
    "$CARGO_TARGET_DIR/wasm32-unknown-unknown/release/fairmark.wasm"
if [ "${FAIRMARK_WASM_OPT:-0}" = 1 ] && command -v wasm-opt >/dev/null 2>&1; then
    wasm-opt -O2 --enable-bulk-memory --enable-nontrapping-float-to-int \
        www/pkg/fairmark_bg.wasm -o www/pkg/fairmark_bg.wasm
fi
ls -l www/pkg/fairmark_bg.wasm | awk '{printf "www/pkg/fairmark_bg.wasm: %.1f MB\n", $5 / 1e6}'
