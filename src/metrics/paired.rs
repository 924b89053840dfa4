//! Does model A have a different per-keypoint DP than model B? A paired
//! permutation test on the same test images (added here; neither paper tests
//! differences between models).
//!
//! Both models predicted the same images, so under H0 ("the two models'
//! successes are exchangeable image by image") swapping A's and B's result for
//! any image leaves the joint distribution unchanged. Each round swaps every
//! image with probability ½ and recomputes both DPs. The statistic of keypoint
//! k is the DP difference averaged over the hold-outs,
//! T_k = mean_h (DP^A_{h,k} − DP^B_{h,k}), and of the model as a whole the
//! mean over keypoints, T̄ = mean_k T_k (the papers' "mean DP"). Two-sided
//! p = (1 + #{|T*| ≥ |T|}) / (R + 1); per-keypoint p-values are then
//! Holm-corrected.
use super::error::{MetricsError, Result};
use super::grouping::Grouping;
use super::parity::{mean, SuccessBits};
use super::predictions::PredictionTable;
use super::significance::holm;
use crate::rng::{map_indices, stream_rng};
use rand::RngExt;
use serde::Serialize;

/// One hold-out: both models' predictions on its test images.
pub struct PairedHoldout<'a> {
    pub a: &'a PredictionTable,
    pub b: &'a PredictionTable,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct PairedStat {
    /// DP of A and of B, averaged over the hold-outs.
    pub dp_a: f64,
    pub dp_b: f64,
    /// `dp_a − dp_b`: negative when A is fairer.
    pub diff: f64,
    pub p_value: f64,
    /// Holm-corrected over the keypoints (equal to `p_value` for the mean).
    pub p_holm: f64,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct PairedDpTest {
    pub attribute: String,
    pub threshold_mm: f64,
    pub rounds: usize,
    pub seed: u64,
    pub holdouts: usize,
    pub n_images: usize,
    pub keypoints: Vec<PairedStat>,
    pub mean: PairedStat,
}

/// B's rows in A's image order; an error unless both hold the same images.
fn aligned(a: &PredictionTable, b: &PredictionTable, h: usize) -> Result<Vec<usize>> {
    if a.n_keypoints != b.n_keypoints {
        return Err(MetricsError::Invalid(format!(
            "hold-out {}: the models predict {} and {} keypoints",
            h + 1,
            a.n_keypoints,
            b.n_keypoints
        )));
    }
    let index: std::collections::HashMap<&str, usize> = b
        .images
        .iter()
        .enumerate()
        .map(|(i, s)| (s.as_str(), i))
        .collect();
    if index.len() != a.n_images() {
        return Err(MetricsError::Invalid(format!(
            "hold-out {}: the models predicted different images ({} and {}); a paired test needs the same test set",
            h + 1,
            a.n_images(),
            b.n_images()
        )));
    }
    a.images
        .iter()
        .map(|img| {
            index.get(img.as_str()).copied().ok_or_else(|| {
                MetricsError::Invalid(format!(
                    "hold-out {}: image {img:?} is in the first model's predictions but not the second's",
                    h + 1
                ))
            })
        })
        .collect()
}

struct Prepared {
    a: SuccessBits,
    b: SuccessBits,
    grouping: Grouping,
}

/// `[kp]` mean over hold-outs of DP^A − DP^B, and the two means.
fn statistic(holdouts: &[(&SuccessBits, &SuccessBits, &Grouping)], k: usize) -> [Vec<f64>; 3] {
    let mut out = [vec![0.0; k], vec![0.0; k], vec![0.0; k]];
    for (a, b, g) in holdouts {
        let (da, db) = (a.dp(g), b.dp(g));
        for kp in 0..k {
            out[0][kp] += (da[kp] - db[kp]) / holdouts.len() as f64;
            out[1][kp] += da[kp] / holdouts.len() as f64;
            out[2][kp] += db[kp] / holdouts.len() as f64;
        }
    }
    out
}

