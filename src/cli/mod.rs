//! Argument parsing and dispatch; every command calls into the library.
mod audit;
mod demo;
mod synth;

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
    /// Per-keypoint fairness audit of a predictions CSV.
    Audit(audit::AuditArgs),
    /// The main job on the embedded default: phantoms → biased predictions → audit.
    Demo(demo::DemoArgs),
}

pub fn run() -> anyhow::Result<()> {
    match Cli::parse().command {
        Command::Synth(c) => synth::run(c),
        Command::Audit(a) => audit::run(a).map(|_| ()),
        Command::Demo(a) => demo::run(a),
    }
}
