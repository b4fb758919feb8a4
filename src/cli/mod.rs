//! The command line: one file per subcommand.

pub mod audit;
pub mod backup;
pub mod cleanup;
pub mod disk_test;
pub mod doctor;
pub mod fsck;
pub mod import;
pub mod migrate;
pub mod openapi;
pub mod serve;
pub mod storage;
pub mod user;

use std::net::SocketAddr;
use std::path::PathBuf;

use clap::{Parser, Subcommand};

use crate::config::Flags;

#[derive(Debug, Parser)]
#[command(
    name = "atm-maint",
    version,
    about = "ATM maintenance visit reports with photos that are never lost"
)]
pub struct Cli {
    /// Folder for the embedded database, the generated secret and the default media root [env: DATA_DIR]
    #[arg(long, global = true)]
    pub data_dir: Option<PathBuf>,
    /// Where photos, PDFs and Excel copies are stored [env: MEDIA_ROOT]
    #[arg(long, global = true)]
    pub media_root: Option<PathBuf>,
    /// sqlite:///path/file.db or postgres://user:pass@host/db [env: DATABASE_URL]
    #[arg(long, global = true)]
    pub database_url: Option<String>,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the web service (checks storage first and refuses to start on a problem)
    Serve(serve::Args),
    /// Report configuration, storage, database and a verdict; exit 0 only when healthy
    Doctor(doctor::Args),
    /// Write a probe naming this host and boot, then list earlier probes: did files survive?
    DiskTest,
    /// Reconcile database and media store: missing, orphaned, damaged and temporary files
    Fsck(fsck::Args),
    /// Remove what the retention policy allows (a dry run unless --apply)
    Cleanup(cleanup::Args),
    /// Back up the database and media into a new folder, or verify a backup
    Backup(backup::Args),
    /// Restore a backup onto empty storage and an empty database
    #[command(long_about = backup::RESTORE_HELP)]
    Restore(backup::RestoreArgs),
    /// Run database migrations and exit
    Migrate,
    /// Storage identity commands
    #[command(subcommand)]
    Storage(storage::Command),
    /// Accounts: create, set-password, list
    #[command(subcommand)]
    User(user::Command),
    /// Move over from the original deployment: `import django --database-url <original's> --media-root <original's>`
    #[command(subcommand)]
    Import(import::Command),
    /// The audit trail: `verify` its hash chain, `export` it as JSON lines
    #[command(subcommand)]
    Audit(audit::Command),
    /// Print the OpenAPI 3.1 document of the API (what /api/openapi.json serves)
    Openapi,
}

impl Cli {
    pub fn flags(&self) -> Flags {
        let listen: Option<SocketAddr> = match &self.command {
            Command::Serve(a) => a.listen,
            _ => None,
        };
        // For `import django`, --database-url and --media-root name the original deployment;
        // this one's come from the environment or the --into-* flags.
        if let Command::Import(import::Command::Django(a)) = &self.command {
            return Flags {
                data_dir: self.data_dir.clone(),
                media_root: a.into_media_root.clone(),
                database_url: a.into_database_url.clone(),
                listen,
            };
        }
        Flags {
            data_dir: self.data_dir.clone(),
            media_root: self.media_root.clone(),
            database_url: self.database_url.clone(),
            listen,
        }
    }
}

/// Runs the chosen command; the returned code becomes the process exit code.
pub async fn run(cli: Cli) -> anyhow::Result<i32> {
    let settings = crate::config::Settings::load(cli.flags())?;
    match cli.command {
        Command::Serve(_) => serve::run(settings).await,
        Command::Doctor(args) => doctor::run(settings, args).await,
        Command::DiskTest => disk_test::run(settings).await,
        Command::Migrate => migrate::run(settings).await,
        Command::Fsck(args) => fsck::run(settings, args).await,
        Command::Backup(args) => backup::run(settings, args).await,
        Command::Cleanup(args) => cleanup::run(settings, args).await,
        Command::Restore(args) => backup::restore(settings, args).await,
        Command::Storage(cmd) => storage::run(settings, cmd).await,
        Command::User(cmd) => user::run(settings, cmd).await,
        Command::Audit(cmd) => audit::run(settings, cmd).await,
        Command::Openapi => openapi::run(settings),
        Command::Import(cmd) => {
            let original =
                import::OriginalFlags { database_url: cli.database_url, media_root: cli.media_root };
            import::run(settings, original, cmd).await
        }
    }
}
