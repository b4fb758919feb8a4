//! Draft visit reports, for a phone on a weak connection: open a draft for a device, send each
//! photo in a request of its own as soon as it is picked (`PUT …/photos/{slot}`, idempotent:
//! the same bytes again are harmless, other bytes replace the slot), then finalize. Every
//! acknowledged photo is durable and recorded, so a dropped connection or a reload loses only
//! the photo in flight; finalizing ends in the same atomic result as the one-shot submit.

use std::collections::HashMap;

use axum::Json;
use axum::body::Body;
use axum::extract::{Path, Request, State};
use axum::http::{HeaderMap, StatusCode};
use futures_util::StreamExt;
use serde_json::{Value, json};

use crate::db::evidence::{self, FactsRow};
use crate::db::{devices, drafts, submissions};
use crate::domain::PhotoPlan;
use crate::domain::evidence::Position;
use crate::domain::photo::{self, PhotoInfo};
use crate::error::ApiError;
use crate::filing::{self, NewReport, Photo, PhotoObject, ReportPhoto, StoredPhoto};
use crate::http::body::{fields, text};
use crate::http::extract::{BaseUrl, DeclaredLength, Technician};
use crate::http::openapi::shapes;
use crate::http::submission_json::{self, Links};
use crate::state::AppState;

fn not_found() -> ApiError {
    ApiError::NotFound(
        "Draft not found. It may have been submitted or expired; open the device again.".into(),
    )
}

/// The caller's draft with its device, or 404 (someone else's draft is not ours to reveal).
async fn owned(
    state: &AppState,
    user: &Technician,
    id: &str,
) -> Result<(drafts::Draft, devices::Device), ApiError> {
    let id: i64 = id.parse().map_err(|_| not_found())?;
    let draft =
        drafts::get(&state.db, id).await?.filter(|d| d.technician_id == user.id).ok_or_else(not_found)?;
    let device = devices::by_id(&state.db, draft.device_id).await?.ok_or_else(not_found)?;
    Ok((draft, device))
}

/// A received photo with its facts (findings come when the report is filed).
fn photo_json(p: &drafts::DraftPhoto, facts: &HashMap<i64, FactsRow>, links: &Links<'_>) -> Value {
    json!({
        "field": p.field,
        "sha256": p.sha256,
        "size": p.size,
        "width": p.width,
        "height": p.height,
        "content_type": p.content_type,
        "url": links.url(&p.key),
        "thumb_url": links.preview(&p.key, 320),
        "evidence": submission_json::evidence_json(facts.get(&p.object_id), Vec::new()),
    })
}

/// The facts of these draft photos, by object id.
async fn facts_of(
    state: &AppState,
    photos: &[&drafts::DraftPhoto],
) -> Result<HashMap<i64, FactsRow>, ApiError> {
    let ids: Vec<i64> = photos.iter().map(|p| p.object_id).collect();
    Ok(evidence::facts_of(&state.db, &ids).await?)
}

async fn draft_json(
    state: &AppState,
    d: &drafts::Draft,
    device: &devices::Device,
    links: &Links<'_>,
) -> Result<Value, ApiError> {
    let photos: HashMap<String, drafts::DraftPhoto> =
        drafts::photos(&state.db, d.id).await?.into_iter().map(|p| (p.field.clone(), p)).collect();
    let facts = facts_of(state, &photos.values().collect::<Vec<_>>()).await?;
    let plan = PhotoPlan::for_device(&device.device_type, &device.gfm_problem_type);
    let sections: Vec<Value> = plan
        .sections
        .iter()
        .map(|s| {
            json!({
                "section": s.section,
                "title": s.title,
                "slots": s.slots.iter().map(|slot| json!({
                    "field": slot.field,
                    "label": slot.label,
                    "order": slot.order,
                    "photo": photos.get(&slot.field).map(|p| photo_json(p, &facts, links)),
                })).collect::<Vec<_>>(),
            })
        })
        .collect();
    let expires = chrono::DateTime::parse_from_rfc3339(&d.updated_at)
        .ok()
        .map(|t| (t + chrono::Duration::seconds(state.settings.draft_expiry_seconds)).to_rfc3339());
    Ok(json!({
        "id": d.id,
        "device_id": d.device_id,
        "device": {
            "interaction_id": device.interaction_id,
            "gfm_cost_center": device.gfm_cost_center,
            "city": device.city,
            "type": device.device_type,
            "gfm_problem_type": device.gfm_problem_type,
        },
        "visit_date": d.visit_date,
        "created_at": d.created_at,
        "updated_at": d.updated_at,
        "expires_at": expires,
        "plan": plan.kind,
        "required": plan.len(),
        "received": plan.slots().filter(|s| photos.contains_key(&s.field)).count(),
        "sections": sections,
    }))
}

