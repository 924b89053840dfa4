#!/usr/bin/env bash
# Every table and figure of docs/RESULTS.md from the runs in $OUT (runs that
# do not exist yet are left out), written to docs/results/.
source "$(dirname "$0")/common.sh"
DOCS="$ROOT/docs/results"
mkdir -p "$DOCS"
run_csv() { echo "$OUT/runs/$1/predictions.csv"; }

# rows LABEL=RUN…: the NAME=CSV arguments of the runs that exist.
rows() {
    local spec
    for spec in "$@"; do
        local csv
        csv=$(run_csv "${spec#*=}")
        [ -f "$csv" ] && echo "${spec%%=*}=$csv"
    done
}

ablation_rows() {
    rows "U-Net=$1-unet" "IdFOPNet=$1-idfopnet" "w/o Identity Attention=$1-idfopnet-no-ia" \
        "w/o Fair OP=$1-idfopnet-no-fairop" "w/o prototype mining=$1-idfopnet-no-mining" \
        "IdFOPNet with λ2 0.3=$1-idfopnet-lmine0.3" \
        "GroupDRO=$1-groupdro"
}

for variant in bal imb; do
    mapfile -t r < <(ablation_rows "ceph-$variant-s1")
    [ ${#r[@]} -gt 0 ] && fm results accuracy --attr age_group --out "$DOCS/table1-ceph-$variant.md" "${r[@]}" >/dev/null
done
mapfile -t r < <(ablation_rows hand-s1)
if [ ${#r[@]} -gt 0 ]; then
    fm results accuracy --attr sex --thresholds 2,4,10 --out "$DOCS/table2-hand-sex.md" "${r[@]}" >/dev/null
    fm results accuracy --attr age_group --thresholds 2,4,10 --out "$DOCS/table2-hand-age.md" "${r[@]}" >/dev/null
fi

# Hold-outs: the baseline's seeds, GroupDRO's seeds, IdFOPNet where trained.
holdouts() {
    local prefix=$1 attr=$2 name=$3 title=$4
    local args=() m
    for m in unet groupdro idfopnet; do
        local csvs=() s
        for s in ${SEEDS:-1 2 3}; do
            local c
            c=$(run_csv "$prefix-s$s-$m")
            [ -f "$c" ] && csvs+=("$c")
        done
        [ ${#csvs[@]} -gt 0 ] && args+=(--model "$m=$(IFS=,; echo "${csvs[*]}")")
    done
    [ ${#args[@]} -gt 0 ] || return 0
    fm results holdouts --attr "$attr" "${args[@]}" --rounds "$ROUNDS" \
        --title "$title" --out "$DOCS/$name" >/dev/null
}
holdouts ceph-bal age_group holdouts-ceph-age "Ceph phantoms: per-keypoint DP of SDR@2 mm by age group (${SIZE}² input)"
holdouts hand sex holdouts-hand-sex "Hand phantoms: per-keypoint DP of SDR@2 mm by sex (${SIZE}² input)"
holdouts hand age_group holdouts-hand-age "Hand phantoms: per-keypoint DP of SDR@2 mm by age group (${SIZE}² input)"

# Human floor on the real ISBI 2015 annotations.
SHARED="${FAIRMARK_SHARED_DATA:-$ROOT/../shared/data}"
if [ -f "$SHARED/annotations/isbi2015_ceph_senior.csv" ]; then
    for n in 10 19; do
        extra=()
        [ $n = 19 ] && extra=(--all-landmarks)
        fm results observers --reference "$SHARED/annotations/isbi2015_ceph_senior.csv" \
            --second "$SHARED/annotations/isbi2015_ceph_junior.csv" "${extra[@]}" \
            --out "$OUT/isbi-observers-$n.csv" 2>/dev/null
    done
    fm results accuracy --attr subset --out "$DOCS/isbi-human-floor.md" \
        "junior vs senior, 10 fairmark landmarks=$OUT/isbi-observers-10.csv" \
        "junior vs senior, all 19 landmarks=$OUT/isbi-observers-19.csv" >/dev/null
fi
[ -f "$OUT/tables/real-hand.md" ] && cp "$OUT/tables/real-hand.md" "$DOCS/real-hand.md"

ls "$DOCS"
