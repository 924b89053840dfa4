//! Privacy attack (fairness paper Sec. 3.1.4): can a sensitive attribute be
//! predicted from the per-keypoint radial errors of an image? A random forest
//! (smartcore) is trained on the K errors of each image with stratified 5-fold
//! cross-validation; accuracy well above the majority-class baseline means the
//! model's errors leak the attribute.
use super::error::{MetricsError, Result};
use super::grouping::Grouping;
use super::predictions::PredictionTable;
use crate::rng::{map_indices, stream_rng};
use rand::seq::SliceRandom;
use serde::{Deserialize, Serialize};
use smartcore::ensemble::random_forest_classifier::{
    RandomForestClassifier, RandomForestClassifierParameters,
};
use smartcore::linalg::basic::matrix::DenseMatrix;

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PrivacyResult {
    /// Mean and population std of the fold accuracies (0–1).
    pub accuracy_mean: f64,
    pub accuracy_std: f64,
    /// Accuracy of predicting each training fold's majority class.
    pub baseline: f64,
    pub folds: usize,
    pub n_images: usize,
    /// `attr=group` filter applied first, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub filter: Option<String>,
}

#[derive(Clone, Debug)]
pub struct PrivacyConfig {
    pub folds: usize,
    pub n_trees: u16,
    pub max_depth: Option<u16>,
    pub seed: u64,
}

impl Default for PrivacyConfig {
    fn default() -> Self {
        Self {
            folds: 5,
            n_trees: 100,
            max_depth: Some(8),
            seed: 0,
        }
    }
}

/// Stratified fold of every labelled image: within each class, shuffled
/// images are dealt to folds in turn.
fn stratified_folds(labels: &[u32], n_classes: usize, folds: usize, seed: u64) -> Vec<usize> {
    let mut fold = vec![0; labels.len()];
    let mut rng = stream_rng(seed, u64::MAX);
    let mut offset = 0;
    for c in 0..n_classes as u32 {
        let mut idx: Vec<usize> = (0..labels.len()).filter(|&i| labels[i] == c).collect();
        idx.shuffle(&mut rng);
        for (j, i) in idx.into_iter().enumerate() {
            fold[i] = (j + offset) % folds;
        }
        // Continue the deal where the last class stopped so that fold sizes stay even.
        offset += labels.iter().filter(|&&l| l == c).count();
    }
    fold
}

