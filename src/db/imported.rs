//! `import_map` and `import_findings`: what an import from the original Django deployment
//! brought over and what it found lost. Rows are written with the id they had in the original
//! when that id is free here, so people keep referring to "report 12"; otherwise the database
//! picks one, and the map says which.

use std::collections::HashMap;

use sqlx::AnyConnection;

use super::sql::Sql;
use super::{Backend, Db};

/// The kinds of source rows the map records.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    User,
    Device,
    Assignment,
    ExcelUpload,
    Submission,
    Photo,
    Pdf,
}

impl Kind {
    fn as_str(self) -> &'static str {
        match self {
            Kind::User => "user",
            Kind::Device => "device",
            Kind::Assignment => "assignment",
            Kind::ExcelUpload => "excel_upload",
            Kind::Submission => "submission",
            Kind::Photo => "photo",
            Kind::Pdf => "pdf",
        }
    }
}

/// Source id → our id, for one kind.
pub(crate) async fn mapped(db: &Db, kind: Kind) -> sqlx::Result<HashMap<i64, i64>> {
    let rows: Vec<(i64, i64)> = sqlx::query_as("SELECT source_id, target_id FROM import_map WHERE kind = $1")
        .bind(kind.as_str())
        .fetch_all(db.pool())
        .await?;
    Ok(rows.into_iter().collect())
}

/// The ids of every report here.
pub(crate) async fn submission_ids(db: &Db) -> sqlx::Result<std::collections::HashSet<i64>> {
    let ids: Vec<i64> = sqlx::query_scalar("SELECT id FROM submissions").fetch_all(db.pool()).await?;
    Ok(ids.into_iter().collect())
}

/// Records that `source_id` became `target_id`, in the transaction that wrote the row.
pub(crate) async fn map(
    conn: &mut AnyConnection,
    kind: Kind,
    source_id: i64,
    target_id: i64,
) -> sqlx::Result<()> {
    sqlx::query("INSERT INTO import_map (kind, source_id, target_id, imported_at) VALUES ($1, $2, $3, $4)")
        .bind(kind.as_str())
        .bind(source_id)
        .bind(target_id)
        .bind(Db::now())
        .execute(&mut *conn)
        .await?;
    Ok(())
}

/// The tables whose ids an import keeps; the names are ours, never a caller's.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Table {
    Users,
    Devices,
    ExcelUploads,
    Submissions,
    Photos,
}

impl Table {
    fn name(self) -> &'static str {
        match self {
            Table::Users => "users",
            Table::Devices => "devices",
            Table::ExcelUploads => "excel_uploads",
            Table::Submissions => "submissions",
            Table::Photos => "photos",
        }
    }
}

/// `id` when no row of `table` has it yet, to be inserted explicitly.
pub(crate) async fn free_id(conn: &mut AnyConnection, table: Table, id: i64) -> sqlx::Result<Option<i64>> {
    let sql = sqlx::AssertSqlSafe(format!("SELECT COUNT(*) FROM {} WHERE id = $1", table.name()));
    let taken: i64 = sqlx::query_scalar(sql).bind(id).fetch_one(&mut *conn).await?;
    Ok((taken == 0).then_some(id))
}

/// After explicit ids, PostgreSQL's identity sequences must move past them, or the next
/// ordinary insert would pick a taken id. SQLite's AUTOINCREMENT follows by itself.
pub(crate) async fn advance_sequences(conn: &mut AnyConnection, backend: Backend) -> sqlx::Result<()> {
    if backend != Backend::Postgres {
        return Ok(());
    }
    for t in [Table::Users, Table::Devices, Table::ExcelUploads, Table::Submissions, Table::Photos] {
        let sql = sqlx::AssertSqlSafe(format!(
            "SELECT setval(pg_get_serial_sequence('{0}', 'id'), GREATEST((SELECT MAX(id) FROM {0}), 1))::text",
            t.name()
        ));
        let _: Option<String> = sqlx::query_scalar(sql).fetch_optional(&mut *conn).await?;
    }
    Ok(())
}

