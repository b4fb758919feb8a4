//! Excel device lists (spec §4.6): one per technician and device type, replaced in place.
//! A re-upload detaches the previous assignments of that type; devices and every submission
//! made for them stay (the original deleted them, and their history with them).

use axum::Json;
use axum::extract::{Multipart, Path, State};
use axum::http::StatusCode;
use bytes::Bytes;
use serde_json::{Value, json};
use sha2::Digest;

use crate::db::{devices, excel, notifications, objects, users};
use crate::domain::accounts::{self, FieldErrors};
use crate::domain::audit::Action;
use crate::domain::{DeviceType, Role, excel as sheet};
use crate::error::ApiError;
use crate::http::audit;
use crate::http::extract::{ClientAddr, Host};
use crate::http::openapi::shapes;
use crate::state::AppState;
use crate::storage::{Area, MediaKey};

pub(super) const MAX_FILE_BYTES: usize = 20 * 1024 * 1024;
pub(super) const MAX_REQUEST_BYTES: usize = MAX_FILE_BYTES + 1024 * 1024;

struct Form {
    technician_id: Option<String>,
    device_type: Option<String>,
    file: Option<(String, Bytes)>,
    /// `dry_run=true`: parse and answer with a preview; nothing is stored or changed.
    dry_run: bool,
}

async fn read_form(mut mp: Multipart) -> Result<Form, ApiError> {
    let mut form = Form { technician_id: None, device_type: None, file: None, dry_run: false };
    let broken = |_| {
        ApiError::message(
            "The upload could not be read (the request was cut off or is not multipart/form-data).",
        )
    };
    while let Some(field) = mp.next_field().await.map_err(broken)? {
        match field.name().unwrap_or("") {
            "file" => {
                let name = field.file_name().unwrap_or("").to_string();
                let bytes = field.bytes().await.map_err(broken)?;
                if bytes.len() > MAX_FILE_BYTES {
                    return Err(ApiError::field("file", "The file is larger than 20 MB."));
                }
                form.file = Some((name, bytes));
            }
            "technician_id" => form.technician_id = Some(field.text().await.map_err(broken)?),
            "device_type" => form.device_type = Some(field.text().await.map_err(broken)?),
            "dry_run" => form.dry_run = matches!(field.text().await.map_err(broken)?.trim(), "true" | "1"),
            _ => {}
        }
    }
    Ok(form)
}

/// A form whose fields all checked out.
struct Valid {
    technician: users::User,
    device_type: DeviceType,
    file_name: String,
    bytes: Bytes,
    dry_run: bool,
}

/// Validates the form in the original's order with its messages.
async fn validate(state: &AppState, form: Form) -> Result<Valid, ApiError> {
    let mut errors = FieldErrors::new();
    let technician = match form.technician_id.as_deref().map(str::trim) {
        None | Some("") => {
            errors.push(("technician_id", "This field is required.".into()));
            None
        }
        Some(raw) => match raw.parse::<i64>() {
            Err(_) => {
                errors.push(("technician_id", "A valid integer is required.".into()));
                None
            }
            Ok(id) => {
                let t = users::by_id(&state.db, id).await?.filter(|u| u.role == Role::Technician);
                if t.is_none() {
                    errors.push(("technician_id", format!("Technician with ID {id} does not exist")));
                }
                t
            }
        },
    };
    let device_type = match form.device_type.as_deref() {
        None | Some("") => {
            errors.push(("device_type", "This field is required.".into()));
            None
        }
        Some(t) => DeviceType::parse(t).or_else(|| {
            errors.push(("device_type", format!("\"{t}\" is not a valid choice.")));
            None
        }),
    };
    let file = match form.file {
        None => {
            errors.push(("file", "No file was submitted.".into()));
            None
        }
        Some((name, bytes)) => {
            let lower = name.to_lowercase();
            if lower.ends_with(".xlsx") || lower.ends_with(".xls") {
                Some((name, bytes))
            } else {
                errors.push(("file", "Invalid file extension. Allowed: .xlsx, .xls".into()));
                None
            }
        }
    };
    match (technician, device_type, file) {
        (Some(technician), Some(device_type), Some((file_name, bytes))) if errors.is_empty() => {
            Ok(Valid { technician, device_type, file_name, bytes, dry_run: form.dry_run })
        }
        _ => Err(ApiError::BadRequest(accounts::to_json(&errors))),
    }
}

