//! `postroom-bench`: the benchmarks, a program of their own beside the server (the library and the
//! `postroom` binary carry no benchmark code). `engine` measures the log, the projections and
//! start-up; `ingest` measures IMAP ingest against a mail server; `webform` the web form over
//! HTTP against a server process. Run it in release:
//! `cargo run --release --bin postroom-bench -- [--only memory|appends|webform|categories|log|ingest|outbox|routing|offers|qa] ...`.

mod classify;
mod engine;
mod ingest;
mod offers;
mod outbox;
mod qa;
mod routing;
mod webform;

use clap::Parser;

/// The same allocator as the server (see `src/main.rs`), so the figures are the server's.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Measure the log, the projections, start-up and ingest, and print a report.
#[derive(Parser)]
#[command(name = "postroom-bench", version)]
struct Cli {
    #[command(flatten)]
    args: engine::BenchArgs,
}

fn main() -> std::process::ExitCode {
    let filter = tracing_subscriber::EnvFilter::try_from_env("POSTROOM_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn"));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .init();
    match engine::run(Cli::parse().args) {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            std::process::ExitCode::FAILURE
        }
    }
}
