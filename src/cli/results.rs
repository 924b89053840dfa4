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
    /// Agreement of the ISBI 2015 challenge's eight classes (ANB, SNB, SNA,
    /// ODI, APDI, FHI, FMA, MW) of a second set of 19 ISBI landmarks with the
    /// reference annotator's, per subset.
    Classes(ClassesArgs),
    /// How well a model's per-landmark uncertainty ranks its errors on a
    /// dataset split: Spearman ρ with the radial error, AUROC for misses,
    /// share of misses caught when the most uncertain landmarks are flagged.
    Confidence(ConfidenceArgs),
}

#[derive(Args)]
pub struct ConfidenceArgs {
    /// A published model (models/NAME) or a run directory.
    #[arg(long)]
    pub model: PathBuf,
    #[arg(long)]
    pub data: PathBuf,
    /// train, val, test or all.
    #[arg(long, default_value = "val")]
    pub split: String,
    /// A miss: radial error above this many mm.
    #[arg(long, default_value_t = 4.0)]
    pub miss_mm: f64,
    /// Share of landmarks flagged, most uncertain first.
    #[arg(long, default_value_t = 0.1)]
    pub flag_rate: f64,
    #[arg(long, default_value = "auto")]
    pub backend: String,
    /// Markdown table to write (also printed).
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// The same as JSON.
    #[arg(long)]
    pub json: Option<PathBuf>,
}

#[derive(Args)]
pub struct ClassesArgs {
    /// Reference annotator (Payer layout, ISBI millimetres), e.g. isbi2015_ceph_senior.csv.
    #[arg(long)]
    pub reference: PathBuf,
    /// Second annotator (same layout), e.g. isbi2015_ceph_junior.csv.
    #[arg(long, required_unless_present = "predictions")]
    pub second: Option<PathBuf>,
    /// Or a model's predictions CSV (19 ISBI landmarks, pixels): its images
    /// are compared with the reference's classes. With --second as well, the
    /// model and the second annotator are also compared image by image
    /// (exact McNemar per measurement and test set, Holm over all).
    #[arg(long)]
    pub predictions: Option<PathBuf>,
    /// Markdown table to write (also printed).
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// The same as JSON (one object per measurement and subset).
    #[arg(long)]
    pub json: Option<PathBuf>,
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
        ResultsCommand::Confidence(a) => confidence(a),
    }
}

