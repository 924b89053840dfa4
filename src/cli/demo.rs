use clap::Args;
use std::path::PathBuf;

#[derive(Args)]
pub struct DemoArgs {
    /// Output directory for the phantoms, predictions, report and chart.
    #[arg(long, default_value = "demo-out")]
    pub out: PathBuf,
}

pub fn run(_a: DemoArgs) -> anyhow::Result<()> {
    anyhow::bail!("the demo needs the phantom generator")
}
