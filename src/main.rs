//! Parse the command line, start logging, dispatch.

use clap::Parser;

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