/// Opens the caller's draft for a device (or answers the open one), after the same period
/// checks a submit makes.
#[utoipa::path(
    post,
    path = "/api/technician/drafts",
    tag = "technician",
    security(("bearer" = []), ("session" = [])),
    request_body(content(
        (shapes::OpenDraft = "application/json"),
        (shapes::OpenDraft = "application/x-www-form-urlencoded"),
    )),
    responses(
        (status = 201, description = "A new draft.", body = shapes::Draft),
        (status = 200, description = "The draft already open for this device and visit date.", body = shapes::Draft),
        (status = 400, description = "`device_id` or `visit_date` is missing or invalid, or a report for this period exists (`non_field_errors`).", body = shapes::ErrorBody),
        (status = 401, description = "Not signed in, or the token is invalid or revoked.", body = shapes::ErrorBody),
        (status = 403, description = "The caller's role may not do this (or a page change came without its CSRF token).", body = shapes::ErrorBody),
    )
)]
pub(super) async fn open(
    State(state): State<AppState>,
    user: Technician,
    BaseUrl(base): BaseUrl,
    req: Request,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let body = fields(req).await?;
    let device_id = match text(&body, "device_id").map(|s| s.trim().to_string()) {
        None => return Err(ApiError::field("device_id", "This field is required.")),
        Some(raw) => {
            raw.parse::<i64>().map_err(|_| ApiError::field("device_id", "A valid integer is required."))?
        }
    };
    let raw_date = text(&body, "visit_date").map(|s| s.trim().to_string()).unwrap_or_default();
    let visit_date = if raw_date.is_empty() {
        chrono::Utc::now().date_naive()
    } else {
        filing::check_date(&raw_date).map_err(|m| ApiError::field("visit_date", m))?
    };
    let device = devices::by_id(&state.db, device_id)
        .await?
        .ok_or_else(|| ApiError::field("device_id", format!("Device with ID {device_id} does not exist")))?;
    filing::check_visit(&state.db, user.id, device.id, visit_date).await?;
    let d = drafts::open(&state.db, user.id, device.id, &visit_date.to_string()).await?;
    let links = Links { base: &base, signer: &state.links };
    let created = d.created_at == d.updated_at;
    let status = if created { StatusCode::CREATED } else { StatusCode::OK };
    Ok((status, Json(draft_json(&state, &d, &device, &links).await?)))
}

/// The caller's open drafts (device, visit date, photos received).
#[utoipa::path(
    get,
    path = "/api/technician/drafts",
    tag = "technician",
    security(("bearer" = []), ("session" = [])),
    responses(
        (status = 200, description = "The drafts.", body = shapes::DraftList),
        (status = 401, description = "Not signed in, or the token is invalid or revoked.", body = shapes::ErrorBody),
        (status = 403, description = "The caller's role may not do this (or a page change came without its CSRF token).", body = shapes::ErrorBody),
    )
)]
pub(super) async fn list(State(state): State<AppState>, user: Technician) -> Result<Json<Value>, ApiError> {
    let mut out = Vec::new();
    for d in drafts::for_technician(&state.db, user.id).await? {
        let received = drafts::photos(&state.db, d.id).await?.len();
        out.push(json!({ "id": d.id, "device_id": d.device_id, "visit_date": d.visit_date,
                         "updated_at": d.updated_at, "received": received }));
    }
    Ok(Json(json!({ "drafts": out })))
}