/// Starts an INSERT with an explicit id when `id` is given.
fn insert(table: Table, columns: &str, id: Option<i64>) -> Sql {
    let mut q = Sql::new("INSERT INTO ");
    q.push(table.name()).push(" (");
    if id.is_some() {
        q.push("id, ");
    }
    q.push(columns).push(") VALUES (");
    if let Some(id) = id {
        q.push_bind(id).push(", ");
    }
    q
}

pub(crate) struct NewUser<'a> {
    pub id: Option<i64>,
    pub username: &'a str,
    pub password_hash: &'a str,
    pub role: &'a str,
    pub city: Option<&'a str>,
    pub is_active: bool,
    pub created_at: &'a str,
}

pub(crate) async fn insert_user(conn: &mut AnyConnection, u: &NewUser<'_>) -> sqlx::Result<i64> {
    let mut q = insert(Table::Users, "username, password_hash, role, city, is_active, created_at", u.id);
    q.push_bind(u.username).push(", ").push_bind(u.password_hash).push(", ").push_bind(u.role).push(", ");
    q.push_bind(u.city).push(", ").push_bind(i64::from(u.is_active)).push(", ").push_bind(u.created_at);
    q.push(") RETURNING id");
    q.query_scalar()?.fetch_one(&mut *conn).await
}

/// The usernames of every account here.
pub(crate) async fn usernames(db: &Db) -> sqlx::Result<HashMap<String, i64>> {
    let rows: Vec<(String, i64)> =
        sqlx::query_as("SELECT username, id FROM users").fetch_all(db.pool()).await?;
    Ok(rows.into_iter().collect())
}

pub(crate) struct NewDevice<'a> {
    pub id: Option<i64>,
    pub interaction_id: &'a str,
    pub gfm_cost_center: &'a str,
    pub region: &'a str,
    pub gfm_problem_type: &'a str,
    pub gfm_problem_date: Option<&'a str>,
    pub city: &'a str,
    pub device_type: &'a str,
    pub created_at: &'a str,
}

/// The device with this interaction id, if one is here already (the same ATM).
pub(crate) async fn device_by_interaction(
    conn: &mut AnyConnection,
    interaction_id: &str,
) -> sqlx::Result<Option<i64>> {
    sqlx::query_scalar("SELECT id FROM devices WHERE interaction_id = $1")
        .bind(interaction_id)
        .fetch_optional(&mut *conn)
        .await
}

pub(crate) async fn insert_device(conn: &mut AnyConnection, d: &NewDevice<'_>) -> sqlx::Result<i64> {
    let mut q = insert(
        Table::Devices,
        "interaction_id, gfm_cost_center, region, gfm_problem_type, gfm_problem_date, city, type, created_at",
        d.id,
    );
    q.push_bind(d.interaction_id).push(", ").push_bind(d.gfm_cost_center).push(", ").push_bind(d.region);
    q.push(", ").push_bind(d.gfm_problem_type).push(", ").push_bind(d.gfm_problem_date).push(", ");
    q.push_bind(d.city).push(", ").push_bind(d.device_type).push(", ").push_bind(d.created_at);
    q.push(") RETURNING id");
    q.query_scalar()?.fetch_one(&mut *conn).await
}

/// Assigns a device to a technician unless it already is; the assignment's id either way.
pub(crate) async fn assign(
    conn: &mut AnyConnection,
    technician: i64,
    device: i64,
    device_type: &str,
) -> sqlx::Result<i64> {
    sqlx::query(
        "INSERT INTO technician_devices (technician_id, device_id, device_type) VALUES ($1, $2, $3)
         ON CONFLICT (technician_id, device_id) DO NOTHING",
    )
    .bind(technician)
    .bind(device)
    .bind(device_type)
    .execute(&mut *conn)
    .await?;
    sqlx::query_scalar("SELECT id FROM technician_devices WHERE technician_id = $1 AND device_id = $2")
        .bind(technician)
        .bind(device)
        .fetch_one(&mut *conn)
        .await
}

