//! The `postroom` program: parses the command line and hands it to the library.

use clap::Parser;

/// mimalloc: the log committer frees what the parse threads allocate, and glibc's arenas made that
/// a fifth of its time (see BENCHMARKS.md, ingest). Built with `no_thp`: mimalloc otherwise asks
/// for transparent huge pages, and the kernel then zeroes 2 MiB at each fault and again after
/// each purge (a sixth of all ingest CPU went to `clear_page_erms`).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    let cli = postroom::cli::Cli::parse();
    let default = match cli.command {
        postroom::cli::Command::Serve { .. } => "info",
        _ => "warn",
    };
    let filter = tracing_subscriber::EnvFilter::try_from_env("POSTROOM_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(default));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .init();
    match postroom::cli::run(cli) {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {}", e.0);
            std::process::ExitCode::FAILURE
        }
    }
}