pub fn paired_dp_test(
    holdouts: &[PairedHoldout],
    attribute: &str,
    threshold_mm: f64,
    rounds: usize,
    seed: u64,
) -> Result<PairedDpTest> {
    if holdouts.is_empty() {
        return Err(MetricsError::Invalid("no hold-out to compare".into()));
    }
    if rounds == 0 {
        return Err(MetricsError::Invalid("rounds must be ≥ 1".into()));
    }
    let k = holdouts[0].a.n_keypoints;
    let mut prepared = Vec::with_capacity(holdouts.len());
    for (h, p) in holdouts.iter().enumerate() {
        if p.a.n_keypoints != k {
            return Err(MetricsError::Invalid(format!(
                "hold-out {} has {} keypoints, hold-out 1 has {k}",
                h + 1,
                p.a.n_keypoints
            )));
        }
        let b = p.b.select(&aligned(p.a, p.b, h)?);
        let grouping = Grouping::from_attribute(p.a, attribute)?;
        grouping.require_labels()?;
        if Grouping::from_attribute(&b, attribute)?.labels != grouping.labels {
            return Err(MetricsError::Invalid(format!(
                "hold-out {}: the two prediction files give different {attribute} groups to the same images",
                h + 1
            )));
        }
        prepared.push(Prepared {
            a: SuccessBits::new(p.a, threshold_mm),
            b: SuccessBits::new(&b, threshold_mm),
            grouping,
        });
    }
    let observed: Vec<_> = prepared.iter().map(|p| (&p.a, &p.b, &p.grouping)).collect();
    let [t, dp_a, dp_b] = statistic(&observed, k);
    let t_mean = mean(&t);
    // Each round: T* per keypoint and its mean.
    let null: Vec<(Vec<f64>, f64)> = map_indices(rounds, |r| {
        let mut rng = stream_rng(seed, r as u64);
        let swapped: Vec<_> = prepared
            .iter()
            .map(|p| {
                let mut swap = vec![0u64; p.a.n_images.div_ceil(64)];
                for i in 0..p.a.n_images {
                    if rng.random_bool(0.5) {
                        swap[i / 64] |= 1 << (i % 64);
                    }
                }
                p.a.exchange(&p.b, &swap)
            })
            .collect();
        let refs: Vec<_> = swapped
            .iter()
            .zip(&prepared)
            .map(|((a, b), p)| (a, b, &p.grouping))
            .collect();
        let [ts, _, _] = statistic(&refs, k);
        let m = mean(&ts);
        (ts, m)
    });
    // A tolerance so that ties computed in another order still count as ties.
    let p_of = |obs: f64, draws: &mut dyn Iterator<Item = f64>| {
        let hits = draws.filter(|d| d.abs() >= obs.abs() - 1e-12).count();
        (1 + hits) as f64 / (rounds + 1) as f64
    };
    let p: Vec<f64> = (0..k)
        .map(|kp| p_of(t[kp], &mut null.iter().map(|(ts, _)| ts[kp])))
        .collect();
    let p_h = holm(&p);
    let p_mean = p_of(t_mean, &mut null.iter().map(|(_, m)| *m));
    Ok(PairedDpTest {
        attribute: attribute.to_string(),
        threshold_mm,
        rounds,
        seed,
        holdouts: holdouts.len(),
        n_images: holdouts.iter().map(|h| h.a.n_images()).sum(),
        keypoints: (0..k)
            .map(|kp| PairedStat {
                dp_a: dp_a[kp],
                dp_b: dp_b[kp],
                diff: t[kp],
                p_value: p[kp],
                p_holm: p_h[kp],
            })
            .collect(),
        mean: PairedStat {
            dp_a: mean(&dp_a),
            dp_b: mean(&dp_b),
            diff: t_mean,
            p_value: p_mean,
            p_holm: p_mean,
        },
    })
}

#[cfg(all(test, not(target_arch = "wasm32")))]
mod tests {
    use super::*;

