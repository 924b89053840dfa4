//! Bootstrap 95% confidence intervals (images resampled with replacement,
//! percentile method) for MRE, SDR, per-keypoint DP and the signed gap
//! between two named groups at a keypoint.
//!
//! Each round draws resampling counts cᵢ; statistics are weighted sums over
//! images, and the group hit counts are accumulated per "cell" (images sharing
//! all their labels), so one pass over the images serves every grouping.
use super::grouping::Grouping;
use super::parity::{max_minus_min, SuccessBits};
use super::predictions::PredictionTable;
use super::significance::percentile;
use crate::rng::{map_indices, stream_rng};
use rand::RngExt;
use std::collections::HashMap;

/// 95% intervals `[lo, hi]`.
#[derive(Clone, Debug, PartialEq)]
pub struct BootstrapCi {
    pub mre: [f64; 2],
    /// One per threshold, percent.
    pub sdr: Vec<[f64; 2]>,
    /// `[grouping][kp]`, fractions.
    pub dp: Vec<Vec<[f64; 2]>>,
    /// `[grouping][kp]`: rate(a) − rate(b) for the pair asked for there
    /// (fractions; `None` where no pair was asked for).
    pub gap: Vec<Vec<Option<[f64; 2]>>>,
}

/// Group labels `(a, b)` whose signed difference of success rates,
/// rate(a) − rate(b), gets an interval: `[grouping][kp]`.
pub type GapPairs = Vec<Vec<Option<(usize, usize)>>>;

struct Round {
    mre: f64,
    sdr: Vec<f64>,
    dp: Vec<Vec<f64>>,
    gap: Vec<Vec<f64>>,
}

pub fn bootstrap(
    table: &PredictionTable,
    thresholds_mm: &[f64],
    bits: &SuccessBits,
    groupings: &[&Grouping],
    pairs: &GapPairs,
    rounds: usize,
    seed: u64,
) -> BootstrapCi {
    let (n, k) = (table.n_images(), table.n_keypoints);
    let image_mean: Vec<f64> = (0..n)
        .map(|i| table.image_errors(i).iter().sum::<f64>() / k as f64)
        .collect();
    let image_sdr: Vec<Vec<f64>> = (0..n)
        .map(|i| {
            thresholds_mm
                .iter()
                .map(|t| table.image_errors(i).iter().filter(|e| *e <= t).count() as f64 / k as f64)
                .collect()
        })
        .collect();
    let success: Vec<u32> = (0..n)
        .flat_map(|i| (0..k).map(move |kp| (i, kp)))
        .map(|(i, kp)| bits.is_success(i, kp) as u32)
        .collect();
    // Cells: images with the same labels in every grouping.
    let mut cell_of_key: HashMap<Vec<Option<u16>>, usize> = HashMap::new();
    let mut cell_keys: Vec<Vec<Option<u16>>> = Vec::new();
    let cell: Vec<usize> = (0..n)
        .map(|i| {
            let key: Vec<Option<u16>> = groupings.iter().map(|g| g.labels[i]).collect();
            *cell_of_key.entry(key.clone()).or_insert_with(|| {
                cell_keys.push(key);
                cell_keys.len() - 1
            })
        })
        .collect();
    let n_cells = cell_keys.len();

    let results: Vec<Round> = map_indices(rounds, |r| {
        let mut rng = stream_rng(seed, r as u64);
        let mut counts = vec![0u32; n];
        for _ in 0..n {
            counts[rng.random_range(0..n)] += 1;
        }
        let (mut mre, mut sdr) = (0.0, vec![0.0; thresholds_mm.len()]);
        let mut cell_hits = vec![0u32; n_cells * k];
        let mut cell_size = vec![0u32; n_cells];
        for i in 0..n {
            let c = counts[i];
            if c == 0 {
                continue;
            }
            mre += c as f64 * image_mean[i];
            for (s, v) in sdr.iter_mut().zip(&image_sdr[i]) {
                *s += c as f64 * v;
            }
            let ce = cell[i];
            cell_size[ce] += c;
            let hits = &mut cell_hits[ce * k..(ce + 1) * k];
            for (h, s) in hits.iter_mut().zip(&success[i * k..(i + 1) * k]) {
                *h += c * s;
            }
        }
        let (mut dp, mut gap) = (Vec::new(), Vec::new());
        for (gi, g) in groupings.iter().enumerate() {
            let mut hits = vec![0u32; g.n_groups() * k];
            let mut size = vec![0u32; g.n_groups()];
            for (ce, key) in cell_keys.iter().enumerate() {
                if let Some(l) = key[gi] {
                    let l = l as usize;
                    size[l] += cell_size[ce];
                    for kp in 0..k {
                        hits[l * k + kp] += cell_hits[ce * k + kp];
                    }
                }
            }
            // NaN when the group is absent from this resample.
            let rate = |l: usize, kp: usize| hits[l * k + kp] as f64 / size[l] as f64;
            dp.push(
                (0..k)
                    .map(|kp| {
                        max_minus_min(
                            (0..g.n_groups())
                                .filter(|&l| size[l] > 0)
                                .map(|l| rate(l, kp)),
                        )
                    })
                    .collect(),
            );
            gap.push(
                (0..k)
                    .map(
                        |kp| match pairs.get(gi).and_then(|p| p.get(kp)).copied().flatten() {
                            Some((a, b)) => rate(a, kp) - rate(b, kp),
                            None => f64::NAN,
                        },
                    )
                    .collect(),
            );
        }
        Round {
            mre: mre / n as f64,
            sdr: sdr.iter().map(|s| 100.0 * s / n as f64).collect(),
            dp,
            gap,
        }
    });

    let ci = |mut v: Vec<f64>| -> [f64; 2] { [percentile(&mut v, 2.5), percentile(&mut v, 97.5)] };
    BootstrapCi {
        mre: ci(results.iter().map(|r| r.mre).collect()),
        sdr: (0..thresholds_mm.len())
            .map(|t| ci(results.iter().map(|r| r.sdr[t]).collect()))
            .collect(),
        dp: (0..groupings.len())
            .map(|gi| {
                (0..k)
                    .map(|kp| ci(results.iter().map(|r| r.dp[gi][kp]).collect()))
                    .collect()
            })
            .collect(),
        gap: (0..groupings.len())
            .map(|gi| {
                (0..k)
                    .map(|kp| {
                        pairs.get(gi)?.get(kp).copied().flatten()?;
                        let v: Vec<f64> = results
                            .iter()
                            .map(|r| r.gap[gi][kp])
                            .filter(|g| g.is_finite())
                            .collect();
                        (!v.is_empty()).then(|| ci(v))
                    })
                    .collect()
            })
            .collect(),
    }
}

