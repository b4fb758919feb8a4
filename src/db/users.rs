//! `users`: accounts of the three roles.

use sqlx::Row;
use sqlx::any::AnyRow;

use super::Db;
use crate::domain::Role;

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

const COLUMNS: &str = "id, username, password_hash, role, city, is_active, created_at, token_version";

fn from_row(r: &AnyRow) -> sqlx::Result<User> {
    let role: String = r.try_get(3)?;
    Ok(User {
        id: r.try_get(0)?,
        username: r.try_get(1)?,
        password_hash: r.try_get(2)?,
        role: Role::parse(&role).ok_or_else(|| sqlx::Error::Decode(format!("unknown role {role}").into()))?,
        city: r.try_get(4)?,
        is_active: r.try_get::<i64, _>(5)? != 0,
        created_at: r.try_get(6)?,
        token_version: r.try_get(7)?,
    })
}

pub async fn by_username(db: &Db, username: &str) -> sqlx::Result<Option<User>> {
    let sql = sqlx::AssertSqlSafe(format!("SELECT {COLUMNS} FROM users WHERE username = $1"));
    sqlx::query(sql).bind(username).fetch_optional(db.pool()).await?.map(|r| from_row(&r)).transpose()
}

pub async fn by_id(db: &Db, id: i64) -> sqlx::Result<Option<User>> {
    let sql = sqlx::AssertSqlSafe(format!("SELECT {COLUMNS} FROM users WHERE id = $1"));
    sqlx::query(sql).bind(id).fetch_optional(db.pool()).await?.map(|r| from_row(&r)).transpose()
}

/// Newest first, as the original lists technicians.
pub async fn list(db: &Db, role: Option<Role>) -> sqlx::Result<Vec<User>> {
    let rows = match role {
        Some(role) => {
            let sql = sqlx::AssertSqlSafe(format!(
                "SELECT {COLUMNS} FROM users WHERE role = $1 ORDER BY created_at DESC, id DESC"
            ));
            sqlx::query(sql).bind(role.as_str()).fetch_all(db.pool()).await?
        }
        None => {
            let sql = sqlx::AssertSqlSafe(format!("SELECT {COLUMNS} FROM users ORDER BY role, username"));
            sqlx::query(sql).fetch_all(db.pool()).await?
        }
    };
    rows.iter().map(from_row).collect()
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
    let sql = sqlx::AssertSqlSafe(format!(
        "INSERT INTO users (username, password_hash, role, city, is_active, created_at)
         VALUES ($1, $2, $3, $4, 1, $5) RETURNING {COLUMNS}"
    ));
    let row = sqlx::query(sql)
        .bind(username)
        .bind(hash)
        .bind(role.as_str())
        .bind(city)
        .bind(Db::now())
        .fetch_one(db.pool())
        .await
        .map_err(|e| {
            if super::is_unique_violation(&e) { CreateError::UsernameTaken } else { CreateError::Db(e) }
        })?;
    Ok(from_row(&row)?)
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

pub async fn count(db: &Db) -> sqlx::Result<i64> {
    sqlx::query("SELECT COUNT(*) FROM users").fetch_one(db.pool()).await?.try_get(0)
}

/// What deleting a technician removed from the database; `keys` are the stored files to
/// delete once the transaction has committed.
#[derive(Debug, Default)]
pub struct Deleted {
    pub username: String,
    pub assignments: i64,
    pub submissions: i64,
    pub excel_uploads: i64,
    pub photo_keys: Vec<String>,
    pub pdf_keys: Vec<String>,
    pub excel_keys: Vec<String>,
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
    let user = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(id).fetch_optional(&mut *tx).await?;
    let Some(user) = user else { return Ok(None) };
    if !lock.is_empty() {
        sqlx::query("SELECT id FROM drafts WHERE technician_id = $1 FOR UPDATE")
            .bind(id)
            .fetch_all(&mut *tx)
            .await?;
    }
    let count = |sql: &'static str| sqlx::query(sql).bind(id);
    let mut d = Deleted { username: user.try_get(0)?, ..Deleted::default() };
    d.assignments = count("SELECT COUNT(*) FROM technician_devices WHERE technician_id = $1")
        .fetch_one(&mut *tx)
        .await?
        .try_get(0)?;
    d.submissions = count("SELECT COUNT(*) FROM submissions WHERE technician_id = $1")
        .fetch_one(&mut *tx)
        .await?
        .try_get(0)?;
    d.excel_uploads = count("SELECT COUNT(*) FROM excel_uploads WHERE technician_id = $1")
        .fetch_one(&mut *tx)
        .await?
        .try_get(0)?;
    let objects = |sql: &'static str| sqlx::query(sql).bind(id);
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
        for r in objects(sql).fetch_all(&mut *tx).await? {
            ids.push(r.try_get(0)?);
            out.push(r.try_get(1)?);
        }
    }
    sqlx::query("DELETE FROM users WHERE id = $1").bind(id).execute(&mut *tx).await?;
    for chunk in ids.chunks(500) {
        let placeholders: Vec<String> = (1..=chunk.len()).map(|i| format!("${i}")).collect();
        let sql = format!("DELETE FROM stored_object WHERE id IN ({})", placeholders.join(", "));
        let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
        for id in chunk {
            q = q.bind(*id);
        }
        q.execute(&mut *tx).await?;
    }
    tx.commit().await?;
    Ok(Some(d))
}