/// One draft with its plan and the photos received.
#[utoipa::path(
    get,
    path = "/api/technician/drafts/{id}",
    tag = "technician",
    security(("bearer" = []), ("session" = [])),
    params(("id" = i64, Path, description = "The draft's id.")),
    responses(
        (status = 200, description = "The draft.", body = shapes::Draft),
        (status = 401, description = "Not signed in, or the token is invalid or revoked.", body = shapes::ErrorBody),
        (status = 403, description = "The caller's role may not do this (or a page change came without its CSRF token).", body = shapes::ErrorBody),
        (status = 404, description = "The caller has no open draft with this id.", body = shapes::ErrorBody),
    )
)]
pub(super) async fn show(
    State(state): State<AppState>,
    user: Technician,
    BaseUrl(base): BaseUrl,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let (d, device) = owned(&state, &user, &id).await?;
    let links = Links { base: &base, signer: &state.links };
    Ok(Json(draft_json(&state, &d, &device, &links).await?))
}

/// Throws the draft and its photos away.
#[utoipa::path(
    delete,
    path = "/api/technician/drafts/{id}",
    tag = "technician",
    security(("bearer" = []), ("session" = [])),
    params(("id" = i64, Path, description = "The draft's id.")),
    responses(
        (status = 204, description = "Discarded."),
        (status = 401, description = "Not signed in, or the token is invalid or revoked.", body = shapes::ErrorBody),
        (status = 403, description = "The caller's role may not do this (or a page change came without its CSRF token).", body = shapes::ErrorBody),
        (status = 404, description = "The caller has no open draft with this id.", body = shapes::ErrorBody),
    )
)]
pub(super) async fn discard(
    State(state): State<AppState>,
    user: Technician,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    let (d, _) = owned(&state, &user, &id).await?;
    let Some(keys) = drafts::discard(&state.db, d.id).await? else {
        return Err(ApiError::NotFound("This draft was already submitted or has expired.".into()));
    };
    state.store.delete_all(&keys).await;
    Ok(StatusCode::NO_CONTENT)
}

