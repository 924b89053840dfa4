# Shared settings and helpers of the experiment scripts (sourced, not run).
#
# Scale: the papers train at 512² for 150 epochs on an H100. Without a GPU the
# same protocol runs at a smaller input and fewer epochs; every table in
# docs/RESULTS.md names the scale it was run at. Override with the variables
# below (e.g. SIZE=512 EPOCHS=150 BACKEND=wgpu on a GPU machine).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/fairmark-target}"

OUT="${OUT:-$ROOT/experiments/out}"       # runs, predictions, reports (not committed)
SIZE="${SIZE:-96}"                        # model input (papers: 512)
EPOCHS="${EPOCHS:-20}"                    # training epochs (papers: 150)
DRO_EPOCHS="${DRO_EPOCHS:-8}"             # GroupDRO fine-tuning epochs
DRO_LR="${DRO_LR:-3e-4}"                  # GroupDRO fine-tuning learning rate
WIDTH="${WIDTH:-8}"                       # U-Net width of the first level
DEPTH="${DEPTH:-4}"
BATCH="${BATCH:-8}"
LR="${LR:-3e-3}"
SIGMA="${SIGMA:-2}"
BACKEND="${BACKEND:-cpu}"
ROUNDS="${ROUNDS:-1000}"                  # randomisation / permutation rounds
N_PHANTOMS="${N_PHANTOMS:-600}"           # 300 train, 60 val, 240 test
SPLIT="${SPLIT:-0.5,0.1,0.4}"

if [ -z "${FAIRMARK:-}" ]; then
    cargo build --release --quiet --bin fairmark
    FAIRMARK="$CARGO_TARGET_DIR/release/fairmark"
fi
fm() { "$FAIRMARK" "$@"; }

# phantoms KIND SEED NAME [--groups …]: a phantom set under $OUT/data/NAME (once).
phantoms() {
    local kind=$1 seed=$2 name=$3
    shift 3
    local dir="$OUT/data/$name"
    if [ ! -f "$dir/dataset.json" ]; then
        fm synth dataset --kind "$kind" --n "$N_PHANTOMS" --seed "$seed" \
            --split "$SPLIT" --out "$dir" "$@" >&2
    fi
    echo "$dir"
}

# isbi NAME [import options…]: the ISBI 2015 cephalograms of
# ../shared/data/isbi2015 as a fairmark dataset under $OUT/data/NAME (once;
# all 19 landmarks, senior ground truth, ids 136–150 as validation).
SHARED="${FAIRMARK_SHARED_DATA:-$ROOT/../shared/data}"
isbi() {
    local name=$1
    shift
    local dir="$OUT/data/$name"
    if [ ! -f "$dir/dataset.json" ]; then
        fm import isbi "$SHARED/isbi2015" --all-landmarks --val-fraction 0.1 \
            --out "$dir" "$@" >&2
    fi
    echo "$dir"
}

# train_eval DATA NAME METHOD SEED [train options…]: trains $OUT/runs/NAME
# (skipped when its report exists, so a stopped script resumes), evaluates
# it on the test split and audits it: $OUT/runs/NAME/{predictions.csv,report.json}.
train_eval() {
    local data=$1 name=$2 method=$3 seed=$4
    shift 4
    local run="$OUT/runs/$name"
    if [ -f "$run/report.json" ]; then
        echo "== $name: done (delete $run to redo)" >&2
        return
    fi
    local epochs=$EPOCHS lr=$LR
    if [ "$method" = groupdro ]; then epochs=$DRO_EPOCHS lr=$DRO_LR; fi
    echo "== $name: $method, seed $seed, ${SIZE}², $epochs epochs, $BACKEND" >&2
    local resume=()
    [ -f "$run/state.json" ] && resume=(--resume)
    local t0=$SECONDS
    fm train --data "$data" --method "$method" --epochs "$epochs" --out "$run" \
        --size "$SIZE" --depth "$DEPTH" --width "$WIDTH" --batch "$BATCH" \
        --lr "$lr" --sigma "$SIGMA" --backend "$BACKEND" --seed "$seed" \
        "${resume[@]}" "$@"
    echo "$((SECONDS - t0))" >"$run/train_seconds"
    fm eval --model "$run" --data "$data" --out "$run/predictions.csv" \
        --report "$run/report.json" --rounds "$ROUNDS" --backend "$BACKEND" >&2
}

# ablations DATA TAG SEED: IdFOPNet without each of its parts in turn
# (Identity Attention, Fair OP gradient modulation, masked prototype mining).
ablations() {
    local data=$1 tag=$2 seed=$3
    train_eval "$data" "$tag-idfopnet-no-ia" idfopnet "$seed" --no-identity-attention
    train_eval "$data" "$tag-idfopnet-no-fairop" idfopnet "$seed" --no-fair-opt
    train_eval "$data" "$tag-idfopnet-no-mining" idfopnet "$seed" --no-mining
}

# isbi_test_rows RUN LABEL: evaluates $OUT/runs/RUN once on ISBI Test1 (with
# and without 173/283, the copies of training images) and Test2, into
# $OUT/isbi/RUN-<set>-<keep|drop>.{csv,json} (skipped when there), and
# appends "LABEL, <set>…=<csv>" to the array rows for `results accuracy`.
isbi_test_rows() {
    local run=$1 label=$2 set dup d csv name flag
    mkdir -p "$OUT/isbi"
    for set in test1 test2; do
        # Both duplicated images (173, 283) are Test1 images.
        local dups=(keep)
        [ "$set" = test1 ] && dups=(keep drop)
        for dup in "${dups[@]}"; do
            flag=()
            name="$label, $set"
            if [ "$dup" = drop ]; then
                flag=(--drop-duplicates)
                name="$name without 173/283"
            fi
            d=$(isbi "isbi-$set-$dup" --test-set "$set" "${flag[@]}")
            csv="$OUT/isbi/$run-$set-$dup.csv"
            if [ ! -f "$csv" ]; then
                fm eval --model "$OUT/runs/$run" --data "$d" --split test --out "$csv" \
                    --report "$OUT/isbi/$run-$set-$dup.json" --rounds "$ROUNDS" \
                    --backend "$BACKEND" >&2
            fi
            rows+=("$name=$csv")
        done
    done
}

# isbi_junior_rows: the human floor on the same test sets, the junior
# annotator scored as predictions against the senior one
# ($OUT/isbi/junior-<set>.csv), appended to rows.
isbi_junior_rows() {
    local junior="$OUT/isbi/junior.csv" set
    mkdir -p "$OUT/isbi"
    fm results observers --reference "$SHARED/annotations/isbi2015_ceph_senior.csv" \
        --second "$SHARED/annotations/isbi2015_ceph_junior.csv" --all-landmarks --out "$junior" >&2
    for set in test1 test2; do
        awk -F, -v s="$set" 'NR == 1 || $8 == s' "$junior" >"$OUT/isbi/junior-$set.csv"
        rows+=("junior annotator (human floor), $set=$OUT/isbi/junior-$set.csv")
    done
}
