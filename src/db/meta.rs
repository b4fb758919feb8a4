//! `app_meta`: small named values the service keeps about itself, such as the storage id.

use super::Db;

pub const STORAGE_ID: &str = "storage_id";
/// The backup (its manifest's SHA-256) a restore into this database has not finished yet.
pub const RESTORE_PENDING: &str = "restore_pending";
/// JSON list of `{key, reason}`: objects left out of an accepted partial restore.
pub const RESTORE_DAMAGED: &str = "restore_damaged";

pub async fn get(db: &Db, name: &str) -> sqlx::Result<Option<String>> {
    sqlx::query_scalar("SELECT value FROM app_meta WHERE name = $1")
        .bind(name)
        .fetch_optional(db.pool())
        .await
}

/// Inserts or replaces a value.
pub async fn set(db: &Db, name: &str, value: &str) -> sqlx::Result<()> {
    sqlx::query(
        "INSERT INTO app_meta (name, value, updated_at) VALUES ($1, $2, $3)
         ON CONFLICT (name) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at",
    )
    .bind(name)
    .bind(value)
    .bind(Db::now())
    .execute(db.pool())
    .await?;
    Ok(())
}

pub async fn delete(db: &Db, name: &str) -> sqlx::Result<()> {
    sqlx::query("DELETE FROM app_meta WHERE name = $1").bind(name).execute(db.pool()).await?;
    Ok(())
}

/// Inserts a value unless one exists, and returns the value that is stored afterwards; two
/// processes initialising at once agree on the first one written.
pub async fn insert_if_absent(db: &Db, name: &str, value: &str) -> sqlx::Result<String> {
    sqlx::query(
        "INSERT INTO app_meta (name, value, updated_at) VALUES ($1, $2, $3) ON CONFLICT (name) DO NOTHING",
    )
    .bind(name)
    .bind(value)
    .bind(Db::now())
    .execute(db.pool())
    .await?;
    Ok(get(db, name).await?.unwrap_or_else(|| value.to_string()))
}
