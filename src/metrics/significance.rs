//! Is a per-keypoint DP larger than chance?
//!
//! - Attribute randomisation (fairness paper Sec. 3.1.2): each image's group
//!   label is shuffled with probability 0.5 (the selected images' labels are
//!   permuted among themselves), DP is recomputed; R rounds give the mean and
//!   95th percentile per keypoint — the DP one expects when the attribute is
//!   partly uncorrelated with the errors.
//! - Permutation test (added here): all labels are permuted, R rounds; the
//!   one-sided p-value per keypoint is (1 + #{DP_perm ≥ DP_obs}) / (R + 1),
//!   Holm-corrected across the keypoints of an attribute.
use super::grouping::Grouping;
use super::parity::SuccessBits;
use crate::rng::{map_indices, stream_rng};
use rand::seq::SliceRandom;
use rand::RngExt;
use serde::Serialize;

/// How labels are relabelled in one round.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Relabel {
    /// Each image is selected with probability 0.5; selected labels are permuted.
    HalfShuffle,
    /// All labels are permuted.
    FullPermutation,
}

/// DP of every keypoint in each of `rounds` relabellings: `[round][kp]`.
pub fn relabelled_dp(
    bits: &SuccessBits,
    grouping: &Grouping,
    mode: Relabel,
    rounds: usize,
    seed: u64,
) -> Vec<Vec<f64>> {
    let sizes = grouping.sizes();
    let labelled: Vec<usize> = (0..grouping.labels.len())
        .filter(|&i| grouping.labels[i].is_some())
        .collect();
    map_indices(rounds, |r| {
        let mut rng = stream_rng(seed, r as u64);
        let mut labels = grouping.labels.clone();
        let chosen: Vec<usize> = match mode {
            Relabel::FullPermutation => labelled.clone(),
            Relabel::HalfShuffle => labelled
                .iter()
                .copied()
                .filter(|_| rng.random_bool(0.5))
                .collect(),
        };
        let mut vals: Vec<Option<u16>> = chosen.iter().map(|&i| labels[i]).collect();
        vals.shuffle(&mut rng);
        for (&i, v) in chosen.iter().zip(vals) {
            labels[i] = v;
        }
        // Group sizes are unchanged by a permutation, so `sizes` still holds.
        let masks = bits.masks(&labels, grouping.n_groups());
        bits.dp_per_keypoint(&masks, &sizes)
    })
}

/// Mean and 95th percentile of randomised DP per keypoint.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct RandomisedDp {
    pub mean: Vec<f64>,
    pub p95: Vec<f64>,
}

pub fn randomised_dp(rounds: &[Vec<f64>], n_keypoints: usize) -> RandomisedDp {
    let mut mean = vec![0.0; n_keypoints];
    let mut p95 = vec![0.0; n_keypoints];
    for kp in 0..n_keypoints {
        let mut v: Vec<f64> = rounds.iter().map(|r| r[kp]).collect();
        mean[kp] = super::parity::mean(&v);
        p95[kp] = percentile(&mut v, 95.0);
    }
    RandomisedDp { mean, p95 }
}

/// One-sided permutation p-values: (1 + #{perm ≥ obs}) / (R + 1).
pub fn permutation_p_values(observed: &[f64], rounds: &[Vec<f64>]) -> Vec<f64> {
    observed
        .iter()
        .enumerate()
        .map(|(kp, &obs)| {
            // A tolerance keeps ties that differ only by rounding counted as ties.
            let ge = rounds.iter().filter(|r| r[kp] >= obs - 1e-12).count();
            (1 + ge) as f64 / (rounds.len() + 1) as f64
        })
        .collect()
}

/// Holm–Bonferroni adjusted p-values (step-down, monotone, capped at 1).
pub fn holm(p: &[f64]) -> Vec<f64> {
    let m = p.len();
    let mut order: Vec<usize> = (0..m).collect();
    order.sort_by(|&a, &b| p[a].total_cmp(&p[b]));
    let mut adj = vec![0.0; m];
    let mut running: f64 = 0.0;
    for (rank, &i) in order.iter().enumerate() {
        running = running.max(((m - rank) as f64 * p[i]).min(1.0));
        adj[i] = running;
    }
    adj
}

/// Percentile with linear interpolation between order statistics (numpy's
/// default), of a slice it sorts in place. NaN for an empty slice.
pub fn percentile(v: &mut [f64], q: f64) -> f64 {
    if v.is_empty() {
        return f64::NAN;
    }
    v.sort_by(f64::total_cmp);
    let pos = q / 100.0 * (v.len() - 1) as f64;
    let (lo, hi) = (pos.floor() as usize, pos.ceil() as usize);
    v[lo] + (v[hi] - v[lo]) * (pos - lo as f64)
}

#[cfg(all(test, not(target_arch = "wasm32")))]
mod tests {
    use super::*;

    #[test]
    fn holm_by_hand() {
        // sorted 0.01, 0.02, 0.04 → ×3, ×2, ×1 = 0.03, 0.04, 0.04 (monotone)
        let adj = holm(&[0.04, 0.01, 0.02]);
        let want = [0.04, 0.03, 0.04];
        for (a, w) in adj.iter().zip(want) {
            assert!((a - w).abs() < 1e-12, "{adj:?}");
        }
        assert_eq!(holm(&[0.6, 0.5]), vec![1.0, 1.0]);
    }

    #[test]
    fn percentile_matches_numpy() {
        // numpy.percentile([1, 2, 3, 4], 95) = 3.85
        assert!((percentile(&mut [4.0, 1.0, 3.0, 2.0], 95.0) - 3.85).abs() < 1e-12);
        assert_eq!(percentile(&mut [7.0], 95.0), 7.0);
    }

    #[test]
    fn p_value_counts_ties_and_adds_one() {
        let rounds = vec![vec![0.1], vec![0.3], vec![0.2], vec![0.5]];
        // obs 0.3: 0.3 and 0.5 are ≥ → (1+2)/5
        assert!((permutation_p_values(&[0.3], &rounds)[0] - 0.6).abs() < 1e-12);
        assert!((permutation_p_values(&[0.9], &rounds)[0] - 0.2).abs() < 1e-12);
    }
}
