//! Fairness-aware optimisation.
//!
//! **Penalty-based gradient modulation** (IdFOPNet Sec. 2.3, after OGM-GE,
//! Peng et al. 2022). For each attribute, sᵢ is the softmax probability the
//! attribute classifier gives image i's true group (Eq. 9; the b/2 of Eq. 9 is
//! OGM-GE's split of a fused bias between two modalities and has no
//! counterpart with one classifier, so the plain bias is used). Per group g of
//! the batch, s̄_g is the mean of sᵢ; the inconsistency ratio of g is
//! ρ_g = s̄_g / min_g' s̄_g' (Eq. 10): groups the encoder separates best have
//! ρ > 1. Their images get k = 1 − tanh(m·ρ) (Eq. 11; k = 1 otherwise), which
//! scales the gradient reaching the encoder from those images (applied per
//! sample, see `model::detector::scale_gradient`). With several attributes an
//! image takes the smallest k. See docs/METHOD.md.
//!
//! **GroupDRO** (Sagawa et al. 2020; fairness paper Sec. 2.4, Eq. 2): one group
//! per keypoint × demographic group. Weights q (uniform at start) follow the
//! online update q_g ← q_g·exp(η·L_g) for the groups present in a batch, then
//! renormalise; the batch loss is Σ_g q_g·L_g with L_g the mean loss of group g.
use serde::{Deserialize, Serialize};

/// Per-sample encoder gradient coefficients for one batch.
/// `scores[a][i]`: true-group probability of image i for attribute a (NaN if
/// unknown); `groups[a][i]`: its group (None if unknown); `m`: modulation strength.
pub fn modulation_coefficients(
    scores: &[Vec<f32>],
    groups: &[Vec<Option<usize>>],
    m: f32,
) -> Vec<f32> {
    let b = scores.first().map_or(0, Vec::len);
    let mut k = vec![1.0f32; b];
    for (s, g) in scores.iter().zip(groups) {
        let n_groups = g.iter().flatten().max().map_or(0, |m| m + 1);
        let mut sum = vec![0.0f32; n_groups];
        let mut count = vec![0usize; n_groups];
        for (si, gi) in s.iter().zip(g) {
            if let Some(gi) = gi {
                sum[*gi] += si;
                count[*gi] += 1;
            }
        }
        let means: Vec<Option<f32>> = sum
            .iter()
            .zip(&count)
            .map(|(s, &c)| (c > 0).then(|| s / c as f32))
            .collect();
        let present: Vec<f32> = means.iter().flatten().copied().collect();
        if present.len() < 2 {
            continue; // Eq. 10 compares groups: with one group in the batch ρ is undefined.
        }
        let min = present
            .iter()
            .copied()
            .fold(f32::INFINITY, f32::min)
            .max(1e-8);
        for (i, gi) in g.iter().enumerate() {
            if let Some(mean) = gi.and_then(|gi| means[gi]) {
                let rho = mean / min;
                if rho > 1.0 {
                    k[i] = k[i].min(1.0 - (m * rho).tanh());
                }
            }
        }
    }
    k
}

/// Online GroupDRO weights over `n_groups` groups.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct GroupDro {
    pub q: Vec<f64>,
    pub eta: f64,
}

impl GroupDro {
    pub fn new(n_groups: usize, eta: f64) -> Self {
        Self {
            q: vec![1.0 / n_groups.max(1) as f64; n_groups],
            eta,
        }
    }

    /// Updates q with the mean loss of each group present in the batch
    /// (`None` = absent) and returns the weight of each group for this batch's loss.
    pub fn update(&mut self, group_losses: &[Option<f64>]) -> Vec<f64> {
        for (q, l) in self.q.iter_mut().zip(group_losses) {
            if let Some(l) = l {
                *q *= (self.eta * l).exp();
            }
        }
        let total: f64 = self.q.iter().sum();
        if total.is_finite() && total > 0.0 {
            for q in &mut self.q {
                *q /= total;
            }
        } else {
            // exp overflowed: restart from uniform rather than propagate NaN.
            let n = self.q.len() as f64;
            self.q.iter_mut().for_each(|q| *q = 1.0 / n);
        }
        self.q.clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn modulation_by_hand() {
        // Group 0 mean score 0.8, group 1 mean 0.4 → ρ0 = 2 → k = 1 − tanh(0.5·2) = 1 − tanh 1.
        let scores = vec![vec![0.9, 0.7, 0.4, 0.4]];
        let groups = vec![vec![Some(0), Some(0), Some(1), Some(1)]];
        let k = modulation_coefficients(&scores, &groups, 0.5);
        let want = 1.0 - 1f32.tanh();
        assert!((k[0] - want).abs() < 1e-6 && (k[1] - want).abs() < 1e-6);
        assert_eq!(&k[2..], &[1.0, 1.0]);
        // One group only, or unknown labels: no modulation.
        let k = modulation_coefficients(&[vec![0.9, 0.1]], &[vec![Some(0), None]], 0.5);
        assert_eq!(k, vec![1.0, 1.0]);
    }

    #[test]
    fn several_attributes_take_the_smallest_coefficient() {
        let scores = vec![vec![0.9, 0.3], vec![0.5, 0.6]];
        let groups = vec![vec![Some(0), Some(1)], vec![Some(0), Some(1)]];
        let k = modulation_coefficients(&scores, &groups, 0.1);
        // attribute 0: ρ = 3 for image 0 → 1 − tanh(0.3); attribute 1: ρ = 1.2 for image 1 → 1 − tanh(0.12)
        assert!((k[0] - (1.0 - 0.3f32.tanh())).abs() < 1e-6);
        assert!((k[1] - (1.0 - 0.12f32.tanh())).abs() < 1e-6);
    }

    #[test]
    fn group_dro_update_by_hand() {
        let mut dro = GroupDro::new(3, 1.0);
        // q ∝ (e^1, 1, e^2) / 3 for losses 1, absent, 2.
        let q = dro.update(&[Some(1.0), None, Some(2.0)]);
        let e = std::f64::consts::E;
        let z = e + 1.0 + e * e;
        assert!(
            (q[0] - e / z).abs() < 1e-12
                && (q[1] - 1.0 / z).abs() < 1e-12
                && (q[2] - e * e / z).abs() < 1e-12
        );
        assert!((q.iter().sum::<f64>() - 1.0).abs() < 1e-12);
        let mut dro = GroupDro::new(2, 1e6);
        assert!(dro
            .update(&[Some(1e6), Some(1.0)])
            .iter()
            .all(|q| q.is_finite()));
    }
}
