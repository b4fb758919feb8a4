//! `stored_object`: one row per object the media store acknowledged.

use super::Db;
use crate::storage::{Area, StoredObject};
use sqlx::Row;

/// A stored object by id and key: what a delete hands back so the files can follow the rows.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct ObjectRef {
    pub id: i64,
    #[sqlx(rename = "object_key")]
    pub key: String,
}

#[derive(Debug, Clone, serde::Serialize)]
pub struct ObjectRow {
    pub id: i64,
    pub key: String,
    pub size: i64,
    pub sha256: String,
}

pub async fn insert(
    conn: &mut sqlx::AnyConnection,
    area: Area,
    o: &StoredObject,
    content_type: Option<&str>,
) -> sqlx::Result<i64> {
    let row = sqlx::query(
        "INSERT INTO stored_object (object_key, area, size_bytes, sha256, content_type, created_at)
         VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
    )
    .bind(o.key.as_str())
    .bind(area.folder())
    .bind(o.size as i64)
    .bind(&o.sha256)
    .bind(content_type)
    .bind(Db::now())
    .fetch_one(conn)
    .await?;
    row.try_get(0)
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
        let row = sqlx::query("SELECT COUNT(*) FROM stored_object WHERE id = $1")
            .bind(id)
            .fetch_one(&mut *conn)
            .await?;
        n += row.try_get::<i64, _>(0)?;
    }
    Ok(n)
}

pub async fn count(db: &Db) -> sqlx::Result<(i64, i64)> {
    let row = sqlx::query("SELECT COUNT(*), CAST(COALESCE(SUM(size_bytes), 0) AS BIGINT) FROM stored_object")
        .fetch_one(db.pool())
        .await?;
    Ok((row.try_get(0)?, row.try_get(1)?))
}

pub async fn get(db: &Db, id: i64) -> sqlx::Result<Option<ObjectRow>> {
    let row = sqlx::query("SELECT id, object_key, size_bytes, sha256 FROM stored_object WHERE id = $1")
        .bind(id)
        .fetch_optional(db.pool())
        .await?;
    row.map(|r| from_row(&r)).transpose()
}

pub async fn list(db: &Db) -> sqlx::Result<Vec<ObjectRow>> {
    let rows = sqlx::query("SELECT id, object_key, size_bytes, sha256 FROM stored_object ORDER BY id")
        .fetch_all(db.pool())
        .await?;
    rows.iter().map(from_row).collect()
}

fn from_row(r: &sqlx::any::AnyRow) -> sqlx::Result<ObjectRow> {
    Ok(ObjectRow { id: r.try_get(0)?, key: r.try_get(1)?, size: r.try_get(2)?, sha256: r.try_get(3)? })
}

/// The objects checked longest ago (never-checked first): (id, key, sha256).
pub async fn due_for_scrub(db: &Db, limit: i64) -> sqlx::Result<Vec<(i64, String, String)>> {
    let rows = sqlx::query(
        "SELECT id, object_key, sha256 FROM stored_object
         ORDER BY CASE WHEN verified_at IS NULL THEN 0 ELSE 1 END, verified_at, id LIMIT $1",
    )
    .bind(limit)
    .fetch_all(db.pool())
    .await?;
    rows.iter().map(|r| Ok((r.try_get(0)?, r.try_get(1)?, r.try_get(2)?))).collect()
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

/// Objects whose last scrub found a problem: (key, problem).
pub async fn scrub_findings(db: &Db) -> sqlx::Result<Vec<(String, String)>> {
    let rows = sqlx::query(
        "SELECT object_key, scrub_problem FROM stored_object WHERE scrub_problem IS NOT NULL ORDER BY id",
    )
    .fetch_all(db.pool())
    .await?;
    rows.iter().map(|r| Ok((r.try_get(0)?, r.try_get(1)?))).collect()
}

/// Bytes stored since `since` (RFC 3339), for the days-until-full estimate.
pub async fn bytes_since(db: &Db, since: &str) -> sqlx::Result<i64> {
    sqlx::query(
        "SELECT CAST(COALESCE(SUM(size_bytes), 0) AS BIGINT) FROM stored_object WHERE created_at >= $1",
    )
    .bind(since)
    .fetch_one(db.pool())
    .await?
    .try_get(0)
}
