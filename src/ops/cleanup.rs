//! Cleanup and retention. A run plans what the policy allows to go — files no row knows about
//! (after a grace period), superseded Excel copies, unrecorded preview PDFs and previews of
//! photos that are gone (after N days),
//! and trash older than its grace — and only with `--apply` does it act: rows of unreferenced
//! objects are deleted (re-checked in the same statement), files move to `trash/`, and trash
//! past its grace is purged. Nothing a submission, photo, upload or job refers to is touched.

use std::time::{Duration, SystemTime};

use serde::Serialize;

use crate::db::{Db, objects};
use crate::storage::{Area, Listed, MediaStore, TRASH};

pub(crate) struct Policy {
    pub orphan_grace: Duration,
    pub excel_days: i64,
    pub preview_days: i64,
    pub trash_days: i64,
}

#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub(crate) struct Candidate {
    pub key: String,
    pub reason: &'static str,
    pub size: u64,
    #[serde(skip)]
    pub row_id: Option<i64>,
}

fn cutoff(days: i64) -> String {
    Db::at(-days * 86_400)
}

pub(crate) async fn plan(db: &Db, store: &MediaStore, p: &Policy) -> anyhow::Result<Vec<Candidate>> {
    let mut out = Vec::new();
    for (area, days, reason) in [
        (Area::ExcelUploads, p.excel_days, "superseded Excel copy"),
        (Area::Pdfs, p.preview_days, "unrecorded preview PDF"),
        (Area::Previews, p.preview_days, "preview of a photo that is gone"),
    ] {
        for o in objects::unreferenced(db, area, &cutoff(days)).await? {
            out.push(Candidate { key: o.key.to_string(), reason, size: o.size as u64, row_id: Some(o.id) });
        }
    }
    let rows: std::collections::HashSet<String> =
        objects::list(db).await?.into_iter().map(|r| r.key.to_string()).collect();
    let now = SystemTime::now();
    for Listed { key, size, modified } in store.list_all().await? {
        let age = now.duration_since(modified).unwrap_or_default();
        if !rows.contains(&key) && age >= p.orphan_grace {
            out.push(Candidate { key, reason: "file without a row", size, row_id: None });
        }
    }
    for Listed { key, size, modified } in store.list_trash().await? {
        if now.duration_since(modified).unwrap_or_default()
            >= Duration::from_secs(p.trash_days.max(0) as u64 * 86_400)
        {
            out.push(Candidate { key, reason: "trash past its grace period", size, row_id: None });
        }
    }
    Ok(out)
}

/// Carries out a plan; returns how many candidates were acted on.
pub(crate) async fn apply(db: &Db, store: &MediaStore, plan: &[Candidate]) -> anyhow::Result<usize> {
    let mut done = 0;
    for c in plan {
        if c.key.starts_with(&format!("{TRASH}/")) {
            store.remove_listed(&c.key).await?;
            done += 1;
            continue;
        }
        if let Some(id) = c.row_id {
            // The row goes first, and only if still unreferenced: a leftover file is an orphan
            // for the next run, never a broken reference.
            if !objects::delete_if_unreferenced(db, id).await? {
                continue;
            }
        }
        store.move_to_trash(&c.key).await?;
        tracing::info!(key = c.key, reason = c.reason, "moved to trash");
        done += 1;
    }
    Ok(done)
}
