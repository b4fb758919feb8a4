//! Notifications: what happened that a user should know (a report approved or rejected, devices
//! newly assigned). Each is written in the transaction of what it tells, so an answered review
//! always has its notification; it stays unread until its user marks it.

use serde_json::{Value, json};
use sqlx::AnyConnection;

use super::Db;

/// The kinds, as the JSON names them.
pub const APPROVED: &str = "report_approved";
pub const REJECTED: &str = "report_rejected";
pub const DEVICES_ASSIGNED: &str = "devices_assigned";

/// The newest notifications a list returns.
pub const LIST_LIMIT: i64 = 100;

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Notification {
    pub id: i64,
    pub kind: String,
    pub submission_id: Option<i64>,
    pub device_id: Option<i64>,
    pub message: String,
    pub detail: String,
    pub created_at: String,
    pub read_at: Option<String>,
}

impl Notification {
    /// The detail as JSON (`{}` for a row whose text does not parse).
    pub fn detail_json(&self) -> Value {
        serde_json::from_str(&self.detail).unwrap_or_else(|_| json!({}))
    }
}

/// A notification to write.
pub struct New<'a> {
    pub user_id: i64,
    pub kind: &'a str,
    pub submission_id: Option<i64>,
    pub device_id: Option<i64>,
    pub message: &'a str,
    pub detail: Value,
}

pub async fn insert(conn: &mut AnyConnection, n: &New<'_>) -> sqlx::Result<()> {
    sqlx::query(
        "INSERT INTO notifications (user_id, kind, submission_id, device_id, message, detail, created_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(n.user_id)
    .bind(n.kind)
    .bind(n.submission_id)
    .bind(n.device_id)
    .bind(n.message)
    .bind(n.detail.to_string())
    .bind(Db::now())
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// A reviewed report's technician, device and ATM id, read inside the review's transaction.
#[derive(Debug, sqlx::FromRow)]
pub struct ReviewedReport {
    pub technician_id: i64,
    pub device_id: i64,
    pub interaction_id: String,
    pub visit_date: String,
}

pub async fn reviewed_report(conn: &mut AnyConnection, submission_id: i64) -> sqlx::Result<ReviewedReport> {
    sqlx::query_as(
        "SELECT s.technician_id, s.device_id, d.interaction_id, s.visit_date
         FROM submissions s JOIN devices d ON d.id = s.device_id WHERE s.id = $1",
    )
    .bind(submission_id)
    .fetch_one(&mut *conn)
    .await
}

#[derive(Debug, sqlx::FromRow)]
struct FlaggedRow {
    photo_id: i64,
    section: i64,
    order_index: i64,
    kind: String,
}

/// The report's photos with findings not yet checked: `[{photo_id, section, order_index, kinds}]`.
pub async fn flagged_photos(conn: &mut AnyConnection, submission_id: i64) -> sqlx::Result<Value> {
    let rows: Vec<FlaggedRow> = sqlx::query_as(
        "SELECT p.id AS photo_id, p.section, p.order_index, f.kind
         FROM photo_findings f JOIN photos p ON p.id = f.photo_id
         WHERE f.submission_id = $1 AND f.checked_at IS NULL
         ORDER BY p.section, p.order_index, f.id",
    )
    .bind(submission_id)
    .fetch_all(&mut *conn)
    .await?;
    let mut out: Vec<Value> = Vec::new();
    for r in rows {
        match out.last_mut() {
            Some(last) if last["photo_id"] == r.photo_id => {
                if let Some(kinds) = last["kinds"].as_array_mut()
                    && !kinds.iter().any(|k| k == &r.kind)
                {
                    kinds.push(Value::String(r.kind));
                }
            }
            _ => out.push(json!({
                "photo_id": r.photo_id, "section": r.section, "order_index": r.order_index, "kinds": [r.kind],
            })),
        }
    }
    Ok(Value::Array(out))
}

/// A user's newest notifications (all of them, or only the unread ones), newest first, and how
/// many are unread.
pub async fn of_user(db: &Db, user_id: i64, unread_only: bool) -> sqlx::Result<(Vec<Notification>, i64)> {
    let list = sqlx::query_as(
        "SELECT id, kind, submission_id, device_id, message, detail, created_at, read_at
         FROM notifications WHERE user_id = $1 AND (read_at IS NULL OR $2 = 0)
         ORDER BY id DESC LIMIT $3",
    )
    .bind(user_id)
    .bind(i64::from(unread_only))
    .bind(LIST_LIMIT)
    .fetch_all(db.pool())
    .await?;
    Ok((list, unread(db, user_id).await?))
}

/// How many of the user's notifications are unread.
pub async fn unread(db: &Db, user_id: i64) -> sqlx::Result<i64> {
    sqlx::query_scalar("SELECT COUNT(*) FROM notifications WHERE user_id = $1 AND read_at IS NULL")
        .bind(user_id)
        .fetch_one(db.pool())
        .await
}

/// Marks one of the user's notifications read (the first mark stands). None when the user has
/// no notification with this id.
pub async fn mark_read(db: &Db, user_id: i64, id: i64) -> sqlx::Result<Option<Notification>> {
    sqlx::query("UPDATE notifications SET read_at = $1 WHERE id = $2 AND user_id = $3 AND read_at IS NULL")
        .bind(Db::now())
        .bind(id)
        .bind(user_id)
        .execute(db.pool())
        .await?;
    sqlx::query_as(
        "SELECT id, kind, submission_id, device_id, message, detail, created_at, read_at
         FROM notifications WHERE id = $1 AND user_id = $2",
    )
    .bind(id)
    .bind(user_id)
    .fetch_optional(db.pool())
    .await
}

/// Marks every unread notification of the user read; returns how many it marked.
pub async fn mark_all_read(db: &Db, user_id: i64) -> sqlx::Result<u64> {
    let done = sqlx::query("UPDATE notifications SET read_at = $1 WHERE user_id = $2 AND read_at IS NULL")
        .bind(Db::now())
        .bind(user_id)
        .execute(db.pool())
        .await?;
    Ok(done.rows_affected())
}
