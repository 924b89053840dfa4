#!/usr/bin/env bash
# The ISBI 2015 challenge's second task on real cephalograms: the eight
# classifications (ANB, SNB, SNA, ODI, APDI, FHI, FMA, MW; docs/METHOD.md,
# "The ISBI 2015 measurements") from the junior annotator's landmarks and from
# each published ISBI model's predictions, against the classes of the senior
# annotation, on Test1 and Test2 (the published models are evaluated once per
# test set; nothing is chosen here).
#
# Outputs, under $OUT/tables: isbi-classes-junior.{md,json} (all 400 images)
# and isbi-classes-<model>.{md,json} (Test1 + Test2). About 2 minutes per
# model on 2 CPU cores. Resumable: finished predictions are kept.
# Example: MODELS="isbi-unet-c2f" bash experiments/isbi-classes.sh
source "$(dirname "$0")/common.sh"
MODELS="${MODELS:-isbi-unet-c2f isbi-groupdro-c2f}"
senior="$SHARED/annotations/isbi2015_ceph_senior.csv"
mkdir -p "$OUT/isbi" "$OUT/tables"

fm results classes --reference "$senior" --second "$SHARED/annotations/isbi2015_ceph_junior.csv" \
    --out "$OUT/tables/isbi-classes-junior.md" --json "$OUT/tables/isbi-classes-junior.json" >/dev/null

for model in $MODELS; do
    both="$OUT/isbi/$model-published-test1-test2.csv"
    if [ ! -f "$both" ]; then
        for set in test1 test2; do
            d=$(isbi "isbi-$set-keep" --test-set "$set")
            csv="$OUT/isbi/$model-published-$set.csv"
            [ -f "$csv" ] || fm eval --model "models/$model" --data "$d" --split test \
                --out "$csv" --backend "$BACKEND" >&2
        done
        { cat "$OUT/isbi/$model-published-test1.csv"; tail -n +2 "$OUT/isbi/$model-published-test2.csv"; } >"$both.part"
        mv "$both.part" "$both"
    fi
    fm results classes --reference "$senior" --predictions "$both" \
        --second "$SHARED/annotations/isbi2015_ceph_junior.csv" \
        --out "$OUT/tables/isbi-classes-$model.md" --json "$OUT/tables/isbi-classes-$model.json" >/dev/null
done
ls "$OUT"/tables/isbi-classes-* >&2