/// Stores one photo of a draft, the image as the body (JPEG, PNG or WebP, at most 10 MB);
/// sending a slot again replaces its photo. An optional `X-Content-SHA256` (hex) is checked
/// against what arrived, so a damaged photo is never kept.
#[utoipa::path(
    put,
    path = "/api/technician/drafts/{id}/photos/{field}",
    tag = "technician",
    security(("bearer" = []), ("session" = [])),
    params(
        ("id" = i64, Path, description = "The draft's id."),
        ("field" = String, Path, description = "The slot, `section{S}_{O}` (see the draft's `sections`)."),
        ("X-Content-SHA256" = Option<String>, Header, description = "The photo's SHA-256 in hex, as the phone computed it."),
        ("X-Photo-Position" = Option<String>, Header, description = "Where the phone was when the photo was picked, when the technician allowed it: `latitude,longitude[,accuracy]` (degrees, metres). Stored beside the photo's own EXIF position; never required."),
    ),
    request_body(description = "The image bytes.", content(
        (shapes::Binary = "image/jpeg"),
        (shapes::Binary = "image/png"),
        (shapes::Binary = "image/webp"),
    )),
    responses(
        (status = 201, description = "Stored.", body = shapes::DraftPhoto),
        (status = 200, description = "The same photo was already stored in this slot; it stands.", body = shapes::DraftPhoto),
        (status = 400, description = "Not a photo this service accepts, an unknown slot, a SHA-256 mismatch, or the upload was cut off; nothing was kept.", body = shapes::ErrorBody),
        (status = 401, description = "Not signed in, or the token is invalid or revoked.", body = shapes::ErrorBody),
        (status = 403, description = "The caller's role may not do this (or a page change came without its CSRF token).", body = shapes::ErrorBody),
        (status = 404, description = "The caller has no open draft with this id.", body = shapes::ErrorBody),
        (status = 413, description = "Larger than 10 MB; nothing was kept.", body = shapes::ErrorBody),
        (status = 507, description = "The media storage is full; nothing was kept.", body = shapes::ErrorBody),
    )
)]
pub(super) async fn put_photo(
    State(state): State<AppState>,
    // Refused inside, like every other early answer here, so the photo still on its way is
    // read and dropped and the client gets to read the refusal.
    user: Result<Technician, ApiError>,
    BaseUrl(base): BaseUrl,
    declared: DeclaredLength,
    Path((id, field)): Path<(String, String)>,
    headers: HeaderMap,
    body: Body,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let checked = async {
        let user = user?;
        let (d, device) = owned(&state, &user, &id).await?;
        let plan = PhotoPlan::for_device(&device.device_type, &device.gfm_problem_type);
        let slot = plan.slot(&field).cloned().ok_or_else(|| {
            ApiError::message(format!("This device's report has no photo slot named \"{field}\"."))
        })?;
        if let Some(n) = declared.0.filter(|n| *n > photo::MAX_BYTES) {
            return Err(ApiError::PayloadTooLarge(format!(
                "Failed to save photo: {}",
                photo::PhotoError::TooLarge(n as f64 / 1048576.0)
            )));
        }
        state.store.check_room(declared.0, state.settings.disk_refuse_percent)?;
        let browser = match headers.get("x-photo-position") {
            None => None,
            Some(v) => Some(
                v.to_str()
                    .map_err(|_| "not text".to_string())
                    .and_then(Position::parse_reported)
                    .map_err(|e| ApiError::field("position", e))?,
            ),
        };
        Ok((d, slot, browser))
    }
    .await;
    let (d, slot, browser) = match checked {
        Ok(ok) => ok,
        Err(e) => {
            // Answer now; the body still on its way is read and dropped in the background (for a
            // bounded time) so the client reads this answer instead of a broken connection.
            tokio::spawn(async move {
                let mut rest = body.into_data_stream();
                let _ = tokio::time::timeout(std::time::Duration::from_secs(30), async {
                    while let Some(Ok(_)) = rest.next().await {}
                })
                .await;
            });
            return Err(e);
        }
    };
    let expected =
        headers.get("x-content-sha256").and_then(|v| v.to_str().ok()).map(|v| v.trim().to_ascii_lowercase());
    let StoredPhoto { object: stored, info, facts } =
        match filing::store_photo(&state.store, &state.gates.decoding, body.into_data_stream()).await? {
            Photo::Stored(photo) => photo,
            Photo::Refused(message) => return Err(ApiError::message(message)),
        };
    let links = Links { base: &base, signer: &state.links };
    let keys = [stored.key.clone()];
    let recorded = state.store.keep_if_recorded(&keys, async {
        if expected.as_ref().is_some_and(|e| *e != stored.sha256) {
            return Err(ApiError::message(
                "The photo arrived damaged (its SHA-256 differs from the one your device computed); nothing was kept. Please send it again.",
            ));
        }
        let new = drafts::NewDraftPhoto {
            draft_id: d.id,
            field: &slot.field,
            section: i64::from(slot.section),
            order_index: i64::from(slot.order),
            stored: &stored,
            content_type: info.format.content_type(),
            width: i64::from(info.width),
            height: i64::from(info.height),
            facts: &facts,
            browser,
        };
        drafts::put_photo(&state.db, &new).await?.ok_or_else(not_found)
    });
    let replaced = match recorded.await? {
        drafts::Put::Stored(replaced) => replaced,
        drafts::Put::Same => {
            // The same photo again (a retry whose answer was lost, or an identical send that
            // overlapped this one and was recorded first): the first copy and its link stand.
            state.store.delete_all(&keys).await;
            let same = drafts::photos(&state.db, d.id).await?.into_iter().find(|p| p.field == slot.field);
            let facts = facts_of(&state, &same.iter().collect::<Vec<_>>()).await?;
            return Ok((
                StatusCode::OK,
                Json(same.map(|p| photo_json(&p, &facts, &links)).unwrap_or(Value::Null)),
            ));
        }
    };
    if let Some(old) = &replaced {
        state.store.delete_all(std::slice::from_ref(old)).await;
    }
    metrics::counter!("atm_draft_photos_total", "outcome" => if replaced.is_some() { "replaced" } else { "new" })
        .increment(1);
    tracing::info!(draft = d.id, slot = slot.field, key = %stored.key, size = stored.size,
                   sha256 = stored.sha256, "draft photo received");
    let received = drafts::photos(&state.db, d.id).await?.into_iter().find(|p| p.field == slot.field);
    let facts = facts_of(&state, &received.iter().collect::<Vec<_>>()).await?;
    let body = received.map(|p| photo_json(&p, &facts, &links)).unwrap_or(Value::Null);
    Ok((StatusCode::CREATED, Json(body)))
}

