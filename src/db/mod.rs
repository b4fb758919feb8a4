//! The database: one pool over SQLite (embedded default) or PostgreSQL (at scale), one set of
//! runtime-checked queries that both accept, migrations per engine, and a durability check.

pub mod audit;
pub mod backup;
pub mod devices;
pub mod drafts;
pub mod evidence;
pub mod excel;
pub mod imported;
pub mod insights;
pub mod jobs;
pub mod meta;
pub mod notifications;
pub mod objects;
pub mod previews;
pub mod sessions;
mod sql;
pub mod submissions;
mod types;
pub mod users;

use std::str::FromStr;
use std::sync::Once;
use std::time::Duration;

use anyhow::{Context, bail};
use sqlx::any::{AnyConnectOptions, AnyPoolOptions};
use sqlx::{AnyPool, Connection, Executor};

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Backend {
    Sqlite,
    Postgres,
}

impl std::fmt::Display for Backend {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Backend::Sqlite => "sqlite",
            Backend::Postgres => "postgres",
        })
    }
}

#[derive(Clone, Debug)]
pub struct Db {
    pool: AnyPool,
    backend: Backend,
}

/// The engine's durability settings as read back from a live connection.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Durability {
    pub settings: Vec<(String, String)>,
    pub durable: bool,
    pub problem: Option<String>,
}

static SQLITE_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("migrations/sqlite");
static POSTGRES_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("migrations/postgres");

impl Db {
    pub async fn connect(url: &str) -> anyhow::Result<Db> {
        static DRIVERS: Once = Once::new();
        DRIVERS.call_once(sqlx::any::install_default_drivers);
        let backend = if url.starts_with("sqlite:") {
            Backend::Sqlite
        } else if url.starts_with("postgres:") || url.starts_with("postgresql:") {
            Backend::Postgres
        } else {
            bail!("DATABASE_URL must start with sqlite:// or postgres://");
        };
        let url = match backend {
            Backend::Sqlite => {
                let path = url.trim_start_matches("sqlite:").trim_start_matches("//");
                let path = path.split('?').next().unwrap_or(path);
                if let Some(dir) = std::path::Path::new(path).parent() {
                    std::fs::create_dir_all(dir)
                        .with_context(|| format!("while creating the database folder {}", dir.display()))?;
                }
                if url.contains('?') { url.to_string() } else { format!("{url}?mode=rwc") }
            }
            Backend::Postgres => url.to_string(),
        };
        let options = AnyConnectOptions::from_str(&url).context("DATABASE_URL is not a valid URL")?;
        let pool = AnyPoolOptions::new()
            .max_connections(match backend {
                Backend::Sqlite => 8,
                Backend::Postgres => 16,
            })
            .acquire_timeout(Duration::from_secs(10))
            .after_connect(move |conn, _| {
                Box::pin(async move {
                    if backend == Backend::Sqlite {
                        // WAL with synchronous=FULL: a committed transaction survives power loss.
                        conn.execute("PRAGMA journal_mode = WAL").await?;
                        conn.execute("PRAGMA synchronous = FULL").await?;
                        conn.execute("PRAGMA foreign_keys = ON").await?;
                        conn.execute("PRAGMA busy_timeout = 10000").await?;
                    }
                    Ok(())
                })
            })
            .connect_with(options)
            .await
            .map_err(|e| anyhow::anyhow!("cannot connect to the database: {e}"))?;
        Ok(Db { pool, backend })
    }

    pub fn backend(&self) -> Backend {
        self.backend
    }

    pub fn pool(&self) -> &AnyPool {
        &self.pool
    }

