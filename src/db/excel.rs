//! `excel_uploads`: one row per technician and device type, replaced in place on re-upload.

use sqlx::any::AnyRow;
use sqlx::{AnyConnection, Row};

use super::Db;

#[derive(Debug, Clone)]
pub struct Upload {
    pub id: i64,
    pub file_name: String,
    pub device_type: String,
    pub parsed_data: serde_json::Value,
    pub row_count: i64,
    pub upload_date: String,
    pub uploaded_by: Option<String>,
}

const SELECT: &str =
    "SELECT e.id, e.file_name, e.device_type, e.parsed_data, e.row_count, e.upload_date, u.username AS uploaded_by
     FROM excel_uploads e LEFT JOIN users u ON u.id = e.uploaded_by_id";

/// By name, but by hand rather than derived: `parsed_data` is JSON kept as TEXT on both engines
/// (`sqlx::Any` has no JSON type, so `#[sqlx(json)]` cannot decode it).
impl<'r> sqlx::FromRow<'r, AnyRow> for Upload {
    fn from_row(r: &'r AnyRow) -> sqlx::Result<Upload> {
        let data: String = r.try_get("parsed_data")?;
        Ok(Upload {
            id: r.try_get("id")?,
            file_name: r.try_get("file_name")?,
            device_type: r.try_get("device_type")?,
            parsed_data: serde_json::from_str(&data)
                .map_err(|e| sqlx::Error::ColumnDecode { index: "parsed_data".into(), source: e.into() })?,
            row_count: r.try_get("row_count")?,
            upload_date: r.try_get("upload_date")?,
            uploaded_by: r.try_get("uploaded_by")?,
        })
    }
}

pub struct NewUpload<'a> {
    pub technician_id: i64,
    pub uploaded_by: i64,
    pub file_name: &'a str,
    pub object_id: i64,
    pub device_type: &'a str,
    /// The rows as JSON text (already serialised and size-checked by the parser).
    pub parsed_data: &'a str,
    pub row_count: i64,
}

/// Creates or replaces the technician's upload of this type; returns its id.
pub async fn upsert(conn: &mut AnyConnection, u: &NewUpload<'_>) -> sqlx::Result<i64> {
    sqlx::query_scalar(
        "INSERT INTO excel_uploads (technician_id, uploaded_by_id, file_name, object_id, device_type, parsed_data, row_count, upload_date)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
         ON CONFLICT (technician_id, device_type) DO UPDATE SET
             uploaded_by_id = excluded.uploaded_by_id, file_name = excluded.file_name, object_id = excluded.object_id,
             parsed_data = excluded.parsed_data, row_count = excluded.row_count, upload_date = excluded.upload_date
         RETURNING id",
    )
    .bind(u.technician_id)
    .bind(u.uploaded_by)
    .bind(u.file_name)
    .bind(u.object_id)
    .bind(u.device_type)
    .bind(u.parsed_data)
    .bind(u.row_count)
    .bind(Db::now())
    .fetch_one(&mut *conn)
    .await
}

pub async fn for_technician(db: &Db, technician_id: i64) -> sqlx::Result<Vec<Upload>> {
    let sql = sqlx::AssertSqlSafe(format!(
        "{SELECT} WHERE e.technician_id = $1 ORDER BY e.upload_date DESC, e.id DESC"
    ));
    sqlx::query_as(sql).bind(technician_id).fetch_all(db.pool()).await
}

pub async fn of_type(db: &Db, technician_id: i64, device_type: &str) -> sqlx::Result<Option<Upload>> {
    let sql = sqlx::AssertSqlSafe(format!("{SELECT} WHERE e.technician_id = $1 AND e.device_type = $2"));
    sqlx::query_as(sql).bind(technician_id).bind(device_type).fetch_optional(db.pool()).await
}