pub(crate) struct NewUpload<'a> {
    pub id: Option<i64>,
    pub technician_id: i64,
    pub uploaded_by_id: Option<i64>,
    pub file_name: &'a str,
    pub object_id: Option<i64>,
    pub device_type: &'a str,
    pub parsed_data: &'a str,
    pub row_count: i64,
    pub upload_date: &'a str,
}

/// Inserts an upload; fails on the one-per-technician-and-type constraint if one exists here.
pub(crate) async fn insert_upload(conn: &mut AnyConnection, u: &NewUpload<'_>) -> sqlx::Result<i64> {
    let mut q = insert(
        Table::ExcelUploads,
        "technician_id, uploaded_by_id, file_name, object_id, device_type, parsed_data, row_count, upload_date",
        u.id,
    );
    q.push_bind(u.technician_id).push(", ").push_bind(u.uploaded_by_id).push(", ").push_bind(u.file_name);
    q.push(", ")
        .push_bind(u.object_id)
        .push(", ")
        .push_bind(u.device_type)
        .push(", ")
        .push_bind(u.parsed_data);
    q.push(", ").push_bind(u.row_count).push(", ").push_bind(u.upload_date).push(") RETURNING id");
    q.query_scalar()?.fetch_one(&mut *conn).await
}

pub(crate) struct NewSubmission<'a> {
    pub id: Option<i64>,
    pub technician_id: i64,
    pub device_id: i64,
    pub submission_type: &'a str,
    pub visit_date: &'a str,
    pub period: crate::domain::Period,
    pub job_status: &'a str,
    pub status: &'a str,
    pub remarks: Option<&'a str>,
    pub review_remarks: Option<&'a str>,
    pub created_at: &'a str,
}

/// Inserts a submission as the original left it; fails on the one-active-report-per-period
/// constraint if this database already holds one for that technician, device and period.
pub(crate) async fn insert_submission(conn: &mut AnyConnection, s: &NewSubmission<'_>) -> sqlx::Result<i64> {
    let mut q = insert(
        Table::Submissions,
        "technician_id, device_id, type, visit_date, period_year, period_month, half_month, job_description,
         job_status, status, remarks, review_remarks, created_at, updated_at",
        s.id,
    );
    q.push_bind(s.technician_id).push(", ").push_bind(s.device_id).push(", ").push_bind(s.submission_type);
    q.push(", ").push_bind(s.visit_date).push(", ").push_bind(i64::from(s.period.year)).push(", ");
    q.push_bind(i64::from(s.period.month)).push(", ").push_bind(i64::from(s.period.half)).push(", '', ");
    q.push_bind(s.job_status).push(", ").push_bind(s.status).push(", ").push_bind(s.remarks).push(", ");
    q.push_bind(s.review_remarks).push(", ").push_bind(s.created_at).push(", ").push_bind(s.created_at);
    q.push(") RETURNING id");
    q.query_scalar()?.fetch_one(&mut *conn).await
}

pub(crate) struct NewPhoto<'a> {
    pub id: Option<i64>,
    pub submission_id: i64,
    pub section: i64,
    pub order_index: i64,
    pub object_id: i64,
    pub content_type: &'a str,
    pub width: i64,
    pub height: i64,
}

/// Inserts a photo unless its slot is taken; its id, or `None` for a taken slot.
pub(crate) async fn insert_photo(conn: &mut AnyConnection, p: &NewPhoto<'_>) -> sqlx::Result<Option<i64>> {
    let mut q = insert(
        Table::Photos,
        "submission_id, section, order_index, object_id, content_type, width, height",
        p.id,
    );
    q.push_bind(p.submission_id)
        .push(", ")
        .push_bind(p.section)
        .push(", ")
        .push_bind(p.order_index)
        .push(", ");
    q.push_bind(p.object_id).push(", ").push_bind(p.content_type).push(", ").push_bind(p.width).push(", ");
    q.push_bind(p.height).push(") ON CONFLICT (submission_id, section, order_index) DO NOTHING RETURNING id");
    q.query_scalar()?.fetch_optional(&mut *conn).await
}

