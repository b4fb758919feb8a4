//! `devices` and `technician_devices`: devices are global per interaction id and never deleted;
//! assignments come and go with the host's uploads.

use sqlx::AnyConnection;

use super::Db;
use crate::domain::excel::DeviceRow;

#[derive(Debug, Clone, serde::Serialize, sqlx::FromRow)]
pub struct Device {
    pub id: i64,
    pub interaction_id: String,
    pub gfm_cost_center: String,
    pub region: String,
    pub gfm_problem_type: String,
    pub gfm_problem_date: Option<String>,
    pub city: String,
    #[serde(rename = "type")]
    #[sqlx(rename = "type")]
    pub device_type: String,
    pub created_at: String,
}

pub async fn by_id(db: &Db, id: i64) -> sqlx::Result<Option<Device>> {
    sqlx::query_as(
        "SELECT d.id, d.interaction_id, d.gfm_cost_center, d.region, d.gfm_problem_type, d.gfm_problem_date,
                d.city, d.type, d.created_at
         FROM devices d WHERE d.id = $1",
    )
    .bind(id)
    .fetch_optional(db.pool())
    .await
}

/// Devices assigned to a technician, newest problem date first (the original's string order).
pub async fn assigned_to(db: &Db, technician_id: i64) -> sqlx::Result<Vec<Device>> {
    sqlx::query_as(
        "SELECT d.id, d.interaction_id, d.gfm_cost_center, d.region, d.gfm_problem_type, d.gfm_problem_date,
                d.city, d.type, d.created_at
         FROM devices d JOIN technician_devices td ON td.device_id = d.id
         WHERE td.technician_id = $1 ORDER BY d.gfm_problem_date DESC, d.id",
    )
    .bind(technician_id)
    .fetch_all(db.pool())
    .await
}

pub async fn is_assigned(db: &Db, technician_id: i64, device_id: i64) -> sqlx::Result<bool> {
    let n: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM technician_devices WHERE technician_id = $1 AND device_id = $2",
    )
    .bind(technician_id)
    .bind(device_id)
    .fetch_one(db.pool())
    .await?;
    Ok(n > 0)
}

/// Gets or creates each device (the first upload fixes its type and details, spec §4.1);
/// returns the ids in row order and how many were new.
pub async fn get_or_create(
    conn: &mut AnyConnection,
    rows: &[DeviceRow],
    device_type: &str,
) -> sqlx::Result<(Vec<i64>, i64)> {
    let mut ids = Vec::with_capacity(rows.len());
    let mut created = 0;
    let now = Db::now();
    for r in rows {
        let inserted: Option<i64> = sqlx::query_scalar(
            "INSERT INTO devices (interaction_id, gfm_cost_center, region, gfm_problem_type, gfm_problem_date, city, type, created_at)
             VALUES ($1, $2, '', $3, $4, $5, $6, $7) ON CONFLICT (interaction_id) DO NOTHING RETURNING id",
        )
        .bind(&r.interaction_id)
        .bind(&r.cost_center)
        .bind(&r.problem_type)
        .bind(&r.problem_date)
        .bind(&r.city)
        .bind(device_type)
        .bind(&now)
        .fetch_optional(&mut *conn)
        .await?;
        let id: i64 = match inserted {
            Some(id) => {
                created += 1;
                id
            }
            None => {
                sqlx::query_scalar("SELECT id FROM devices WHERE interaction_id = $1")
                    .bind(&r.interaction_id)
                    .fetch_one(&mut *conn)
                    .await?
            }
        };
        if let Some(at) = r.position {
            super::evidence::set_device_position(&mut *conn, id, at).await?;
        }
        ids.push(id);
    }
    Ok((ids, created))
}

/// Replaces a technician's assignments that came from uploads of `device_type` with `device_ids`.
/// Devices themselves, and every submission made for them, stay. Returns how many of the
/// devices were not assigned to the technician before.
pub async fn replace_assignments(
    conn: &mut AnyConnection,
    technician_id: i64,
    device_type: &str,
    device_ids: &[i64],
) -> sqlx::Result<usize> {
    let before: std::collections::HashSet<i64> =
        sqlx::query_scalar("SELECT device_id FROM technician_devices WHERE technician_id = $1")
            .bind(technician_id)
            .fetch_all(&mut *conn)
            .await?
            .into_iter()
            .collect();
    let new = device_ids
        .iter()
        .collect::<std::collections::HashSet<_>>()
        .into_iter()
        .filter(|id| !before.contains(id))
        .count();
    sqlx::query("DELETE FROM technician_devices WHERE technician_id = $1 AND device_type = $2")
        .bind(technician_id)
        .bind(device_type)
        .execute(&mut *conn)
        .await?;
    for id in device_ids {
        sqlx::query(
            "INSERT INTO technician_devices (technician_id, device_id, device_type) VALUES ($1, $2, $3)
             ON CONFLICT (technician_id, device_id) DO UPDATE SET device_type = excluded.device_type",
        )
        .bind(technician_id)
        .bind(id)
        .bind(device_type)
        .execute(&mut *conn)
        .await?;
    }
    Ok(new)
}

pub async fn count(db: &Db) -> sqlx::Result<i64> {
    sqlx::query_scalar("SELECT COUNT(*) FROM devices").fetch_one(db.pool()).await
}

pub async fn count_assignments(db: &Db, technician_id: i64) -> sqlx::Result<i64> {
    sqlx::query_scalar("SELECT COUNT(*) FROM technician_devices WHERE technician_id = $1")
        .bind(technician_id)
        .fetch_one(db.pool())
        .await
}
