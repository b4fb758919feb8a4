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
#[derive(Debug, Clone)]
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

#[derive(sqlx::FromRow)]
struct Assignment {
    technician_id: i64,
    technician: String,
    device_id: i64,
    interaction_id: String,
    city: String,
    device_type: String,
}

#[derive(sqlx::FromRow)]
struct Covered {
    technician_id: i64,
    device_id: i64,
    filed: i64,
    approved: i64,
}

/// Every assignment with its coverage in `p`: the period's reports are read once, by the
/// period index, and matched to the assignments here (not one lookup per assignment).
pub async fn coverage(db: &Db, p: Period) -> sqlx::Result<Vec<Coverage>> {
    let assignments: Vec<Assignment> = sqlx::query_as(
        "SELECT td.technician_id, u.username AS technician, d.id AS device_id, d.interaction_id, d.city,
            d.type AS device_type
         FROM technician_devices td JOIN devices d ON d.id = td.device_id JOIN users u ON u.id = td.technician_id
         ORDER BY u.username, d.interaction_id",
    )
    .fetch_all(db.pool())
    .await?;
    // The covering report: same month, and the same half unless the type is due monthly.
    let covered: Vec<Covered> = sqlx::query_as(
        "SELECT technician_id, device_id,
            CAST(MAX(CASE WHEN status <> 'Rejected' THEN 1 ELSE 0 END) AS BIGINT) AS filed,
            CAST(MAX(CASE WHEN status = 'Approved' THEN 1 ELSE 0 END) AS BIGINT) AS approved
         FROM submissions
         WHERE period_year = $1 AND period_month = $2 AND (half_month = $3 OR type NOT IN ($4, $5))
         GROUP BY technician_id, device_id",
    )
    .bind(i64::from(p.year))
    .bind(i64::from(p.month))
    .bind(i64::from(p.half))
    .bind(DeviceType::Cleaning1.as_str())
    .bind(DeviceType::Cleaning2.as_str())
    .fetch_all(db.pool())
    .await?;
    let covered: std::collections::HashMap<(i64, i64), (i64, i64)> =
        covered.into_iter().map(|c| ((c.technician_id, c.device_id), (c.filed, c.approved))).collect();
    Ok(assignments
        .into_iter()
        .map(|a| {
            let (filed, approved) = covered.get(&(a.technician_id, a.device_id)).copied().unwrap_or((0, 0));
            Coverage {
                technician_id: a.technician_id,
                technician: a.technician,
                device_id: a.device_id,
                interaction_id: a.interaction_id,
                city: a.city,
                device_type: a.device_type,
                filed,
                approved,
            }
        })
        .collect())
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
