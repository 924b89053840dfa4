//! Radial Error Noise (REN), IdFOPNet Eq. 13:
//!
//! REN = Σᵢ ωᵢ |MREᵢ − (Σⱼ ωⱼ MREⱼ / Σⱼ ωⱼ)| / Σᵢ ωᵢ
//!
//! over the subsets i (the paper's Table 1 uses {all images, adults,
//! adolescents} with equal weights).

/// REN of the subset MREs with the given weights (equal weights when `None`).
/// Returns NaN when there is no subset or the weights sum to zero.
pub fn ren(mres: &[f64], weights: Option<&[f64]>) -> f64 {
    let ones = vec![1.0; mres.len()];
    let w = weights.unwrap_or(&ones);
    let total: f64 = w.iter().sum();
    if mres.is_empty() || w.len() != mres.len() || total <= 0.0 {
        return f64::NAN;
    }
    let mean = mres.iter().zip(w).map(|(m, w)| m * w).sum::<f64>() / total;
    mres.iter()
        .zip(w)
        .map(|(m, w)| w * (m - mean).abs())
        .sum::<f64>()
        / total
}

#[cfg(all(test, not(target_arch = "wasm32")))]
mod tests {
    use super::*;

    /// IdFOPNet Table 1: MRE (all, adult, adolescent) → REN column.
    #[test]
    fn reproduces_idfopnet_table_1() {
        let rows = [
            ("Cascade RCNN", [2.31, 2.19, 2.43], 0.080),
            ("SCN", [1.73, 1.40, 2.05], 0.218),
            ("GU2Net", [1.69, 1.46, 1.93], 0.158),
            ("SR-UNet", [1.40, 1.13, 1.55], 0.153),
            ("HTC", [1.11, 1.11, 1.03], 0.036),
            ("CeLDA", [1.05, 1.10, 1.00], 0.033),
            ("HYATT-Net", [0.98, 1.00, 0.85], 0.062),
            ("IdFOPNet", [0.91, 0.93, 0.90], 0.011),
        ];
        for (name, mres, expected) in rows {
            let r = ren(&mres, None);
            assert!(
                (r - expected).abs() < 0.0006,
                "{name}: {r:.4} vs {expected}"
            );
        }
    }

    #[test]
    fn hand_computed_weighted() {
        // weights 1,3 on MREs 1,2: mean 1.75; (0.75 + 3·0.25)/4 = 0.375
        assert!((ren(&[1.0, 2.0], Some(&[1.0, 3.0])) - 0.375).abs() < 1e-12);
        assert_eq!(ren(&[1.5, 1.5, 1.5], None), 0.0);
        assert!(ren(&[], None).is_nan());
    }
}
