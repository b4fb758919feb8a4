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
            let damaged: Vec<_> = m.damaged().collect();
            if damaged.is_empty() {
                return Ok(0);
            }
            for e in &damaged {
                println!("DAMAGED  {}: {}", e.key, e.damaged.as_deref().unwrap_or_default());
            }
            println!(
                "{} object(s) were already damaged in the store; they are marked damaged in the manifest \
                 and a restore will not bring them back as good. Run `atm-maint fsck` on this deployment.",
                damaged.len()
            );
            Ok(1)
        }
        (None, None) => anyhow::bail!(
            "give the backup folder: `atm-maint backup <dir>` or `atm-maint backup verify <dir>`"
        ),
    }
}

pub const RESTORE_HELP: &str = "Restore a backup onto an empty media store and an empty database.

Every object is checked against the manifest before it goes into the store; damaged ones are \
listed by key and never restored as good. Without --accept-damaged a restore with damaged \
objects exits with status 1: the database and the verified objects stay, but the storage marker \
is not written, so `serve` refuses to start on the incomplete copy. Then either repair the \
backup's files and run the same restore again (it continues where it stopped), or accept the \
loss with --accept-damaged (on the same target, or on an empty one).";

#[derive(Debug, clap::Args)]
pub struct RestoreArgs {
    /// The backup folder (with manifest.json)
    pub dir: PathBuf,
    /// Finish even though some objects are damaged in the backup: they are left out and
    /// recorded, and `atm-maint fsck` reports them as missing
    #[arg(long)]
    pub accept_damaged: bool,
}

pub async fn restore(settings: Settings, args: RestoreArgs) -> anyhow::Result<i32> {
    let store = crate::storage::open(&settings)?;
    let opts = backup::RestoreOptions { accept_damaged: args.accept_damaged };
    let r = backup::restore(&settings, &store, &args.dir, opts).await?;
    if let Ok(db) = crate::db::Db::connect(settings.database_url.expose()).await {
        let detail = serde_json::json!({
            "backup": args.dir.display().to_string(), "objects": r.manifest.objects.len(), "restored": r.restored,
            "damaged": r.damaged.len(), "complete": r.complete, "resumed": r.resumed,
        });
        crate::ops::audit::note_cli(&db, crate::domain::audit::Action::Restore, None, detail).await;
    }
    for d in &r.damaged {
        println!("DAMAGED  {}: {}", d.key, d.reason);
    }
    println!(
        "{} {} of {} objects and the database from {} into {} and {}",
        if r.resumed { "continued the restore:" } else { "restored" },
        r.restored,
        r.manifest.objects.len(),
        args.dir.display(),
        store.describe(),
        settings.database_display()
    );
    if r.damaged.is_empty() {
        return Ok(0);
    }
    if r.complete {
        println!(
            "{} damaged object(s) left out and recorded; `atm-maint fsck` reports them as missing",
            r.damaged.len()
        );
        return Ok(0);
    }
    println!(
        "restore INCOMPLETE: {} object(s) damaged in the backup (listed above). The storage marker is \
         not written, so `serve` refuses to start. Repair those files and run the same restore again, \
         or accept the loss with `atm-maint restore --accept-damaged {}`.",
        r.damaged.len(),
        args.dir.display()
    );
    Ok(1)
}
