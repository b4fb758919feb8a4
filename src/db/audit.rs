//! `audit_log`: the append-only trail. Rows are appended one at a time under a lock (SQLite's
//! write lock; a PostgreSQL advisory lock, so several instances write one chain), each with the
//! next id and the hash chained to the row before it; the chain's head is kept in `app_meta`
//! in the same transaction, so deleting the newest rows is detectable too.

use super::sql::Sql;
use super::{Backend, Db};
use crate::domain::audit::{self, Action, Fields, GENESIS};

/// The `app_meta` name of the newest row's `id:hash`.
const HEAD: &str = "audit_head";
/// The advisory lock key that serializes appends on PostgreSQL ("audit" in ASCII).
const LOCK_KEY: i64 = 0x0061_7564_6974;

/// One thing that happened, before it is written.
pub struct Entry<'a> {
    pub actor_id: Option<i64>,
    /// Who: a username, or `cli` for the command line on the server.
    pub actor: &'a str,
    pub action: Action,
    /// What it was done to, as `kind:id` (`submission:12`, `user:5`).
    pub target: Option<String>,
    pub detail: serde_json::Value,
    /// From where: the client's address, or `cli`.
    pub client: Option<&'a str>,
}

#[derive(Debug, Clone, serde::Serialize, sqlx::FromRow)]
pub struct Row {
    pub id: i64,
    pub at: String,
    pub actor_id: Option<i64>,
    pub actor: String,
    pub action: String,
    pub target: Option<String>,
    pub detail: String,
    pub client: Option<String>,
    pub prev_hash: String,
    pub hash: String,
}

impl Row {
    /// The hash this row's fields give after `prev_hash`.
    pub fn expected_hash(&self, prev_hash: &str) -> String {
        audit::chain_hash(
            prev_hash,
            &Fields {
                id: self.id,
                at: &self.at,
                actor_id: self.actor_id,
                actor: &self.actor,
                action: &self.action,
                target: self.target.as_deref(),
                detail: &self.detail,
                client: self.client.as_deref(),
            },
        )
    }
}

/// Appends one row; its id.
pub async fn append(db: &Db, e: &Entry<'_>) -> sqlx::Result<i64> {
    let mut tx = db.begin_write().await?;
    if db.backend() == Backend::Postgres {
        sqlx::query("SELECT pg_advisory_xact_lock($1)::text").bind(LOCK_KEY).fetch_one(&mut *tx).await?;
    }
    let last: Option<(i64, String)> =
        sqlx::query_as("SELECT id, hash FROM audit_log ORDER BY id DESC LIMIT 1")
            .fetch_optional(&mut *tx)
            .await?;
    let (id, prev) = match last {
        Some((id, hash)) => (id + 1, hash),
        None => (1, GENESIS.to_string()),
    };
    let at = Db::now();
    let detail = e.detail.to_string();
    let action = e.action.as_str();
    let fields = Fields {
        id,
        at: &at,
        actor_id: e.actor_id,
        actor: e.actor,
        action,
        target: e.target.as_deref(),
        detail: &detail,
        client: e.client,
    };
    let hash = audit::chain_hash(&prev, &fields);
    sqlx::query(
        "INSERT INTO audit_log (id, at, actor_id, actor, action, target, detail, client, prev_hash, hash)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
    )
    .bind(id)
    .bind(&at)
    .bind(e.actor_id)
    .bind(e.actor)
    .bind(action)
    .bind(e.target.as_deref())
    .bind(&detail)
    .bind(e.client)
    .bind(&prev)
    .bind(&hash)
    .execute(&mut *tx)
    .await?;
    sqlx::query(
        "INSERT INTO app_meta (name, value, updated_at) VALUES ($1, $2, $3)
         ON CONFLICT (name) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at",
    )
    .bind(HEAD)
    .bind(format!("{id}:{hash}"))
    .bind(&at)
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(id)
}

/// The recorded head (`id`, `hash`), if any row was ever written.
pub async fn head(db: &Db) -> sqlx::Result<Option<(i64, String)>> {
    let v: Option<String> = sqlx::query_scalar("SELECT value FROM app_meta WHERE name = $1")
        .bind(HEAD)
        .fetch_optional(db.pool())
        .await?;
    Ok(v.and_then(|v| {
        let (id, hash) = v.split_once(':')?;
        Some((id.parse().ok()?, hash.to_string()))
    }))
}

const SELECT: &str =
    "SELECT id, at, actor_id, actor, action, target, detail, client, prev_hash, hash FROM audit_log";

/// Up to `limit` rows after `after`, oldest first: how verify and export walk the whole trail.
pub async fn after(db: &Db, after: i64, limit: i64) -> sqlx::Result<Vec<Row>> {
    let sql = sqlx::AssertSqlSafe(format!("{SELECT} WHERE id > $1 ORDER BY id LIMIT $2"));
    sqlx::query_as(sql).bind(after).bind(limit).fetch_all(db.pool()).await
}

/// What the host page filters by; every part optional.
#[derive(Debug, Default, Clone)]
pub struct Filter {
    pub action: Option<Action>,
    pub actor: Option<String>,
    /// Inclusive bounds on `at`, as stored (RFC 3339) or a `YYYY-MM-DD` prefix.
    pub from: Option<String>,
    pub to: Option<String>,
}

fn filtered(base: &str, f: &Filter) -> Sql {
    let mut q = Sql::new(base);
    q.push(" WHERE 1 = 1");
    if let Some(a) = f.action {
        q.push(" AND action = ").push_bind(a.as_str());
    }
    if let Some(actor) = &f.actor {
        q.push(" AND actor = ").push_bind(actor.clone());
    }
    if let Some(from) = &f.from {
        q.push(" AND at >= ").push_bind(from.clone());
    }
    if let Some(to) = &f.to {
        // A date means the whole day.
        let to = if to.len() == 10 { format!("{to}T99") } else { to.clone() };
        q.push(" AND at <= ").push_bind(to);
    }
    q
}

/// A page of rows, newest first, and how many match.
pub async fn page(db: &Db, f: &Filter, limit: i64, offset: i64) -> sqlx::Result<(Vec<Row>, i64)> {
    let mut q = filtered(SELECT, f);
    q.push(" ORDER BY id DESC LIMIT ").push_bind(limit).push(" OFFSET ").push_bind(offset);
    let rows: Vec<Row> = q.query_as()?.fetch_all(db.pool()).await?;
    let total: i64 =
        filtered("SELECT COUNT(*) FROM audit_log", f).query_scalar()?.fetch_one(db.pool()).await?;
    Ok((rows, total))
}
