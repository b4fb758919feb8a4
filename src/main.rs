//! Parse the command line, start logging, dispatch.

use clap::Parser;

/// mimalloc returns freed memory to the system within moments; glibc's malloc kept the peak of a
/// login burst (Argon2's 19 MiB blocks) for the life of the process. README "Reliability" has
/// the measurement.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[tokio::main]
async fn main() {
    let cli = atm_maint::cli::Cli::parse();
    atm_maint::telemetry::init();
    let code = match atm_maint::cli::run(cli).await {
        Ok(code) => code,
        Err(e) => {
            tracing::error!("{e:#}");
            2
        }
    };
    std::process::exit(code);
}