/// Files the draft as a visit report: the same checks and the same single transaction as the
/// one-shot submit; the draft's photos become the report's.
#[utoipa::path(
    post,
    path = "/api/technician/drafts/{id}/submit",
    tag = "technician",
    security(("bearer" = []), ("session" = [])),
    params(("id" = i64, Path, description = "The draft's id.")),
    request_body(content(
        (shapes::FinalizeDraft = "application/json"),
        (shapes::FinalizeDraft = "application/x-www-form-urlencoded"),
    )),
    responses(
        (status = 201, description = "Filed.", body = shapes::OneSubmission),
        (status = 400, description = "A field is invalid, a photo is missing, or a report for this period exists; each field with its messages.", body = shapes::ErrorBody),
        (status = 401, description = "Not signed in, or the token is invalid or revoked.", body = shapes::ErrorBody),
        (status = 403, description = "The caller's role may not do this (or a page change came without its CSRF token).", body = shapes::ErrorBody),
        (status = 404, description = "The draft was already submitted or has expired.", body = shapes::ErrorBody),
        (status = 409, description = "A photo was replaced while the report was being filed; submit again.", body = shapes::ErrorBody),
    )
)]
pub(super) async fn finalize(
    State(state): State<AppState>,
    user: Technician,
    BaseUrl(base): BaseUrl,
    Path(id): Path<String>,
    req: Request,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let (d, device) = owned(&state, &user, &id).await?;
    let body = fields(req).await?;
    let mut text_fields: HashMap<String, String> =
        body.keys().filter_map(|k| text(&body, k).map(|v| (k.clone(), v))).collect();
    text_fields.insert("device_id".into(), device.id.to_string());
    text_fields.entry("visit_date".into()).or_insert_with(|| d.visit_date.clone());
    let fields = filing::validate(&state.db, &text_fields).await?;
    let photos = drafts::photos(&state.db, d.id).await?;
    let report = NewReport {
        technician_id: user.id,
        fields,
        arrived: photos.iter().map(|p| p.field.as_str()).collect(),
        refused: None,
        photos: photos
            .iter()
            .filter_map(|p| {
                let format = photo::PhotoFormat::from_content_type(&p.content_type)?;
                Some(ReportPhoto {
                    field: &p.field,
                    object: PhotoObject::Recorded(p.object_id),
                    info: PhotoInfo { format, width: p.width as u32, height: p.height as u32 },
                    facts: None,
                    browser: None,
                })
            })
            .collect(),
        draft: Some(d.id),
    };
    let sid = filing::file_report(&state.db, &state.store, &state.settings.evidence, report).await?;
    state.dashboards.changed();
    let links = Links { base: &base, signer: &state.links };
    let rec = submissions::get(&state.db, sid)
        .await?
        .ok_or_else(|| anyhow::anyhow!("submission {sid} vanished"))?;
    tracing::info!(
        submission = sid,
        draft = d.id,
        technician = user.username,
        "visit report stored from a draft"
    );
    Ok((
        StatusCode::CREATED,
        Json(json!({
            "status": "success",
            "message": "Maintenance submission created successfully",
            "submission": submission_json::render_one(&state.db, &rec, &links).await?,
        })),
    ))
}
