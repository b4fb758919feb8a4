//! `atm-maint cleanup [--apply] [--json]`: a dry run unless told otherwise.

use std::time::Duration;

use crate::config::Settings;
use crate::db::Db;
use crate::ops::cleanup::{self, Policy};

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Act on the plan (move to trash, purge old trash); without it nothing changes
    #[arg(long)]
    pub apply: bool,
    /// Print the plan as JSON
    #[arg(long)]
    pub json: bool,
}

pub async fn run(settings: Settings, args: Args) -> anyhow::Result<i32> {
    let db = Db::connect(settings.database_url.expose()).await?;
    db.migrate().await?;
    let store = crate::storage::open(&settings)?;
    store.probe().await.map_err(|e| anyhow::anyhow!("the media store is not usable: {e}"))?;
    let policy = Policy {
        orphan_grace: Duration::from_secs(settings.cleanup_orphan_grace_hours as u64 * 3600),
        excel_days: settings.cleanup_excel_days,
        preview_days: settings.cleanup_preview_days,
        trash_days: settings.cleanup_trash_days,
    };
    let plan = cleanup::plan(&db, &store, &policy).await?;
    if args.json {
        println!(
            "{}",
            serde_json::to_string_pretty(&serde_json::json!({ "apply": args.apply, "candidates": plan }))?
        );
    } else {
        let bytes: u64 = plan.iter().map(|c| c.size).sum();
        println!(
            "{} candidate(s), {:.1} MiB{}",
            plan.len(),
            bytes as f64 / 1048576.0,
            if args.apply { "" } else { " — dry run: nothing changed (add --apply to act)" }
        );
        for c in &plan {
            println!("{:<28} {} ({} bytes)", c.reason, c.key, c.size);
        }
    }
    if args.apply {
        let done = cleanup::apply(&db, &store, &plan).await?;
        if !args.json {
            println!(
                "{done} acted on: files moved to trash/ (kept {} days) or purged from it",
                settings.cleanup_trash_days
            );
        }
    }
    Ok(0)
}
