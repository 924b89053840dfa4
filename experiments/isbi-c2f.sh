#!/usr/bin/env bash
# Real cephalograms, coarse to fine: a U-Net on the whole radiograph at low
# resolution finds the 19 landmarks, then a second U-Net places each one on a
# high-resolution patch of the original image around it (docs/METHOD.md,
# "Coarse-to-fine on real cephalograms"). ISBI 2015, senior ground truth, ids
# 001–135 train, 136–150 val (every choice of epoch is made on val), Test1
# and Test2 evaluated once each, also without the two test images that copy
# training images (173, 283), in the literature's table next to the human
# floor; the test errors are audited across the skeletal class.
#
# Every step is resumable: rerun the script after an interruption and it goes
# on where it stopped (finished runs are skipped, stopped ones resume).
# Scale (defaults: about 15 min coarse + 35 min refine on 2 CPU cores):
#   COARSE_W×COARSE_H, COARSE_EPOCHS, COARSE_WIDTH: the coarse U-Net;
#   PATCH, ZOOM, REFINE_EPOCHS, REFINE_WIDTH, REFINE_DEPTH: the refiner.
# Example: COARSE_EPOCHS=60 REFINE_EPOCHS=40 bash experiments/isbi-c2f.sh
source "$(dirname "$0")/common.sh"
COARSE_W="${COARSE_W:-128}"
COARSE_H="${COARSE_H:-160}"
COARSE_EPOCHS="${COARSE_EPOCHS:-40}"
COARSE_WIDTH="${COARSE_WIDTH:-8}"
PATCH="${PATCH:-64}"
ZOOM="${ZOOM:-5}"
REFINE_EPOCHS="${REFINE_EPOCHS:-24}"
REFINE_WIDTH="${REFINE_WIDTH:-8}"
REFINE_DEPTH="${REFINE_DEPTH:-3}"
TAG="${TAG:-isbi-c2f-${COARSE_W}x${COARSE_H}-p${PATCH}z${ZOOM}}"
# Another refiner on the same coarse stage: COARSE_RUN=<its run name> TAG=<new>.
COARSE_RUN="${COARSE_RUN:-$TAG-coarse}"

data=$(isbi isbi)
coarse="$COARSE_RUN"
fine="$TAG"
dro="$TAG-groupdro"
SIZE=$COARSE_W EPOCHS=$COARSE_EPOCHS WIDTH=$COARSE_WIDTH DEPTH=4 SIGMA=2 \
    train_eval "$data" "$coarse" unet 1 --height "$COARSE_H"
# The refiner's σ is in patch pixels (2 px = 0.6 mm at the defaults).
SIZE=$COARSE_W EPOCHS=$REFINE_EPOCHS WIDTH=$REFINE_WIDTH DEPTH=$REFINE_DEPTH SIGMA=2 BATCH=16 \
    train_eval "$data" "$fine" refine 1 --init "$OUT/runs/$coarse" \
    --patch "$PATCH" --zoom "$ZOOM"
# GroupDRO over keypoint × skeletal class fine-tunes the coarse stage of the
# whole detector (the refiner is kept: its loss does not see the classes).
SIZE=$COARSE_W DRO_EPOCHS=${DRO_EPOCHS:-8} DRO_LR=${DRO_LR:-3e-4} SIGMA=2 \
    train_eval "$data" "$dro" groupdro 1 --init "$OUT/runs/$fine"

mkdir -p "$OUT/isbi" "$OUT/tables"
rows=()
isbi_test_rows "$fine" "coarse to fine"
isbi_test_rows "$dro" "coarse to fine, GroupDRO"
isbi_test_rows "$coarse" "coarse stage only"
isbi_junior_rows
fm results accuracy --thresholds 2,2.5,3,4 --out "$OUT/tables/$TAG.md" "${rows[@]}" >/dev/null
fm results accuracy --thresholds 2 --out "$OUT/tables/$TAG-test-sets.md" --anatomy isbi \
    --per-landmark "$OUT/tables/$TAG-landmarks.md" \
    "test1=$OUT/isbi/$fine-test1-keep.csv" "test2=$OUT/isbi/$fine-test2-keep.csv" \
    "junior test1=$OUT/isbi/junior-test1.csv" "junior test2=$OUT/isbi/junior-test2.csv" >/dev/null
# The challenge's second task for ANB: the class from the predicted
# landmarks against the senior annotation's, per test set (the junior
# annotator's rate is in docs/results/isbi-class-agreement.md).
for run in "$fine" "$dro"; do
    both="$OUT/isbi/$run-test1-test2.csv"
    { cat "$OUT/isbi/$run-test1-keep.csv"; tail -n +2 "$OUT/isbi/$run-test2-keep.csv"; } >"$both"
    fm results classes --reference "$SHARED/annotations/isbi2015_ceph_senior.csv" \
        --predictions "$both" --out "$OUT/tables/$run-classes.md" >/dev/null
done
cat "$OUT/tables/$TAG.md" >&2
echo "tables: $OUT/tables/$TAG.md, per landmark: $OUT/tables/$TAG-landmarks.md;" \
    "audit across skeletal_class: $OUT/runs/$fine/report.json" >&2
