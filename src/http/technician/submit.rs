//! `POST /api/technician/submit`: a visit report with 8 or 19 photos, atomic and streamed.
//! Each photo part streams straight into the store (never a whole request in memory) while its
//! first and last bytes are kept for content validation. Only when every field and photo
//! checks out are the rows written, in one transaction; on any failure every file this request
//! stored is deleted again, so nothing half-made remains.

use std::collections::HashMap;

use axum::Json;
use axum::extract::{Multipart, State};
use axum::http::StatusCode;
use serde_json::{Value, json};

use super::visit::{self, PhotoObject, PhotoRow};
use crate::app::AppState;
use crate::db::submissions;
use crate::domain::photo::PhotoInfo;
use crate::domain::photo_plan::parse_field;
use crate::domain::{Period, PhotoPlan, Role};
use crate::error::ApiError;
use crate::http::extract::{AuthUser, BaseUrl, DeclaredLength};
use crate::http::submission_json::{self, Links};
use crate::storage::{MediaKey, StoredObject};

/// 19 photos of 10 MiB plus the form fields.
pub const MAX_REQUEST_BYTES: usize = 19 * 10 * 1024 * 1024 + 4 * 1024 * 1024;
const MAX_TEXT_FIELD: usize = 16 * 1024;

struct Received {
    section: u8,
    order: u8,
    stored: StoredObject,
    info: PhotoInfo,
}

/// What the request carried, with every file already stored.
#[derive(Default)]
struct Upload {
    text: HashMap<String, String>,
    photos: HashMap<String, Received>,
    /// Every photo part that arrived, stored or not (a refused photo is not a missing one).
    attempted: std::collections::HashSet<String>,
    photo_error: Option<String>,
}

impl Upload {
    fn keys(&self) -> Vec<MediaKey> {
        self.photos.values().map(|p| p.stored.key.clone()).collect()
    }
}

pub async fn submit(
    State(state): State<AppState>,
    user: AuthUser,
    BaseUrl(base): BaseUrl,
    declared: DeclaredLength,
    mp: Multipart,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    user.require(&[Role::Technician])?;
    let mut mp = mp;
    // Too large is the client's to fix, whatever the free space: 413 before any disk check.
    let too_large = declared.0.filter(|n| *n > MAX_REQUEST_BYTES as u64).map(|n| {
        ApiError::PayloadTooLarge(format!(
            "The report is {:.1} MB; at most {:.1} MB (19 photos of 10 MB and the form) is accepted. \
             Nothing was stored.",
            n as f64 / 1048576.0,
            MAX_REQUEST_BYTES as f64 / 1048576.0
        ))
    });
    let room =
        || state.store.check_room(declared.0, state.settings.disk_refuse_percent).map_err(ApiError::from);
    if let Some(e) = too_large.map_or_else(|| room().err(), Some) {
        // Answer now without storing anything; the rest of the body is read and dropped in the
        // background so a client still sending gets to read the answer instead of a reset.
        tokio::spawn(async move { drain_multipart(&mut mp).await });
        return Err(e);
    }
    let mut upload = Upload::default();
    let read = receive(&state, &mut mp, &mut upload).await;
    if read.is_err() {
        drain_multipart(&mut mp).await;
    }
    let result = match read {
        Ok(()) => record(&state, &user, &mut upload).await,
        Err(e) => Err(e),
    };
    match result {
        Ok(id) => {
            let links = Links { base: &base, signer: &state.links };
            let rec = submissions::get(&state.db, id)
                .await?
                .ok_or_else(|| anyhow::anyhow!("submission {id} vanished"))?;
            let json = submission_json::render_one(&state.db, &rec, &links).await?;
            tracing::info!(submission = id, technician = user.username, "visit report stored");
            Ok((
                StatusCode::CREATED,
                Json(json!({
                    "status": "success",
                    "message": "Maintenance submission created successfully",
                    "submission": json,
                })),
            ))
        }
        Err(e) => {
            metrics::counter!("atm_reports_refused_total", "reason" => refusal_reason(&e)).increment(1);
            let removed = state.store.delete_all(&upload.keys()).await;
            if removed > 0 {
                tracing::info!(removed, "visit report refused: its stored photos were removed");
            }
            Err(e)
        }
    }
}

