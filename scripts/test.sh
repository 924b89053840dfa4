#!/usr/bin/env bash
# Runs every test: formatting, the native test suite (release profile, shared
# with the demo and benchmarks so it is built once) and the wasm32 library build.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/setup.sh

cargo fmt --all -- --check
# setup.sh installed lavapipe: the wgpu test must find an adapter.
FAIRMARK_REQUIRE_WGPU=1 cargo test --release --workspace
cargo build --release --lib --target wasm32-unknown-unknown
echo "fairmark: all tests passed"
