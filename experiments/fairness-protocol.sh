#!/usr/bin/env bash
# The fairness paper's protocol: repeated hold-outs of the U-Net baseline
# (one phantom draw and split per seed), each fine-tuned with GroupDRO; with
# IDFOPNET=1 also IdFOPNet on every hold-out, for the paired DP comparison.
#   bash experiments/fairness-protocol.sh ceph   # SEEDS="1 2 3" by default
#   bash experiments/fairness-protocol.sh hand
source "$(dirname "$0")/common.sh"
kind=${1:?usage: $0 ceph|hand}
case $kind in
    ceph) prefix=ceph-bal ;;
    hand) prefix=hand ;;
    *) echo "usage: $0 ceph|hand" >&2; exit 2 ;;
esac
for seed in ${SEEDS:-1 2 3}; do
    tag=$prefix-s$seed
    data=$(phantoms "$kind" "$seed" "$tag")
    train_eval "$data" "$tag-unet" unet "$seed"
    train_eval "$data" "$tag-groupdro" groupdro "$seed" --init "$OUT/runs/$tag-unet"
    if [ -n "${IDFOPNET:-}" ]; then
        train_eval "$data" "$tag-idfopnet" idfopnet "$seed"
    fi
done
