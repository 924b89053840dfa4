//! Mean radial error (MRE) and successful detection rate (SDR).
//!
//! MRE is the mean Euclidean distance in mm over all (image, keypoint) pairs of a
//! subset; its std is the population standard deviation of those distances (as
//! `numpy.std`, which the papers' tables use). SDR@r is the percentage of pairs
//! with error ≤ r mm (fairness paper Sec. 2.3: 𝟙(error ≤ φ)).
use serde::Serialize;

/// Accuracy of one subset of (image, keypoint) errors.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Accuracy {
    pub n: usize,
    pub mre_mm: f64,
    pub mre_std_mm: f64,
    /// SDR in percent (0–100), one per threshold.
    pub sdr: Vec<f64>,
}

/// Accuracy of the errors yielded by `errors` at the given thresholds.
pub fn accuracy(errors: impl IntoIterator<Item = f64>, thresholds_mm: &[f64]) -> Accuracy {
    let (mut n, mut sum, mut sum_sq) = (0usize, 0.0, 0.0);
    let mut hits = vec![0usize; thresholds_mm.len()];
    for e in errors {
        n += 1;
        sum += e;
        sum_sq += e * e;
        for (h, t) in hits.iter_mut().zip(thresholds_mm) {
            if e <= *t {
                *h += 1;
            }
        }
    }
    if n == 0 {
        return Accuracy {
            n,
            mre_mm: f64::NAN,
            mre_std_mm: f64::NAN,
            sdr: vec![f64::NAN; thresholds_mm.len()],
        };
    }
    let mean = sum / n as f64;
    let var = (sum_sq / n as f64 - mean * mean).max(0.0);
    Accuracy {
        n,
        mre_mm: mean,
        mre_std_mm: var.sqrt(),
        sdr: hits.iter().map(|&h| 100.0 * h as f64 / n as f64).collect(),
    }
}

#[cfg(all(test, not(target_arch = "wasm32")))]
mod tests {
    use super::*;

    #[test]
    fn hand_computed() {
        // errors 1, 2, 3, 6: mean 3, population variance (4+1+0+9)/4 = 3.5
        let a = accuracy([1.0, 2.0, 3.0, 6.0], &[2.0, 2.5, 6.0]);
        assert_eq!(a.n, 4);
        assert!((a.mre_mm - 3.0).abs() < 1e-12);
        assert!((a.mre_std_mm - 3.5f64.sqrt()).abs() < 1e-12);
        // ≤ 2 counts the error that equals the threshold
        assert_eq!(a.sdr, vec![50.0, 50.0, 100.0]);
    }

    #[test]
    fn empty_subset_is_nan_not_a_panic() {
        let a = accuracy(std::iter::empty(), &[2.0]);
        assert!(a.mre_mm.is_nan() && a.sdr[0].is_nan());
    }
}
