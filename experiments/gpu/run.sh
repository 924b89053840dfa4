#!/usr/bin/env bash
# The one prepared run on a lent GPU machine (docs/GPU.md). It runs there from
# the repository root, with gpu-bundle/ carried (experiments/gpu/prepare.sh
# builds it here), and writes everything into $OUT (the device tool brings it
# back): at most 8 files, none over 16 MiB.
#
#   run(command="bash experiments/gpu/run.sh", carry=["gpu-bundle"], timeout_s=420)
#
# Steps, each logged; a failed step is recorded and the rest still run, so a
# partial result still comes back:
#  1. Vulkan loader from the bundle when the machine has none; the adapter
#     wgpu takes is printed and must be a GPU (not a CPU Vulkan such as
#     lavapipe) for the training steps to run;
#  2. `fairmark bench train|infer --backend wgpu` and bench/torch_unet.py on
#     CUDA at the same shapes (512², batch 8): images/s and peak GPU memory
#     (sampled with nvidia-smi for both), one JSON line each: bench.jsonl;
#  3. the real cephalogram detector at the papers' scale (512 pixels high,
#     416×512 for the 1935×2400 radiographs): coarse U-Net for
#     COARSE_MINUTES, then the refiner for REFINE_MINUTES; seeded, and
#     resumed if the machine is still warm from an earlier call;
#  4. the new detector and the CPU-trained one (models/isbi-unet-c2f) on the
#     bundle's validation and Test1 images (0.2 mm copies), one table:
#     summary.md. Whether to publish is decided afterwards on validation
#     (experiments/gpu/finish.sh), never on Test1;
#  5. runs.tgz: both runs' configs, best weights and logs.
#
# DRY_RUN=1 runs every step at toy sizes on whatever adapter exists (lavapipe
# here); tests/gpu_run.rs does that with a small bundle.
set -uo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$ROOT"
BUNDLE="${BUNDLE:-$ROOT/gpu-bundle}"
OUT="${OUT:-$ROOT/experiments/out/gpu}"
WORK="${WORK:-/tmp/fairmark-gpu}"
DRY_RUN="${DRY_RUN:-0}"
if [ "$DRY_RUN" = 1 ]; then
    BENCH_SIZE="${BENCH_SIZE:-32}" BENCH_BATCH="${BENCH_BATCH:-2}" BENCH_ITERS="${BENCH_ITERS:-1}"
    COARSE_W="${COARSE_W:-64}" COARSE_H="${COARSE_H:-80}" COARSE_WIDTH="${COARSE_WIDTH:-4}"
    COARSE_EPOCHS="${COARSE_EPOCHS:-1}" REFINE_EPOCHS="${REFINE_EPOCHS:-1}"
    REFINE_WIDTH="${REFINE_WIDTH:-4}" PATCH="${PATCH:-16}"
    # lavapipe compiles every kernel on the CPU: evaluate on flex instead.
    EVAL_BACKEND="${EVAL_BACKEND:-cpu}"
fi
EVAL_BACKEND="${EVAL_BACKEND:-wgpu}"
BENCH_SIZE="${BENCH_SIZE:-512}"
BENCH_BATCH="${BENCH_BATCH:-8}"
BENCH_ITERS="${BENCH_ITERS:-10}"
COARSE_W="${COARSE_W:-416}"
COARSE_H="${COARSE_H:-512}"
COARSE_WIDTH="${COARSE_WIDTH:-16}"
COARSE_EPOCHS="${COARSE_EPOCHS:-150}"   # the papers' count; the time limit ends it sooner
COARSE_MINUTES="${COARSE_MINUTES:-2.5}"
PATCH="${PATCH:-64}"
ZOOM="${ZOOM:-2}"                        # 0.47 mm coarse pixels → 0.23 mm patch pixels
REFINE_WIDTH="${REFINE_WIDTH:-16}"
REFINE_EPOCHS="${REFINE_EPOCHS:-100}"
REFINE_MINUTES="${REFINE_MINUTES:-1.5}"
SEED="${SEED:-0}"
REFERENCE_MODEL="${REFERENCE_MODEL:-$ROOT/models/isbi-unet-c2f}"
DATA="$BUNDLE/data"

