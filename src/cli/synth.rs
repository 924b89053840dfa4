use anyhow::Context;
use clap::{Args, Subcommand};
use fairmark::data::{Dataset, Split};
use fairmark::metrics::predictions::write_csv;
use fairmark::metrics::simulate::{simulate, ErrorModel, InjectedBias};
use std::path::PathBuf;

#[derive(Subcommand)]
pub enum SynthCommand {
    /// Simulated predictions for a data set, with per-keypoint error and injected bias.
    Predictions(PredictionsArgs),
}

#[derive(Args)]
pub struct PredictionsArgs {
    /// Data set directory (fairmark format, e.g. from `fairmark synth dataset`).
    #[arg(long)]
    pub data: PathBuf,
    /// Predictions CSV to write.
    #[arg(long, default_value = "predictions.csv")]
    pub out: PathBuf,
    /// Which split to predict: train, val, test or all.
    #[arg(long, default_value = "test")]
    pub split: String,
    /// Mean radial error per keypoint in mm: one value for all, or one per keypoint (comma-separated).
    #[arg(long, value_delimiter = ',', default_value = "1.0")]
    pub base_mm: Vec<f64>,
    /// Injected bias, e.g. kp=4,group=adolescent,extra_mm=1.5 (repeatable).
    #[arg(long = "bias")]
    pub biases: Vec<String>,
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
}

pub fn run(c: SynthCommand) -> anyhow::Result<()> {
    match c {
        SynthCommand::Predictions(a) => predictions(&a).map(|_| ()),
    }
}

pub fn predictions(a: &PredictionsArgs) -> anyhow::Result<usize> {
    let ds =
        Dataset::load(&a.data).with_context(|| format!("loading data set {}", a.data.display()))?;
    let split = match a.split.as_str() {
        "all" => None,
        s => Some(
            Split::parse(s)
                .with_context(|| format!("--split {s:?}: expected train, val, test or all"))?,
        ),
    };
    let biases = a
        .biases
        .iter()
        .map(|b| b.parse::<InjectedBias>())
        .collect::<Result<Vec<_>, _>>()?;
    let model = ErrorModel {
        base_mm: a.base_mm.clone(),
        biases,
        seed: a.seed,
    };
    let (rows, attrs) = simulate(&ds, split, &model)?;
    fairmark::io::write_atomic(&a.out, write_csv(&rows, &attrs).as_bytes())?;
    let n_images = rows.len() / ds.n_landmarks();
    eprintln!(
        "wrote {} ({n_images} images × {} keypoints)",
        a.out.display(),
        ds.n_landmarks()
    );
    Ok(n_images)
}
