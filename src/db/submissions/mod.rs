//! `submissions` and `photos`: visit reports and the stored photos they point at. Their
//! reviews, the status changes a supervisor makes, are in `review`.

mod review;

pub use review::{Current, Reviewed, approve, reject, status, status_counts};

use std::collections::HashMap;

use sqlx::AnyConnection;

use super::Db;
use super::objects::ObjectRef;
use super::sql::Sql;
use crate::domain::{Period, SubmissionStatus};
use crate::storage::MediaKey;

/// A submission joined with its technician, device and PDF: everything its JSON needs.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Record {
    pub id: i64,
    pub technician_id: i64,
    pub technician_name: String,
    pub technician_city: Option<String>,
    pub device_id: i64,
    pub interaction_id: String,
    pub gfm_cost_center: String,
    pub device_city: String,
    pub device_type: String,
    pub gfm_problem_type: String,
    pub submission_type: String,
    pub visit_date: String,
    pub half_month: i64,
    pub job_description: String,
    pub job_status: String,
    pub status: SubmissionStatus,
    pub remarks: Option<String>,
    pub review_remarks: Option<String>,
    pub reviewed_by: Option<String>,
    pub reviewed_at: Option<String>,
    pub pdf_key: Option<MediaKey>,
    pub created_at: String,
    /// Findings about its photos not yet marked checked.
    pub open_findings: i64,
}

impl Record {
    /// The remarks people are shown: the reviewer's once a review has words, else the
    /// technician's (the original kept one column that the last writer won).
    pub fn shown_remarks(&self) -> Option<&str> {
        match (&self.review_remarks, self.status) {
            (Some(rr), SubmissionStatus::Approved | SubmissionStatus::Rejected) if !rr.trim().is_empty() => {
                Some(rr.as_str())
            }
            _ => self.remarks.as_deref(),
        }
    }
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct PhotoRecord {
    pub id: i64,
    pub object_id: i64,
    pub section: i64,
    pub order_index: i64,
    #[sqlx(rename = "object_key")]
    pub key: MediaKey,
    #[sqlx(rename = "size_bytes")]
    pub size: i64,
    pub sha256: String,
    pub content_type: String,
    pub width: i64,
    pub height: i64,
}

/// The columns of a `Record`; the joined tables' columns are aliased to its field names.
const SELECT: &str = "SELECT s.id, s.technician_id, t.username AS technician_name, t.city AS technician_city,
        s.device_id, d.interaction_id, d.gfm_cost_center, d.city AS device_city, d.type AS device_type,
        d.gfm_problem_type, s.type AS submission_type, s.visit_date, s.half_month, s.job_description,
        s.job_status, s.status, s.remarks, s.review_remarks, r.username AS reviewed_by, s.reviewed_at,
        o.object_key AS pdf_key, s.created_at, s.open_findings
     FROM submissions s
     JOIN users t ON t.id = s.technician_id
     JOIN devices d ON d.id = s.device_id
     LEFT JOIN users r ON r.id = s.reviewed_by_id
     LEFT JOIN stored_object o ON o.id = s.pdf_object_id";

pub async fn get(db: &Db, id: i64) -> sqlx::Result<Option<Record>> {
    let sql = sqlx::AssertSqlSafe(format!("{SELECT} WHERE s.id = $1"));
    sqlx::query_as(sql).bind(id).fetch_optional(db.pool()).await
}

#[derive(Debug, Default, Clone)]
pub struct Filters {
    pub status: Option<SubmissionStatus>,
    pub city: Option<String>,
    pub technician_id: Option<i64>,
    pub device_type: Option<String>,
    pub date_from: Option<String>,
    pub date_to: Option<String>,
    /// Only reports with (true) or without (false) findings not yet checked.
    pub flagged: Option<bool>,
    /// (limit, offset) when paging was asked for.
    pub page: Option<(i64, i64)>,
}

impl Filters {
    /// Whether a filter reads a device column (so the count needs the devices join).
    fn reads_device(&self) -> bool {
        self.city.is_some() || self.device_type.is_some()
    }

