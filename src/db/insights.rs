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

/// Reports of a period by status (the period of their visit date).
pub async fn period_counts(db: &Db, p: Period) -> sqlx::Result<Vec<(String, i64)>> {
    sqlx::query_as(
        "SELECT status, COUNT(*) FROM submissions WHERE period_year = $1 AND period_month = $2 AND half_month = $3
         GROUP BY status",
    )
    .bind(i64::from(p.year))
    .bind(i64::from(p.month))
    .bind(i64::from(p.half))
    .fetch_all(db.pool())
    .await
}

/// One assignment and whether it is covered in a period.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Coverage {
    pub technician_id: i64,
    pub technician: String,
    pub device_id: i64,
    pub interaction_id: String,
    pub city: String,
    pub device_type: String,
    /// 1 when a report that is not rejected covers the period.
    pub filed: i64,
    /// 1 when an approved report covers it.
    pub approved: i64,
}

/// Every assignment with its coverage in `p`.
pub async fn coverage(db: &Db, p: Period) -> sqlx::Result<Vec<Coverage>> {
    // The covering report: same technician and device, same month, and the same half unless
    // the device is due monthly.
    let covers = "s.technician_id = td.technician_id AND s.device_id = td.device_id
        AND s.period_year = $1 AND s.period_month = $2 AND (s.half_month = $3 OR d.type NOT IN ($4, $5))";
    let sql = sqlx::AssertSqlSafe(format!(
        "SELECT td.technician_id, u.username AS technician, d.id AS device_id, d.interaction_id, d.city,
            d.type AS device_type,
            CAST(CASE WHEN EXISTS (SELECT 1 FROM submissions s WHERE {covers} AND s.status <> 'Rejected')
                 THEN 1 ELSE 0 END AS BIGINT) AS filed,
            CAST(CASE WHEN EXISTS (SELECT 1 FROM submissions s WHERE {covers} AND s.status = 'Approved')
                 THEN 1 ELSE 0 END AS BIGINT) AS approved
         FROM technician_devices td
         JOIN devices d ON d.id = td.device_id
         JOIN users u ON u.id = td.technician_id
         ORDER BY u.username, d.interaction_id"
    ));
    sqlx::query_as(sql)
        .bind(i64::from(p.year))
        .bind(i64::from(p.month))
        .bind(i64::from(p.half))
        .bind(DeviceType::Cleaning1.as_str())
        .bind(DeviceType::Cleaning2.as_str())
        .fetch_all(db.pool())
        .await
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