/// Links an imported PDF to its submission unless it has one.
pub(crate) async fn set_pdf(conn: &mut AnyConnection, submission: i64, object: i64) -> sqlx::Result<bool> {
    let done =
        sqlx::query("UPDATE submissions SET pdf_object_id = $1 WHERE id = $2 AND pdf_object_id IS NULL")
            .bind(object)
            .bind(submission)
            .execute(&mut *conn)
            .await?;
    Ok(done.rows_affected() > 0)
}

/// One line of the loss report as kept here.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, sqlx::FromRow)]
pub struct Finding {
    pub kind: String,
    /// What in the original it is about: `photo:4`, `submission:12`, `file:pdfs/4/…`.
    pub source_ref: String,
    pub submission_id: Option<i64>,
    pub section: Option<i64>,
    pub order_index: Option<i64>,
    pub path: Option<String>,
    pub detail: String,
}

/// Makes the kept report the one this run found: new findings added, those no longer seen
/// (a lost file put back and imported) removed, in one transaction.
pub(crate) async fn replace_findings(db: &Db, findings: &[Finding]) -> sqlx::Result<()> {
    let mut tx = db.begin_write().await?;
    let kept: Vec<(String, String)> =
        sqlx::query_as("SELECT kind, source_ref FROM import_findings").fetch_all(&mut *tx).await?;
    let now: std::collections::HashSet<(&str, &str)> =
        findings.iter().map(|f| (f.kind.as_str(), f.source_ref.as_str())).collect();
    for (kind, source_ref) in &kept {
        if !now.contains(&(kind.as_str(), source_ref.as_str())) {
            sqlx::query("DELETE FROM import_findings WHERE kind = $1 AND source_ref = $2")
                .bind(kind)
                .bind(source_ref)
                .execute(&mut *tx)
                .await?;
        }
    }
    for f in findings {
        sqlx::query(
            "INSERT INTO import_findings (kind, source_ref, submission_id, section, order_index, path, detail, found_at)
             VALUES ($1, $2, (SELECT id FROM submissions WHERE id = $3), $4, $5, $6, $7, $8)
             ON CONFLICT (kind, source_ref) DO UPDATE SET submission_id = excluded.submission_id,
                 section = excluded.section, order_index = excluded.order_index, path = excluded.path,
                 detail = excluded.detail",
        )
        .bind(&f.kind)
        .bind(&f.source_ref)
        .bind(f.submission_id)
        .bind(f.section)
        .bind(f.order_index)
        .bind(&f.path)
        .bind(&f.detail)
        .bind(Db::now())
        .execute(&mut *tx)
        .await?;
    }
    tx.commit().await
}

const FINDINGS: &str =
    "SELECT kind, source_ref, submission_id, section, order_index, path, detail FROM import_findings";

/// The whole kept report, in a stable order.
pub async fn findings(db: &Db) -> sqlx::Result<Vec<Finding>> {
    let sql = sqlx::AssertSqlSafe(format!(
        "{FINDINGS} ORDER BY kind, submission_id, section, order_index, source_ref"
    ));
    sqlx::query_as(sql).fetch_all(db.pool()).await
}

/// The findings about these submissions, by submission.
pub(crate) async fn findings_of(db: &Db, ids: &[i64]) -> sqlx::Result<HashMap<i64, Vec<Finding>>> {
    let mut out: HashMap<i64, Vec<Finding>> = HashMap::new();
    if ids.is_empty() {
        return Ok(out);
    }
    let mut q = Sql::new(FINDINGS);
    q.push(" WHERE submission_id IN (")
        .push_binds(ids.iter().copied())
        .push(") ORDER BY section, order_index");
    let rows: Vec<Finding> = q.query_as()?.fetch_all(db.pool()).await?;
    for f in rows {
        if let Some(id) = f.submission_id {
            out.entry(id).or_default().push(f);
        }
    }
    Ok(out)
}

/// How many findings of each kind are kept.
pub async fn finding_counts(db: &Db) -> sqlx::Result<Vec<(String, i64)>> {
    sqlx::query_as("SELECT kind, COUNT(*) FROM import_findings GROUP BY kind ORDER BY kind")
        .fetch_all(db.pool())
        .await
}
