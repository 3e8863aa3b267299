//! `postroom bench`: measures the log, the projections and start-up, and prints a report.

#[derive(clap::Args, Debug, Clone)]
pub struct BenchArgs {}

pub fn run(_args: BenchArgs) -> Result<(), String> {
    Err("not yet".into())
}
