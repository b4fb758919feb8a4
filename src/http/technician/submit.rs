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

use crate::db::submissions;
use crate::domain::evidence::Position;
use crate::domain::photo_plan::parse_field;
use crate::error::ApiError;
use crate::filing::{self, FilingError, NewReport, Photo, PhotoObject, ReportPhoto, StoredPhoto};
use crate::http::extract::{BaseUrl, DeclaredLength, Technician};
use crate::http::openapi::shapes;
use crate::http::submission_json::{self, Links};
use crate::state::AppState;
use crate::storage::MediaKey;

/// 19 photos of 10 MiB plus the form fields.
pub(super) const MAX_REQUEST_BYTES: usize = 19 * 10 * 1024 * 1024 + 4 * 1024 * 1024;
const MAX_TEXT_FIELD: usize = 16 * 1024;

/// What the request carried, with every file already stored.
#[derive(Default)]
struct Upload {
    text: HashMap<String, String>,
    photos: HashMap<String, StoredPhoto>,
    /// Every photo part that arrived, stored or not (a refused photo is not a missing one).
    attempted: std::collections::HashSet<String>,
    photo_error: Option<String>,
}

impl Upload {
    fn keys(&self) -> Vec<MediaKey> {
        self.photos.values().map(|p| p.object.key.clone()).collect()
    }
}

/// Files a visit report in one request: its fields and every photo of the device's plan.
/// Each photo is stored and checked as it arrives; the report is recorded in one transaction.
#[utoipa::path(
    post,
    path = "/api/technician/submit",
    tag = "technician",
    security(("bearer" = []), ("session" = [])),
    request_body(content((shapes::SubmitForm = "multipart/form-data"))),
    responses(
        (status = 201, description = "Filed.", body = shapes::OneSubmission),
        (status = 400, description = "A field is invalid, a photo is missing, duplicated or not an accepted image, or a report for this period exists; nothing was stored.", body = shapes::ErrorBody),
        (status = 401, description = "Not signed in, or the token is invalid or revoked.", body = shapes::ErrorBody),
        (status = 403, description = "The caller's role may not do this (or a page change came without its CSRF token).", body = shapes::ErrorBody),
        (status = 409, description = "The device or account was removed meanwhile; nothing was stored.", body = shapes::ErrorBody),
        (status = 413, description = "Larger than 19 photos of 10 MB and the form; nothing was stored.", body = shapes::ErrorBody),
        (status = 507, description = "The media storage is full; nothing was stored.", body = shapes::ErrorBody),
    )
)]
pub(super) async fn submit(
    State(state): State<AppState>,
    user: Technician,
    BaseUrl(base): BaseUrl,
    declared: DeclaredLength,
    mp: Multipart,
) -> Result<(StatusCode, Json<Value>), ApiError> {
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
    let keys = upload.keys();
    let filed = state.store.keep_if_recorded(&keys, async {
        read?;
        Ok::<_, ApiError>(record(&state, &user, &upload).await?)
    });
    let id = filed.await.inspect_err(|e| {
        metrics::counter!("atm_reports_refused_total", "reason" => refusal_reason(e)).increment(1);
    })?;
    state.dashboards.changed();
    let links = Links { base: &base, signer: &state.links };
    let rec =
        submissions::get(&state.db, id).await?.ok_or_else(|| anyhow::anyhow!("submission {id} vanished"))?;
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

/// Skips the parts a refused request still sends (bounded in time), so the client reads our answer.
async fn drain_multipart(mp: &mut Multipart) {
    let _ = tokio::time::timeout(std::time::Duration::from_secs(30), async {
        while let Ok(Some(mut field)) = mp.next_field().await {
            while let Ok(Some(_)) = field.chunk().await {}
        }
    })
    .await;
}

/// Reads every part; photos go to the store as they arrive.
async fn receive(state: &AppState, mp: &mut Multipart, upload: &mut Upload) -> Result<(), ApiError> {
    let cut = |_| ApiError::from(FilingError::Interrupted);
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
        let first_time = upload.attempted.insert(name.clone());
        if !first_time && upload.photo_error.is_none() {
            upload.photo_error = Some(format!("Duplicate photo for {name}: send each photo once"));
        }
        if upload.photo_error.is_some() {
            while field.chunk().await.map_err(cut)?.is_some() {}
            continue;
        }
        match filing::store_photo(&state.store, &state.gates.decoding, field).await? {
            Photo::Stored(photo) => {
                upload.photos.insert(name, photo);
            }
            Photo::Refused(message) => upload.photo_error = Some(message),
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

/// Validates the fields, then files the report with every photo this request stored.
async fn record(state: &AppState, user: &Technician, upload: &Upload) -> Result<i64, FilingError> {
    let fields = filing::validate(&state.db, &upload.text).await?;
    let mut browser = HashMap::new();
    for field in upload.photos.keys() {
        if let Some(v) = upload.text.get(&format!("{field}_position")) {
            browser.insert(field.as_str(), Position::parse_reported(v).map_err(FilingError::Rule)?);
        }
    }
    let report = NewReport {
        technician_id: user.id,
        fields,
        arrived: upload.attempted.iter().map(String::as_str).collect(),
        refused: upload.photo_error.clone(),
        photos: upload
            .photos
            .iter()
            .map(|(field, p)| ReportPhoto {
                field,
                object: PhotoObject::New(&p.object),
                info: p.info,
                facts: Some(&p.facts),
                browser: browser.get(field.as_str()).copied(),
            })
            .collect(),
        draft: None,
    };
    filing::file_report(&state.db, &state.store, &state.settings.evidence, report).await
}