    /// One keypoint; `errors[i]` for image i; groups "a" for the first half.
    fn table(errors: &[f64], order: &[usize]) -> PredictionTable {
        let n = errors.len();
        PredictionTable {
            images: order.iter().map(|i| format!("img{i}")).collect(),
            mm_per_px: vec![0.1; n],
            n_keypoints: 1,
            errors_mm: order.iter().map(|&i| errors[i]).collect(),
            attr_names: vec!["g".into()],
            attrs: order
                .iter()
                .map(|&i| vec![Some(if i < n / 2 { "a" } else { "b" }.to_string())])
                .collect(),
            warnings: Vec::new(),
        }
    }

    #[test]
    fn exact_null_distribution_of_a_four_image_case() {
        // A: successes 1,1,0,0 → DP 1. B: all successes → DP 0. Swapping
        // images 0 and 1 changes nothing; swapping s of images 2, 3 gives
        // DP_A = 1 − s/2, DP_B = s/2, T = 1 − s: |T| ≥ 1 for s ∈ {0, 2},
        // probability ½. So p → ½ as rounds grow.
        let a = table(&[1.0, 1.0, 3.0, 3.0], &[0, 1, 2, 3]);
        let b = table(&[1.0, 1.0, 1.0, 1.0], &[0, 1, 2, 3]);
        let t = paired_dp_test(&[PairedHoldout { a: &a, b: &b }], "g", 2.0, 20_000, 7).unwrap();
        assert_eq!(t.keypoints[0].dp_a, 1.0);
        assert_eq!(t.keypoints[0].dp_b, 0.0);
        assert_eq!(t.mean.diff, 1.0);
        assert!((t.mean.p_value - 0.5).abs() < 0.015, "{}", t.mean.p_value);
    }

    #[test]
    fn identical_models_give_p_one_and_order_does_not_matter() {
        let e: Vec<f64> = (0..40).map(|i| (i % 7) as f64 * 0.5).collect();
        let a = table(&e, &(0..40).collect::<Vec<_>>());
        let b = table(&e, &(0..40).rev().collect::<Vec<_>>());
        let t = paired_dp_test(&[PairedHoldout { a: &a, b: &b }], "g", 2.0, 200, 1).unwrap();
        assert_eq!(t.mean.diff, 0.0);
        assert_eq!(t.mean.p_value, 1.0);
    }

    #[test]
    fn a_real_difference_is_significant_and_pooled_over_holdouts() {
        // A fails every second image of group b (DP 0.5); B is fair.
        let n = 200;
        let ea: Vec<f64> = (0..n)
            .map(|i| if i >= n / 2 && i % 2 == 0 { 5.0 } else { 1.0 })
            .collect();
        let eb = vec![1.0; n];
        let order: Vec<usize> = (0..n).collect();
        let (a, b) = (table(&ea, &order), table(&eb, &order));
        let one = PairedHoldout { a: &a, b: &b };
        let t = paired_dp_test(&[one], "g", 2.0, 999, 3).unwrap();
        assert!((t.mean.diff - 0.5).abs() < 1e-12);
        assert!(t.mean.p_value <= 0.002, "{}", t.mean.p_value);
        let two = [
            PairedHoldout { a: &a, b: &b },
            PairedHoldout { a: &b, b: &b },
        ];
        let t2 = paired_dp_test(&two, "g", 2.0, 99, 3).unwrap();
        assert!((t2.mean.diff - 0.25).abs() < 1e-12);
        assert_eq!(t2.holdouts, 2);
    }

    #[test]
    fn different_test_sets_are_refused() {
        let a = table(&[1.0, 1.0, 3.0, 3.0], &[0, 1, 2, 3]);
        let mut b = a.clone();
        b.images[3] = "other".into();
        let e = paired_dp_test(&[PairedHoldout { a: &a, b: &b }], "g", 2.0, 10, 0).unwrap_err();
        assert!(e.to_string().contains("img3"), "{e}");
        let e = paired_dp_test(&[PairedHoldout { a: &a, b: &a }], "sex", 2.0, 10, 0).unwrap_err();
        assert!(e.to_string().contains("sex"), "{e}");
    }
}
