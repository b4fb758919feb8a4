//! `stored_object`: one row per object the media store acknowledged.

use super::Db;
use crate::storage::{Area, MediaKey, StoredObject};

/// A stored object by id and key: what a delete hands back so the files can follow the rows.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct ObjectRef {
    pub id: i64,
    #[sqlx(rename = "object_key")]
    pub key: MediaKey,
}

#[derive(Debug, Clone, serde::Serialize, sqlx::FromRow)]
pub struct ObjectRow {
    pub id: i64,
    #[sqlx(rename = "object_key")]
    pub key: MediaKey,
    #[sqlx(rename = "size_bytes")]
    pub size: i64,
    pub sha256: String,
}

/// Records a stored object; with a pool or inside the caller's transaction.
pub async fn insert(
    e: impl sqlx::Executor<'_, Database = sqlx::Any>,
    area: Area,
    o: &StoredObject,
    content_type: Option<&str>,
) -> sqlx::Result<i64> {
    sqlx::query_scalar(
        "INSERT INTO stored_object (object_key, area, size_bytes, sha256, content_type, created_at)
         VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
    )
    .bind(o.key.as_str())
    .bind(area.folder())
    .bind(o.size as i64)
    .bind(&o.sha256)
    .bind(content_type)
    .bind(Db::now())
    .fetch_one(e)
    .await
}

/// Deletes object rows (their files go after the commit).
pub async fn delete_ids(conn: &mut sqlx::AnyConnection, ids: &[i64]) -> sqlx::Result<()> {
    for id in ids {
        sqlx::query("DELETE FROM stored_object WHERE id = $1").bind(id).execute(&mut *conn).await?;
    }
    Ok(())
}

/// How many of `ids` still have a row.
pub async fn count_ids(conn: &mut sqlx::AnyConnection, ids: &[i64]) -> sqlx::Result<i64> {
    let mut n = 0;
    for id in ids {
        let found: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM stored_object WHERE id = $1")
            .bind(id)
            .fetch_one(&mut *conn)
            .await?;
        n += found;
    }
    Ok(n)
}

#[derive(sqlx::FromRow)]
struct Totals {
    objects: i64,
    bytes: i64,
}

/// How many objects are recorded, and their bytes.
pub async fn count(db: &Db) -> sqlx::Result<(i64, i64)> {
    let t: Totals = sqlx::query_as(
        "SELECT COUNT(*) AS objects, CAST(COALESCE(SUM(size_bytes), 0) AS BIGINT) AS bytes FROM stored_object",
    )
    .fetch_one(db.pool())
    .await?;
    Ok((t.objects, t.bytes))
}

/// The recorded SHA-256 of the object at `key`.
pub async fn sha256_of_key(db: &Db, key: &MediaKey) -> sqlx::Result<Option<String>> {
    sqlx::query_scalar("SELECT sha256 FROM stored_object WHERE object_key = $1")
        .bind(key.as_str())
        .fetch_optional(db.pool())
        .await
}

pub async fn get(db: &Db, id: i64) -> sqlx::Result<Option<ObjectRow>> {
    sqlx::query_as("SELECT id, object_key, size_bytes, sha256 FROM stored_object WHERE id = $1")
        .bind(id)
        .fetch_optional(db.pool())
        .await
}

/// A stored object's row with its key as the text the database holds, for the tools that scan
/// every row and must name a bad one instead of stopping at it (`storage migrate`).
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ObjectText {
    pub id: i64,
    #[sqlx(rename = "object_key")]
    pub key: String,
    #[sqlx(rename = "size_bytes")]
    pub size: i64,
    pub sha256: String,
}

impl ObjectText {
    /// The row with its key parsed, or the key that is not one.
    pub fn parsed(self) -> Result<ObjectRow, String> {
        match MediaKey::parse(&self.key) {
            Ok(key) => Ok(ObjectRow { id: self.id, key, size: self.size, sha256: self.sha256 }),
            Err(_) => Err(self.key),
        }
    }
}

/// Every row, keys as text (see [`ObjectText`]).
pub async fn list_as_text(db: &Db) -> sqlx::Result<Vec<ObjectText>> {
    sqlx::query_as("SELECT id, object_key, size_bytes, sha256 FROM stored_object ORDER BY id")
        .fetch_all(db.pool())
        .await
}

pub async fn list(db: &Db) -> sqlx::Result<Vec<ObjectRow>> {
    sqlx::query_as("SELECT id, object_key, size_bytes, sha256 FROM stored_object ORDER BY id")
        .fetch_all(db.pool())
        .await
}

