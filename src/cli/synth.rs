use anyhow::Context;
use clap::{Args, Subcommand};
use fairmark::data::phantom::{generate, GroupSpec, PhantomConfig};
use fairmark::data::{Anatomy, Dataset, Split};
use fairmark::metrics::predictions::write_csv;
use fairmark::metrics::simulate::{simulate, ErrorModel, InjectedBias};
use std::path::PathBuf;

#[derive(Subcommand)]
pub enum SynthCommand {
    /// Render a synthetic X-ray phantom data set (PNG images, landmarks.csv,
    /// attributes.csv, dataset.json).
    Dataset(DatasetArgs),
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

#[derive(Args)]
pub struct DatasetArgs {
    /// Anatomy: ceph (lateral cephalogram, 10 landmarks) or hand (37 landmarks).
    #[arg(long, default_value = "ceph")]
    pub kind: String,
    /// Number of images.
    #[arg(long, default_value_t = 400)]
    pub n: usize,
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Output directory.
    #[arg(long)]
    pub out: PathBuf,
    /// Group proportions, e.g. adult:0.8,adolescent:0.2 (repeat per attribute); balanced by default.
    #[arg(long = "groups")]
    pub groups: Vec<String>,
    /// Image width in pixels (default: the anatomy's).
    #[arg(long)]
    pub width: Option<u32>,
    /// Image height in pixels (default: the anatomy's).
    #[arg(long)]
    pub height: Option<u32>,
    /// Pixel spacing of cephalograms in mm (hands use the 50 mm wrist convention).
    #[arg(long)]
    pub mm_per_px: Option<f64>,
    /// Train/val/test fractions, e.g. 0.7,0.1,0.2.
    #[arg(long, value_delimiter = ',')]
    pub split: Vec<f64>,
    /// Film-grain noise level (1 = default).
    #[arg(long)]
    pub noise: Option<f64>,
}

pub fn run(c: SynthCommand) -> anyhow::Result<()> {
    match c {
        SynthCommand::Dataset(a) => dataset(&a).map(|_| ()),
        SynthCommand::Predictions(a) => predictions(&a).map(|_| ()),
    }
}

pub fn predictions(a: &PredictionsArgs) -> anyhow::Result<usize> {
    let ds =
        Dataset::load(&a.data).with_context(|| format!("loading data set {}", a.data.display()))?;
    let split = super::split_arg(&a.split)?;
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

pub fn dataset(a: &DatasetArgs) -> anyhow::Result<Dataset> {
    let anatomy = Anatomy::parse(&a.kind)
        .with_context(|| format!("--kind {:?}: expected ceph or hand", a.kind))?;
    let mut cfg = PhantomConfig::new(anatomy);
    cfg.n = a.n;
    cfg.seed = a.seed;
    if !a.groups.is_empty() {
        cfg.groups = GroupSpec::parse(anatomy, &a.groups)?;
    }
    if let Some(w) = a.width {
        cfg.width = w;
    }
    if let Some(h) = a.height {
        cfg.height = h;
    }
    if let Some(m) = a.mm_per_px {
        cfg.mm_per_px = m;
    }
    if let Some(n) = a.noise {
        cfg.noise = n;
    }
    match a.split.as_slice() {
        [] => {}
        [tr, va, te] => cfg.split = [*tr, *va, *te],
        other => anyhow::bail!("--split needs three fractions train,val,test, got {other:?}"),
    }
    cfg.validate()?;
    let bar = progress_bar(cfg.n as u64, "rendering phantoms");
    let ds = generate(&cfg, &a.out, |done| bar.set_position(done as u64))?;
    bar.finish_and_clear();
    let counts: Vec<String> = [Split::Train, Split::Val, Split::Test]
        .iter()
        .map(|s| format!("{} {}", ds.split(*s).count(), s.as_str()))
        .collect();
    eprintln!(
        "wrote {} {anatomy} phantoms to {} ({})",
        ds.samples.len(),
        a.out.display(),
        counts.join(", ")
    );
    Ok(ds)
}

/// A progress bar on stderr (hidden when stderr is not a terminal).
pub fn progress_bar(len: u64, what: &str) -> indicatif::ProgressBar {
    let bar = indicatif::ProgressBar::new(len);
    bar.set_style(
        indicatif::ProgressStyle::with_template(
            "{msg} [{bar:30}] {pos}/{len} ({per_sec}, ETA {eta})",
        )
        .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar())
        .progress_chars("=> "),
    );
    bar.set_message(what.to_string());
    bar
}
