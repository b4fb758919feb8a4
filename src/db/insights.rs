//! The numbers of the supervisor's dashboard: filings per day, counts of a period, coverage of
//! every assignment (filed and approved in a period), the oldest reports waiting for review.
//! A Cleaning device is due each half-month; every other type once a month, so a report filed
//! in either half of the month covers both halves.

use super::Db;
use crate::domain::{DeviceType, Period};

/// Reports filed on one day, by their status now.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct DayCount {
    pub day: String,
    pub status: String,
    pub n: i64,
}

/// Filings per day and status from `from` to `to` (dates, inclusive).
pub async fn per_day(db: &Db, from: &str, to: &str) -> sqlx::Result<Vec<DayCount>> {
    sqlx::query_as(
        "SELECT substr(created_at, 1, 10) AS day, status, COUNT(*) AS n FROM submissions
         WHERE created_at >= $1 AND created_at < $2 GROUP BY substr(created_at, 1, 10), status ORDER BY day",
    )
    .bind(from)
    .bind(format!("{to}T99"))
    .fetch_all(db.pool())
    .await
}

/// Reports of a period by status (the period of their visit date), and how many of each are
/// flagged (findings not yet checked).
pub async fn period_counts(db: &Db, p: Period) -> sqlx::Result<Vec<(String, i64, i64)>> {
    sqlx::query_as(
        "SELECT status, COUNT(*),
                CAST(COALESCE(SUM(CASE WHEN open_findings > 0 THEN 1 ELSE 0 END), 0) AS BIGINT)
         FROM submissions WHERE period_year = $1 AND period_month = $2 AND half_month = $3
         GROUP BY status",
    )
    .bind(i64::from(p.year))
    .bind(i64::from(p.month))
    .bind(i64::from(p.half))
    .fetch_all(db.pool())
    .await
}

/// Due, filed and approved assignments of one group (a city or a technician).
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Tally {
    pub name: String,
    pub technician_id: Option<i64>,
    pub due: i64,
    pub filed: i64,
    pub approved: i64,
}

/// An assignment no report covers in the period.
#[derive(Debug, Clone, serde::Serialize, sqlx::FromRow)]
pub struct Unfiled {
    pub device_id: i64,
    pub interaction_id: String,
    pub city: String,
    #[serde(rename = "type")]
    pub device_type: String,
    pub technician: String,
}

/// The covering reports of a period, one row per technician and device: same month, and the
/// same half unless the type is due monthly. Read by the period index; the database joins it
/// to the assignments and sums, so no per-assignment row crosses to us.
const COVERED: &str = "WITH covered AS (
        SELECT technician_id, device_id,
            MAX(CASE WHEN status <> 'Rejected' THEN 1 ELSE 0 END) AS filed,
            MAX(CASE WHEN status = 'Approved' THEN 1 ELSE 0 END) AS approved
        FROM submissions
        WHERE period_year = $1 AND period_month = $2 AND (half_month = $3 OR type NOT IN ($4, $5))
        GROUP BY technician_id, device_id)";

const ASSIGNED: &str = "FROM technician_devices td
     JOIN devices d ON d.id = td.device_id
     JOIN users u ON u.id = td.technician_id
     LEFT JOIN covered c ON c.technician_id = td.technician_id AND c.device_id = td.device_id";

fn with_period<'q, O>(
    q: sqlx::query::QueryAs<'q, sqlx::Any, O, sqlx::any::AnyArguments>,
    p: Period,
) -> sqlx::query::QueryAs<'q, sqlx::Any, O, sqlx::any::AnyArguments> {
    q.bind(i64::from(p.year))
        .bind(i64::from(p.month))
        .bind(i64::from(p.half))
        .bind(DeviceType::Cleaning1.as_str())
        .bind(DeviceType::Cleaning2.as_str())
}

/// Coverage of `p` per city (`by_technician` false) or per technician.
pub async fn coverage(db: &Db, p: Period, by_technician: bool) -> sqlx::Result<Vec<Tally>> {
    let (name, id, group) = if by_technician {
        ("u.username", "td.technician_id", "u.username, td.technician_id")
    } else {
        ("d.city", "CAST(NULL AS BIGINT)", "d.city")
    };
    let sql = sqlx::AssertSqlSafe(format!(
        "{COVERED} SELECT {name} AS name, {id} AS technician_id, CAST(COUNT(*) AS BIGINT) AS due,
            CAST(COALESCE(SUM(c.filed), 0) AS BIGINT) AS filed, CAST(COALESCE(SUM(c.approved), 0) AS BIGINT) AS approved
         {ASSIGNED} GROUP BY {group} ORDER BY {name}"
    ));
    with_period(sqlx::query_as(sql), p).fetch_all(db.pool()).await
}

/// Up to `limit` assignments no report covers in `p`, and how many there are.
pub async fn unfiled(db: &Db, p: Period, limit: i64) -> sqlx::Result<(Vec<Unfiled>, i64)> {
    let rows = sqlx::AssertSqlSafe(format!(
        "{COVERED} SELECT d.id AS device_id, d.interaction_id, d.city, d.type AS device_type, u.username AS technician
         {ASSIGNED} WHERE COALESCE(c.filed, 0) = 0 ORDER BY u.username, d.interaction_id LIMIT {limit}"
    ));
    let count = sqlx::AssertSqlSafe(format!(
        "{COVERED} SELECT CAST(COUNT(*) AS BIGINT) {ASSIGNED} WHERE COALESCE(c.filed, 0) = 0"
    ));
    let listed = with_period(sqlx::query_as(rows), p).fetch_all(db.pool()).await?;
    let (n,): (i64,) = with_period(sqlx::query_as(count), p).fetch_one(db.pool()).await?;
    Ok((listed, n))
}

/// A report waiting for review.
#[derive(Debug, Clone, serde::Serialize, sqlx::FromRow)]
pub struct Waiting {
    pub id: i64,
    pub interaction_id: String,
    pub technician: String,
    pub city: String,
    pub visit_date: String,
    pub created_at: String,
}

/// The `limit` reports that have waited longest.
pub async fn oldest_pending(db: &Db, limit: i64) -> sqlx::Result<Vec<Waiting>> {
    sqlx::query_as(
        "SELECT s.id, d.interaction_id, u.username AS technician, d.city, s.visit_date, s.created_at
         FROM submissions s JOIN devices d ON d.id = s.device_id JOIN users u ON u.id = s.technician_id
         WHERE s.status = 'Pending' ORDER BY s.created_at, s.id LIMIT $1",
    )
    .bind(limit)
    .fetch_all(db.pool())
    .await
}
