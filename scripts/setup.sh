#!/usr/bin/env bash
# Installs what fairmark needs on a Debian 12 machine with a Rust toolchain
# (rustup). Safe to run again: each step is skipped when already done.
set -euo pipefail

if ! command -v cargo >/dev/null 2>&1; then
    echo "fairmark needs a Rust toolchain (rustup, Rust ≥ 1.85): https://rustup.rs" >&2
    exit 1
fi

# C toolchain for crates with build scripts, and Mesa's lavapipe (a CPU
# Vulkan) so that the wgpu backend runs and is tested without a GPU.
SUDO=$([ "$(id -u)" -eq 0 ] && echo "" || echo "sudo")
if ! command -v cc >/dev/null 2>&1 || [ ! -e /usr/share/vulkan/icd.d/lvp_icd.x86_64.json ]; then
    $SUDO apt-get update -qq
    $SUDO apt-get install -y -qq build-essential pkg-config mesa-vulkan-drivers libvulkan1
fi

# Build outputs live outside the clone so that they survive fresh clones (CI).
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/fairmark-target}"