/// An object the scrub is to re-hash.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ScrubDue {
    pub id: i64,
    #[sqlx(rename = "object_key")]
    pub key: MediaKey,
    pub sha256: String,
}

/// The objects checked longest ago (never-checked first).
pub async fn due_for_scrub(db: &Db, limit: i64) -> sqlx::Result<Vec<ScrubDue>> {
    sqlx::query_as(
        "SELECT id, object_key, sha256 FROM stored_object
         ORDER BY CASE WHEN verified_at IS NULL THEN 0 ELSE 1 END, verified_at, id LIMIT $1",
    )
    .bind(limit)
    .fetch_all(db.pool())
    .await
}

pub async fn record_scrub(db: &Db, id: i64, problem: Option<&str>) -> sqlx::Result<()> {
    sqlx::query("UPDATE stored_object SET verified_at = $1, scrub_problem = $2 WHERE id = $3")
        .bind(Db::now())
        .bind(problem)
        .bind(id)
        .execute(db.pool())
        .await?;
    Ok(())
}

/// An object whose last scrub found a problem.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ScrubFinding {
    #[sqlx(rename = "object_key")]
    pub key: MediaKey,
    #[sqlx(rename = "scrub_problem")]
    pub problem: String,
}

/// Objects whose last scrub found a problem.
pub async fn scrub_findings(db: &Db) -> sqlx::Result<Vec<ScrubFinding>> {
    sqlx::query_as(
        "SELECT object_key, scrub_problem FROM stored_object WHERE scrub_problem IS NOT NULL ORDER BY id",
    )
    .fetch_all(db.pool())
    .await
}

/// Bytes stored since `since` (RFC 3339), for the days-until-full estimate.
pub async fn bytes_since(db: &Db, since: &str) -> sqlx::Result<i64> {
    sqlx::query_scalar(
        "SELECT CAST(COALESCE(SUM(size_bytes), 0) AS BIGINT) FROM stored_object WHERE created_at >= $1",
    )
    .bind(since)
    .fetch_one(db.pool())
    .await
}

/// The condition on `stored_object o` that no row refers to it: the one place that knows
/// which tables hold references to stored objects.
const UNREFERENCED: &str = "NOT EXISTS (SELECT 1 FROM excel_uploads e WHERE e.object_id = o.id)
     AND NOT EXISTS (SELECT 1 FROM submissions s WHERE s.pdf_object_id = o.id)
     AND NOT EXISTS (SELECT 1 FROM report_jobs j WHERE j.pdf_object_id = o.id)
     AND NOT EXISTS (SELECT 1 FROM photos p WHERE p.object_id = o.id)
     AND NOT EXISTS (SELECT 1 FROM draft_photos d WHERE d.object_id = o.id)
     AND NOT EXISTS (SELECT 1 FROM photo_previews v JOIN photos p ON p.object_id = v.photo_object_id
                     WHERE v.preview_object_id = o.id)
     AND NOT EXISTS (SELECT 1 FROM photo_previews v JOIN draft_photos d ON d.object_id = v.photo_object_id
                     WHERE v.preview_object_id = o.id)";

/// An object of `area` recorded before `before` that no row refers to (cleanup's candidates).
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Unreferenced {
    pub id: i64,
    #[sqlx(rename = "object_key")]
    pub key: MediaKey,
    #[sqlx(rename = "size_bytes")]
    pub size: i64,
}

pub async fn unreferenced(db: &Db, area: Area, before: &str) -> sqlx::Result<Vec<Unreferenced>> {
    let sql = format!(
        "SELECT o.id, o.object_key, o.size_bytes FROM stored_object o
         WHERE o.area = $1 AND o.created_at < $2 AND {UNREFERENCED} ORDER BY o.id"
    );
    sqlx::query_as(sqlx::AssertSqlSafe(sql)).bind(area.folder()).bind(before).fetch_all(db.pool()).await
}

/// Deletes an object's row if it is still unreferenced, re-checked in the same statement;
/// false when it is gone or something refers to it now.
pub async fn delete_if_unreferenced(db: &Db, id: i64) -> sqlx::Result<bool> {
    let sql = format!(
        "DELETE FROM stored_object WHERE id = $1
         AND id IN (SELECT o.id FROM stored_object o WHERE o.id = $1 AND {UNREFERENCED})"
    );
    let gone = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(id).execute(db.pool()).await?.rows_affected();
    Ok(gone > 0)
}
