//! `POST /api/technician/submit`: a visit report with 8 or 19 photos, atomic and streamed.
//! Each photo part streams straight into the store (never a whole request in memory) while its
//! first and last bytes are kept for content validation. Only when every field and photo
//! checks out are the rows written, in one transaction; on any failure every file this request
//! stored is deleted again, so nothing half-made remains.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use axum::Json;
use axum::extract::{Multipart, State};
use axum::http::StatusCode;
use futures_util::StreamExt;
use serde_json::{Value, json};

use crate::app::AppState;
use crate::db::{devices, objects, submissions};
use crate::domain::photo::{self, HeadTail, PhotoInfo};
use crate::domain::photo_plan::parse_field;
use crate::domain::{Period, PhotoPlan, Role, period};
use crate::error::ApiError;
use crate::http::extract::{AuthUser, BaseUrl, DeclaredLength};
use crate::http::submission_json::{self, Links};
use crate::storage::{Area, MediaKey, StoreError, StoredObject};

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
    if let Err(e) = state.store.check_room(declared.0, state.settings.disk_refuse_percent) {
        // Answer now without storing anything; the rest of the body is read and dropped in the
        // background so a client still sending gets to read the answer instead of a reset.
        tokio::spawn(async move { drain_multipart(&mut mp).await });
        return Err(e.into());
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
    let cut = |_| interrupted();
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
        match store_photo(state, field).await {
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

fn interrupted() -> ApiError {
    ApiError::message(
        "The upload was interrupted before it finished; nothing was stored. Please send it again.",
    )
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

/// Streams one photo into the store. The outer error aborts the request (storage failure,
/// client gone); the inner one is a photo the user must replace.
async fn store_photo(
    state: &AppState,
    mut field: axum::extract::multipart::Field<'_>,
) -> Result<Result<(StoredObject, PhotoInfo), String>, ApiError> {
    let cut = |_| interrupted();
    let mut first = bytes::Bytes::new();
    while first.is_empty() {
        match field.chunk().await.map_err(cut)? {
            Some(c) => first = c,
            None => return Ok(Err(format!("Failed to save photo: {}", photo::PhotoError::Empty))),
        }
    }
    let Some(format) = photo::sniff(&first) else {
        while field.chunk().await.map_err(cut)?.is_some() {}
        return Ok(Err(format!("Failed to save photo: {}", photo::PhotoError::NotAnImage)));
    };
    let key = MediaKey::generate(Area::Photos, format.extension());
    let seen = Arc::new(Mutex::new(HeadTail::default()));
    let watch = seen.clone();
    let body = futures_util::stream::once(async move { Ok(first) }).chain(field).map(move |r| {
        if let Ok(b) = &r {
            watch.lock().unwrap_or_else(|p| p.into_inner()).push(b);
        }
        r
    });
    match state.store.put_stream(&key, body, photo::MAX_BYTES).await {
        Ok(stored) => {
            let checked = seen.lock().unwrap_or_else(|p| p.into_inner()).inspect();
            match checked {
                Ok(info) => Ok(Ok((stored, info))),
                Err(e) => {
                    let _ = state.store.delete(&key).await;
                    Ok(Err(format!("Failed to save photo: {e}")))
                }
            }
        }
        Err(StoreError::TooLarge { .. }) => {
            // The store stopped at the limit; the rest of this part is read and dropped
            // together with the remaining parts (the multipart reader skips it).
            let size = seen.lock().unwrap_or_else(|p| p.into_inner()).size;
            Ok(Err(format!("Failed to save photo: {}", photo::PhotoError::TooLarge(size as f64 / 1048576.0))))
        }
        Err(StoreError::Body(_)) => Err(interrupted()),
        Err(e) => Err(e.into()),
    }
}

/// Validates the fields in the original's order, then writes every row in one transaction.
async fn record(state: &AppState, user: &AuthUser, upload: &mut Upload) -> Result<i64, ApiError> {
    let mut errors = serde_json::Map::new();
    let text = |k: &str| upload.text.get(k).map(|s| s.trim().to_string());
    let device_id = match text("device_id").as_deref() {
        None | Some("") => {
            errors.insert("device_id".into(), json!(["This field is required."]));
            None
        }
        Some(raw) => match raw.parse::<i64>() {
            Ok(id) => Some(id),
            Err(_) => {
                errors.insert("device_id".into(), json!(["A valid integer is required."]));
                None
            }
        },
    };
    let visit_date = match text("visit_date").as_deref() {
        None | Some("") => {
            errors.insert("visit_date".into(), json!(["This field is required."]));
            None
        }
        Some(raw) => match period::parse_date(raw) {
            Some(d) if d > chrono::Utc::now().date_naive() + chrono::Days::new(1) => {
                errors.insert("visit_date".into(), json!(["The visit date cannot be in the future."]));
                None
            }
            Some(d) => Some(d),
            None => {
                errors.insert(
                    "visit_date".into(),
                    json!(["Date has wrong format. Use one of these formats instead: YYYY-MM-DD."]),
                );
                None
            }
        },
    };
    let job_description = text("job_description").unwrap_or_default();
    if !upload.text.contains_key("job_description") {
        errors.insert("job_description".into(), json!(["This field is required."]));
    } else if job_description.chars().count() > 200 {
        errors
            .insert("job_description".into(), json!(["Ensure this field has no more than 200 characters."]));
    }
    let job_status = text("job_status");
    match job_status.as_deref() {
        Some("Ok" | "Not Ok") => {}
        None => {
            errors.insert("job_status".into(), json!(["This field is required."]));
        }
        Some(other) => {
            errors.insert("job_status".into(), json!([format!("\"{other}\" is not a valid choice.")]));
        }
    }
    let remarks = text("remarks").filter(|r| !r.is_empty());
    if remarks.as_ref().is_some_and(|r| r.chars().count() > 500) {
        errors.insert("remarks".into(), json!(["Ensure this field has no more than 500 characters."]));
    }
    let device = match device_id {
        Some(id) => {
            let d = devices::by_id(&state.db, id).await?;
            if d.is_none() {
                errors.insert("device_id".into(), json!([format!("Device with ID {id} does not exist")]));
            }
            d
        }
        None => None,
    };
    let (Some(device), Some(visit_date), Some(job_status), true) =
        (device, visit_date, job_status, errors.is_empty())
    else {
        return Err(ApiError::BadRequest(Value::Object(errors)));
    };
    if !devices::is_assigned(&state.db, user.id, device.id).await? {
        return Err(ApiError::non_field("This device is not assigned to you"));
    }
    let p = Period::of(visit_date);
    let existing = submissions::in_period(&state.db, user.id, device.id, p).await?;
    let visit = visit_date.to_string();
    let reuse = match existing.iter().find(|(_, status, _)| status != "Rejected") {
        Some(_) => return Err(duplicate(p)),
        None => match existing.first() {
            Some((_, _, date)) if *date != visit => {
                return Err(ApiError::non_field(
                    "Your previous submission for this device was rejected. Please resubmit using the same visit date.",
                ));
            }
            Some((id, _, _)) => Some(*id),
            None => None,
        },
    };
    let plan = PhotoPlan::for_device(&device.device_type, &device.gfm_problem_type);
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

    let new = submissions::NewSubmission {
        technician_id: user.id,
        device_id: device.id,
        submission_type: &device.device_type,
        visit_date: &visit,
        period: p,
        job_description: &job_description,
        job_status: &job_status,
        remarks: remarks.as_deref(),
    };
    let (id, replaced) = write_rows(state, reuse, &new, upload)
        .await
        .map_err(|e| if crate::db::is_unique_violation(&e) { duplicate(p) } else { e.into() })?;
    let replaced: Vec<MediaKey> = replaced.iter().filter_map(|k| MediaKey::parse(k).ok()).collect();
    state.store.delete_all(&replaced).await;
    Ok(id)
}

fn duplicate(p: Period) -> ApiError {
    ApiError::non_field(format!(
        "You have already submitted for this device in half {} of {}",
        p.half,
        p.month_label()
    ))
}

async fn write_rows(
    state: &AppState,
    reuse: Option<i64>,
    new: &submissions::NewSubmission<'_>,
    upload: &Upload,
) -> sqlx::Result<(i64, Vec<String>)> {
    let mut tx = state.db.pool().begin().await?;
    let (id, replaced) = match reuse {
        Some(id) => {
            let old = submissions::reopen(&mut tx, id, new).await?;
            let ids: Vec<i64> = old.iter().map(|(id, _)| *id).collect();
            objects::delete_ids(&mut tx, &ids).await?;
            (id, old.into_iter().map(|(_, k)| k).collect())
        }
        None => (submissions::insert(&mut tx, new).await?, Vec::new()),
    };
    for p in upload.photos.values() {
        let content_type = p.info.format.content_type();
        let object_id = objects::insert(&mut tx, Area::Photos, &p.stored, Some(content_type)).await?;
        submissions::insert_photo(
            &mut tx,
            &submissions::NewPhoto {
                submission_id: id,
                section: i64::from(p.section),
                order_index: i64::from(p.order),
                object_id,
                content_type,
                width: i64::from(p.info.width),
                height: i64::from(p.info.height),
            },
        )
        .await?;
    }
    tx.commit().await?;
    Ok((id, replaced))
}