/// Reads every part; photos go to the store as they arrive.
/// Skips the parts a refused request still sends (bounded in time), so the client reads our answer.
async fn drain_multipart(mp: &mut Multipart) {
    let _ = tokio::time::timeout(std::time::Duration::from_secs(30), async {
        while let Ok(Some(mut field)) = mp.next_field().await {
            while let Ok(Some(_)) = field.chunk().await {}
        }
    })
    .await;
}

async fn receive(state: &AppState, mp: &mut Multipart, upload: &mut Upload) -> Result<(), ApiError> {
    let cut = |_| visit::interrupted();
    while let Some(mut field) = mp.next_field().await.map_err(unreadable)? {
        let name = field.name().unwrap_or("").to_string();
        if parse_field(&name).is_none() {
            let mut value = Vec::new();
            while let Some(chunk) = field.chunk().await.map_err(cut)? {
                if value.len() + chunk.len() > MAX_TEXT_FIELD {
                    return Err(ApiError::field(field_key(&name), "This field is too long."));
                }
                value.extend_from_slice(&chunk);
            }
            if !name.is_empty() {
                upload.text.insert(name, String::from_utf8_lossy(&value).into_owned());
            }
            continue;
        }
        let (section, order) = parse_field(&name).unwrap_or_default();
        let first_time = upload.attempted.insert(name.clone());
        if !first_time && upload.photo_error.is_none() {
            upload.photo_error = Some(format!("Duplicate photo for {name}: send each photo once"));
        }
        if upload.photo_error.is_some() {
            while field.chunk().await.map_err(cut)?.is_some() {}
            continue;
        }
        match visit::store_photo(state, field).await {
            Ok(Ok((stored, info))) => {
                upload.photos.insert(name, Received { section, order, stored, info });
            }
            Ok(Err(message)) => upload.photo_error = Some(message),
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

fn refusal_reason(e: &ApiError) -> &'static str {
    match e {
        ApiError::BadRequest(_) => "invalid",
        ApiError::InsufficientStorage(_) => "no_space",
        ApiError::PayloadTooLarge(_) => "too_large",
        ApiError::Forbidden | ApiError::Unauthenticated | ApiError::AuthFailed(_) => "not_allowed",
        _ => "server_error",
    }
}

fn unreadable(e: axum::extract::multipart::MultipartError) -> ApiError {
    ApiError::message(format!(
        "The upload could not be read ({}); nothing was stored. Please send it again.",
        e.body_text()
    ))
}

fn field_key(name: &str) -> &'static str {
    match name {
        "remarks" => "remarks",
        "job_description" => "job_description",
        _ => "non_field_errors",
    }
}

/// Validates the fields and the period rules, then writes every row in one transaction.
async fn record(state: &AppState, user: &AuthUser, upload: &mut Upload) -> Result<i64, ApiError> {
    let f = visit::fields(state, &upload.text).await?;
    let reuse = visit::check_visit(state, user, f.device.id, f.visit_date).await?;
    let plan = PhotoPlan::for_device(&f.device.device_type, &f.device.gfm_problem_type);
    let missing: Vec<&str> =
        plan.slots().filter(|s| !upload.attempted.contains(&s.field)).map(|s| s.field.as_str()).collect();
    if !missing.is_empty() {
        return Err(ApiError::message(format!("Missing required photos: {}", missing.join(", "))));
    }
    if let Some(e) = &upload.photo_error {
        return Err(ApiError::message(e.clone()));
    }
    // Parts outside the plan are not part of the report: drop them now.
    let extra: Vec<String> = upload.photos.keys().filter(|k| plan.slot(k).is_none()).cloned().collect();
    let extra_keys: Vec<MediaKey> =
        extra.iter().filter_map(|k| upload.photos.remove(k)).map(|r| r.stored.key).collect();
    state.store.delete_all(&extra_keys).await;

    let visit = f.visit_date.to_string();
    let new = submissions::NewSubmission {
        technician_id: user.id,
        device_id: f.device.id,
        submission_type: &f.device.device_type,
        visit_date: &visit,
        period: Period::of(f.visit_date),
        job_description: &f.job_description,
        job_status: &f.job_status,
        remarks: f.remarks.as_deref(),
    };
    let rows: Vec<PhotoRow> = upload
        .photos
        .values()
        .map(|p| PhotoRow {
            section: p.section,
            order: p.order,
            object: PhotoObject::New(&p.stored),
            info: p.info,
        })
        .collect();
    let (id, _) = visit::write_rows(state, reuse, &new, &rows, None).await?;
    Ok(id)
}