    /// Appends ` WHERE …` with every filter that is set, each value bound; whether it wrote any.
    fn push_where(&self, q: &mut Sql) -> bool {
        let mut first = true;
        let mut cond = |q: &mut Sql, sql: &str| {
            q.push(if first { " WHERE " } else { " AND " }).push(sql);
            first = false;
        };
        if let Some(v) = self.status {
            cond(q, "s.status = ");
            q.push_bind(v.as_str());
        }
        if let Some(v) = &self.city {
            cond(q, "d.city = ");
            q.push_bind(v.as_str());
        }
        if let Some(v) = self.technician_id {
            cond(q, "s.technician_id = ");
            q.push_bind(v);
        }
        if let Some(v) = &self.device_type {
            cond(q, "d.type = ");
            q.push_bind(v.as_str());
        }
        if let Some(v) = &self.date_from {
            cond(q, "s.visit_date >= ");
            q.push_bind(v.as_str());
        }
        if let Some(v) = &self.date_to {
            cond(q, "s.visit_date <= ");
            q.push_bind(v.as_str());
        }
        if let Some(v) = self.flagged {
            cond(q, if v { "s.open_findings > 0" } else { "s.open_findings = 0" });
        }
        !first
    }
}

/// How many reports the filters match that have findings not yet checked.
pub async fn count_flagged(db: &Db, f: &Filters) -> sqlx::Result<i64> {
    let flagged = Filters { flagged: Some(true), page: None, ..f.clone() };
    let mut count = Sql::new(if f.reads_device() {
        "SELECT COUNT(*) FROM submissions s JOIN devices d ON d.id = s.device_id"
    } else {
        "SELECT COUNT(*) FROM submissions s"
    });
    flagged.push_where(&mut count);
    count.query_scalar()?.fetch_one(db.pool()).await
}

/// Newest first; returns the page and the total matching count.
pub async fn list(db: &Db, f: &Filters) -> sqlx::Result<(Vec<Record>, i64)> {
    // The devices join is needed only when a filter reads a device column.
    let mut count = Sql::new(if f.reads_device() {
        "SELECT COUNT(*) FROM submissions s JOIN devices d ON d.id = s.device_id"
    } else {
        "SELECT COUNT(*) FROM submissions s"
    });
    f.push_where(&mut count);
    let total: i64 = count.query_scalar()?.fetch_one(db.pool()).await?;
    let mut rows = Sql::new(SELECT);
    f.push_where(&mut rows);
    rows.push(" ORDER BY s.created_at DESC, s.id DESC");
    if let Some((limit, offset)) = f.page {
        rows.push(" LIMIT ").push_bind(limit).push(" OFFSET ").push_bind(offset);
    }
    Ok((rows.query_as()?.fetch_all(db.pool()).await?, total))
}

/// Where a walk over the whole filtered list stopped: the last row's (created_at, id).
pub type Cursor = (String, i64);

/// Up to `limit` rows of the filtered list after `after`, newest first (the list's order),
/// read by key rather than by offset: exports walk 100,000 rows a batch at a time.
pub async fn batch_after(
    db: &Db,
    f: &Filters,
    after: Option<&Cursor>,
    limit: i64,
) -> sqlx::Result<Vec<Record>> {
    let mut q = Sql::new(SELECT);
    let filtered = f.push_where(&mut q);
    if let Some((created, id)) = after {
        q.push(if filtered { " AND " } else { " WHERE " });
        // A row-value comparison, which both engines answer from the (created_at, id) index; the
        // spelled-out OR made SQLite sort the whole table for every batch (20 s for 100,000 rows).
        q.push("(s.created_at, s.id) < (").push_bind(created.as_str()).push(", ").push_bind(*id).push(")");
    }
    q.push(" ORDER BY s.created_at DESC, s.id DESC LIMIT ").push_bind(limit);
    q.query_as()?.fetch_all(db.pool()).await
}

/// A photo with the submission it belongs to, as `photos_of` reads them.
#[derive(sqlx::FromRow)]
struct PhotoOf {
    submission_id: i64,
    #[sqlx(flatten)]
    photo: PhotoRecord,
}

/// Photos of many submissions in one query, ordered by section and slot.
pub async fn photos_of(db: &Db, ids: &[i64]) -> sqlx::Result<HashMap<i64, Vec<PhotoRecord>>> {
    let mut out: HashMap<i64, Vec<PhotoRecord>> = HashMap::new();
    for chunk in ids.chunks(500) {
        let mut q = Sql::new(
            "SELECT p.submission_id, p.id, p.object_id, p.section, p.order_index, o.object_key, o.size_bytes, o.sha256,
                    p.content_type, p.width, p.height
             FROM photos p JOIN stored_object o ON o.id = p.object_id
             WHERE p.submission_id IN (",
        );
        q.push_binds(chunk.iter().copied()).push(") ORDER BY p.submission_id, p.section, p.order_index");
        for r in q.query_as::<PhotoOf>()?.fetch_all(db.pool()).await? {
            out.entry(r.submission_id).or_default().push(r.photo);
        }
    }
    Ok(out)
}

/// One of a technician's submissions for a device in a period.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct InPeriod {
    pub id: i64,
    pub status: SubmissionStatus,
    pub visit_date: String,
}

/// A technician's submissions for a device in one period, newest first.
pub async fn in_period(
    db: &Db,
    technician_id: i64,
    device_id: i64,
    p: Period,
) -> sqlx::Result<Vec<InPeriod>> {
    sqlx::query_as(
        "SELECT id, status, visit_date FROM submissions
         WHERE technician_id = $1 AND device_id = $2 AND period_year = $3 AND period_month = $4 AND half_month = $5
         ORDER BY created_at DESC, id DESC",
    )
    .bind(technician_id)
    .bind(device_id)
    .bind(i64::from(p.year))
    .bind(i64::from(p.month))
    .bind(i64::from(p.half))
    .fetch_all(db.pool())
    .await
}

/// The latest submission per device for a technician: device id → (status, remarks shown, visit date).
pub async fn latest_per_device(db: &Db, technician_id: i64) -> sqlx::Result<HashMap<i64, Latest>> {
    let rows: Vec<LatestRow> = sqlx::query_as(
        "SELECT device_id, status, review_remarks, visit_date, period_year, period_month, half_month
         FROM submissions WHERE technician_id = $1 ORDER BY created_at DESC, id DESC",
    )
    .bind(technician_id)
    .fetch_all(db.pool())
    .await?;
    let mut out = HashMap::new();
    for r in rows {
        out.entry(r.device_id).or_insert_with(|| Latest {
            status: r.status,
            review_remarks: r.review_remarks,
            visit_date: r.visit_date,
            period: Period {
                year: r.period_year as i32,
                month: r.period_month as u32,
                half: r.half_month as u8,
            },
        });
    }
    Ok(out)
}

/// A `Latest` as stored: the period's three columns become one `Period` (a domain type).
#[derive(sqlx::FromRow)]
struct LatestRow {
    device_id: i64,
    status: SubmissionStatus,
    review_remarks: Option<String>,
    visit_date: String,
    period_year: i64,
    period_month: i64,
    half_month: i64,
}

#[derive(Debug, Clone)]
pub struct Latest {
    pub status: SubmissionStatus,
    pub review_remarks: Option<String>,
    pub visit_date: String,
    pub period: Period,
}

pub struct NewSubmission<'a> {
    pub technician_id: i64,
    pub device_id: i64,
    pub submission_type: &'a str,
    pub visit_date: &'a str,
    pub period: Period,
    pub job_description: &'a str,
    pub job_status: &'a str,
    pub remarks: Option<&'a str>,
}

