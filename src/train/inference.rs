//! Using a trained model natively: load it from a run or a published
//! directory, predict a dataset split, publish a run.
use super::batches::{prepare, Prepared};
use super::evaluate::predict;
use super::trainer::{load_run_model, read_run, RunInfo};
use crate::data::{Dataset, Split};
use crate::metrics::predictions::{LabelledRow, PredictionRow};
use crate::metrics::{audit, AuditConfig, AuditReport, PredictionTable};
use crate::model::spec::ModelSpec;
use crate::model::{store, Detector};
use crate::publish::{self, ModelManifest, ModelMetrics, Precision, TrainingData};
use burn::tensor::Device;
use std::path::Path;

impl RunInfo {
    pub fn spec(&self) -> ModelSpec {
        ModelSpec {
            method: self.train.method.as_str().into(),
            detector: self.detector.clone(),
            attributes: self.attributes.clone(),
            landmark_names: self.landmark_names.clone(),
            anatomy: self.anatomy,
        }
    }
}

/// A model from a run directory (`run.json`) or a published one (`manifest.json`,
/// whose weights' sha256 is checked).
pub fn load_model(
    path: &Path,
    device: &Device,
) -> Result<(ModelSpec, Detector, Option<ModelManifest>), String> {
    if path.join("run.json").exists() {
        let (info, model) = load_run_model(path, device)?;
        return Ok((info.spec(), model, None));
    }
    let (manifest, bytes) = publish::load_dir(path).map_err(|e| e.to_string())?;
    let spec =
        ModelSpec::from_manifest(&manifest).map_err(|e| format!("{}: {e}", path.display()))?;
    let model = store::from_bytes(&spec.detector, &bytes, device)
        .map_err(|e| format!("{}: {e}", path.display()))?;
    Ok((spec, model, Some(manifest)))
}

/// Predictions for the samples of `split` (all when `None`) as rows of the
/// predictions CSV, with the dataset's attribute columns.
pub fn predict_dataset(
    model: &Detector,
    spec: &ModelSpec,
    data_dir: &Path,
    split: Option<Split>,
    use_attributes: bool,
    device: &Device,
) -> Result<(Vec<LabelledRow>, Vec<String>), String> {
    let ds = Dataset::load(data_dir).map_err(|e| e.to_string())?;
    if ds.n_landmarks() != spec.detector.n_landmarks {
        return Err(format!(
            "{}: {} landmarks, the model detects {}",
            data_dir.display(),
            ds.n_landmarks(),
            spec.detector.n_landmarks
        ));
    }
    let items: Vec<Prepared> = prepare(
        &ds,
        data_dir,
        split,
        spec.detector.input_size,
        &spec.attributes,
    )
    .map_err(|e| e.to_string())?;
    if items.is_empty() {
        return Err(format!(
            "{}: no image in the requested split",
            data_dir.display()
        ));
    }
    let preds = predict(model, &items, &spec.attributes, use_attributes, 8, device)?;
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
) -> Result<AuditReport, String> {
    let text = crate::metrics::predictions::write_csv(rows, attr_names);
    let table = PredictionTable::parse_csv("predictions", &text).map_err(|e| e.to_string())?;
    let cfg = AuditConfig {
        thresholds_mm: spec
            .anatomy
            .map(|a| a.default_thresholds_mm())
            .unwrap_or_else(|| vec![2.0, 2.5, 3.0, 4.0]),
        rounds,
        seed,
        keypoint_names: Some(spec.landmark_names.clone()),
        ..Default::default()
    };
    audit(&table, &cfg).map_err(|e| e.to_string())
}

/// Evaluates a run on its data set's test split and publishes it as
/// `out_dir` (weights, manifest with test metrics per group, model card).
pub fn publish_run(
    run_dir: &Path,
    name: &str,
    out_dir: &Path,
    created: &str,
    device: &Device,
) -> Result<(ModelManifest, AuditReport), String> {
    let info = read_run(run_dir)?;
    let (_, model) = load_run_model(run_dir, device)?;
    let spec = info.spec();
    let (rows, attrs) =
        predict_dataset(&model, &spec, &info.data, Some(Split::Test), true, device)?;
    let report = audit_rows(&rows, &attrs, &spec, 1000, 0)?;
    let config = serde_json::json!({
        "detector": info.detector,
        "attributes": info.attributes,
        "train": info.train,
    });
    // Phantom sets carry their generator config: that, not a local path, says
    // how to make the training data again.
    let generator = Dataset::load(&info.data)
        .ok()
        .and_then(|d| d.meta.generator);
    let source = match generator {
        Some(g) => format!("synthetic phantoms, fairmark synth dataset with {g}"),
        None => format!("{} (fairmark dataset)", info.data.display()),
    };
    let training = TrainingData {
        description: info.data_description.clone(),
        n_train: info.n_train,
        n_val: info.n_val,
        n_test: info.n_test,
        source,
        fine_tuned_from: info
            .init_from
            .as_ref()
            .and_then(|p| p.file_name())
            .map(|n| n.to_string_lossy().into_owned()),
    };
    let mut manifest = ModelManifest::new(
        name,
        spec.method.clone(),
        config,
        spec.landmark_names.clone(),
        [info.detector.input_size[1], info.detector.input_size[0]],
        training,
        created,
    );
    manifest.anatomy = info.anatomy;
    manifest.attributes = info
        .attributes
        .names
        .iter()
        .cloned()
        .zip(info.attributes.groups.iter().cloned())
        .collect();
    manifest.mm_per_px = info.mm_per_px;
    manifest.metrics = Some(ModelMetrics::from_report(&report));
    // Half precision when it costs (almost) nothing: the f16 model must match
    // the f32 test MRE within 0.01 mm.
    let f16 = store::to_bytes_f16(&model, &info.detector)?;
    let half = store::from_bytes(&info.detector, &f16, device)?;
    let (half_rows, _) =
        predict_dataset(&half, &spec, &info.data, Some(Split::Test), true, device)?;
    let (weights, precision) = if (mre_of(&half_rows) - mre_of(&rows)).abs() <= 0.01 {
        (f16, Precision::F16)
    } else {
        (store::to_bytes(&model)?, Precision::F32)
    };
    manifest.weights.precision = precision;
    let manifest = publish::publish_dir(out_dir, manifest, &weights, "weights.bpk")
        .map_err(|e| e.to_string())?;
    Ok((manifest, report))
}

fn mre_of(rows: &[LabelledRow]) -> f64 {
    let sum: f64 = rows
        .iter()
        .map(|(r, _)| (r.pred[0] - r.truth[0]).hypot(r.pred[1] - r.truth[1]) * r.mm_per_px)
        .sum();
    sum / rows.len().max(1) as f64
}
