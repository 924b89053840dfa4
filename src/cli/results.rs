//! `fairmark results`: the tables and figures of docs/RESULTS.md from
//! prediction CSVs (each audited here with the library's audit).
use anyhow::Context;
use clap::{Args, Subcommand};
use fairmark::metrics::PredictionTable;
use fairmark::results::accuracy_table::{self, AccuracyRow};
use fairmark::results::{dp_chart, study};
use std::path::{Path, PathBuf};

#[derive(Subcommand)]
pub enum ResultsCommand {
    /// IdFOPNet Table 1/2 layout: MRE (std), SDR per threshold for all images
    /// and per group, and REN; one row per NAME=predictions.csv.
    Accuracy(AccuracyArgs),
    /// Fairness-paper hold-out summary of one or more models (NAME=a.csv,b.csv,…,
    /// one CSV per hold-out): per-keypoint DP with the randomised band, paired
    /// permutation tests against the first model, privacy attack, DP chart.
    Holdouts(HoldoutArgs),
    /// The ISBI 2015 human floor: the second annotator's landmarks written as
    /// predictions of the reference annotator's (audit or tabulate the CSV).
    Observers(ObserverArgs),
    /// Agreement of the skeletal class (ANB, ISBI 2015 thresholds) of a second
    /// set of 19 ISBI landmarks with the reference annotator's, per subset.
    Classes(ClassesArgs),
}

#[derive(Args)]
pub struct ClassesArgs {
    /// Reference annotator (Payer layout, ISBI millimetres), e.g. isbi2015_ceph_senior.csv.
    #[arg(long)]
    pub reference: PathBuf,
    /// Second annotator (same layout), e.g. isbi2015_ceph_junior.csv.
    #[arg(
        long,
        required_unless_present = "predictions",
        conflicts_with = "predictions"
    )]
    pub second: Option<PathBuf>,
    /// Or a model's predictions CSV (19 ISBI landmarks, pixels): its images
    /// are compared with the reference's classes.
    #[arg(long)]
    pub predictions: Option<PathBuf>,
    /// Markdown table to write (also printed).
    #[arg(long)]
    pub out: Option<PathBuf>,
}

#[derive(Args)]
pub struct AccuracyArgs {
    /// NAME=predictions.csv, one per table row.
    #[arg(required = true)]
    pub models: Vec<String>,
    /// Attribute whose groups get their own columns (and REN); without it,
    /// all images only.
    #[arg(long)]
    pub attr: Option<String>,
    /// SDR radii in mm (default: 2,2.5,3,4).
    #[arg(long, value_delimiter = ',')]
    pub thresholds: Vec<f64>,
    /// Markdown output.
    #[arg(long)]
    pub out: PathBuf,
    /// Also write the per-landmark table (MRE (std) and SDR at the first
    /// threshold, one column pair per model) here.
    #[arg(long)]
    pub per_landmark: Option<PathBuf>,
    /// Anatomy whose landmark names label the per-landmark rows (ceph, isbi, hand).
    #[arg(long)]
    pub anatomy: Option<String>,
}

#[derive(Args)]
pub struct HoldoutArgs {
    /// NAME=hold-out-1.csv,hold-out-2.csv,… (repeat; the first is the reference).
    #[arg(long = "model", required = true)]
    pub models: Vec<String>,
    #[arg(long)]
    pub attr: String,
    /// Output directory: summary.md, holdouts.json, dp.svg.
    #[arg(long)]
    pub out: PathBuf,
    /// Chart title.
    #[arg(long, default_value = "Per-keypoint DP of SDR@2 mm")]
    pub title: String,
    /// Rounds of attribute randomisation and of the paired permutation test.
    #[arg(long, default_value_t = 1000)]
    pub rounds: usize,
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
}

pub fn run(c: ResultsCommand) -> anyhow::Result<()> {
    match c {
        ResultsCommand::Accuracy(a) => accuracy(a),
        ResultsCommand::Holdouts(a) => holdout_summary(a),
        ResultsCommand::Observers(a) => observers(a),
        ResultsCommand::Classes(a) => classes(a),
    }
}

fn read_table(path: &Path) -> anyhow::Result<PredictionTable> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
    Ok(PredictionTable::parse_csv(
        &path.display().to_string(),
        &text,
    )?)
}

/// `NAME=a.csv[,b.csv…]` → (NAME, paths).
fn named_paths(spec: &str) -> anyhow::Result<(String, Vec<PathBuf>)> {
    let (name, paths) = spec
        .split_once('=')
        .filter(|(n, p)| !n.is_empty() && !p.is_empty())
        .ok_or_else(|| anyhow::anyhow!("{spec:?}: expected NAME=predictions.csv[,more.csv…]"))?;
    Ok((
        name.to_string(),
        paths.split(',').map(PathBuf::from).collect(),
    ))
}

