//! `sessions`: the pages' sign-ins, by the SHA-256 of the cookie's secret.

use super::Db;

/// Records a sign-in valid for `seconds`; expired ones of anybody go at the same time.
pub async fn create(db: &Db, id_hash: &str, user_id: i64, seconds: i64) -> sqlx::Result<()> {
    sqlx::query("DELETE FROM sessions WHERE expires_at < $1").bind(Db::now()).execute(db.pool()).await?;
    sqlx::query("INSERT INTO sessions (id, user_id, created_at, expires_at) VALUES ($1, $2, $3, $4)")
        .bind(id_hash)
        .bind(user_id)
        .bind(Db::now())
        .bind(Db::at(seconds))
        .execute(db.pool())
        .await?;
    Ok(())
}

/// The user of an unexpired session.
pub async fn user_of(db: &Db, id_hash: &str) -> sqlx::Result<Option<i64>> {
    sqlx::query_scalar("SELECT user_id FROM sessions WHERE id = $1 AND expires_at > $2")
        .bind(id_hash)
        .bind(Db::now())
        .fetch_optional(db.pool())
        .await
}

pub async fn delete(db: &Db, id_hash: &str) -> sqlx::Result<()> {
    sqlx::query("DELETE FROM sessions WHERE id = $1").bind(id_hash).execute(db.pool()).await?;
    Ok(())
}

/// Signs a user out everywhere (after a password change); returns how many sessions ended.
pub async fn delete_for_user(db: &Db, user_id: i64) -> sqlx::Result<u64> {
    Ok(sqlx::query("DELETE FROM sessions WHERE user_id = $1")
        .bind(user_id)
        .execute(db.pool())
        .await?
        .rows_affected())
}