    /// Begins a transaction that writes. On SQLite it takes the write lock at once
    /// (`BEGIN IMMEDIATE`): a deferred transaction that reads first cannot upgrade its lock once
    /// another writer got in, and fails with "database is locked" at once instead of waiting
    /// for `busy_timeout`. PostgreSQL's row locks need no such help.
    pub async fn begin_write(&self) -> sqlx::Result<sqlx::Transaction<'static, sqlx::Any>> {
        match self.backend {
            Backend::Sqlite => self.pool.begin_with("BEGIN IMMEDIATE").await,
            Backend::Postgres => self.pool.begin().await,
        }
    }

    pub async fn migrate(&self) -> anyhow::Result<()> {
        let migrator = match self.backend {
            Backend::Sqlite => &SQLITE_MIGRATIONS,
            Backend::Postgres => &POSTGRES_MIGRATIONS,
        };
        migrator.run(&self.pool).await.context("while running database migrations")?;
        Ok(())
    }

    /// Gathers PostgreSQL's planner statistics for tables that hold rows it has never measured,
    /// or that changed by more than half since (a bulk load: COPY, a restore, an import).
    /// Autovacuum gets there later; until then joins are planned blind — with 10,000 bulk-loaded
    /// submissions a page of 50 read all 80,000 stored objects into a hash (38 ms) instead of 400
    /// index lookups (1 ms). Returns the tables analyzed; SQLite plans well without.
    pub async fn analyze_unplanned(&self) -> anyhow::Result<Vec<String>> {
        if self.backend != Backend::Postgres {
            return Ok(Vec::new());
        }
        // Our schema only (the first on the search path), each name quoted by the server.
        let tables: Vec<String> = sqlx::query_scalar(
            "SELECT format('%I.%I', schemaname, relname) FROM pg_stat_user_tables
             WHERE schemaname = current_schema()
               AND n_live_tup >= 1000
               AND ((last_analyze IS NULL AND last_autoanalyze IS NULL) OR n_mod_since_analyze > n_live_tup / 2)",
        )
        .fetch_all(&self.pool)
        .await?;
        let mut analyzed = Vec::new();
        for t in tables {
            match sqlx::query(sqlx::AssertSqlSafe(format!("ANALYZE {t}"))).execute(&self.pool).await {
                Ok(_) => analyzed.push(t),
                Err(e) => {
                    tracing::warn!(table = t, error = %e, "cannot gather planner statistics for a table")
                }
            }
        }
        Ok(analyzed)
    }

    pub async fn ping(&self) -> bool {
        match self.pool.acquire().await {
            Ok(mut c) => c.ping().await.is_ok(),
            Err(_) => false,
        }
    }

    /// Reads the durability settings back from a pooled connection and judges them.
    pub async fn durability(&self) -> anyhow::Result<Durability> {
        let mut conn = self.pool.acquire().await?;
        let mut settings = Vec::new();
        let problem = match self.backend {
            Backend::Sqlite => {
                let mode: String = sqlx::query_scalar("PRAGMA journal_mode").fetch_one(&mut *conn).await?;
                let sync: i64 = sqlx::query_scalar("PRAGMA synchronous").fetch_one(&mut *conn).await?;
                settings.push(("journal_mode".into(), mode.clone()));
                settings.push((
                    "synchronous".into(),
                    match sync {
                        0 => "OFF",
                        1 => "NORMAL",
                        2 => "FULL",
                        3 => "EXTRA",
                        _ => "unknown",
                    }
                    .into(),
                ));
                if !mode.eq_ignore_ascii_case("wal") {
                    Some(format!("SQLite journal_mode is {mode}, expected WAL"))
                } else if sync < 2 {
                    Some("SQLite synchronous is below FULL: a power loss could drop committed rows".into())
                } else {
                    None
                }
            }
            Backend::Postgres => {
                let mut problem = None;
                for (name, sql) in [
                    ("fsync", "SHOW fsync"),
                    ("synchronous_commit", "SHOW synchronous_commit"),
                    ("full_page_writes", "SHOW full_page_writes"),
                ] {
                    let v: String = sqlx::query_scalar(sql).fetch_one(&mut *conn).await?;
                    if v == "off" && problem.is_none() {
                        problem = Some(format!(
                            "PostgreSQL {name} is off: committed rows can be lost in a crash; turn it on"
                        ));
                    }
                    settings.push((name.to_string(), v));
                }
                problem
            }
        };
        Ok(Durability { settings, durable: problem.is_none(), problem })
    }

    /// The current time as stored in every timestamp column (RFC 3339, UTC, sortable as text).
    pub fn now() -> String {
        Db::at(0)
    }

    /// `now()` moved by `offset_seconds` (negative for the past): leases, expiries, cut-offs.
    pub fn at(offset_seconds: i64) -> String {
        (chrono::Utc::now() + chrono::Duration::seconds(offset_seconds))
            .to_rfc3339_opts(chrono::SecondsFormat::Micros, true)
    }
}

/// True when a write failed on a UNIQUE constraint (or unique index).
pub fn is_unique_violation(e: &sqlx::Error) -> bool {
    matches!(e, sqlx::Error::Database(d) if d.is_unique_violation())
}

/// True when a write failed on a FOREIGN KEY constraint (a row it refers to was deleted).
pub fn is_foreign_key_violation(e: &sqlx::Error) -> bool {
    matches!(e, sqlx::Error::Database(d) if d.is_foreign_key_violation())
}

#[cfg(test)]
mod tests {
    /// The two engines' migrations say the same thing: the same files, and in each the same
    /// statements once the one spelling that differs (an auto-increment id) is normalised.
    #[test]
    fn the_sqlite_and_postgresql_migrations_are_alike() {
        const SQLITE_ID: &str = "INTEGER PRIMARY KEY AUTOINCREMENT";
        const POSTGRES_ID: &str = "BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY";
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("migrations");
        let names = |engine: &str| -> Vec<String> {
            let mut v: Vec<String> = std::fs::read_dir(root.join(engine))
                .unwrap()
                .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
                .collect();
            v.sort();
            v
        };
        let (sqlite, postgres) = (names("sqlite"), names("postgres"));
        assert_eq!(sqlite, postgres, "each migration exists for both engines under the same name");
        assert!(sqlite.len() >= 8, "the migrations were found: {sqlite:?}");
        for name in &sqlite {
            let read = |engine: &str| std::fs::read_to_string(root.join(engine).join(name)).unwrap();
            let (s, p) = (read("sqlite"), read("postgres"));
            assert_eq!(
                s.matches(SQLITE_ID).count(),
                p.matches(POSTGRES_ID).count(),
                "{name}: the same tables get an auto-increment id"
            );
            assert_eq!(s.replace(SQLITE_ID, POSTGRES_ID), p, "{name} differs between the engines");
        }
    }
}
