//! The Submission object of spec §3.6, with absolute signed links for photos and the PDF, plus
//! the fields the original lost (job status and description, both remarks, who reviewed).

use serde_json::{Value, json};

use crate::auth::links::LinkSigner;
use crate::db::jobs::JobStatus;
use crate::db::submissions::{PhotoRecord, Record};
use crate::domain::SubmissionStatus;
use crate::storage::MediaKey;

pub(crate) struct Links<'a> {
    pub base: &'a str,
    pub signer: &'a LinkSigner,
}

impl Links<'_> {
    pub(crate) fn url(&self, key: &MediaKey) -> String {
        format!("{}{}", self.base, self.signer.sign(key))
    }

    /// A signed link to the server-made preview of a photo, `edge` px on its longest side.
    pub(crate) fn preview(&self, key: &MediaKey, edge: u32) -> String {
        format!("{}{}", self.base, self.signer.sign_preview(key, edge))
    }
}

pub(crate) fn submission(
    r: &Record,
    photos: &[PhotoRecord],
    job: Option<&JobStatus>,
    links: &Links<'_>,
) -> Value {
    // The original kept one `remarks` column that the last writer won; we keep both and show
    // the reviewer's words once there is a review with words, else the technician's.
    let remarks = match (&r.review_remarks, r.status) {
        (Some(rr), SubmissionStatus::Approved | SubmissionStatus::Rejected) if !rr.trim().is_empty() => {
            Some(rr.clone())
        }
        _ => r.remarks.clone(),
    };
    json!({
        "id": r.id,
        "technician": r.technician_id,
        "technician_name": r.technician_name,
        "technician_city": r.technician_city,
        "device": r.device_id,
        "device_info": {
            "interaction_id": r.interaction_id,
            "gfm_cost_center": r.gfm_cost_center,
            "city": r.device_city,
            "region": r.device_city,
            "type": r.device_type,
            "gfm_problem_type": r.gfm_problem_type,
        },
        "type": r.submission_type,
        "photo_plan": crate::domain::PhotoPlan::for_device(&r.device_type, &r.gfm_problem_type).kind,
        "visit_date": r.visit_date,
        "half_month": r.half_month,
        "status": r.status,
        "pdf_url": r.pdf_key.as_ref().map(|k| links.url(k)),
        "remarks": remarks,
        "created_at": r.created_at,
        "job_status": r.job_status,
        "job_description": r.job_description,
        "technician_remarks": r.remarks,
        "review_remarks": r.review_remarks,
        "reviewed_by": r.reviewed_by,
        "reviewed_at": r.reviewed_at,
        "pdf_status": job.map(|j| j.pdf_status.as_str()),
        "email_status": job.map(|j| j.email_status.as_str()),
        "report": job,
        "photos": photos.iter().map(|p| json!({
            "id": p.id,
            "section": p.section,
            "file_url": links.url(&p.key),
            "thumb_url": links.preview(&p.key, 320),
            "preview_url": links.preview(&p.key, 1600),
            "order_index": p.order_index,
            "content_type": p.content_type,
            "width": p.width,
            "height": p.height,
            "size": p.size,
            "sha256": p.sha256,
        })).collect::<Vec<_>>(),
    })
}

/// The JSON of many submissions, their photos and report jobs fetched in two queries.
pub(crate) async fn render_all(
    db: &crate::db::Db,
    rows: &[Record],
    links: &Links<'_>,
) -> sqlx::Result<Vec<Value>> {
    let ids: Vec<i64> = rows.iter().map(|r| r.id).collect();
    let mut photos = crate::db::submissions::photos_of(db, &ids).await?;
    let jobs = crate::db::jobs::latest_for(db, &ids).await?;
    Ok(rows
        .iter()
        .map(|r| submission(r, &photos.remove(&r.id).unwrap_or_default(), jobs.get(&r.id), links))
        .collect())
}

pub(crate) async fn render_one(db: &crate::db::Db, row: &Record, links: &Links<'_>) -> sqlx::Result<Value> {
    Ok(render_all(db, std::slice::from_ref(row), links).await?.pop().unwrap_or(Value::Null))
}
