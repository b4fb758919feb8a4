//! `users`: accounts of the three roles.

use sqlx::Row;
use sqlx::any::AnyRow;

use super::Db;
use super::objects::ObjectRef;
use super::sql::Sql;
use crate::domain::Role;
use crate::storage::MediaKey;

#[derive(Debug, Clone)]
pub struct User {
    pub id: i64,
    pub username: String,
    pub password_hash: String,
    pub role: Role,
    pub city: Option<String>,
    pub is_active: bool,
    pub created_at: String,
    /// Carried in the user's tokens; a token with another version is revoked.
    pub token_version: i64,
}

/// By name, but by hand rather than derived: `is_active` is a BIGINT 0/1 on both engines, which
/// `sqlx::Any` does not decode as `bool`, and `role` must be one of the known roles.
impl<'r> sqlx::FromRow<'r, AnyRow> for User {
    fn from_row(r: &'r AnyRow) -> sqlx::Result<User> {
        let role: String = r.try_get("role")?;
        Ok(User {
            id: r.try_get("id")?,
            username: r.try_get("username")?,
            password_hash: r.try_get("password_hash")?,
            role: Role::parse(&role)
                .ok_or_else(|| sqlx::Error::Decode(format!("unknown role {role}").into()))?,
            city: r.try_get("city")?,
            is_active: r.try_get::<i64, _>("is_active")? != 0,
            created_at: r.try_get("created_at")?,
            token_version: r.try_get("token_version")?,
        })
    }
}

pub async fn by_username(db: &Db, username: &str) -> sqlx::Result<Option<User>> {
    sqlx::query_as(
        "SELECT id, username, password_hash, role, city, is_active, created_at, token_version
         FROM users WHERE username = $1",
    )
    .bind(username)
    .fetch_optional(db.pool())
    .await
}

pub async fn by_id(db: &Db, id: i64) -> sqlx::Result<Option<User>> {
    sqlx::query_as(
        "SELECT id, username, password_hash, role, city, is_active, created_at, token_version
         FROM users WHERE id = $1",
    )
    .bind(id)
    .fetch_optional(db.pool())
    .await
}

