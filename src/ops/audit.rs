//! The audit trail's operations: recording what happened (a failure to record is logged, never
//! turned into a failure of what the person did), checking the chain, exporting it.

use serde::Serialize;

use crate::db::Db;
use crate::db::audit::{self, Entry, Row};
use crate::domain::audit::{Action, GENESIS};

/// Appends `e`; a database failure is logged with the entry, not returned.
pub(crate) async fn note(db: &Db, e: Entry<'_>) {
    if let Err(err) = audit::append(db, &e).await {
        tracing::error!(
            action = e.action.as_str(), actor = e.actor, target = ?e.target, error = %err,
            "could not write the audit trail"
        );
    }
}

/// Records an action taken on the server's command line (its operator has no account here).
pub(crate) async fn note_cli(db: &Db, action: Action, target: Option<String>, detail: serde_json::Value) {
    let who = std::env::var("USER").unwrap_or_default();
    let client = if who.is_empty() { "command line".to_string() } else { format!("command line ({who})") };
    let entry = Entry { actor_id: None, actor: "cli", action, target, detail, client: Some(&client) };
    note(db, entry).await;
}

/// Rows read per query while walking the whole trail.
const BATCH: i64 = 1000;

/// The chain's verdict.
#[derive(Debug, Serialize, PartialEq, Eq)]
pub(crate) struct Verdict {
    pub rows: u64,
    /// The first row that breaks the chain, and why.
    pub first_broken: Option<Broken>,
}

#[derive(Debug, Serialize, PartialEq, Eq)]
pub(crate) struct Broken {
    pub id: i64,
    pub reason: String,
}

/// Walks every row oldest first: each must have the next id, carry the previous row's hash and
/// hash to what it says; the last must be the recorded head.
pub(crate) async fn verify(db: &Db) -> sqlx::Result<Verdict> {
    let (mut last_id, mut prev, mut rows) = (0_i64, GENESIS.to_string(), 0_u64);
    loop {
        let batch = audit::after(db, last_id, BATCH).await?;
        if batch.is_empty() {
            break;
        }
        for r in &batch {
            if let Some(reason) = broken(r, last_id, &prev) {
                return Ok(Verdict { rows, first_broken: Some(Broken { id: r.id, reason }) });
            }
            (last_id, prev) = (r.id, r.hash.clone());
            rows += 1;
        }
    }
    let head = audit::head(db).await?;
    let first_broken = match head {
        Some((id, hash)) if id != last_id || hash != prev => Some(Broken {
            id: last_id + 1,
            reason: format!(
                "the newest row should be {id}, but the trail ends at {last_id}: rows after it were deleted or the last one changed"
            ),
        }),
        None if rows > 0 => Some(Broken { id: 1, reason: "the trail's recorded head is missing".into() }),
        _ => None,
    };
    Ok(Verdict { rows, first_broken })
}

fn broken(r: &Row, last_id: i64, prev: &str) -> Option<String> {
    if r.id != last_id + 1 {
        return Some(format!("rows {} to {} are missing (deleted)", last_id + 1, r.id - 1));
    }
    if r.prev_hash != prev {
        return Some(format!("it does not follow row {last_id}: the row before it was changed or replaced"));
    }
    if r.expected_hash(prev) != r.hash {
        return Some("its fields were changed after it was written (its hash does not match them)".into());
    }
    None
}

/// Writes every row oldest first as JSON lines to `out`, a batch at a time.
pub(crate) async fn export(db: &Db, out: &mut impl std::io::Write) -> anyhow::Result<u64> {
    let (mut last_id, mut n) = (0_i64, 0_u64);
    loop {
        let batch = audit::after(db, last_id, BATCH).await?;
        let Some(last) = batch.last() else { break };
        last_id = last.id;
        for r in &batch {
            serde_json::to_writer(&mut *out, r)?;
            out.write_all(b"\n")?;
            n += 1;
        }
    }
    out.flush()?;
    Ok(n)
}
