//! `atm-maint backup <dir>`, `atm-maint backup verify <dir>`, `atm-maint restore <dir>`.

use std::path::PathBuf;

use crate::config::Settings;
use crate::db::Db;
use crate::ops::backup;

#[derive(Debug, clap::Args)]
#[command(args_conflicts_with_subcommands = true)]
pub struct Args {
    #[command(subcommand)]
    pub verify: Option<VerifyCommand>,
    /// A new, empty folder for the backup
    pub dir: Option<PathBuf>,
}

#[derive(Debug, clap::Subcommand)]
pub enum VerifyCommand {
    /// Restore a sample into scratch space and compare hashes with the manifest
    Verify {
        dir: PathBuf,
        /// How many objects to check
        #[arg(long, default_value_t = 50)]
        sample: usize,
    },
}

pub async fn run(settings: Settings, args: Args) -> anyhow::Result<i32> {
    match (args.verify, args.dir) {
        (Some(VerifyCommand::Verify { dir, sample }), _) => {
            let (checked, problems) = backup::verify(&dir, sample).await?;
            for p in &problems {
                println!("PROBLEM  {p}");
            }
            if problems.is_empty() {
                println!(
                    "backup {} verified: database opens and matches the manifest, {checked} sampled objects hash-identical",
                    dir.display()
                );
                Ok(0)
            } else {
                println!("backup {} FAILED verification ({} problem(s))", dir.display(), problems.len());
                Ok(1)
            }
        }
        (None, Some(dir)) => {
            let db = Db::connect(settings.database_url.expose()).await?;
            let store = crate::storage::open(&settings)?;
            let m = backup::create(&settings, &db, &store, &dir).await?;
            let bytes: i64 = m.objects.iter().map(|o| o.size).sum();
            println!(
                "backup written to {}: {} ({}), {} objects ({:.1} MiB), manifest.json with SHA-256 of each",
                dir.display(),
                m.database,
                db.backend(),
                m.objects.len(),
                bytes as f64 / 1048576.0
            );
            Ok(0)
        }
        (None, None) => anyhow::bail!(
            "give the backup folder: `atm-maint backup <dir>` or `atm-maint backup verify <dir>`"
        ),
    }
}

pub async fn restore(settings: Settings, dir: PathBuf) -> anyhow::Result<i32> {
    let store = crate::storage::open(&settings)?;
    let m = backup::restore(&settings, &store, &dir).await?;
    println!(
        "restored {} objects and the database from {} into {} and {}",
        m.objects.len(),
        dir.display(),
        store.describe(),
        settings.database_display()
    );
    Ok(0)
}
