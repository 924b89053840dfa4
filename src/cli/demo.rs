//! The main job on the embedded default: a cephalometric phantom set with an
//! adult/adolescent split, predictions simulated with a known bias on the A
//! point (KP5) for adolescents, and the per-keypoint audit that should find it.
use super::{audit, synth};
use clap::Args;
use std::path::PathBuf;

#[derive(Args)]
pub struct DemoArgs {
    /// Output directory for the phantoms, predictions, report and chart.
    #[arg(long, default_value = "demo-out")]
    pub out: PathBuf,
    /// Number of phantoms.
    #[arg(long, default_value_t = 400)]
    pub n: usize,
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Epochs of the small U-Net trained on the phantoms (0 skips training).
    #[arg(long, default_value_t = 15)]
    pub epochs: usize,
}

pub fn run(a: DemoArgs) -> anyhow::Result<()> {
    let data = a.out.join("ceph-phantoms");
    eprintln!(
        "1/3 synthesising {} cephalometric phantoms (adult/adolescent) → {}",
        a.n,
        data.display()
    );
    synth::dataset(&synth::DatasetArgs {
        kind: "ceph".into(),
        n: a.n,
        seed: a.seed,
        out: data.clone(),
        groups: Vec::new(),
        width: None,
        height: None,
        mm_per_px: None,
        split: Vec::new(),
        noise: None,
    })?;
    let preds = a.out.join("predictions.csv");
    eprintln!("2/5 simulating predictions on the test split: 1.0 mm mean error, +1.5 mm on KP5 (A point) for adolescents");
    synth::predictions(&synth::PredictionsArgs {
        data: data.clone(),
        out: preds.clone(),
        split: "test".into(),
        base_mm: vec![1.0],
        biases: vec!["kp=5,group=adolescent,extra_mm=1.5".into()],
        seed: a.seed,
    })?;
    eprintln!("3/5 auditing the simulated predictions");
    let report = a.out.join("report.json");
    let svg = a.out.join("dp.svg");
    let r = audit::run(audit::AuditArgs {
        predictions: preds,
        attrs: vec!["age_group".into()],
        out: report.clone(),
        svg: Some(svg.clone()),
        rounds: 1000,
        seed: a.seed,
        thresholds: Vec::new(),
        dp_threshold: 2.0,
        ren_weights: audit::Weights::Equal,
        alpha: 0.05,
        filter: None,
        no_privacy: false,
        anatomy: Some("ceph".into()),
        quiet: false,
    })?;
    let flagged: Vec<String> = r
        .keypoints
        .iter()
        .filter(|k| !k.flagged.is_empty())
        .map(|k| format!("KP{} ({})", k.keypoint, k.name))
        .collect();
    println!(
        "\nflagged keypoints: {} (injected: KP5 (A) for adolescents)\n",
        if flagged.is_empty() {
            "none".to_string()
        } else {
            flagged.join(", ")
        },
    );
    if a.epochs == 0 {
        return Ok(());
    }
    let run = a.out.join("runs/unet-small");
    if run.exists() {
        std::fs::remove_dir_all(&run)?;
    }
    eprintln!(
        "4/5 training a small U-Net on the phantoms (CPU, 64×64 input, {} epochs)",
        a.epochs
    );
    super::train::run(super::train::TrainArgs::small(
        &data, &run, a.epochs, a.seed,
    ))?;
    eprintln!("5/5 evaluating it on the test split and auditing its real errors");
    let model_report = a.out.join("model-report.json");
    super::model_cmds::eval(super::model_cmds::EvalArgs {
        model: run,
        data,
        out: a.out.join("model-predictions.csv"),
        split: "test".into(),
        report: Some(model_report.clone()),
        no_attributes: false,
        rounds: 1000,
        backend: "cpu".into(),
    })?;
    println!(
        "\nsimulated-bias report: {} (chart {})\ntrained-model report:  {}",
        report.display(),
        svg.display(),
        model_report.display()
    );
    Ok(())
}
