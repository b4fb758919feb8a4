//! The Submission object of spec §3.6, with absolute signed links for photos and the PDF, plus
//! the fields the original lost (job status and description, both remarks, who reviewed).

use std::collections::HashMap;

use serde::Serialize;
use serde_json::Value;
use utoipa::ToSchema;

use crate::auth::links::LinkSigner;
use crate::db::evidence::{self, FactsRow, FindingRow};
use crate::db::jobs::JobStatus;
use crate::db::submissions::{PhotoRecord, Record};
use crate::domain::SubmissionStatus;
use crate::domain::evidence::{Kind, Position};
use crate::domain::photo_plan::{PlanKind, is_electrical};
use crate::storage::MediaKey;

use super::openapi::shapes;

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

    /// A photo's link and its two previews' links, under the one signature they share.
    fn photo(&self, key: &MediaKey) -> [String; 3] {
        let signed = self.signer.signature(key);
        [
            format!("{}{}", self.base, signed.media(key)),
            format!("{}{}", self.base, signed.preview(key, 320)),
            format!("{}{}", self.base, signed.preview(key, 1600)),
        ]
    }
}

/// The Submission object, serialized straight from the rows (no `Value` tree in between).
/// Photos and the PDF come as absolute signed links that expire.
#[derive(Serialize, ToSchema)]
#[schema(as = Submission)]
pub(crate) struct SubmissionJson<'a> {
    id: i64,
    technician: i64,
    technician_name: &'a str,
    technician_city: Option<&'a str>,
    device: i64,
    device_info: DeviceInfo<'a>,
    #[serde(rename = "type")]
    submission_type: &'a str,
    #[schema(value_type = shapes::PlanKind)]
    photo_plan: PlanKind,
    visit_date: &'a str,
    half_month: i64,
    #[schema(value_type = shapes::Status)]
    status: SubmissionStatus,
    pdf_url: Option<String>,
    remarks: Option<&'a str>,
    created_at: &'a str,
    job_status: &'a str,
    job_description: &'a str,
    technician_remarks: Option<&'a str>,
    review_remarks: Option<&'a str>,
    reviewed_by: Option<&'a str>,
    reviewed_at: Option<&'a str>,
    pdf_status: Option<String>,
    email_status: Option<String>,
    #[schema(value_type = Option<shapes::ReportJob>)]
    report: Option<JobStatus>,
    photos: Vec<PhotoJson>,
    /// What filing found about the photos, counted for the report (each finding is on its photo).
    evidence_summary: EvidenceSummary,
    /// What an import from the original found gone or damaged for this report (its photos
    /// lost before the move, a lost PDF, no photos at all); empty for reports filed here.
    lost_before_move: Vec<LostJson>,
}

#[derive(Serialize, ToSchema)]
#[schema(as = LostBeforeMove)]
struct LostJson {
    kind: String,
    section: Option<i64>,
    order_index: Option<i64>,
    path: Option<String>,
    detail: String,
}

#[derive(Serialize, ToSchema)]
struct DeviceInfo<'a> {
    interaction_id: &'a str,
    gfm_cost_center: &'a str,
    city: &'a str,
    region: &'a str,
    #[serde(rename = "type")]
    device_type: &'a str,
    gfm_problem_type: &'a str,
}

#[derive(Serialize, ToSchema)]
#[schema(as = Photo)]
struct PhotoJson {
    id: i64,
    section: i64,
    file_url: String,
    thumb_url: String,
    preview_url: String,
    order_index: i64,
    content_type: String,
    width: i64,
    height: i64,
    size: i64,
    sha256: String,
    evidence: EvidenceJson,
}

/// Per photo: when and where it was taken, by what camera, its perceptual hash, and what filing
/// found about it.
#[derive(Serialize, ToSchema, Default)]
#[schema(as = PhotoEvidence)]
pub(crate) struct EvidenceJson {
    /// EXIF `DateTimeOriginal`, ISO 8601, with its offset when the camera wrote one.
    pub captured_at: Option<String>,
    /// Where it was taken: the camera's EXIF GPS, else the phone's position sent with it.
    pub position: Option<PositionJson>,
    /// Where the phone was when the photo was picked, when the page sent it.
    pub phone_position: Option<PositionJson>,
    pub camera: Option<CameraJson>,
    /// The 64-bit perceptual hash, 16 hex digits.
    pub perceptual_hash: Option<String>,
    pub findings: Vec<FindingJson>,
}

