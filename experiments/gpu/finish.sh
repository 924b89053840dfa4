#!/usr/bin/env bash
# Back on the CPU machine, after experiments/gpu/run.sh: takes the folder the
# device tool returned (runs.tgz, bench.jsonl, summary.md, log.txt) and
#  1. writes the benchmark table, fairmark wgpu against PyTorch CUDA:
#     docs/results/gpu-bench.md (+ the JSON lines next to it);
#  2. unpacks the runs into experiments/out/runs/gpu-{coarse,c2f} and points
#     them at the full-resolution ISBI data of this machine;
#  3. compares the GPU-trained detector with the shipped models/isbi-unet-c2f
#     on the full-resolution validation images (ids 136–150): the choice is
#     made there, never on a test set;
#  4. only if it is better on validation: evaluates it once on Test1 (with
#     and without 173/283) and Test2 next to the human floor and publishes
#     it as models/$NAME with that table in its card.
#   bash experiments/gpu/finish.sh /work/.device/<files_at>
# MODELS=<dir> publishes elsewhere (tests); FORCE_PUBLISH=1 skips step 3's
# condition (not for real use).
source "$(dirname "$0")/../common.sh"
RESULTS="${1:?usage: finish.sh <folder returned by the GPU run>}"
NAME="${NAME:-isbi-unet-gpu}"
MODELS="${MODELS:-$ROOT/models}"
DOCS="${DOCS:-$ROOT/docs/results}"
REFERENCE_MODEL="${REFERENCE_MODEL:-$ROOT/models/isbi-unet-c2f}"
DATA="${DATA:-}"

mkdir -p "$DOCS"
if [ -f "$RESULTS/bench.jsonl" ]; then
    cp "$RESULTS/bench.jsonl" "$DOCS/gpu-bench.jsonl"
    python3 - "$RESULTS/bench.jsonl" "$DOCS/gpu-bench.md" <<'PY'
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
out = ["| step | implementation | device | images/s | peak GPU MiB | fairmark / torch |", "|---|---|---|---:|---:|---:|"]
for mode in ("train", "infer"):
    torch = next((r for r in rows if r["bench"] == mode and r["impl"] == "torch-eager" and "images_per_s" in r), None)
    for r in (r for r in rows if r["bench"] == mode):
        if "images_per_s" not in r:
            out.append(f"| {mode} | {r['impl']} | {r.get('skipped', '')} | | | |")
            continue
        ratio = f"{r['images_per_s'] / torch['images_per_s']:.2f}" if torch and r is not torch else ""
        peak = r.get("peak_gpu_mib")
        out.append(f"| {mode} | {r['impl']} | {r.get('backend') or r.get('device')} | {r['images_per_s']:.1f} | "
                   f"{'' if peak is None else f'{peak:.0f}'} | {ratio} |")
first = rows[0]
out.insert(0, f"Shapes: {first.get('size')}², batch {first.get('batch')}, U-Net width 16, depth 4, 10 keypoints.\n")
open(sys.argv[2], "w").write("\n".join(out) + "\n")
print("\n".join(out))
PY
fi

[ -f "$RESULTS/runs.tgz" ] || { echo "no runs.tgz in $RESULTS: nothing trained" >&2; exit 1; }
mkdir -p "$OUT/runs"
tar xzf "$RESULTS/runs.tgz" -C "$OUT/runs"
data="${DATA:-$(isbi isbi)}"
# The runs name the GPU machine's paths: point them at this machine's data
# (the same images at full resolution) and at the unpacked coarse run.
for r in gpu-coarse gpu-c2f; do
    [ -f "$OUT/runs/$r/run.json" ] || continue
    python3 - "$OUT/runs/$r/run.json" "$data" "$OUT/runs/gpu-coarse" <<'PY'
import json, sys
p, data, coarse = sys.argv[1:]
run = json.load(open(p))
run["data"] = data
if run.get("init_from"):
    run["init_from"] = coarse
json.dump(run, open(p, "w"), indent=2)
PY
done
[ -f "$OUT/runs/gpu-c2f/best.bpk" ] || { echo "the refiner run has no weights" >&2; exit 1; }

mre() {
    python3 -c 'import csv, math, sys
e = [math.hypot(float(r["x_pred"]) - float(r["x_true"]), float(r["y_pred"]) - float(r["y_true"])) * float(r["mm_per_px"]) for r in csv.DictReader(open(sys.argv[1]))]
print(f"{sum(e) / len(e):.4f}")' "$1"
}
mkdir -p "$OUT/gpu"
fm eval --model "$OUT/runs/gpu-c2f" --data "$data" --split val --no-attributes \
    --out "$OUT/gpu/gpu-val.csv" --backend "$BACKEND" >&2
fm eval --model "$REFERENCE_MODEL" --data "$data" --split val --no-attributes \
    --out "$OUT/gpu/reference-val.csv" --backend "$BACKEND" >&2
new=$(mre "$OUT/gpu/gpu-val.csv")
old=$(mre "$OUT/gpu/reference-val.csv")
echo "validation MRE: GPU-trained $new mm, $(basename "$REFERENCE_MODEL") $old mm" | tee "$OUT/gpu/decision.txt"
if ! awk -v a="$new" -v b="$old" 'BEGIN { exit !(a < b) }' && [ "${FORCE_PUBLISH:-0}" != 1 ]; then
    echo "not better on validation: not published (Test1 not looked at)" | tee -a "$OUT/gpu/decision.txt"
    exit 0
fi

mkdir -p "$OUT/tables"
rows=()
if [ -z "$DATA" ]; then
    isbi_test_rows gpu-c2f "GPU-trained coarse to fine"
    isbi_junior_rows
else
    # A given dataset (tests): its test split only.
    fm eval --model "$OUT/runs/gpu-c2f" --data "$data" --split test --no-attributes \
        --out "$OUT/gpu/gpu-test.csv" --backend "$BACKEND" >&2
    rows+=("GPU-trained coarse to fine=$OUT/gpu/gpu-test.csv")
fi
table="$OUT/tables/$NAME.md"
fm results accuracy --thresholds 2,2.5,3,4 --out "$table" "${rows[@]}" >/dev/null
fm publish "$OUT/runs/gpu-c2f" --name "$NAME" --models "$MODELS" \
    --evaluation "$table" --backend "$BACKEND" >&2
cat "$table"
echo "published $MODELS/$NAME" >&2
