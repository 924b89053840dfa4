//! How well an uncertainty score ranks a detector's errors: Spearman's rank
//! correlation with the radial error, the area under the ROC curve for
//! telling misses (error above a radius) from hits, and the share of misses
//! caught when the most uncertain fraction of landmarks is flagged.
use serde::{Deserialize, Serialize};

/// Ranks 1..=n, ties given their average rank (as scipy's `rankdata`).
pub fn average_ranks(v: &[f64]) -> Vec<f64> {
    let mut order: Vec<usize> = (0..v.len()).collect();
    order.sort_by(|&a, &b| v[a].total_cmp(&v[b]));
    let mut ranks = vec![0.0; v.len()];
    let mut i = 0;
    while i < order.len() {
        let mut j = i;
        while j + 1 < order.len() && v[order[j + 1]] == v[order[i]] {
            j += 1;
        }
        // Positions i..=j (0-based) share the mean of ranks i+1..=j+1.
        let r = (i + j) as f64 / 2.0 + 1.0;
        for &o in &order[i..=j] {
            ranks[o] = r;
        }
        i = j + 1;
    }
    ranks
}

fn pearson(x: &[f64], y: &[f64]) -> f64 {
    let n = x.len() as f64;
    let (mx, my) = (x.iter().sum::<f64>() / n, y.iter().sum::<f64>() / n);
    let (mut sxy, mut sxx, mut syy) = (0.0, 0.0, 0.0);
    for (a, b) in x.iter().zip(y) {
        sxy += (a - mx) * (b - my);
        sxx += (a - mx) * (a - mx);
        syy += (b - my) * (b - my);
    }
    sxy / (sxx * syy).sqrt()
}

/// Spearman's ρ: the Pearson correlation of the average ranks.
pub fn spearman(x: &[f64], y: &[f64]) -> f64 {
    pearson(&average_ranks(x), &average_ranks(y))
}

/// Probability that a random miss scores higher than a random hit (ties
/// count half): the Mann–Whitney form of the ROC AUC. NaN without both.
pub fn auroc(score: &[f64], miss: &[bool]) -> f64 {
    let ranks = average_ranks(score);
    let n_miss = miss.iter().filter(|m| **m).count() as f64;
    let n_hit = miss.len() as f64 - n_miss;
    if n_miss == 0.0 || n_hit == 0.0 {
        return f64::NAN;
    }
    let rank_sum: f64 = ranks
        .iter()
        .zip(miss)
        .filter(|(_, m)| **m)
        .map(|(r, _)| r)
        .sum();
    (rank_sum - n_miss * (n_miss + 1.0) / 2.0) / (n_miss * n_hit)
}

/// Flagging the `rate` most uncertain landmarks (⌈rate·n⌉ of them, ties in
/// input order): the share of all misses that are flagged.
pub fn catch_rate(score: &[f64], miss: &[bool], rate: f64) -> f64 {
    let n_flag = ((rate * score.len() as f64).ceil() as usize).min(score.len());
    let mut order: Vec<usize> = (0..score.len()).collect();
    order.sort_by(|&a, &b| score[b].total_cmp(&score[a]).then(a.cmp(&b)));
    let misses = miss.iter().filter(|m| **m).count();
    let caught = order[..n_flag].iter().filter(|&&i| miss[i]).count();
    if misses == 0 {
        f64::NAN
    } else {
        caught as f64 / misses as f64
    }
}

/// One score's ranking quality on a set of (error, score) pairs.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Ranking {
    pub score: String,
    pub n: usize,
    pub spearman: f64,
    /// Misses: radial error above `miss_mm`.
    pub miss_mm: f64,
    pub n_misses: usize,
    pub auroc: f64,
    pub flag_rate: f64,
    /// Share of misses among the `flag_rate` most uncertain landmarks.
    pub caught: f64,
}

pub fn ranking(
    name: &str,
    error_mm: &[f64],
    score: &[f64],
    miss_mm: f64,
    flag_rate: f64,
) -> Ranking {
    let miss: Vec<bool> = error_mm.iter().map(|e| *e > miss_mm).collect();
    Ranking {
        score: name.into(),
        n: error_mm.len(),
        spearman: spearman(score, error_mm),
        miss_mm,
        n_misses: miss.iter().filter(|m| **m).count(),
        auroc: auroc(score, &miss),
        flag_rate,
        caught: catch_rate(score, &miss, flag_rate),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranks_average_ties_like_scipy() {
        // scipy.stats.rankdata([10, 20, 10, 30, 20, 20]) = [1.5, 4, 1.5, 6, 4, 4]
        assert_eq!(
            average_ranks(&[10.0, 20.0, 10.0, 30.0, 20.0, 20.0]),
            vec![1.5, 4.0, 1.5, 6.0, 4.0, 4.0]
        );
    }

    #[test]
    fn spearman_by_hand() {
        // Monotone: 1; reversed: −1.
        assert!((spearman(&[1.0, 2.0, 3.0, 4.0], &[1.0, 4.0, 9.0, 16.0]) - 1.0).abs() < 1e-12);
        assert!((spearman(&[1.0, 2.0, 3.0], &[3.0, 2.0, 1.0]) + 1.0).abs() < 1e-12);
        // scipy.stats.spearmanr([1, 2, 3, 4, 5], [2, 1, 4, 3, 5]) = 0.8
        assert!(
            (spearman(&[1.0, 2.0, 3.0, 4.0, 5.0], &[2.0, 1.0, 4.0, 3.0, 5.0]) - 0.8).abs() < 1e-12
        );
    }

    #[test]
    fn auroc_and_catch_rate_by_hand() {
        let score = [0.9, 0.8, 0.7, 0.1, 0.2, 0.3];
        let miss = [true, false, true, false, false, true];
        // Misses score 0.9, 0.7, 0.3; hits 0.8, 0.1, 0.2: of 9 pairs the
        // miss is higher in 3 + 2 + 2 = 7.
        assert!((auroc(&score, &miss) - 7.0 / 9.0).abs() < 1e-12);
        // Flag ⌈1/3·6⌉ = 2: 0.9 (miss) and 0.8 (hit): 1 of 3 misses.
        assert!((catch_rate(&score, &miss, 1.0 / 3.0) - 1.0 / 3.0).abs() < 1e-12);
        assert_eq!(catch_rate(&score, &miss, 1.0), 1.0);
        assert!(auroc(&score, &[false; 6]).is_nan());
        let r = ranking("s", &[5.0, 1.0, 6.0, 0.5, 1.0, 4.5], &score, 4.0, 0.5);
        assert_eq!((r.n, r.n_misses), (6, 3));
        assert!((r.caught - 2.0 / 3.0).abs() < 1e-12);
    }
}