mkdir -p "$OUT" "$WORK"
exec > >(tee -a "$OUT/log.txt") 2>&1
if [ -z "${FAIRMARK:-}" ]; then
    # xz where it exists, else Python's lzma (the GPU machine has Python).
    FAIRMARK="$WORK/fairmark"
    xz -dc "$BUNDLE/bin/fairmark.xz" >"$FAIRMARK" 2>/dev/null \
        || python3 -c 'import lzma, shutil, sys; shutil.copyfileobj(lzma.open(sys.argv[1]), open(sys.argv[2], "wb"))' \
            "$BUNDLE/bin/fairmark.xz" "$FAIRMARK"
    chmod +x "$FAIRMARK"
fi
T0=$SECONDS
failed=()
step() { echo; echo "== [$((SECONDS - T0)) s] $*"; }
fail() { echo "!! $*"; failed+=("$*"); }
fm() { "$FAIRMARK" "$@"; }

step "1. machine and adapter"
uname -a
nproc
# ldconfig lives in /sbin, which a non-login PATH may lack.
PATH="$PATH:/sbin:/usr/sbin"
if ! ldconfig -p 2>/dev/null | grep -q 'libvulkan\.so\.1'; then
    if [ "$(id -u)" = 0 ] && ls "$BUNDLE"/debs/*.deb >/dev/null 2>&1; then
        for f in "$BUNDLE"/debs/*.deb; do dpkg -x "$f" /; done
        ldconfig
        echo "Vulkan loader unpacked from the bundle"
    else
        fail "no Vulkan loader and none to unpack"
    fi
fi
nvidia_icd=/usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json
if [ -z "${VK_DRIVER_FILES:-}" ] && [ -f "$nvidia_icd" ] \
    && ! ls /usr/share/vulkan/icd.d/nvidia* /etc/vulkan/icd.d/nvidia* >/dev/null 2>&1; then
    export VK_DRIVER_FILES="$nvidia_icd"
    echo "VK_DRIVER_FILES=$VK_DRIVER_FILES"
fi
have_nvsmi=0
if command -v nvidia-smi >/dev/null; then
    have_nvsmi=1
    nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader
fi
"$FAIRMARK" --version || fail "the bundled fairmark does not start"

# GPU memory in MiB, sampled every 100 ms while a command runs: the peak
# above what was in use before it started (the same measure for both
# implementations; torch's own allocator figure is kept in its JSON too).
with_peak() {
    local log="$WORK/mem.txt"
    if [ "$have_nvsmi" = 0 ]; then
        "$@"
        PEAK=null
        return
    fi
    local base
    base=$(nvidia-smi --query-gpu=memory.used --format=csv,noheader,nounits | head -1)
    nvidia-smi --query-gpu=memory.used --format=csv,noheader,nounits -lms 100 >"$log" &
    local pid=$!
    "$@"
    local rc=$?
    kill "$pid" 2>/dev/null
    wait "$pid" 2>/dev/null
    PEAK=$(awk -v b="$base" 'BEGIN { m = b } $1 > m { m = $1 } END { print m - b }' "$log")
    return $rc
}

step "2. benchmarks: fairmark wgpu and PyTorch eager, ${BENCH_SIZE}², batch $BENCH_BATCH"
bench_log="$OUT/bench.jsonl"
: >"$bench_log"
shape=(--size "$BENCH_SIZE" --batch "$BENCH_BATCH" --iters "$BENCH_ITERS" --warmup 2 --width 16 --depth 4 --keypoints 10)
adapter=""
for mode in train infer; do
    line="$WORK/fm-$mode.json"
    rm -f "$line"
    if with_peak fm bench "$mode" --backend wgpu "${shape[@]}" --json "$line" && [ -f "$line" ]; then
        python3 -c 'import json,sys; r=json.load(open(sys.argv[1])); r["peak_gpu_mib"]=None if sys.argv[2]=="null" else float(sys.argv[2]); print(json.dumps(r))' \
            "$line" "$PEAK" >>"$bench_log"
        adapter=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["backend"])' "$line")
    else
        fail "fairmark bench $mode"
    fi
    if python3 -c 'import torch' 2>/dev/null; then
        device=$(python3 -c 'import torch; print("cuda" if torch.cuda.is_available() else "cpu")')
        if with_peak python3 bench/torch_unet.py "$mode" --device "$device" "${shape[@]}" >"$WORK/torch-$mode.txt"; then
            tail -1 "$WORK/torch-$mode.txt" | python3 -c 'import json,sys; r=json.loads(sys.stdin.read()); r["peak_gpu_mib"]=None if sys.argv[1]=="null" else float(sys.argv[1]); print(json.dumps(r))' \
                "$PEAK" >>"$bench_log"
            head -n -1 "$WORK/torch-$mode.txt"
        else
            fail "torch bench $mode"
        fi
    else
        echo "{\"bench\": \"$mode\", \"impl\": \"torch-eager\", \"skipped\": \"python3 has no torch\"}" >>"$bench_log"
    fi
done
echo "adapter: ${adapter:-none}"
on_gpu=1
case "$adapter" in
    *DiscreteGpu* | *IntegratedGpu* | *VirtualGpu*) ;;
    *) on_gpu=0 ;;
esac
if [ "$on_gpu" = 0 ] && [ "$DRY_RUN" != 1 ]; then
    fail "wgpu did not take a GPU (adapter: ${adapter:-none}); training skipped"
fi

step "3. training on $DATA: coarse ${COARSE_W}×${COARSE_H}, then the refiner"
coarse="$WORK/runs/gpu-coarse"
fine="$WORK/runs/gpu-c2f"
train() {
    local run=$1
    shift
    local resume=()
    [ -f "$run/state.json" ] && resume=(--resume)
    fm train --data "$DATA" --out "$run" --backend wgpu --seed "$SEED" --sigma 2 "${resume[@]}" "$@"
}
if [ "$on_gpu" = 1 ] || [ "$DRY_RUN" = 1 ]; then
    t=$SECONDS
    train "$coarse" --method unet --size "$COARSE_W" --height "$COARSE_H" --width "$COARSE_WIDTH" \
        --depth 4 --batch 8 --lr 3e-3 --epochs "$COARSE_EPOCHS" --max-minutes "$COARSE_MINUTES" \
        || fail "coarse training"
    echo "coarse stage: $((SECONDS - t)) s"
    t=$SECONDS
    train "$fine" --method refine --init "$coarse" --patch "$PATCH" --zoom "$ZOOM" \
        --width "$REFINE_WIDTH" --depth 3 --batch 16 --lr 3e-3 --epochs "$REFINE_EPOCHS" \
        --max-minutes "$REFINE_MINUTES" || fail "refiner training"
    echo "refiner: $((SECONDS - t)) s"
fi

step "4. validation and Test1 (0.2 mm copies): the new detector and $(basename "$REFERENCE_MODEL")"
rows=()
for split in val test; do
    for m in "gpu-c2f=$fine" "cpu-c2f=$REFERENCE_MODEL"; do
        name=${m%%=*} model=${m#*=}
        [ -e "$model" ] || continue
        csv="$WORK/$name-$split.csv"
        if fm eval --model "$model" --data "$DATA" --split "$split" --out "$csv" \
            --no-attributes --backend "$EVAL_BACKEND"; then
            rows+=("$name $split=$csv")
        else
            fail "eval $name $split"
        fi
    done
done
if [ "${#rows[@]}" -gt 0 ]; then
    fm results accuracy --thresholds 2,2.5,3,4 --out "$OUT/summary.md" "${rows[@]}" \
        || fail "results table"
fi

step "5. packing"
if [ -d "$fine" ] || [ -d "$coarse" ]; then
    (cd "$WORK/runs" && tar czf "$OUT/runs.tgz" \
        $(for r in gpu-coarse gpu-c2f; do for f in run.json best.bpk log.jsonl; do
            [ -f "$r/$f" ] && echo "$r/$f"; done; done)) || fail "packing the runs"
fi
{
    echo
    echo "adapter: ${adapter:-none}"
    echo "wall time: $((SECONDS - T0)) s"
    echo "failed steps: ${#failed[@]}"
    for f in "${failed[@]}"; do echo "- $f"; done
} | tee -a "$OUT/summary.md"
ls -l "$OUT"
[ "${#failed[@]}" = 0 ]
