#!/usr/bin/env bash
# Real cephalograms: a U-Net on the 400 ISBI 2015 radiographs of
# ../shared/data/isbi2015 (all 19 landmarks, senior ground truth, ids 001–135
# train, 136–150 val), evaluated once on Test1 and Test2, each also without
# the two test images that copy training images (173, 283), in the
# literature's table layout next to the human floor. The test predictions are
# audited across the skeletal class (I, II, III from the senior ANB).
#
# Scale: ISBI_SIZE (default 128) and EPOCHS; resumable (a finished run is
# skipped, a stopped one resumes). Example:
#   ISBI_SIZE=256 EPOCHS=60 bash experiments/isbi-baseline.sh
source "$(dirname "$0")/common.sh"
SIZE="${ISBI_SIZE:-128}"
data=$(isbi isbi)
run="isbi-unet-$SIZE"
train_eval "$data" "$run" unet 1
mkdir -p "$OUT/isbi" "$OUT/tables"
rows=()
isbi_test_rows "$run" "U-Net ${SIZE}²"
fm results accuracy --thresholds 2,2.5,3,4 --out "$OUT/tables/$run.md" "${rows[@]}"
fm results classes --reference "$SHARED/annotations/isbi2015_ceph_senior.csv" \
    --second "$SHARED/annotations/isbi2015_ceph_junior.csv" \
    --out "$OUT/tables/isbi-class-agreement.md" >/dev/null
echo "tables: $OUT/tables/$run.md; audit across skeletal_class: $OUT/runs/$run/report.json" >&2
