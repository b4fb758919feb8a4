//! The database side of backup and restore: the engine's own online snapshot, and the check
//! that a database to restore into is empty.

use std::path::Path;

use super::Db;

/// Writes a consistent copy of a live SQLite database to `file` (`VACUUM INTO`), while other
/// connections keep reading and writing.
pub async fn sqlite_snapshot(db: &Db, file: &Path) -> sqlx::Result<()> {
    sqlx::query("VACUUM INTO $1").bind(file.to_string_lossy().into_owned()).execute(db.pool()).await?;
    Ok(())
}

/// How many tables PostgreSQL's `public` schema holds (0 for a database `pg_restore` may fill).
pub async fn postgres_table_count(db: &Db) -> sqlx::Result<i64> {
    sqlx::query_scalar("SELECT COUNT(*) FROM information_schema.tables WHERE table_schema = 'public'")
        .fetch_one(db.pool())
        .await
}
