//! Reading the original Django deployment's tables, read-only, from SQLite or PostgreSQL. Both
//! engines answer the same columns as the same Rust types: timestamps as naive UTC text
//! (`YYYY-MM-DD HH:MM:SS[.ffffff]`), dates as `YYYY-MM-DD`, booleans as 0/1, JSON as text. SQLite's
//! columns are cast to the type their values have: sqlx judges a column by its declared type
//! (`datetime`, `bool`), which no Rust type of ours decodes.

use std::str::FromStr;

use anyhow::{Context, bail};
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::sqlite::{SqliteConnectOptions, SqlitePoolOptions};
use sqlx::{PgPool, SqlitePool};

#[derive(Debug, Clone, sqlx::FromRow)]
pub(crate) struct UserRow {
    pub id: i64,
    pub username: String,
    pub password: String,
    pub role: String,
    pub city: Option<String>,
    pub is_active: i64,
    pub created_at: String,
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub(crate) struct DeviceRow {
    pub id: i64,
    pub interaction_id: String,
    pub gfm_cost_center: String,
    pub region: String,
    pub gfm_problem_type: String,
    pub gfm_problem_date: Option<String>,
    pub city: String,
    pub device_type: String,
    pub created_at: String,
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub(crate) struct AssignmentRow {
    pub id: i64,
    pub technician_id: i64,
    pub device_id: i64,
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub(crate) struct ExcelRow {
    pub id: i64,
    pub technician_id: i64,
    pub uploaded_by_id: Option<i64>,
    pub file_name: String,
    pub file_path: String,
    pub device_type: Option<String>,
    pub parsed_data: String,
    pub row_count: i64,
    pub upload_date: String,
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub(crate) struct SubmissionRow {
    pub id: i64,
    pub technician_id: i64,
    pub device_id: i64,
    pub submission_type: String,
    pub visit_date: String,
    pub half_month: i64,
    pub status: String,
    pub pdf_url: Option<String>,
    pub remarks: Option<String>,
    pub job_status: String,
    pub created_at: String,
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub(crate) struct PhotoRow {
    pub id: i64,
    pub submission_id: i64,
    pub section: i64,
    pub order_index: i64,
    pub file_url: String,
}

/// Everything the import reads, in id order.
#[derive(Debug, Default)]
pub(crate) struct Tables {
    pub users: Vec<UserRow>,
    pub devices: Vec<DeviceRow>,
    pub assignments: Vec<AssignmentRow>,
    pub excel_uploads: Vec<ExcelRow>,
    pub submissions: Vec<SubmissionRow>,
    pub photos: Vec<PhotoRow>,
}

/// The original's database, opened so that nothing can be written to it.
pub(crate) enum Source {
    Sqlite(SqlitePool),
    Postgres(PgPool),
}

/// One statement per table and engine; the PostgreSQL one casts to the SQLite spellings.
struct Select {
    sqlite: &'static str,
    postgres: &'static str,
}

const USERS: Select = Select {
    sqlite: r#"SELECT id, username, password, role, city, CAST(is_active AS INTEGER) AS is_active,
        CAST(created_at AS TEXT) AS created_at FROM "user" ORDER BY id"#,
    postgres: r#"SELECT id, username, password, role, city, is_active::int4::int8 AS is_active,
        to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS.US') AS created_at
        FROM "user" ORDER BY id"#,
};

const DEVICES: Select = Select {
    sqlite: "SELECT id, interaction_id, gfm_cost_center, region, gfm_problem_type, gfm_problem_date, city,
        type AS device_type, CAST(created_at AS TEXT) AS created_at FROM device ORDER BY id",
    postgres: "SELECT id, interaction_id, gfm_cost_center, region, gfm_problem_type, gfm_problem_date, city,
        type AS device_type, to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS.US') AS created_at
        FROM device ORDER BY id",
};

const ASSIGNMENTS: Select = Select {
    sqlite: "SELECT id, technician_id, device_id FROM technician_device ORDER BY id",
    postgres: "SELECT id, technician_id, device_id FROM technician_device ORDER BY id",
};

const EXCEL: Select = Select {
    sqlite:
        "SELECT id, technician_id, uploaded_by_id, file_name, file_path, device_type, parsed_data, row_count,
        CAST(upload_date AS TEXT) AS upload_date FROM excel_upload ORDER BY id",
    postgres: "SELECT id, technician_id, uploaded_by_id, file_name, file_path, device_type,
        parsed_data::text AS parsed_data, row_count::int8 AS row_count,
        to_char(upload_date AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS.US') AS upload_date
        FROM excel_upload ORDER BY id",
};

const SUBMISSIONS: Select = Select {
    sqlite:
        "SELECT id, technician_id, device_id, type AS submission_type, CAST(visit_date AS TEXT) AS visit_date,
        half_month, status, pdf_url, remarks, job_status, CAST(created_at AS TEXT) AS created_at
        FROM submission ORDER BY id",
    postgres: "SELECT id, technician_id, device_id, type AS submission_type, visit_date::text AS visit_date,
        half_month::int8 AS half_month, status, pdf_url, remarks, job_status,
        to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS.US') AS created_at
        FROM submission ORDER BY id",
};

const PHOTOS: Select = Select {
    sqlite: "SELECT id, submission_id, section, order_index, file_url FROM photo ORDER BY submission_id, id",
    postgres: "SELECT id, submission_id, section::int8 AS section, order_index::int8 AS order_index, file_url
        FROM photo ORDER BY submission_id, id",
};

impl Source {
    /// Opens `url` read-only: SQLite in read-only mode (the file and its folder may be
    /// read-only), PostgreSQL in read-only transactions.
    pub(crate) async fn open(url: &str) -> anyhow::Result<Source> {
        if url.starts_with("sqlite:") {
            let options = SqliteConnectOptions::from_str(url)
                .context("the original's --database-url is not a valid sqlite:// URL")?
                .read_only(true)
                .create_if_missing(false);
            let pool = SqlitePoolOptions::new()
                .max_connections(1)
                .connect_with(options)
                .await
                .context("cannot open the original's SQLite database")?;
            Ok(Source::Sqlite(pool))
        } else if url.starts_with("postgres:") || url.starts_with("postgresql:") {
            let options = PgConnectOptions::from_str(url)
                .context("the original's --database-url is not a valid postgres:// URL")?
                .options([("default_transaction_read_only", "on"), ("TimeZone", "UTC")]);
            let pool = PgPoolOptions::new()
                .max_connections(1)
                .connect_with(options)
                .await
                .context("cannot connect to the original's PostgreSQL database")?;
            Ok(Source::Postgres(pool))
        } else {
            bail!("the original's --database-url must start with sqlite:// or postgres://")
        }
    }

    /// Whether this connection's database has the PostgreSQL backend `pid` among its sessions.
    pub(crate) async fn sees_backend(&self, pid: i32) -> bool {
        let Source::Postgres(pool) = self else { return false };
        let seen: Result<i64, _> = sqlx::query_scalar(
            "SELECT COUNT(*) FROM pg_stat_activity WHERE pid = $1 AND datname = current_database()",
        )
        .bind(pid)
        .fetch_one(pool)
        .await;
        seen.is_ok_and(|n| n > 0)
    }

    pub(crate) fn engine(&self) -> &'static str {
        match self {
            Source::Sqlite(_) => "sqlite",
            Source::Postgres(_) => "postgres",
        }
    }

    async fn all<T>(&self, table: &str, select: &Select) -> anyhow::Result<Vec<T>>
    where
        T: Send + Unpin + for<'r> sqlx::FromRow<'r, sqlx::sqlite::SqliteRow>,
        T: for<'r> sqlx::FromRow<'r, sqlx::postgres::PgRow>,
    {
        let rows = match self {
            Source::Sqlite(pool) => sqlx::query_as(select.sqlite).fetch_all(pool).await,
            Source::Postgres(pool) => sqlx::query_as(select.postgres).fetch_all(pool).await,
        };
        rows.with_context(|| {
            format!("while reading the original's `{table}` table (is this the original's database?)")
        })
    }

    /// Reads every table the import needs.
    pub(crate) async fn read(&self) -> anyhow::Result<Tables> {
        Ok(Tables {
            users: self.all("user", &USERS).await?,
            devices: self.all("device", &DEVICES).await?,
            assignments: self.all("technician_device", &ASSIGNMENTS).await?,
            excel_uploads: self.all("excel_upload", &EXCEL).await?,
            submissions: self.all("submission", &SUBMISSIONS).await?,
            photos: self.all("photo", &PHOTOS).await?,
        })
    }
}

/// A Django timestamp (naive UTC, with or without a fraction, or with an offset) in our
/// stored form (RFC 3339, UTC, microseconds).
pub(crate) fn timestamp(raw: &str) -> Option<String> {
    let raw = raw.trim();
    let utc = chrono::DateTime::parse_from_rfc3339(raw)
        .or_else(|_| chrono::DateTime::parse_from_str(raw, "%Y-%m-%d %H:%M:%S%.f%:z"))
        .or_else(|_| chrono::DateTime::parse_from_str(raw, "%Y-%m-%d %H:%M:%S%.f%#z"))
        .map(|t| t.with_timezone(&chrono::Utc))
        .or_else(|_| chrono::NaiveDateTime::parse_from_str(raw, "%Y-%m-%d %H:%M:%S%.f").map(|n| n.and_utc()))
        .or_else(|_| chrono::NaiveDateTime::parse_from_str(raw, "%Y-%m-%dT%H:%M:%S%.f").map(|n| n.and_utc()))
        .ok()?;
    Some(utc.to_rfc3339_opts(chrono::SecondsFormat::Micros, true))
}

#[cfg(test)]
mod tests {
    use super::timestamp;

    #[test]
    fn django_timestamps_of_both_engines_become_ours() {
        let ours = Some("2026-12-01T21:41:32.123456Z".to_string());
        assert_eq!(timestamp("2026-12-01 21:41:32.123456"), ours);
        assert_eq!(timestamp("2026-12-01 21:41:32.123456+00:00"), ours);
        assert_eq!(timestamp("2026-12-01 23:41:32.123456+02"), ours);
        assert_eq!(timestamp("2026-12-01T21:41:32.123456Z"), ours);
        assert_eq!(timestamp("2026-12-01 21:41:32"), Some("2026-12-01T21:41:32.000000Z".to_string()));
        assert_eq!(timestamp("yesterday"), None);
    }
}
