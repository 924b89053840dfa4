//! Using a trained model natively over data sets: load it from a run or a
//! published directory as a [`Landmarker`], predict a dataset split, audit
//! the predictions.
use super::batches::{prepare, Prepared};
use super::error::{Result, TrainError};
use super::evaluate::predict;
use super::trainer::{read_run, run_weights_path};
use crate::data::{Anatomy, Dataset, Split};
use crate::metrics::predictions::{LabelledRow, PredictionRow};
use crate::metrics::{audit, AuditConfig, AuditReport, PredictionTable};
use crate::model::{Landmarker, ModelSpec, Runtime};
use std::path::Path;

/// A model from a run directory (`run.json`, best weights) or a published one
/// (`manifest.json`, whose weights' size and sha256 are checked).
pub fn load_landmarker(path: &Path, runtime: Runtime) -> Result<Landmarker> {
    if !path.join("run.json").exists() {
        return Ok(Landmarker::load_dir(path, runtime)?);
    }
    let info = read_run(path)?;
    let weights_path = run_weights_path(path)?;
    let bytes = std::fs::read(&weights_path).map_err(|e| TrainError::io(&weights_path, e))?;
    Ok(Landmarker::new(info.spec(), &bytes, runtime)?)
}

/// Predictions for the samples of `split` (all when `None`) as rows of the
/// predictions CSV, with the dataset's attribute columns.
pub fn predict_dataset(
    model: &Landmarker,
    data_dir: &Path,
    split: Option<Split>,
    use_attributes: bool,
) -> Result<(Vec<LabelledRow>, Vec<String>)> {
    let spec = model.spec();
    let detector = &spec.config.detector;
    let ds = Dataset::load(data_dir)?;
    if ds.n_landmarks() != detector.n_landmarks {
        return Err(TrainError::Invalid(format!(
            "{}: {} landmarks, the model detects {}",
            data_dir.display(),
            ds.n_landmarks(),
            detector.n_landmarks
        )));
    }
    let attributes = &spec.config.attributes;
    let items: Vec<Prepared> = prepare(&ds, data_dir, split, detector, attributes)?;
    if items.is_empty() {
        return Err(TrainError::Invalid(format!(
            "{}: no image in the requested split",
            data_dir.display()
        )));
    }
    let device = &model.runtime().device;
    let preds = predict(
        model.net(),
        detector,
        &items,
        attributes,
        use_attributes,
        8,
        device,
    )?;
    // Only attributes that some image has: a dataset may declare groups that
    // none of its images are labelled with (the real DHA radiographs).
    let attr_names: Vec<String> = ds
        .meta
        .attributes
        .keys()
        .filter(|a| items.iter().any(|it| it.sample.attributes.contains_key(*a)))
        .cloned()
        .collect();
    let rows = items
        .iter()
        .zip(preds)
        .flat_map(|(it, p)| {
            let attrs: Vec<String> = attr_names
                .iter()
                .map(|a| it.sample.attributes.get(a).cloned().unwrap_or_default())
                .collect();
            it.sample
                .landmarks
                .iter()
                .zip(p)
                .enumerate()
                .map(move |(k, (t, q))| {
                    (
                        PredictionRow {
                            image: it.sample.image.clone(),
                            keypoint: k + 1,
                            pred: q,
                            truth: *t,
                            mm_per_px: it.sample.mm_per_px,
                        },
                        attrs.clone(),
                    )
                })
        })
        .collect();
    Ok((rows, attr_names))
}

/// Audit of prediction rows with the anatomy's conventions.
pub fn audit_rows(
    rows: &[LabelledRow],
    attr_names: &[String],
    spec: &ModelSpec,
    rounds: usize,
    seed: u64,
) -> Result<AuditReport> {
    let table = PredictionTable::from_rows("predictions", rows, attr_names)?;
    let cfg = AuditConfig {
        thresholds_mm: Anatomy::thresholds_mm_or_default(spec.anatomy),
        rounds,
        seed,
        keypoint_names: Some(spec.landmark_names.clone()),
        anatomy: spec.anatomy,
        ..Default::default()
    };
    Ok(audit(&table, &cfg)?)
}

/// Mean radial error (mm) of prediction rows.
pub fn mre_of(rows: &[LabelledRow]) -> f64 {
    let sum: f64 = rows
        .iter()
        .map(|(r, _)| (r.pred[0] - r.truth[0]).hypot(r.pred[1] - r.truth[1]) * r.mm_per_px)
        .sum();
    sum / rows.len().max(1) as f64
}
