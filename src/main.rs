//! Parse the command line, start logging, dispatch.

use clap::Parser;

/// mimalloc returns freed memory to the system (with the settings of `allocator.rs`, at once);
/// glibc's malloc kept the peak of a login burst (Argon2's 19 MiB blocks) for the life of the
/// process. README "Reliability" has the measurements.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() {
    // Before any thread or runtime exists: this may restart the process with its settings.
    atm_maint::allocator::apply_settings();
    let cli = atm_maint::cli::Cli::parse();
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(r) => r,
        Err(e) => {
            eprintln!("cannot start the async runtime: {e}");
            std::process::exit(2);
        }
    };
    let code = runtime.block_on(async {
        atm_maint::telemetry::init();
        match atm_maint::cli::run(cli).await {
            Ok(code) => code,
            Err(e) => {
                tracing::error!("{e:#}");
                2
            }
        }
    });
    std::process::exit(code);
}
