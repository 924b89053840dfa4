//! Publishing a training run: evaluate it on its data set's test split, audit
//! it, choose the weights' precision, and write the model directory.
use super::publish_dir;
use crate::data::{Dataset, Split};
use crate::metrics::AuditReport;
use crate::model::manifest::{ModelManifest, Precision, TrainingData};
use crate::model::model_metrics::ModelMetrics;
use crate::model::{store, Landmarker, Runtime};
use crate::train::error::{Result, TrainError};
use crate::train::inference::{audit_rows, mre_of, predict_dataset};
use crate::train::trainer::{read_run, run_weights_path, RunInfo};
use std::path::Path;

/// Evaluates the run in `run_dir` on its test split and publishes it as
/// `out_dir` (weights, manifest with test metrics per group, model card);
/// `evaluation` is further Markdown results for the card.
pub fn publish_run(
    run_dir: &Path,
    name: &str,
    out_dir: &Path,
    created: &str,
    evaluation: Option<String>,
    runtime: Runtime,
) -> Result<(ModelManifest, AuditReport)> {
    let info = read_run(run_dir)?;
    let weights_path = run_weights_path(run_dir)?;
    let bytes = std::fs::read(&weights_path).map_err(|e| TrainError::io(&weights_path, e))?;
    let model = Landmarker::new(info.spec(), &bytes, runtime.clone())?;
    let (rows, attrs) = predict_dataset(&model, &info.data, Some(Split::Test), true)?;
    let report = audit_rows(&rows, &attrs, model.spec(), 1000, 0)?;
    let mut manifest = ModelManifest::new(
        name,
        model.spec().method.clone(),
        model.spec().config.clone(),
        model.spec().landmark_names.clone(),
        training_data(&info),
        created,
    );
    manifest.anatomy = info.anatomy;
    manifest.mm_per_px = info.mm_per_px;
    manifest.metrics = Some(ModelMetrics::from_report(&report));
    manifest.evaluation = evaluation;
    // Half precision when it costs (almost) nothing: the f16 model must match
    // the f32 test MRE within 0.01 mm.
    let weights_error = |source| TrainError::Weights {
        path: weights_path.clone(),
        source,
    };
    let f16 = store::to_bytes_f16(model.net(), &info.detector).map_err(weights_error)?;
    let half = Landmarker::new(info.spec(), &f16, runtime)?;
    let (half_rows, _) = predict_dataset(&half, &info.data, Some(Split::Test), true)?;
    let (weights, precision) = if (mre_of(&half_rows) - mre_of(&rows)).abs() <= 0.01 {
        (f16, Precision::F16)
    } else {
        (bytes, Precision::F32)
    };
    manifest.weights.precision = precision;
    let manifest = publish_dir(out_dir, manifest, &weights, "weights.bpk")?;
    Ok((manifest, report))
}

/// What the model card says about the training data.
fn training_data(info: &RunInfo) -> TrainingData {
    // Phantom sets carry their generator config: that, not a local path, says
    // how to make the training data again.
    let generator = Dataset::load(&info.data)
        .ok()
        .and_then(|d| d.meta.generator);
    let source = match generator {
        Some(g) => format!("synthetic phantoms, fairmark synth dataset with {g}"),
        None => format!("{} (fairmark dataset)", info.data.display()),
    };
    TrainingData {
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
    }
}
