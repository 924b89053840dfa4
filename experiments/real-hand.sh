#!/usr/bin/env bash
# Phantoms → real anatomy: the hand models on the four real Digital Hand
# Atlas radiographs of ../shared/data/real-hand (annotations: dha_hand_all.csv,
# 50 mm between the wrist landmarks KP2 and KP6). Trains one more U-Net on the
# same phantoms with wide augmentation (--augment wide) to narrow the gap.
source "$(dirname "$0")/common.sh"
SHARED="${FAIRMARK_SHARED_DATA:-$ROOT/../shared/data}"
real="$OUT/data/real-hand"
if [ ! -f "$real/dataset.json" ]; then
    fm import hand --annotations "$SHARED/annotations/dha_hand_all.csv" \
        --images "$SHARED/real-hand" --skip-missing-images --out "$real" >&2
fi
data=$(phantoms hand 1 hand-s1)
train_eval "$data" hand-s1-unet unet 1
train_eval "$data" hand-s1-unet-wide unet 1 --augment wide
rows=()
for m in hand-s1-unet hand-s1-unet-wide; do
    fm eval --model "$OUT/runs/$m" --data "$real" --split all \
        --out "$OUT/real-hand/$m.csv" --backend "$BACKEND" >&2
    rows+=("$m=$OUT/real-hand/$m.csv")
done
fm eval --model "$ROOT/models/hand-unet-phantom" --data "$real" --split all \
    --out "$OUT/real-hand/hand-unet-phantom.csv" --backend "$BACKEND" >&2
rows+=("hand-unet-phantom (published)=$OUT/real-hand/hand-unet-phantom.csv")
fm results accuracy --thresholds 2,4,10 --out "$OUT/tables/real-hand.md" "${rows[@]}"