pub async fn insert(conn: &mut AnyConnection, s: &NewSubmission<'_>) -> sqlx::Result<i64> {
    let now = Db::now();
    sqlx::query_scalar(
        "INSERT INTO submissions (technician_id, device_id, type, visit_date, period_year, period_month, half_month,
             job_description, job_status, status, remarks, created_at, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $12) RETURNING id",
    )
    .bind(s.technician_id)
    .bind(s.device_id)
    .bind(s.submission_type)
    .bind(s.visit_date)
    .bind(i64::from(s.period.year))
    .bind(i64::from(s.period.month))
    .bind(i64::from(s.period.half))
    .bind(s.job_description)
    .bind(s.job_status)
    .bind(SubmissionStatus::Pending.as_str())
    .bind(s.remarks)
    .bind(now)
    .fetch_one(&mut *conn)
    .await
}

/// Reopens a rejected submission for its resubmission, if it is still Rejected: the state check
/// and the change are one conditional UPDATE, so of two overlapping resubmissions exactly one
/// reopens it (the other gets `None` and must refuse, removing only its own files). Returns the
/// stored objects the reopened report no longer refers to — its photos and an earlier PDF — whose
/// rows go with this transaction and whose files go after the commit. Queued report jobs of the
/// earlier state are cancelled in the same transaction.
pub async fn reopen(
    conn: &mut AnyConnection,
    id: i64,
    s: &NewSubmission<'_>,
) -> sqlx::Result<Option<Vec<ObjectRef>>> {
    let now = Db::now();
    let reopened = sqlx::query(
        "UPDATE submissions SET status = $1, job_description = $2, job_status = $3, remarks = $4,
             updated_at = $5 WHERE id = $6 AND status = $7",
    )
    .bind(SubmissionStatus::Pending.as_str())
    .bind(s.job_description)
    .bind(s.job_status)
    .bind(s.remarks)
    .bind(&now)
    .bind(id)
    .bind(SubmissionStatus::Rejected.as_str())
    .execute(&mut *conn)
    .await?;
    if reopened.rows_affected() == 0 {
        return Ok(None);
    }
    // The row is ours now (write lock on SQLite, row lock on PostgreSQL).
    let old_pdf: Option<i64> = sqlx::query_scalar("SELECT pdf_object_id FROM submissions WHERE id = $1")
        .bind(id)
        .fetch_one(&mut *conn)
        .await?;
    sqlx::query("UPDATE submissions SET pdf_object_id = NULL WHERE id = $1")
        .bind(id)
        .execute(&mut *conn)
        .await?;
    let mut old: Vec<ObjectRef> = sqlx::query_as(
        "SELECT o.id, o.object_key FROM photos p JOIN stored_object o ON o.id = p.object_id WHERE p.submission_id = $1",
    )
    .bind(id)
    .fetch_all(&mut *conn)
    .await?;
    sqlx::query("DELETE FROM photos WHERE submission_id = $1").bind(id).execute(&mut *conn).await?;
    sqlx::query(
        "UPDATE report_jobs SET state = 'cancelled', locked_by = NULL, locked_until = NULL, updated_at = $1
         WHERE submission_id = $2 AND state = 'pending'",
    )
    .bind(&now)
    .bind(id)
    .execute(&mut *conn)
    .await?;
    if let Some(pdf) = old_pdf {
        // The job rows keep their history; only the link to the object they made goes.
        sqlx::query("UPDATE report_jobs SET pdf_object_id = NULL WHERE pdf_object_id = $1")
            .bind(pdf)
            .execute(&mut *conn)
            .await?;
        let row = sqlx::query_as("SELECT id, object_key FROM stored_object WHERE id = $1")
            .bind(pdf)
            .fetch_optional(&mut *conn)
            .await?;
        old.extend(row);
    }
    Ok(Some(old))
}

pub struct NewPhoto<'a> {
    pub submission_id: i64,
    pub section: i64,
    pub order_index: i64,
    pub object_id: i64,
    pub content_type: &'a str,
    pub width: i64,
    pub height: i64,
}

/// Records a photo of a submission; returns its id.
pub async fn insert_photo(conn: &mut AnyConnection, p: &NewPhoto<'_>) -> sqlx::Result<i64> {
    sqlx::query_scalar(
        "INSERT INTO photos (submission_id, section, order_index, object_id, content_type, width, height)
         VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id",
    )
    .bind(p.submission_id)
    .bind(p.section)
    .bind(p.order_index)
    .bind(p.object_id)
    .bind(p.content_type)
    .bind(p.width)
    .bind(p.height)
    .fetch_one(&mut *conn)
    .await
}