/// Runs the model as users do (`Landmarker::detect`, both stages) on every
/// image of the split and scores its uncertainty against its errors.
fn confidence(a: ConfidenceArgs) -> anyhow::Result<()> {
    use fairmark::detection::pipeline::{DetectOptions, Pixels};
    use fairmark::metrics::confidence::ranking;
    anyhow::ensure!(
        a.flag_rate > 0.0 && a.flag_rate <= 1.0 && a.miss_mm > 0.0,
        "--flag-rate must be in (0, 1] and --miss-mm > 0"
    );
    let split = super::split_arg(&a.split)?;
    let ds = fairmark::data::Dataset::load(&a.data)?;
    let samples: Vec<_> = ds
        .samples
        .iter()
        .filter(|s| split.is_none_or(|sp| s.split == sp))
        .collect();
    anyhow::ensure!(!samples.is_empty(), "no image in split {}", a.split);
    let model =
        fairmark::train::inference::load_landmarker(&a.model, super::runtime_for(&a.backend)?)?;
    let bar = super::synth::progress_bar(samples.len() as u64, "detecting");
    // Per landmark: error, then the scores (radius, coarse, fine, shift), mm.
    let mut rows: Vec<[f64; 5]> = Vec::new();
    let (mut low, mut low_misses) = (0usize, 0usize);
    for s in &samples {
        let path = fairmark::data::dataset::image_path(&a.data, s);
        let img = fairmark::data::formats::image_io::load_image(&path)?;
        let options = DetectOptions {
            mm_per_px: Some(s.mm_per_px),
            ..Default::default()
        };
        let det = futures_lite::future::block_on(model.detect(Pixels::Grey(&img), &options))
            .with_context(|| format!("detecting on {}", path.display()))?;
        anyhow::ensure!(
            det.landmarks.len() == s.landmarks.len(),
            "{}: the model has {} landmarks, the dataset {}",
            s.image,
            det.landmarks.len(),
            s.landmarks.len()
        );
        for (l, t) in det.landmarks.iter().zip(&s.landmarks) {
            let Some(u) = &l.uncertainty else { continue };
            let m = s.mm_per_px;
            let error = (l.x - t[0]).hypot(l.y - t[1]) * m;
            low += u.low as usize;
            low_misses += (u.low && error > a.miss_mm) as usize;
            rows.push([
                error,
                u.radius_px * m,
                u.coarse_spread_px * m,
                u.fine_spread_px.unwrap_or(f64::NAN) * m,
                u.stage_shift_px.unwrap_or(f64::NAN) * m,
            ]);
        }
        bar.inc(1);
    }
    bar.finish_and_clear();
    let error: Vec<f64> = rows.iter().map(|r| r[0]).collect();
    let names = [
        "radius (the document's)",
        "coarse spread",
        "fine spread",
        "stage shift",
    ];
    let results: Vec<_> = names
        .iter()
        .enumerate()
        .filter(|(j, _)| rows.iter().all(|r| r[j + 1].is_finite()))
        .map(|(j, name)| {
            let score: Vec<f64> = rows.iter().map(|r| r[j + 1]).collect();
            ranking(name, &error, &score, a.miss_mm, a.flag_rate)
        })
        .collect();
    let misses = error.iter().filter(|e| **e > a.miss_mm).count();
    let mut md = format!(
        "{} images, {} landmarks of `{}` ({} split of {}); a miss is an error above {} mm ({} misses); {} landmarks ({:.1} %) marked low confidence (radius over {} mm), among them {} of the misses ({:.1} %).\n\n",
        samples.len(),
        error.len(),
        a.model.display(),
        a.split,
        a.data.display(),
        a.miss_mm,
        misses,
        low,
        100.0 * low as f64 / error.len().max(1) as f64,
        fairmark::detection::LOW_CONFIDENCE_MM,
        low_misses,
        100.0 * low_misses as f64 / misses.max(1) as f64,
    );
    md += &format!(
        "| score | Spearman ρ with error | AUROC for misses | misses caught flagging {:.0} % |\n|---|---:|---:|---:|\n",
        100.0 * a.flag_rate
    );
    for r in &results {
        md += &format!(
            "| {} | {:.3} | {:.3} | {:.1} % |\n",
            r.score,
            r.spearman,
            r.auroc,
            100.0 * r.caught
        );
    }
    print!("{md}");
    if let Some(p) = &a.out {
        fairmark::io::write_atomic(p, md.as_bytes())?;
    }
    if let Some(p) = &a.json {
        fairmark::io::write_atomic(p, serde_json::to_string_pretty(&results)?.as_bytes())?;
    }
    Ok(())
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

/// Agreement of the ISBI 2015 challenge's eight classifications between two
/// sets of landmarks (its second task).
fn classes(a: ClassesArgs) -> anyhow::Result<()> {
    use fairmark::data::anatomy::ISBI_LANDMARKS;
    use fairmark::data::formats::isbi::ISBI_MM_PER_PX;
    use fairmark::data::formats::payer_csv::read_payer_csv;
    use fairmark::results::classes::{
        agreement_markdown, class_agreement, compare_readers, comparison_markdown,
        shapes_from_predictions,
    };
    let mut reference = read_payer_csv(&a.reference, ISBI_LANDMARKS, 10.0)?;
    let second = match &a.second {
        Some(p) => Some(read_payer_csv(p, ISBI_LANDMARKS, 10.0)?),
        None => None,
    };
    let predictions = match &a.predictions {
        Some(p) => {
            let text = std::fs::read_to_string(p).with_context(|| p.display().to_string())?;
            let shapes = shapes_from_predictions(
                &p.display().to_string(),
                &text,
                ISBI_LANDMARKS,
                ISBI_MM_PER_PX,
            )?;
            // A model is scored on the images it predicted (the test sets).
            let ids: std::collections::HashSet<&str> =
                shapes.iter().map(|s| s.id.as_str()).collect();
            reference.retain(|r| ids.contains(r.id.as_str()));
            Some(shapes)
        }
        None => None,
    };
    let (agreement, comparison) = match (&predictions, &second) {
        (Some(model), Some(second)) => (
            class_agreement(&reference, model, ISBI_MM_PER_PX)?,
            Some(compare_readers(&reference, model, second, ISBI_MM_PER_PX)?),
        ),
        (Some(other), None) | (None, Some(other)) => {
            (class_agreement(&reference, other, ISBI_MM_PER_PX)?, None)
        }
        (None, None) => anyhow::bail!("give --second or --predictions"),
    };
    let mut md = agreement_markdown(&agreement);
    if let Some(rows) = &comparison {
        md += "\nThe model against the second annotator, image by image:\n\n";
        md += &comparison_markdown(rows, "model", "second");
    }
    if let Some(path) = &a.json {
        let json = serde_json::json!({ "agreement": agreement, "versus_second": comparison });
        fairmark::io::write_atomic(path, serde_json::to_string_pretty(&json)?.as_bytes())?;
        eprintln!("wrote {}", path.display());
    }
    if let Some(out) = &a.out {
        fairmark::io::write_atomic(out, md.as_bytes())?;
        eprintln!("wrote {}", out.display());
    }
    print!("{md}");
    Ok(())
}
