#!/usr/bin/env bash
# Runs every test: formatting, the native test suite (release profile, shared
# with the demo and benchmarks so it is built once), the browser API in
# headless Chromium on WebGPU and on the CPU, and the page end to end.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/setup-browser.sh

cargo fmt --all -- --check
# The server builds on the model format alone: burn, cubecl and wgpu must not
# enter its dependency tree (docs/ARCHITECTURE.md).
if cargo tree -p fairmark-server -e normal --prefix none | grep -Eq '^(burn|cubecl|wgpu)'; then
    echo "fairmark-server depends on burn/cubecl/wgpu: see docs/ARCHITECTURE.md" >&2
    exit 1
fi
# setup.sh installed lavapipe: the wgpu tests must find an adapter.
FAIRMARK_REQUIRE_WGPU=1 cargo test --release --workspace
# wasm-bindgen-test in headless Chromium (webdriver.json adds --enable-unsafe-webgpu).
WASM_BINDGEN_TEST_TIMEOUT=600 cargo test --release -p fairmark --target wasm32-unknown-unknown --test web
bash scripts/build-web.sh
bash tests/e2e/run.sh
echo "fairmark: all tests passed"
