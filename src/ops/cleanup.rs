//! Cleanup and retention. A run plans what the policy allows to go — files no row knows about
//! (after a grace period), superseded Excel copies, unrecorded preview PDFs and previews of
//! photos that are gone (after N days),
//! and trash older than its grace — and only with `--apply` does it act: rows of unreferenced
//! objects are deleted (re-checked in the same statement), files move to `trash/`, and trash
//! past its grace is purged. Nothing a submission, photo, upload or job refers to is touched.

use std::time::{Duration, SystemTime};

use serde::Serialize;
use sqlx::Row;

use crate::db::Db;
use crate::storage::{MediaStore, TRASH};

pub struct Policy {
    pub orphan_grace: Duration,
    pub excel_days: i64,
    pub preview_days: i64,
    pub trash_days: i64,
}

#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Candidate {
    pub key: String,
    pub reason: &'static str,
    pub size: u64,
    #[serde(skip)]
    pub row_id: Option<i64>,
}

fn cutoff(days: i64) -> String {
    Db::at(-days * 86_400)
}

const UNREFERENCED: &str = "NOT EXISTS (SELECT 1 FROM excel_uploads e WHERE e.object_id = o.id)
     AND NOT EXISTS (SELECT 1 FROM submissions s WHERE s.pdf_object_id = o.id)
     AND NOT EXISTS (SELECT 1 FROM report_jobs j WHERE j.pdf_object_id = o.id)
     AND NOT EXISTS (SELECT 1 FROM photos p WHERE p.object_id = o.id)
     AND NOT EXISTS (SELECT 1 FROM draft_photos d WHERE d.object_id = o.id)
     AND NOT EXISTS (SELECT 1 FROM photo_previews v JOIN photos p ON p.object_id = v.photo_object_id
                     WHERE v.preview_object_id = o.id)
     AND NOT EXISTS (SELECT 1 FROM photo_previews v JOIN draft_photos d ON d.object_id = v.photo_object_id
                     WHERE v.preview_object_id = o.id)";

pub async fn plan(db: &Db, store: &MediaStore, p: &Policy) -> anyhow::Result<Vec<Candidate>> {
    let mut out = Vec::new();
    for (area, days, reason) in [
        ("excel_uploads", p.excel_days, "superseded Excel copy"),
        ("pdfs", p.preview_days, "unrecorded preview PDF"),
        ("previews", p.preview_days, "preview of a photo that is gone"),
    ] {
        let sql = format!(
            "SELECT o.id, o.object_key, o.size_bytes FROM stored_object o
             WHERE o.area = $1 AND o.created_at < $2 AND {UNREFERENCED} ORDER BY o.id"
        );
        for r in
            sqlx::query(sqlx::AssertSqlSafe(sql)).bind(area).bind(cutoff(days)).fetch_all(db.pool()).await?
        {
            out.push(Candidate {
                key: r.try_get(1)?,
                reason,
                size: r.try_get::<i64, _>(2)? as u64,
                row_id: Some(r.try_get(0)?),
            });
        }
    }
    let rows: std::collections::HashSet<String> =
        crate::db::objects::list(db).await?.into_iter().map(|r| r.key.to_string()).collect();
    let now = SystemTime::now();
    for (key, size, modified) in store.list_all().await? {
        let age = now.duration_since(modified).unwrap_or_default();
        if !rows.contains(&key) && age >= p.orphan_grace {
            out.push(Candidate { key, reason: "file without a row", size, row_id: None });
        }
    }
    for (key, size, modified) in store.list_trash().await? {
        if now.duration_since(modified).unwrap_or_default()
            >= Duration::from_secs(p.trash_days.max(0) as u64 * 86_400)
        {
            out.push(Candidate { key, reason: "trash past its grace period", size, row_id: None });
        }
    }
    Ok(out)
}

/// Carries out a plan; returns how many candidates were acted on.
pub async fn apply(db: &Db, store: &MediaStore, plan: &[Candidate]) -> anyhow::Result<usize> {
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
            let sql = format!(
                "DELETE FROM stored_object WHERE id = $1 AND id IN (SELECT o.id FROM stored_object o WHERE o.id = $1 AND {UNREFERENCED})"
            );
            let gone =
                sqlx::query(sqlx::AssertSqlSafe(sql)).bind(id).execute(db.pool()).await?.rows_affected();
            if gone == 0 {
                continue;
            }
        }
        store.move_to_trash(&c.key).await?;
        tracing::info!(key = c.key, reason = c.reason, "moved to trash");
        done += 1;
    }
    Ok(done)
}
