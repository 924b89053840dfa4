use anyhow::Context;
use clap::{Args, ValueEnum};
use fairmark::metrics::report::RenWeights;
use fairmark::metrics::{audit, chart, text_table, AuditOptions, AuditReport, PredictionTable};
use std::path::{Path, PathBuf};

#[derive(Clone, Copy, ValueEnum)]
pub enum Weights {
    Equal,
    GroupSize,
}

#[derive(Args)]
pub struct AuditArgs {
    /// Predictions CSV: image,keypoint,x_pred,y_pred,x_true,y_true,mm_per_px,<attributes…>
    pub predictions: PathBuf,
    /// Attribute column to audit (repeat for several); default: every attribute column.
    #[arg(long = "attr")]
    pub attrs: Vec<String>,
    /// Where to write the JSON report.
    #[arg(long, default_value = "report.json")]
    pub out: PathBuf,
    /// Also draw the per-keypoint DP chart as SVG.
    #[arg(long)]
    pub svg: Option<PathBuf>,
    /// Rounds of attribute randomisation, permutation test and bootstrap.
    #[arg(long, default_value_t = 1000)]
    pub rounds: usize,
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// SDR radii in mm, comma-separated (default: the anatomy's, else 2,2.5,3,4).
    #[arg(long, value_delimiter = ',')]
    pub thresholds: Vec<f64>,
    /// Success radius φ of the per-keypoint DP, in mm.
    #[arg(long, default_value_t = 2.0)]
    pub dp_threshold: f64,
    /// REN weights of the subsets.
    #[arg(long, value_enum, default_value = "equal")]
    pub ren_weights: Weights,
    /// Significance level for flagging keypoints (after Holm correction).
    #[arg(long, default_value_t = 0.05)]
    pub alpha: f64,
    /// Restrict the privacy attack to images with ATTR=GROUP (e.g. sex=F).
    #[arg(long)]
    pub filter: Option<String>,
    /// Skip the random-forest privacy attack.
    #[arg(long)]
    pub no_privacy: bool,
    /// Name keypoints after this anatomy (ceph|hand|none); default: guessed from the keypoint count
    /// (10 → ceph, 37 → hand), `none` numbers them KP1…KPn.
    #[arg(long)]
    pub anatomy: Option<String>,
    /// Do not print the table.
    #[arg(long, short)]
    pub quiet: bool,
}

pub fn run(a: AuditArgs) -> anyhow::Result<AuditReport> {
    let text = std::fs::read_to_string(&a.predictions)
        .with_context(|| format!("cannot read {}", a.predictions.display()))?;
    let table = PredictionTable::parse_csv(&a.predictions.display().to_string(), &text)?;
    let options = AuditOptions {
        attributes: a.attrs.clone(),
        rounds: a.rounds,
        seed: a.seed,
        thresholds_mm: a.thresholds.clone(),
        dp_threshold_mm: a.dp_threshold,
        ren_weights: match a.ren_weights {
            Weights::Equal => RenWeights::Equal,
            Weights::GroupSize => RenWeights::GroupSize,
        },
        alpha: a.alpha,
        filter: a.filter.clone(),
        privacy: !a.no_privacy,
        anatomy: a.anatomy.clone(),
    };
    let cfg = options.config(&table)?;
    let report = audit(&table, &cfg)?;
    write_report(&report, &a.out, a.svg.as_deref())?;
    if !a.quiet {
        print!("{}", text_table::render(&report));
    }
    eprintln!("report: {}", a.out.display());
    if let Some(svg) = &a.svg {
        eprintln!("chart:  {}", svg.display());
    }
    Ok(report)
}

/// Writes the JSON report (and the SVG chart), each atomically.
pub fn write_report(report: &AuditReport, out: &Path, svg: Option<&Path>) -> anyhow::Result<()> {
    let json = serde_json::to_string_pretty(report)?;
    fairmark::io::write_atomic(out, json.as_bytes())?;
    if let Some(svg) = svg {
        let drawing =
            chart::dp_chart_svg(report).map_err(|e| anyhow::anyhow!("drawing the chart: {e}"))?;
        fairmark::io::write_atomic(svg, drawing.as_bytes())?;
    }
    Ok(())
}