/// Newest first, as the original lists technicians.
pub async fn list(db: &Db, role: Option<Role>) -> sqlx::Result<Vec<User>> {
    match role {
        Some(role) => {
            sqlx::query_as(
                "SELECT id, username, password_hash, role, city, is_active, created_at, token_version
                 FROM users WHERE role = $1 ORDER BY created_at DESC, id DESC",
            )
            .bind(role.as_str())
            .fetch_all(db.pool())
            .await
        }
        None => {
            sqlx::query_as(
                "SELECT id, username, password_hash, role, city, is_active, created_at, token_version
                 FROM users ORDER BY role, username",
            )
            .fetch_all(db.pool())
            .await
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum CreateError {
    #[error("A user with that username already exists.")]
    UsernameTaken,
    #[error(transparent)]
    Db(#[from] sqlx::Error),
}

pub async fn create(
    db: &Db,
    username: &str,
    hash: &str,
    role: Role,
    city: Option<&str>,
) -> Result<User, CreateError> {
    sqlx::query_as(
        "INSERT INTO users (username, password_hash, role, city, is_active, created_at)
         VALUES ($1, $2, $3, $4, 1, $5)
         RETURNING id, username, password_hash, role, city, is_active, created_at, token_version",
    )
    .bind(username)
    .bind(hash)
    .bind(role.as_str())
    .bind(city)
    .bind(Db::now())
    .fetch_one(db.pool())
    .await
    .map_err(|e| if super::is_unique_violation(&e) { CreateError::UsernameTaken } else { CreateError::Db(e) })
}

pub async fn set_password(db: &Db, username: &str, hash: &str) -> sqlx::Result<bool> {
    // The new version revokes every access and refresh token issued with the old password.
    let done = sqlx::query(
        "UPDATE users SET password_hash = $1, token_version = token_version + 1 WHERE username = $2",
    )
    .bind(hash)
    .bind(username)
    .execute(db.pool())
    .await?;
    Ok(done.rows_affected() > 0)
}

/// Replaces a hash imported from the original by ours after a sign-in proved the password, if
/// it is still that hash (a password set meanwhile wins). Tokens stay valid: the password is
/// the same.
pub async fn upgrade_hash(db: &Db, id: i64, old: &str, new: &str) -> sqlx::Result<bool> {
    let done = sqlx::query("UPDATE users SET password_hash = $1 WHERE id = $2 AND password_hash = $3")
        .bind(new)
        .bind(id)
        .bind(old)
        .execute(db.pool())
        .await?;
    Ok(done.rows_affected() > 0)
}

pub async fn count(db: &Db) -> sqlx::Result<i64> {
    sqlx::query_scalar("SELECT COUNT(*) FROM users").fetch_one(db.pool()).await
}

/// What deleting a technician removed from the database; `keys` are the stored files to
/// delete once the transaction has committed.
#[derive(Debug, Default)]
pub struct Deleted {
    pub username: String,
    pub assignments: i64,
    pub submissions: i64,
    pub excel_uploads: i64,
    pub photo_keys: Vec<MediaKey>,
    pub pdf_keys: Vec<MediaKey>,
    pub excel_keys: Vec<MediaKey>,
}

/// Deletes a technician with their assignments, submissions, photos and uploads in one
/// transaction, and the rows of the stored objects only they referenced.
pub async fn delete_technician(db: &Db, id: i64) -> sqlx::Result<Option<Deleted>> {
    let mut tx = db.begin_write().await?;
    // On PostgreSQL the account and its drafts are locked first, so an upload racing this delete
    // either commits before the lists below are read (and its files are deleted with the rest) or
    // waits and then fails on the missing account; on SQLite the write lock does the same.
    let lock = if db.backend() == super::Backend::Postgres { " FOR UPDATE" } else { "" };
    let sql = format!("SELECT username FROM users WHERE id = $1 AND role = 'technician'{lock}");
    let user: Option<String> =
        sqlx::query_scalar(sqlx::AssertSqlSafe(sql)).bind(id).fetch_optional(&mut *tx).await?;
    let Some(username) = user else { return Ok(None) };
    if !lock.is_empty() {
        sqlx::query("SELECT id FROM drafts WHERE technician_id = $1 FOR UPDATE")
            .bind(id)
            .fetch_all(&mut *tx)
            .await?;
    }
    let count = |sql: &'static str| sqlx::query_scalar(sql).bind(id);
    let mut d = Deleted { username, ..Deleted::default() };
    d.assignments =
        count("SELECT COUNT(*) FROM technician_devices WHERE technician_id = $1").fetch_one(&mut *tx).await?;
    d.submissions =
        count("SELECT COUNT(*) FROM submissions WHERE technician_id = $1").fetch_one(&mut *tx).await?;
    d.excel_uploads =
        count("SELECT COUNT(*) FROM excel_uploads WHERE technician_id = $1").fetch_one(&mut *tx).await?;
    let objects = |sql: &'static str| sqlx::query_as::<_, ObjectRef>(sql).bind(id);
    let mut ids: Vec<i64> = Vec::new();
    for (sql, out) in [
        (
            // Submitted photos, their previews, and the photos of open drafts.
            "SELECT o.id, o.object_key FROM photos p JOIN submissions s ON s.id = p.submission_id
             JOIN stored_object o ON o.id = p.object_id WHERE s.technician_id = $1
             UNION ALL
             SELECT o.id, o.object_key FROM photo_previews v JOIN photos p ON p.object_id = v.photo_object_id
             JOIN submissions s ON s.id = p.submission_id
             JOIN stored_object o ON o.id = v.preview_object_id WHERE s.technician_id = $1
             UNION ALL
             SELECT o.id, o.object_key FROM draft_photos p JOIN drafts d ON d.id = p.draft_id
             JOIN stored_object o ON o.id = p.object_id WHERE d.technician_id = $1",
            &mut d.photo_keys,
        ),
        (
            "SELECT o.id, o.object_key FROM submissions s JOIN stored_object o ON o.id = s.pdf_object_id
             WHERE s.technician_id = $1",
            &mut d.pdf_keys,
        ),
        (
            "SELECT o.id, o.object_key FROM excel_uploads e JOIN stored_object o ON o.id = e.object_id
             WHERE e.technician_id = $1",
            &mut d.excel_keys,
        ),
    ] {
        for o in objects(sql).fetch_all(&mut *tx).await? {
            ids.push(o.id);
            out.push(o.key);
        }
    }
    sqlx::query("DELETE FROM users WHERE id = $1").bind(id).execute(&mut *tx).await?;
    for chunk in ids.chunks(500) {
        let mut q = Sql::new("DELETE FROM stored_object WHERE id IN (");
        q.push_binds(chunk.iter().copied()).push(")");
        q.query()?.execute(&mut *tx).await?;
    }
    tx.commit().await?;
    Ok(Some(d))
}