#[cfg(all(test, not(target_arch = "wasm32")))]
mod tests {
    use super::*;

    fn table(n: usize) -> PredictionTable {
        let mut text = "image,keypoint,x_pred,y_pred,x_true,y_true,mm_per_px,g\n".to_string();
        for i in 0..n {
            let g = if i % 2 == 0 { "a" } else { "b" };
            // group a always succeeds, group b fails every other image
            let e = if g == "b" && i % 4 == 1 { 3.0 } else { 1.0 };
            text += &format!("i{i},1,{e},0,0,0,1,{g}\n");
        }
        PredictionTable::parse_csv("t", &text).unwrap()
    }

    #[test]
    fn intervals_cover_the_estimate_and_are_deterministic() {
        let t = table(400);
        let g = Grouping::from_attribute(&t, "g").unwrap();
        let bits = SuccessBits::new(&t, 2.0);
        // a − b: group a succeeds more, so the signed gap is positive.
        let pairs = vec![vec![Some((0, 1))]];
        let ci = bootstrap(&t, &[2.0], &bits, &[&g], &pairs, 500, 7);
        // observed: MRE = 1.5, SDR = 75 %, DP = 0.5
        assert!(ci.mre[0] < 1.5 && 1.5 < ci.mre[1], "{:?}", ci.mre);
        assert!(ci.sdr[0][0] < 75.0 && 75.0 < ci.sdr[0][1]);
        assert!(ci.dp[0][0][0] < 0.5 && 0.5 < ci.dp[0][0][1]);
        // binomial-scale width: sd of DP ≈ sqrt(.25/200) ≈ 0.035 → width ≈ 0.14
        let w = ci.dp[0][0][1] - ci.dp[0][0][0];
        assert!(w > 0.08 && w < 0.2, "{w}");
        let gap = ci.gap[0][0].unwrap();
        assert!(gap[0] < 0.5 && 0.5 < gap[1] && gap[0] > 0.0, "{gap:?}");
        assert_eq!(ci, bootstrap(&t, &[2.0], &bits, &[&g], &pairs, 500, 7));
        // The other way round, the same interval mirrored.
        let back = bootstrap(&t, &[2.0], &bits, &[&g], &vec![vec![Some((1, 0))]], 500, 7);
        let b = back.gap[0][0].unwrap();
        assert!(
            (b[0] + gap[1]).abs() < 1e-12 && (b[1] + gap[0]).abs() < 1e-12,
            "{b:?} {gap:?}"
        );
    }
}
