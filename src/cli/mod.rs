//! Argument parsing and dispatch; every command calls into the library.
mod audit;
mod bench;
mod demo;
mod import;
mod model_cmds;
mod results;
mod synth;
mod train;

use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(
    name = "fairmark",
    version,
    about = "Fair anatomical landmark detection on X-ray images"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Make synthetic data: phantom X-ray data sets, simulated predictions.
    #[command(subcommand)]
    Synth(synth::SynthCommand),
    /// Convert a real data set (ISBI 2015, Digital Hand Atlas) into a fairmark dataset.
    #[command(subcommand)]
    Import(import::ImportCommand),
    /// Train a landmark detector (unet, idfopnet, groupdro).
    Train(train::TrainArgs),
    /// Predict a dataset split with a model, write the predictions CSV and audit them.
    Eval(model_cmds::EvalArgs),
    /// Landmarks (and measurements) on one X-ray image.
    Detect(model_cmds::DetectArgs),
    /// Evaluate a run on its test split and publish it to models/<name>.
    Publish(model_cmds::PublishArgs),
    /// Speed (and JSON): train/infer of the U-Net, to compare with bench/torch_unet.py;
    /// detect: a real model on a real image, cold and warm.
    Bench(bench::BenchArgs),
    /// Per-keypoint fairness audit of a predictions CSV.
    Audit(audit::AuditArgs),
    /// Result tables and figures of the experiments (docs/RESULTS.md).
    #[command(subcommand)]
    Results(results::ResultsCommand),
    /// The main job on the embedded default: phantoms → biased predictions → audit.
    Demo(demo::DemoArgs),
    /// Refit the statistical shape models that drive the phantoms from real
    /// annotations (ISBI 2015 + Digital Hand Atlas) and write them as JSON.
    FitShapes(FitShapesArgs),
}

#[derive(clap::Args)]
struct FitShapesArgs {
    /// Directory with annotations/isbi2015_ceph_{senior,junior}.csv and annotations/dha_hand_all.csv.
    #[arg(long, default_value = "../shared/data")]
    data: std::path::PathBuf,
    /// Where to write ceph.json and hand.json (the embedded models live in src/data/shape_models).
    #[arg(long, default_value = "src/data/shape_models")]
    out: std::path::PathBuf,
}

pub fn run() -> anyhow::Result<()> {
    match Cli::parse().command {
        Command::Synth(c) => synth::run(c),
        Command::Import(c) => import::run(c),
        Command::Train(a) => train::run(a),
        Command::Eval(a) => model_cmds::eval(a),
        Command::Detect(a) => model_cmds::detect(a),
        Command::Publish(a) => model_cmds::publish(a),
        Command::Bench(a) => bench::run(a),
        Command::Audit(a) => audit::run(a).map(|_| ()),
        Command::Results(c) => results::run(c),
        Command::Demo(a) => demo::run(a),
        Command::FitShapes(a) => {
            fairmark::data::shape_model::write_embedded(&a.data, &a.out)?;
            eprintln!("wrote {}/ceph.json and hand.json", a.out.display());
            Ok(())
        }
    }
}

/// The runtime for `--backend auto|wgpu|cpu`; says on stderr which was taken.
pub fn runtime_for(backend: &str) -> anyhow::Result<fairmark::model::Runtime> {
    use anyhow::Context;
    let choice: fairmark::model::BackendChoice = backend.parse().context("--backend")?;
    let runtime = fairmark::model::Runtime::select(choice).context("--backend")?;
    eprintln!("backend: {}", runtime.note);
    Ok(runtime)
}

/// `--split train|val|test|all` (`all` = no filter).
pub fn split_arg(s: &str) -> anyhow::Result<Option<fairmark::data::Split>> {
    match s {
        "all" => Ok(None),
        s => fairmark::data::Split::parse(s)
            .map(Some)
            .ok_or_else(|| anyhow::anyhow!("--split {s:?}: expected train, val, test or all")),
    }
}
