#!/usr/bin/env bash
# IdFOPNet Table 1 (and Table 3 ablations) analogue on cephalometric phantoms:
# U-Net baseline, IdFOPNet, and IdFOPNet without Identity Attention, without
# gradient modulation (Fair OP), without prototype mining.
#   bash experiments/table1-ceph.sh            # age-balanced phantoms (50/50)
#   bash experiments/table1-ceph.sh imbalanced # 80% adult, 20% adolescent
#   ONLY_MAIN=1 …                              # baseline and IdFOPNet only
source "$(dirname "$0")/common.sh"
variant=${1:-balanced}
case $variant in
    balanced) tag=ceph-bal-s1; groups=() ;;
    imbalanced) tag=ceph-imb-s1; groups=(--groups adult:0.8,adolescent:0.2) ;;
    *) echo "usage: $0 [balanced|imbalanced]" >&2; exit 2 ;;
esac
data=$(phantoms ceph 1 "$tag" "${groups[@]}")
train_eval "$data" "$tag-unet" unet 1
train_eval "$data" "$tag-idfopnet" idfopnet 1
if [ -z "${ONLY_MAIN:-}" ]; then
    ablations "$data" "$tag" 1
    # Prototype mining at a tenth of the paper's weight (λ2 = 0.3, not 3).
    train_eval "$data" "$tag-idfopnet-lmine0.3" idfopnet 1 --lambda-mine 0.3
fi