/// Parses the sheet off the runtime: CPU work on untrusted input, bounded by the Excel limits.
async fn parse(state: &AppState, file_name: &str, bytes: &Bytes) -> Result<sheet::Sheet, ApiError> {
    let (bytes, limits) = (bytes.clone(), state.settings.excel.clone());
    let parsed = match tokio::task::spawn_blocking(move || sheet::parse(&bytes, &limits)).await {
        Ok(parsed) => parsed,
        // A reader that panics on a malformed file has found a file it cannot read: the
        // sender gets the same answer as for any unreadable file, not a 500.
        Err(e) if e.is_panic() => {
            tracing::warn!(file = file_name, "the Excel reader panicked on this file");
            Err(sheet::ExcelError::Load("the file is not a readable .xlsx or .xls workbook".into()))
        }
        Err(e) => return Err(anyhow::Error::from(e).into()),
    };
    parsed.map_err(|e| {
        tracing::info!(file = file_name, error = %e, "device list refused");
        ApiError::message(e.to_string())
    })
}

/// Imports a technician's device list of one type from an Excel file, replacing their list of
/// that type; `dry_run=true` only parses it and answers with a preview.
#[utoipa::path(
    post,
    path = "/api/host/upload-excel",
    tag = "host",
    security(("bearer" = []), ("session" = [])),
    request_body(content((shapes::ExcelUploadForm = "multipart/form-data"))),
    responses(
        (status = 201, description = "Stored: the devices are assigned to the technician.", body = shapes::ExcelUploaded),
        (status = 200, description = "A dry run: what the file holds; nothing was stored.", body = shapes::ExcelUploaded),
        (status = 400, description = "A field is missing or invalid, or the file is not a readable Excel sheet with the expected columns.", body = shapes::ErrorBody),
        (status = 401, description = "Not signed in, or the token is invalid or revoked.", body = shapes::ErrorBody),
        (status = 403, description = "The caller's role may not do this (or a page change came without its CSRF token).", body = shapes::ErrorBody),
        (status = 413, description = "The request is larger than 21 MB.", body = shapes::ErrorBody),
        (status = 503, description = "Too many files are being parsed at once; try again (`Retry-After`).", body = shapes::ErrorBody),
    )
)]
pub(super) async fn upload(
    State(state): State<AppState>,
    user: Host,
    ClientAddr(addr): ClientAddr,
    mp: Multipart,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let form = read_form(mp).await?;
    let v = validate(&state, form).await?;
    let parsed = parse(&state, &v.file_name, &v.bytes).await?;
    let tech = &v.technician;
    if v.dry_run {
        let replaces = excel::of_type(&state.db, tech.id, v.device_type.as_str()).await?;
        return Ok((
            StatusCode::OK,
            Json(json!({
                "status": "preview",
                "message": "Nothing was stored: this is a preview of the file",
                "file_name": v.file_name,
                "total_rows": parsed.row_count,
                "data": parsed.preview.iter().take(sheet::PREVIEW_ROWS).collect::<Vec<_>>(),
                "replaces": replaces.map(|u| json!({
                    "file_name": u.file_name, "row_count": u.row_count, "upload_date": u.upload_date,
                })),
                "technician": { "id": tech.id, "username": tech.username, "city": tech.city },
            })),
        ));
    }
    let (upload_id, created) = store(&state, &user, &v, &parsed).await?;
    state.dashboards.changed();
    tracing::info!(by = user.username, technician = tech.username, device_type = %v.device_type,
                   rows = parsed.row_count, created, "device list uploaded");
    let detail = json!({
        "technician": tech.username, "device_type": v.device_type.as_str(), "file_name": v.file_name,
        "rows": parsed.row_count, "devices_created": created, "sha256": hex::encode(sha2::Sha256::digest(&v.bytes)),
    });
    audit::record(&state, &user, Action::ExcelImport, format!("excel_upload:{upload_id}"), detail, &addr)
        .await;
    Ok((
        StatusCode::CREATED,
        Json(json!({
            "status": "success",
            "message": "Excel file uploaded and devices created successfully",
            "upload_id": upload_id,
            "file_name": v.file_name,
            "total_rows": parsed.row_count,
            "devices_created": created,
            "data": parsed.preview.iter().take(10).collect::<Vec<_>>(),
            "technician": { "id": tech.id, "username": tech.username, "city": tech.city },
        })),
    ))
}

