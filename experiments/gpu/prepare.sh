#!/usr/bin/env bash
# Builds, on the CPU machine, everything the GPU run (experiments/gpu/run.sh)
# takes along, into gpu-bundle/ (ignored by git; the device tool carries it):
#   bin/fairmark.xz  the stripped release binary (the GPU machine has no
#                  Rust), xz-compressed: 71 MiB stripped, 12 MiB packed;
#   debs/*.deb     the Vulkan loader (amd64), unpacked there when it has none;
#   data/          ISBI 2015 train (001–135), val (136–150) and Test1, 19
#                  landmarks, senior ground truth, box-averaged to 0.2 mm and
#                  stored as grey JPEG quality 80 (about 95 KB an image; the
#                  papers' 512-pixel-high input is 0.47 mm per pixel, so
#                  0.2 mm loses nothing the nets read).
# Then it checks that the bundle and the rest of the working tree fit the
# 64 MiB the device machine takes, and prints the sizes.
#   bash experiments/gpu/prepare.sh
# For tests: FAIRMARK=<binary> skips the build, DEBS=skip the download,
# SUBSET=N keeps N images per split.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$ROOT"
BUNDLE="${BUNDLE:-$ROOT/gpu-bundle}"
SHARED="${FAIRMARK_SHARED_DATA:-$ROOT/../shared/data}"
FACTOR="${FACTOR:-2}"
QUALITY="${QUALITY:-80}"
LIMIT_MIB="${LIMIT_MIB:-64}"
DEBS="${DEBS:-download}"
SUBSET="${SUBSET:-}"

if [ -z "${FAIRMARK:-}" ]; then
    source scripts/setup.sh
    cargo build --release --quiet -p fairmark --bin fairmark
    FAIRMARK="$CARGO_TARGET_DIR/release/fairmark"
fi
rm -rf "$BUNDLE"
mkdir -p "$BUNDLE/bin" "$BUNDLE/debs"
strip -o "$BUNDLE/bin/fairmark" "$FAIRMARK"
xz -6 -T2 "$BUNDLE/bin/fairmark"

if [ "$DEBS" != skip ]; then
    # The GPU machine is x86-64; on an x86-64 machine the system's package
    # lists serve, elsewhere amd64 lists are fetched into a scratch folder.
    if [ "$(dpkg --print-architecture)" = amd64 ]; then
        (cd "$BUNDLE/debs" && apt-get download libvulkan1)
    else
        lists=$(mktemp -d)
        o=(-oAPT::Architecture=amd64 -oAPT::Architectures=amd64 "-oDir::State::Lists=$lists")
        mkdir -p "$lists/partial"
        apt-get "${o[@]}" update -qq
        (cd "$BUNDLE/debs" && apt-get "${o[@]}" download libvulkan1)
    fi
fi

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
"$FAIRMARK" import isbi "$SHARED/isbi2015" --all-landmarks --val-fraction 0.1 \
    --test-set test1 --out "$tmp/full"
if [ -n "$SUBSET" ]; then
    awk -F, -v n="$SUBSET" 'NR == 1 || c[$2]++ < n' "$tmp/full/landmarks.csv" >"$tmp/l.csv"
    mv "$tmp/l.csv" "$tmp/full/landmarks.csv"
    awk -F, 'NR == FNR { keep[$1] = 1; next } FNR == 1 || keep[$1]' \
        "$tmp/full/landmarks.csv" "$tmp/full/attributes.csv" >"$tmp/a.csv"
    mv "$tmp/a.csv" "$tmp/full/attributes.csv"
fi
"$FAIRMARK" import reduce --data "$tmp/full" --out "$BUNDLE/data" --factor "$FACTOR" --quality "$QUALITY"

bundle=$(du -sb "$BUNDLE" | cut -f1)
tree=$(git ls-files -z --cached --others --exclude-standard | du -cb --files0-from=- 2>/dev/null | tail -1 | cut -f1)
total=$((bundle + tree))
mib() { awk -v b="$1" 'BEGIN { printf "%.1f MiB", b / 1048576 }'; }
echo "bundle: $(mib "$bundle") (binary $(mib "$(stat -c %s "$BUNDLE/bin/fairmark.xz")") packed, data $(mib "$(du -sb "$BUNDLE/data" | cut -f1)"))"
echo "working tree: $(mib "$tree"); together $(mib "$total") of $LIMIT_MIB MiB"
if [ "$total" -gt $((LIMIT_MIB * 1048576)) ]; then
    echo "too large for the device machine" >&2
    exit 1
fi
