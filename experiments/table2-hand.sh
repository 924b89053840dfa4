#!/usr/bin/env bash
# IdFOPNet Table 2 analogue on hand phantoms (columns by sex): U-Net baseline
# and IdFOPNet; with ABLATIONS=1 also the three ablations of table1-ceph.sh.
source "$(dirname "$0")/common.sh"
tag=hand-s1
data=$(phantoms hand 1 "$tag")
train_eval "$data" "$tag-unet" unet 1
train_eval "$data" "$tag-idfopnet" idfopnet 1
if [ -n "${ABLATIONS:-}" ]; then
    ablations "$data" "$tag" 1
fi