#[derive(Serialize, ToSchema, Clone, Copy)]
#[schema(as = Position)]
pub(crate) struct PositionJson {
    pub latitude: f64,
    pub longitude: f64,
    pub accuracy_m: Option<f64>,
    pub altitude_m: Option<f64>,
    /// `exif` or `phone`.
    pub source: &'static str,
}

#[derive(Serialize, ToSchema)]
#[schema(as = Camera)]
pub(crate) struct CameraJson {
    pub make: Option<String>,
    pub model: Option<String>,
}

#[derive(Serialize, ToSchema)]
#[schema(as = Finding)]
pub(crate) struct FindingJson {
    pub id: i64,
    /// `capture_time_missing`, `capture_time_outside_visit`, `exact_reuse`, `near_duplicate`,
    /// `same_in_report`, `far_from_report` or `far_from_device`.
    pub kind: String,
    pub label: &'static str,
    pub message: String,
    /// The report of the other photo this finding is about (`exact_reuse`, `near_duplicate`,
    /// `same_in_report`).
    pub submission_id: Option<i64>,
    pub photo_id: Option<i64>,
    /// The evidence: `distance` (bits of 64), `distance_m`, `limit_m`, `captured_at`, the window…
    #[schema(value_type = Object)]
    pub detail: Value,
    pub checked: Option<CheckedJson>,
}

#[derive(Serialize, ToSchema)]
#[schema(as = FindingCheck)]
pub(crate) struct CheckedJson {
    pub by: Option<String>,
    pub at: String,
    pub note: String,
}

#[derive(Serialize, ToSchema, Default)]
pub(crate) struct EvidenceSummary {
    /// Every finding of the report.
    pub findings: usize,
    /// Findings not yet marked checked; the report is "flagged" while this is above 0.
    pub open: usize,
    /// Photos with at least one finding.
    pub flagged_photos: usize,
    /// Photos with a capture time inside the visit and no finding.
    pub clean_photos: usize,
}

fn position(p: Position, source: &'static str) -> PositionJson {
    PositionJson {
        latitude: p.latitude,
        longitude: p.longitude,
        accuracy_m: p.accuracy_m,
        altitude_m: p.altitude_m,
        source,
    }
}

pub(crate) fn finding_json(f: &FindingRow) -> FindingJson {
    FindingJson {
        id: f.id,
        kind: f.kind.clone(),
        label: Kind::parse(&f.kind).map_or("Finding", Kind::label),
        message: f.message.clone(),
        submission_id: f.other_submission_id,
        photo_id: f.other_photo_id,
        detail: serde_json::from_str(&f.detail).unwrap_or(Value::Null),
        checked: f.checked_at.as_ref().map(|at| CheckedJson {
            by: f.checked_by.clone(),
            at: at.clone(),
            note: f.check_note.clone().unwrap_or_default(),
        }),
    }
}

/// A photo's evidence from its facts row and its findings.
pub(crate) fn evidence_json(facts: Option<&FactsRow>, findings: Vec<FindingJson>) -> EvidenceJson {
    let Some(r) = facts else { return EvidenceJson { findings, ..EvidenceJson::default() } };
    let phone = r.browser_position().map(|p| position(p, "phone"));
    EvidenceJson {
        captured_at: r.captured_at.clone(),
        position: r.exif_position().map(|p| position(p, "exif")).or(phone),
        phone_position: phone,
        camera: (r.camera_make.is_some() || r.camera_model.is_some())
            .then(|| CameraJson { make: r.camera_make.clone(), model: r.camera_model.clone() }),
        perceptual_hash: r.phash.map(|h| format!("{:016x}", h as u64)),
        findings,
    }
}

/// What the evidence of a report's photos is made from.
#[derive(Default)]
pub(crate) struct EvidenceRows {
    pub facts: HashMap<i64, FactsRow>,
    pub findings: Vec<FindingRow>,
}

