#!/usr/bin/env bash
# fairmark against PyTorch eager, side by side on this machine: the same U-Net
# (width 16, depth 4, 10 keypoints), the same loss, Adam, the same shapes.
# Training step and inference, images/s and peak memory, one JSON line each
# in $OUT/speed.jsonl and a table in docs/results/speed.md.
#   bash experiments/speed.sh                       # 512², batch 8 (the issue's shapes)
#   BENCH_SIZE=256 BENCH_BATCH=4 bash experiments/speed.sh   # what a 2-core CPU manages
# PyTorch is installed into ~/.cache/fairmark-tools/torch-venv when missing.
source "$(dirname "$0")/common.sh"
BENCH_SIZE="${BENCH_SIZE:-512}"
BENCH_BATCH="${BENCH_BATCH:-8}"
BENCH_ITERS="${BENCH_ITERS:-5}"
BENCH_BACKENDS="${BENCH_BACKENDS:-cpu}"      # e.g. "wgpu" on a GPU machine
VENV="${TORCH_VENV:-$HOME/.cache/fairmark-tools/torch-venv}"
if ! "$VENV/bin/python" -c "import torch" 2>/dev/null; then
    python3 -m venv "$VENV"
    "$VENV/bin/pip" install -q torch numpy
fi
TORCH_DEVICE="${TORCH_DEVICE:-$("$VENV/bin/python" -c 'import torch; print("cuda" if torch.cuda.is_available() else "cpu")')}"
mkdir -p "$OUT"
log="$OUT/speed.jsonl"
: >"$log"
shape=(--size "$BENCH_SIZE" --batch "$BENCH_BATCH" --iters "$BENCH_ITERS" --warmup 2)
for mode in train infer; do
    for b in $BENCH_BACKENDS; do
        fm bench "$mode" --backend "$b" "${shape[@]}" | tail -1 >>"$log"
    done
    "$VENV/bin/python" bench/torch_unet.py "$mode" --device "$TORCH_DEVICE" "${shape[@]}" | tail -1 >>"$log"
done
python3 - "$log" "$ROOT/docs/results/speed.md" <<'PY'
import json, os, platform, sys
rows = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
cpu = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")), platform.processor())
out = [f"Machine: {os.cpu_count()} cores, {cpu}. Shapes: {rows[0]['size']}², batch {rows[0]['batch']}, "
       f"U-Net width {rows[0]['width']}, depth {rows[0]['depth']}, {rows[0]['keypoints']} keypoints, "
       f"{rows[0]['iters']} timed iterations after 2 warm-up ones.", "",
       "| step | implementation | device | images/s | peak host RSS MiB | ratio fairmark / torch |",
       "|---|---|---|---:|---:|---:|"]
for mode in ("train", "infer"):
    torch = next((r for r in rows if r["bench"] == mode and r["impl"] == "torch-eager"), None)
    for r in (r for r in rows if r["bench"] == mode):
        dev = r.get("backend") or r.get("device")
        ratio = f"{r['images_per_s'] / torch['images_per_s']:.2f}" if torch and r["impl"] != "torch-eager" else ""
        out.append(f"| {mode} | {r['impl']} | {dev} | {r['images_per_s']:.2f} | {r.get('peak_rss_mib') or 0:.0f} | {ratio} |")
os.makedirs(os.path.dirname(sys.argv[2]), exist_ok=True)
open(sys.argv[2], "w").write("\n".join(out) + "\n")
print("\n".join(out))
PY