pub fn privacy_attack(
    table: &PredictionTable,
    grouping: &Grouping,
    cfg: &PrivacyConfig,
) -> Result<PrivacyResult> {
    let rows: Vec<usize> = (0..table.n_images())
        .filter(|&i| grouping.labels[i].is_some())
        .collect();
    let y: Vec<u32> = rows
        .iter()
        .filter_map(|&i| grouping.labels[i])
        .map(u32::from)
        .collect();
    let n_classes = grouping.n_groups();
    let sizes: Vec<usize> = (0..n_classes as u32)
        .map(|c| y.iter().filter(|&&l| l == c).count())
        .collect();
    if n_classes < 2 || sizes.iter().any(|&s| s < cfg.folds) {
        return Err(MetricsError::Invalid(format!(
            "privacy attack on {}: needs ≥ 2 groups with ≥ {} images each, got {:?}",
            grouping.name,
            cfg.folds,
            grouping.groups.iter().zip(&sizes).collect::<Vec<_>>()
        )));
    }
    let k = table.n_keypoints;
    let fold = stratified_folds(&y, n_classes, cfg.folds, cfg.seed);
    let params = RandomForestClassifierParameters::default()
        .with_n_trees(cfg.n_trees)
        .with_seed(cfg.seed);
    let params = match cfg.max_depth {
        Some(d) => params.with_max_depth(d),
        None => params,
    };
    let subset = |test: bool, f: usize| -> (Vec<f64>, Vec<u32>) {
        let mut x = Vec::new();
        let mut t = Vec::new();
        for (j, &i) in rows.iter().enumerate() {
            if (fold[j] == f) == test {
                x.extend_from_slice(table.image_errors(i));
                t.push(y[j]);
            }
        }
        (x, t)
    };
    let per_fold: Vec<Result<(f64, f64)>> = map_indices(cfg.folds, |f| {
        let (xtr, ytr) = subset(false, f);
        let (xte, yte) = subset(true, f);
        let fail =
            |e: smartcore::error::Failed| MetricsError::Invalid(format!("random forest: {e}"));
        let xtr = DenseMatrix::new(ytr.len(), k, xtr, false).map_err(fail)?;
        let xte = DenseMatrix::new(yte.len(), k, xte, false).map_err(fail)?;
        let rf = RandomForestClassifier::fit(&xtr, &ytr, params.clone()).map_err(fail)?;
        let pred = rf.predict(&xte).map_err(fail)?;
        let acc = pred.iter().zip(&yte).filter(|(a, b)| a == b).count() as f64 / yte.len() as f64;
        let majority = (0..n_classes as u32)
            .max_by_key(|c| {
                (
                    ytr.iter().filter(|&&l| l == *c).count(),
                    std::cmp::Reverse(*c),
                )
            })
            .unwrap_or(0);
        let base = yte.iter().filter(|&&l| l == majority).count() as f64 / yte.len() as f64;
        Ok((acc, base))
    });
    let per_fold = per_fold.into_iter().collect::<Result<Vec<_>>>()?;
    let accs: Vec<f64> = per_fold.iter().map(|p| p.0).collect();
    let mean = accs.iter().sum::<f64>() / accs.len() as f64;
    let std = (accs.iter().map(|a| (a - mean).powi(2)).sum::<f64>() / accs.len() as f64).sqrt();
    Ok(PrivacyResult {
        accuracy_mean: mean,
        accuracy_std: std,
        baseline: per_fold.iter().map(|p| p.1).sum::<f64>() / per_fold.len() as f64,
        folds: cfg.folds,
        n_images: rows.len(),
        filter: None,
    })
}

#[cfg(all(test, not(target_arch = "wasm32")))]
mod tests {
    use super::*;

    fn table(n: usize, leak: bool) -> PredictionTable {
        use rand::RngExt;
        let mut rng = stream_rng(3, 0);
        let mut text = "image,keypoint,x_pred,y_pred,x_true,y_true,mm_per_px,g\n".to_string();
        for i in 0..n {
            let g = if i % 3 == 0 { "a" } else { "b" };
            for kp in 1..=4 {
                let mut e: f64 = rng.random_range(0.0..2.0);
                if leak && g == "a" && kp == 2 {
                    e += 1.5;
                }
                text += &format!("i{i},{kp},{e},0,0,0,1,{g}\n");
            }
        }
        PredictionTable::parse_csv("t", &text).unwrap()
    }

    #[test]
    fn folds_are_stratified() {
        let y: Vec<u32> = (0..50).map(|i| (i % 5 == 0) as u32).collect();
        let f = stratified_folds(&y, 2, 5, 1);
        for fold in 0..5 {
            let ones = (0..50).filter(|&i| f[i] == fold && y[i] == 1).count();
            assert_eq!(ones, 2);
        }
    }

    #[test]
    fn leaking_errors_are_detected_and_clean_ones_are_not() {
        let cfg = PrivacyConfig {
            n_trees: 30,
            ..Default::default()
        };
        let t = table(300, true);
        let g = Grouping::from_attribute(&t, "g").unwrap();
        let r = privacy_attack(&t, &g, &cfg).unwrap();
        assert!((r.baseline - 2.0 / 3.0).abs() < 0.02, "{r:?}");
        // Bayes-optimal accuracy is 11/12 ≈ 0.917 (the classes overlap on [1.5, 2)).
        assert!(r.accuracy_mean > 0.85, "{r:?}");
        let t = table(300, false);
        let r = privacy_attack(&t, &g, &cfg).unwrap();
        assert!(r.accuracy_mean < 0.72, "{r:?}");
    }

    #[test]
    fn too_few_images_is_an_error() {
        let t = table(6, true);
        let g = Grouping::from_attribute(&t, "g").unwrap();
        assert!(privacy_attack(&t, &g, &PrivacyConfig::default()).is_err());
    }
}