fn accuracy(a: AccuracyArgs) -> anyhow::Result<()> {
    let mut rows = Vec::new();
    let mut tables = Vec::new();
    for spec in &a.models {
        let (name, paths) = named_paths(spec)?;
        let [path] = paths.as_slice() else {
            anyhow::bail!("{spec:?}: one predictions CSV per row");
        };
        let table = read_table(path)?;
        let row = match &a.attr {
            Some(attr) => {
                // One round: this table uses no resampling.
                let report = study::audit_for(&table, attr, &a.thresholds, 1, 0)?;
                AccuracyRow::from_report(&name, &report, attr)?
            }
            None => {
                let th = if a.thresholds.is_empty() {
                    fairmark::metrics::report::AuditConfig::default().thresholds_mm
                } else {
                    a.thresholds.clone()
                };
                AccuracyRow::overall(&name, &table, &th)
            }
        };
        rows.push(row);
        tables.push((name, table));
    }
    let md = accuracy_table::accuracy_table(&rows, a.attr.as_deref())?;
    fairmark::io::write_atomic(&a.out, md.as_bytes())?;
    print!("{md}");
    if let Some(path) = &a.per_landmark {
        let names: Option<Vec<String>> = match &a.anatomy {
            Some(s) => {
                let an = fairmark::data::Anatomy::parse(s).ok_or_else(|| {
                    anyhow::anyhow!("--anatomy {s:?}: expected ceph, isbi or hand")
                })?;
                Some(an.landmark_names())
            }
            None => None,
        };
        let threshold = rows
            .first()
            .and_then(|r| r.thresholds_mm.first().copied())
            .unwrap_or(2.0);
        let md = accuracy_table::per_landmark_table(&tables, threshold, names.as_deref())?;
        fairmark::io::write_atomic(path, md.as_bytes())?;
        print!("\n{md}");
    }
    Ok(())
}

fn holdout_summary(a: HoldoutArgs) -> anyhow::Result<()> {
    let mut models: Vec<(String, Vec<PredictionTable>)> = Vec::new();
    for spec in &a.models {
        let (name, paths) = named_paths(spec)?;
        let t = paths
            .iter()
            .map(|p| read_table(p))
            .collect::<anyhow::Result<Vec<_>>>()?;
        models.push((name, t));
    }
    let study = study::holdout_study(&models, &a.attr, a.rounds, a.seed, |name| {
        eprintln!("auditing {name}")
    })?;
    for why in &study.skipped {
        eprintln!("{why}");
    }
    let md = study.markdown();
    std::fs::create_dir_all(&a.out)?;
    fairmark::io::write_atomic(&a.out.join("summary.md"), md.as_bytes())?;
    fairmark::io::write_atomic(
        &a.out.join("holdouts.json"),
        serde_json::to_string_pretty(&study)?.as_bytes(),
    )?;
    let svg = dp_chart::dp_compare_svg(&study.models, &a.title)?;
    fairmark::io::write_atomic(&a.out.join("dp.svg"), svg.as_bytes())?;
    print!("{md}");
    eprintln!(
        "wrote {}/summary.md, holdouts.json, dp.svg",
        a.out.display()
    );
    Ok(())
}

#[derive(Args)]
pub struct ObserverArgs {
    /// Reference annotator (Payer layout, ISBI millimetres), e.g. isbi2015_ceph_senior.csv.
    #[arg(long)]
    pub reference: PathBuf,
    /// Second annotator, e.g. isbi2015_ceph_junior.csv.
    #[arg(long)]
    pub second: PathBuf,
    /// Keep all 19 ISBI landmarks (default: the 10 fairmark ceph landmarks).
    #[arg(long)]
    pub all_landmarks: bool,
    /// Predictions CSV to write (the second annotator as predictions).
    #[arg(long)]
    pub out: PathBuf,
}

/// The ISBI 2015 inter-observer error as a predictions CSV.
fn observers(a: ObserverArgs) -> anyhow::Result<()> {
    use fairmark::data::anatomy::ISBI_LANDMARKS;
    use fairmark::data::formats::isbi::observer_predictions;
    use fairmark::data::formats::payer_csv::read_payer_csv;
    let reference = read_payer_csv(&a.reference, ISBI_LANDMARKS, 10.0)?;
    let second = read_payer_csv(&a.second, ISBI_LANDMARKS, 10.0)?;
    let images = observer_predictions(&reference, &second, a.all_landmarks)?;
    let (rows, attrs) = fairmark::metrics::predictions::labelled_rows(&images)?;
    let csv = fairmark::metrics::predictions::write_csv(&rows, &attrs);
    fairmark::io::write_atomic(&a.out, csv.as_bytes())?;
    eprintln!(
        "wrote {} images × {} landmarks ({} as predictions of {}) to {}",
        images.len(),
        images.first().map_or(0, |i| i.truth.len()),
        a.second.display(),
        a.reference.display(),
        a.out.display()
    );
    Ok(())
}

/// Skeletal-class agreement between two ISBI annotations (the challenge's
/// classification task for ANB).
fn classes(a: ClassesArgs) -> anyhow::Result<()> {
    use fairmark::data::anatomy::ISBI_LANDMARKS;
    use fairmark::data::formats::payer_csv::read_payer_csv;
    use fairmark::results::classes::{agreement_markdown, skeletal_class_agreement};
    let mut reference = read_payer_csv(&a.reference, ISBI_LANDMARKS, 10.0)?;
    let second = match (&a.second, &a.predictions) {
        (Some(p), _) => read_payer_csv(p, ISBI_LANDMARKS, 10.0)?,
        (None, Some(p)) => {
            let text = std::fs::read_to_string(p).with_context(|| p.display().to_string())?;
            let shapes = fairmark::results::classes::shapes_from_predictions(
                &p.display().to_string(),
                &text,
                ISBI_LANDMARKS,
            )?;
            // A model is scored on the images it predicted (the test sets).
            let ids: std::collections::HashSet<&str> =
                shapes.iter().map(|s| s.id.as_str()).collect();
            reference.retain(|r| ids.contains(r.id.as_str()));
            shapes
        }
        (None, None) => anyhow::bail!("give --second or --predictions"),
    };
    let md = agreement_markdown(&skeletal_class_agreement(&reference, &second)?);
    if let Some(out) = &a.out {
        fairmark::io::write_atomic(out, md.as_bytes())?;
        eprintln!("wrote {}", out.display());
    }
    print!("{md}");
    Ok(())
}