pub(crate) fn submission<'a>(
    r: &'a Record,
    photos: Vec<PhotoRecord>,
    job: Option<JobStatus>,
    lost: Vec<crate::db::imported::Finding>,
    evidence: EvidenceRows,
    links: &Links<'_>,
) -> SubmissionJson<'a> {
    let mut by_photo: HashMap<i64, Vec<FindingJson>> = HashMap::new();
    for f in &evidence.findings {
        by_photo.entry(f.photo_id).or_default().push(finding_json(f));
    }
    let photos: Vec<PhotoJson> = photos
        .into_iter()
        .map(|p| {
            let [file_url, thumb_url, preview_url] = links.photo(&p.key);
            let findings = by_photo.remove(&p.id).unwrap_or_default();
            let facts = evidence.facts.get(&p.object_id);
            PhotoJson {
                id: p.id,
                section: p.section,
                file_url,
                thumb_url,
                preview_url,
                order_index: p.order_index,
                content_type: p.content_type,
                width: p.width,
                height: p.height,
                size: p.size,
                sha256: p.sha256,
                evidence: evidence_json(facts, findings),
            }
        })
        .collect();
    let evidence_summary = EvidenceSummary {
        findings: evidence.findings.len(),
        open: evidence.findings.iter().filter(|f| f.checked_at.is_none()).count(),
        flagged_photos: photos.iter().filter(|p| !p.evidence.findings.is_empty()).count(),
        clean_photos: photos
            .iter()
            .filter(|p| p.evidence.findings.is_empty() && p.evidence.captured_at.is_some())
            .count(),
    };
    let remarks = r.shown_remarks();
    let kind = if is_electrical(&r.device_type, &r.gfm_problem_type) {
        PlanKind::Electrical
    } else {
        PlanKind::Cleaning
    };
    SubmissionJson {
        id: r.id,
        technician: r.technician_id,
        technician_name: &r.technician_name,
        technician_city: r.technician_city.as_deref(),
        device: r.device_id,
        device_info: DeviceInfo {
            interaction_id: &r.interaction_id,
            gfm_cost_center: &r.gfm_cost_center,
            city: &r.device_city,
            region: &r.device_city,
            device_type: &r.device_type,
            gfm_problem_type: &r.gfm_problem_type,
        },
        submission_type: &r.submission_type,
        photo_plan: kind,
        visit_date: &r.visit_date,
        half_month: r.half_month,
        status: r.status,
        pdf_url: r.pdf_key.as_ref().map(|k| links.url(k)),
        remarks,
        created_at: &r.created_at,
        job_status: &r.job_status,
        job_description: &r.job_description,
        technician_remarks: r.remarks.as_deref(),
        review_remarks: r.review_remarks.as_deref(),
        reviewed_by: r.reviewed_by.as_deref(),
        reviewed_at: r.reviewed_at.as_deref(),
        pdf_status: job.as_ref().map(|j| j.pdf_status.clone()),
        email_status: job.as_ref().map(|j| j.email_status.clone()),
        report: job,
        photos,
        evidence_summary,
        lost_before_move: lost
            .into_iter()
            .map(|f| LostJson {
                kind: f.kind,
                section: f.section,
                order_index: f.order_index,
                path: f.path,
                detail: f.detail,
            })
            .collect(),
    }
}

/// The JSON of many submissions, their photos and report jobs fetched in two queries.
pub(crate) async fn render_all<'a>(
    db: &crate::db::Db,
    rows: &'a [Record],
    links: &Links<'_>,
) -> sqlx::Result<Vec<SubmissionJson<'a>>> {
    let ids: Vec<i64> = rows.iter().map(|r| r.id).collect();
    let mut photos = crate::db::submissions::photos_of(db, &ids).await?;
    let mut jobs = crate::db::jobs::latest_for(db, &ids).await?;
    let mut lost = crate::db::imported::findings_of(db, &ids).await?;
    let mut findings = evidence::findings_of(db, &ids).await?;
    let objects: Vec<i64> = photos.values().flatten().map(|p| p.object_id).collect();
    let mut facts = evidence::facts_of(db, &objects).await?;
    Ok(rows
        .iter()
        .map(|r| {
            let (p, j, l) =
                (photos.remove(&r.id).unwrap_or_default(), jobs.remove(&r.id), lost.remove(&r.id));
            let ev = EvidenceRows {
                facts: p.iter().filter_map(|p| facts.remove_entry(&p.object_id)).collect(),
                findings: findings.remove(&r.id).unwrap_or_default(),
            };
            submission(r, p, j, l.unwrap_or_default(), ev, links)
        })
        .collect())
}

/// One submission's JSON as a value (the answers about one submission add fields beside it).
pub(crate) async fn render_one(db: &crate::db::Db, row: &Record, links: &Links<'_>) -> sqlx::Result<Value> {
    let one = render_all(db, std::slice::from_ref(row), links).await?;
    Ok(one.first().and_then(|s| serde_json::to_value(s).ok()).unwrap_or(Value::Null))
}
