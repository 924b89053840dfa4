//! Per-keypoint demographic parity (fairness paper Sec. 2.3).
//!
//! A keypoint prediction is a success when its radial error is ≤ φ mm (φ = 2 by
//! default); the success rate of a group is its SDR@φ. DP of keypoint k is the
//! largest absolute difference of success rates between any two groups, i.e.
//! max_g rate − min_g rate over the groups that have images (fairlearn's
//! `between_groups` difference), as a fraction in [0, 1].
//!
//! Successes are stored as bitsets per keypoint so that the thousands of
//! relabellings of the significance tests cost a few popcounts each.
use super::grouping::Grouping;
use super::predictions::PredictionTable;

/// Success indicators per keypoint as bitsets over images.
#[derive(Clone, Debug)]
pub struct SuccessBits {
    pub n_images: usize,
    pub n_keypoints: usize,
    words: usize,
    bits: Vec<u64>,
}

impl SuccessBits {
    pub fn new(table: &PredictionTable, threshold_mm: f64) -> Self {
        let (n, k) = (table.n_images(), table.n_keypoints);
        let words = n.div_ceil(64);
        let mut bits = vec![0u64; words * k];
        for i in 0..n {
            for (kp, e) in table.image_errors(i).iter().enumerate() {
                if *e <= threshold_mm {
                    bits[kp * words + i / 64] |= 1 << (i % 64);
                }
            }
        }
        Self {
            n_images: n,
            n_keypoints: k,
            words,
            bits,
        }
    }

    pub fn keypoint(&self, kp: usize) -> &[u64] {
        &self.bits[kp * self.words..(kp + 1) * self.words]
    }

    pub fn is_success(&self, image: usize, kp: usize) -> bool {
        self.keypoint(kp)[image / 64] >> (image % 64) & 1 == 1
    }

    /// The two tables with the images in `swap` (a bitset over images)
    /// exchanged: the relabelling step of a paired permutation test.
    pub fn exchange(&self, other: &Self, swap: &[u64]) -> (Self, Self) {
        assert_eq!(
            (self.n_images, self.n_keypoints),
            (other.n_images, other.n_keypoints)
        );
        let (mut a, mut b) = (self.clone(), other.clone());
        for (j, (x, y)) in a.bits.iter_mut().zip(b.bits.iter_mut()).enumerate() {
            let m = swap[j % self.words];
            let (ox, oy) = (*x, *y);
            *x = (ox & !m) | (oy & m);
            *y = (oy & !m) | (ox & m);
        }
        (a, b)
    }

    /// Group membership bitsets for the given labels.
    pub fn masks(&self, labels: &[Option<u16>], n_groups: usize) -> Vec<u64> {
        let mut m = vec![0u64; self.words * n_groups];
        for (i, l) in labels.iter().enumerate() {
            if let Some(g) = l {
                m[*g as usize * self.words + i / 64] |= 1 << (i % 64);
            }
        }
        m
    }

    /// DP of every keypoint for groups given as membership masks (`masks` from
    /// [`Self::masks`]) with their sizes.
    pub fn dp_per_keypoint(&self, masks: &[u64], sizes: &[usize]) -> Vec<f64> {
        let w = self.words;
        (0..self.n_keypoints)
            .map(|kp| {
                let s = self.keypoint(kp);
                let rates = sizes
                    .iter()
                    .enumerate()
                    .filter(|(_, &n)| n > 0)
                    .map(|(g, &n)| {
                        let m = &masks[g * w..(g + 1) * w];
                        let hits: u32 = s.iter().zip(m).map(|(a, b)| (a & b).count_ones()).sum();
                        hits as f64 / n as f64
                    });
                max_minus_min(rates)
            })
            .collect()
    }

    /// Observed DP per keypoint for a grouping.
    pub fn dp(&self, grouping: &Grouping) -> Vec<f64> {
        let masks = self.masks(&grouping.labels, grouping.n_groups());
        self.dp_per_keypoint(&masks, &grouping.sizes())
    }

    /// Success rate (fraction) of every group at every keypoint: `[kp][group]`.
    pub fn group_rates(&self, grouping: &Grouping) -> Vec<Vec<f64>> {
        let masks = self.masks(&grouping.labels, grouping.n_groups());
        let sizes = grouping.sizes();
        let w = self.words;
        (0..self.n_keypoints)
            .map(|kp| {
                let s = self.keypoint(kp);
                (0..grouping.n_groups())
                    .map(|g| {
                        let m = &masks[g * w..(g + 1) * w];
                        let hits: u32 = s.iter().zip(m).map(|(a, b)| (a & b).count_ones()).sum();
                        if sizes[g] == 0 {
                            f64::NAN
                        } else {
                            hits as f64 / sizes[g] as f64
                        }
                    })
                    .collect()
            })
            .collect()
    }
}

/// Largest minus smallest of the rates; 0 for fewer than two.
pub fn max_minus_min(rates: impl IntoIterator<Item = f64>) -> f64 {
    let (mut lo, mut hi, mut n) = (f64::INFINITY, f64::NEG_INFINITY, 0);
    for r in rates {
        lo = lo.min(r);
        hi = hi.max(r);
        n += 1;
    }
    if n < 2 {
        0.0
    } else {
        hi - lo
    }
}

pub fn mean(v: &[f64]) -> f64 {
    if v.is_empty() {
        f64::NAN
    } else {
        v.iter().sum::<f64>() / v.len() as f64
    }
}

#[cfg(all(test, not(target_arch = "wasm32")))]
mod tests {
    use super::*;

    /// Errors chosen so that the success rates can be counted by hand.
    fn table() -> PredictionTable {
        // image: group, errors of KP1, KP2 (mm, mm_per_px 1, truth at 0,0)
        let rows = [
            ("a", "F", 1.0, 3.0),
            ("b", "F", 2.0, 1.0),
            ("c", "F", 2.5, 1.0),
            ("d", "F", 0.5, 1.0),
            ("e", "M", 3.0, 1.0),
            ("f", "M", 3.0, 2.1),
        ];
        let mut text = "image,keypoint,x_pred,y_pred,x_true,y_true,mm_per_px,sex\n".to_string();
        for (img, g, e1, e2) in rows {
            text += &format!("{img},1,{e1},0,0,0,1,{g}\n{img},2,0,{e2},0,0,1,{g}\n");
        }
        PredictionTable::parse_csv("t", &text).unwrap()
    }

    #[test]
    fn dp_by_hand() {
        let t = table();
        let g = Grouping::from_attribute(&t, "sex").unwrap();
        let s = SuccessBits::new(&t, 2.0);
        // KP1: F 3/4 (1.0, 2.0 ≤ 2; 2.5 not; 0.5) = 0.75, M 0/2 → DP 0.75
        // KP2: F 3/4, M 0/2 … F: 3.0 no, 1,1,1 yes → 0.75; M: 1.0 yes, 2.1 no → 0.5 → 0.25
        let dp = s.dp(&g);
        assert!((dp[0] - 0.75).abs() < 1e-12);
        assert!((dp[1] - 0.25).abs() < 1e-12);
        let rates = s.group_rates(&g);
        assert_eq!(rates[1], vec![0.75, 0.5]);
        assert!(s.is_success(1, 0) && !s.is_success(2, 0));
    }

    #[test]
    fn single_group_has_zero_gap() {
        assert_eq!(max_minus_min([0.3]), 0.0);
        assert!((max_minus_min([0.3, 0.9, 0.5]) - 0.6).abs() < 1e-12);
    }
}
