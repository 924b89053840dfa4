//! Exact McNemar test: do two readers of the same images succeed equally
//! often? Only the discordant images count: `b` where the first succeeds and
//! the second fails, `c` the other way round. Under H0 each discordant image
//! is a fair coin, so min(b, c) follows Bin(b + c, ½); the two-sided p-value
//! is min(1, 2·P(X ≤ min(b, c))) (the exact form, which small counts need:
//! the χ² approximation is poor below about 25 discordant images).

/// Two-sided exact McNemar p-value; 1 without discordant images.
pub fn mcnemar_exact(b: usize, c: usize) -> f64 {
    let n = b + c;
    if n == 0 {
        return 1.0;
    }
    let k = b.min(c);
    // Σ_{i ≤ k} C(n, i) / 2^n, in logs so that large n neither overflows
    // C(n, i) nor underflows 2^−n.
    let ln2n = n as f64 * std::f64::consts::LN_2;
    let mut ln_choose = 0.0f64;
    let mut tail = 0.0f64;
    for i in 0..=k {
        tail += (ln_choose - ln2n).exp();
        ln_choose += ((n - i) as f64).ln() - ((i + 1) as f64).ln();
    }
    (2.0 * tail).min(1.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hand_computed_p_values() {
        // n = 10, k = 1: 2·(1 + 10)/1024.
        assert!((mcnemar_exact(1, 9) - 22.0 / 1024.0).abs() < 1e-15);
        assert!((mcnemar_exact(9, 1) - 22.0 / 1024.0).abs() < 1e-15);
        // n = 5, k = 0: 2/32.
        assert!((mcnemar_exact(0, 5) - 0.0625).abs() < 1e-15);
        // Balanced counts: capped at 1.
        assert_eq!(mcnemar_exact(4, 4), 1.0);
        assert_eq!(mcnemar_exact(0, 0), 1.0);
        // Large n stays finite: n = 2000, k = 900; exact with Python's
        // integers, 2·Σ comb(2000, i) / 2²⁰⁰⁰ = 8.457089535503927e-06.
        let p = mcnemar_exact(900, 1100);
        assert!((p / 8.457089535503927e-06 - 1.0).abs() < 1e-9, "{p}");
    }
}