/// Keeps a copy of the file, then records it, its devices and the technician's assignments
/// in one transaction; the copy is deleted again when that fails. Returns the upload's id and
/// how many devices were new.
async fn store(
    state: &AppState,
    user: &Host,
    v: &Valid,
    parsed: &sheet::Sheet,
) -> Result<(i64, i64), ApiError> {
    let ext = if v.file_name.to_lowercase().ends_with(".xls") { "xls" } else { "xlsx" };
    let key = MediaKey::generate(Area::ExcelUploads, ext);
    let (size, bytes) = (v.bytes.len() as u64, v.bytes.clone());
    let body = futures_util::stream::once(async move { Ok::<_, std::io::Error>(bytes) });
    let stored = state.store.put_stream(&key, body, size).await?;
    let device_type = v.device_type.as_str();
    let record = async {
        let mut tx = state.db.begin_write().await?;
        let object_id =
            objects::insert(&mut *tx, Area::ExcelUploads, &stored, Some(content_type(ext))).await?;
        let (ids, created) = devices::get_or_create(&mut tx, &parsed.devices, device_type).await?;
        let assigned = devices::replace_assignments(&mut tx, v.technician.id, device_type, &ids).await?;
        if assigned > 0 {
            let message = format!("{assigned} new {device_type} device(s) were assigned to you.");
            let detail = json!({ "count": assigned, "device_type": device_type, "file_name": v.file_name });
            let n = notifications::New {
                user_id: v.technician.id,
                kind: notifications::DEVICES_ASSIGNED,
                submission_id: None,
                device_id: None,
                message: &message,
                detail,
            };
            notifications::insert(&mut tx, &n).await?;
        }
        let upload = excel::NewUpload {
            technician_id: v.technician.id,
            uploaded_by: user.id,
            file_name: &v.file_name,
            object_id,
            device_type,
            parsed_data: &parsed.rows_json,
            row_count: parsed.row_count as i64,
        };
        let upload_id = excel::upsert(&mut tx, &upload).await?;
        tx.commit().await?;
        Ok::<_, sqlx::Error>((upload_id, created))
    };
    Ok(state.store.keep_if_recorded(std::slice::from_ref(&key), record).await?)
}

fn content_type(ext: &str) -> &'static str {
    if ext == "xls" {
        "application/vnd.ms-excel"
    } else {
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    }
}

/// A technician's uploads; an unknown or malformed id has none (the original answered an empty list).
async fn uploads_of(state: &AppState, id: &str) -> Result<Vec<excel::Upload>, ApiError> {
    Ok(match id.parse::<i64>() {
        Ok(id) => excel::for_technician(&state.db, id).await?,
        Err(_) => Vec::new(),
    })
}

/// The device types a technician has a list of.
#[utoipa::path(
    get,
    path = "/api/host/technicians/{id}/uploaded-types",
    tag = "host",
    security(("bearer" = []), ("session" = [])),
    params(("id" = i64, Path, description = "The technician's id (an unknown one has none).")),
    responses(
        (status = 200, description = "The types.", body = shapes::UploadedTypes),
        (status = 401, description = "Not signed in, or the token is invalid or revoked.", body = shapes::ErrorBody),
        (status = 403, description = "The caller's role may not do this (or a page change came without its CSRF token).", body = shapes::ErrorBody),
    )
)]
pub(super) async fn uploaded_types(
    State(state): State<AppState>,
    _caller: Host,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let uploads = uploads_of(&state, &id).await?;
    Ok(Json(json!({ "uploaded_types": uploads.iter().map(|u| &u.device_type).collect::<Vec<_>>() })))
}

/// A technician's uploaded lists.
#[utoipa::path(
    get,
    path = "/api/host/technicians/{id}/uploaded-files",
    tag = "host",
    security(("bearer" = []), ("session" = [])),
    params(("id" = i64, Path, description = "The technician's id (an unknown one has none).")),
    responses(
        (status = 200, description = "The lists.", body = shapes::UploadedFiles),
        (status = 401, description = "Not signed in, or the token is invalid or revoked.", body = shapes::ErrorBody),
        (status = 403, description = "The caller's role may not do this (or a page change came without its CSRF token).", body = shapes::ErrorBody),
    )
)]
pub(super) async fn uploaded_files(
    State(state): State<AppState>,
    _caller: Host,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let uploads = uploads_of(&state, &id).await?;
    let files: Vec<Value> = uploads
        .iter()
        .map(|u| {
            json!({
                "id": u.id,
                "device_type": u.device_type,
                "file_name": u.file_name,
                "upload_date": u.upload_date,
                "row_count": u.row_count,
                "uploaded_by": u.uploaded_by.clone().unwrap_or_else(|| "Unknown".into()),
            })
        })
        .collect();
    Ok(Json(json!({ "files": files })))
}
