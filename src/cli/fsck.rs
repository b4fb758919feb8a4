//! `atm-maint fsck [--json] [--quick] [--repair [--grace-hours N]]`: is every recorded file there
//! and intact, and is every file recorded? Exit 0 only when everything matches.

use std::collections::HashMap;
use std::time::Duration;

use crate::config::Settings;
use crate::db::{Db, meta};
use crate::ops::fsck::{self, Finding, Options};

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Print the report as JSON
    #[arg(long)]
    pub json: bool,
    /// Compare sizes only, without re-hashing every file
    #[arg(long)]
    pub quick: bool,
    /// Remove unreferenced temporary and orphaned files older than the grace period (never rows)
    #[arg(long)]
    pub repair: bool,
    /// Grace period for --repair, in hours
    #[arg(long, default_value_t = 24)]
    pub grace_hours: u64,
    /// Files without a row younger than this are uploads in flight: counted, not reported
    #[arg(long, default_value_t = 120)]
    pub recent_seconds: u64,
}

pub async fn run(settings: Settings, args: Args) -> anyhow::Result<i32> {
    let db = Db::connect(settings.database_url.expose()).await?;
    let store = crate::storage::open(&settings)?;
    store.probe().await.map_err(|e| anyhow::anyhow!("the media store is not usable: {e}"))?;
    let opts = Options {
        hash: !args.quick,
        repair: args.repair,
        grace: Duration::from_secs(args.grace_hours * 3600),
        recent: Duration::from_secs(args.recent_seconds),
    };
    let report = fsck::run(&db, &store, &opts).await?;
    let left_out = restore_damaged(&db).await;
    if args.json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        println!(
            "{} rows, {} files, {} re-hashed, {} finding(s), {} file(s) removed",
            report.rows,
            report.files,
            report.hashed,
            report.findings.len(),
            report.repaired.len()
        );
        if report.recent > 0 {
            println!(
                "{} file(s) without a row younger than {} s not judged (uploads in flight)",
                report.recent, args.recent_seconds
            );
        }
        for f in &report.findings {
            let line = match f {
                Finding::Missing { key } => match left_out.get(key) {
                    Some(reason) => format!(
                        "MISSING    {key}: recorded but not in the store (left out of a partial restore: {reason})"
                    ),
                    None => format!("MISSING    {key}: recorded but not in the store"),
                },
                Finding::Orphan { key, size, age_hours } => {
                    format!("ORPHAN     {key}: {size} bytes, {age_hours} h old, no row")
                }
                Finding::SizeMismatch { key, recorded, found } => {
                    format!("SIZE       {key}: recorded {recorded}, found {found}")
                }
                Finding::HashMismatch { key, recorded, found } => {
                    format!("HASH       {key}: recorded {recorded}, found {found}")
                }
                Finding::Temporary { key, size, age_hours } => {
                    format!("TEMPORARY  {key}: {size} bytes, {age_hours} h old")
                }
            };
            println!("{line}");
        }
        for k in &report.repaired {
            println!("removed    {k}");
        }
    }
    Ok(if report.is_clean() { 0 } else { 1 })
}

/// Objects an accepted partial restore left out, by key, with the reason; they show up as
/// missing, and saying why saves the operator a search.
async fn restore_damaged(db: &Db) -> HashMap<String, String> {
    let recorded = meta::get(db, meta::RESTORE_DAMAGED).await.ok().flatten().unwrap_or_default();
    serde_json::from_str::<Vec<crate::ops::backup::Damaged>>(&recorded)
        .map(|v| v.into_iter().map(|d| (d.key, d.reason)).collect())
        .unwrap_or_default()
}
