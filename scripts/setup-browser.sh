#!/usr/bin/env bash
# What the tests and the browser page need on top of scripts/setup.sh: the
# wasm32 target, Chromium and chromedriver, and wasm-bindgen's CLI. Kept apart
# so that the demo (the main job) never waits for them.
source "$(dirname "${BASH_SOURCE[0]}")/setup.sh"

# The library must also build for the browser.
if command -v rustup >/dev/null 2>&1 && ! rustup target list --installed | grep -qx wasm32-unknown-unknown; then
    rustup target add wasm32-unknown-unknown
fi

# Browser side: Debian's Chromium and its chromedriver for the wasm tests and
# the Playwright end-to-end test, and wasm-bindgen's CLI at exactly the
# version in Cargo.lock (its output must match the library's glue), installed
# once into a cache outside the clone.
if ! command -v chromium >/dev/null 2>&1 || ! command -v chromedriver >/dev/null 2>&1; then
    $SUDO apt-get update -qq
    $SUDO apt-get install -y -qq chromium chromium-driver
fi
FAIRMARK_TOOLS="${FAIRMARK_TOOLS:-$HOME/.cache/fairmark-tools}"
export PATH="$FAIRMARK_TOOLS/bin:$PATH"
WASM_BINDGEN_VERSION=$(grep -A1 '^name = "wasm-bindgen"$' "$(dirname "${BASH_SOURCE[0]}")/../Cargo.lock" | sed -n 's/^version = "\(.*\)"/\1/p')
if [ "$(wasm-bindgen --version 2>/dev/null | awk '{print $2}')" != "$WASM_BINDGEN_VERSION" ]; then
    echo "installing wasm-bindgen-cli $WASM_BINDGEN_VERSION (once; ~15 min on 2 cores)" >&2
    # Not --locked: one of its pinned dependencies is no longer on crates.io.
    cargo install --root "$FAIRMARK_TOOLS" wasm-bindgen-cli --version "$WASM_BINDGEN_VERSION"
fi
export CHROMEDRIVER="${CHROMEDRIVER:-$(command -v chromedriver)}"
