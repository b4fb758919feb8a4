//! Technician endpoints (spec §3.4): their device lists, devices and visit reports.

mod drafts;
mod submit;

use std::collections::HashMap;

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Response};
use chrono::{Datelike, NaiveDate};
use serde_json::{Value, json};
use utoipa_axum::routes;

use super::extract::{BaseUrl, Technician};
use super::openapi::shapes;
use super::submission_json::{self, Links};
use super::{ApiRouter, route};
use crate::db::{devices, excel, submissions};
use crate::domain::excel::row_device_key;
use crate::domain::period::current_status;
use crate::domain::{DeviceType, Period, SubmissionStatus};
use crate::error::ApiError;
use crate::state::AppState;

pub(crate) fn router() -> ApiRouter {
    let r = route(ApiRouter::new(), routes!(my_excel_data));
    let r = route(r, routes!(excel_data));
    let r = route(r, routes!(device_list));
    let r = route(r, routes!(my_submissions));
    let r = route(r, routes!(my_submission));
    let r = route(r, routes!(drafts::list, drafts::open));
    let r = route(r, routes!(drafts::show, drafts::discard));
    // The photo body streams into the store, which stops at 10 MiB (a declared larger length is
    // refused before reading), so no body limit layer applies here.
    let r = route(r, routes!(drafts::put_photo));
    let r = route(r, routes!(drafts::finalize));
    let (schemas, paths, submit) = routes!(submit::submit);
    let submit = submit.layer(axum::extract::DefaultBodyLimit::max(submit::MAX_REQUEST_BYTES));
    route(r, (schemas, paths, submit))
}

fn today() -> NaiveDate {
    chrono::Utc::now().date_naive()
}

fn half_monthly(device_type: &str) -> bool {
    DeviceType::parse(device_type).is_some_and(DeviceType::is_half_monthly)
}

/// The caller's uploaded device lists, each row with its device's review state.
#[utoipa::path(
    get,
    path = "/api/technician/my-excel-data",
    tag = "technician",
    security(("bearer" = []), ("session" = [])),
    responses(
        (status = 200, description = "The lists.", body = shapes::MyExcelData),
        (status = 401, description = "Not signed in, or the token is invalid or revoked.", body = shapes::ErrorBody),
        (status = 403, description = "The caller's role may not do this (or a page change came without its CSRF token).", body = shapes::ErrorBody),
    )
)]
async fn my_excel_data(State(state): State<AppState>, user: Technician) -> Result<Json<Value>, ApiError> {
    let uploads = excel::for_technician(&state.db, user.id).await?;
    let assigned: HashMap<String, devices::Device> = devices::assigned_to(&state.db, user.id)
        .await?
        .into_iter()
        .map(|d| (d.interaction_id.clone(), d))
        .collect();
    let latest = submissions::latest_per_device(&state.db, user.id).await?;
    let today = today();
    let uploads: Vec<Value> = uploads
        .into_iter()
        .map(|u| {
            let rows: Vec<Value> = match u.parsed_data {
                Value::Array(rows) => rows,
                _ => Vec::new(),
            };
            let rows: Vec<Value> = rows
                .into_iter()
                .map(|mut row| {
                    let device = assigned.get(&row_device_key(&row));
                    let last = device.and_then(|d| latest.get(&d.id));
                    let status = match (device, last) {
                        (Some(d), Some(l)) => {
                            current_status(Some((l.status, l.period)), today, half_monthly(&d.device_type))
                        }
                        _ => "Active",
                    };
                    let remarks = last
                        .filter(|_| status == SubmissionStatus::Rejected.as_str())
                        .and_then(|l| l.review_remarks.clone());
                    if let Value::Object(map) = &mut row {
                        map.insert("submission_status".into(), json!(status));
                        map.insert("submission_remarks".into(), json!(remarks));
                        map.insert("device_id".into(), json!(device.map(|d| d.id)));
                        map.insert("last_visit_date".into(), json!(last.map(|l| &l.visit_date)));
                    }
                    row
                })
                .collect();
            json!({
                "id": u.id,
                "file_name": u.file_name,
                "upload_date": u.upload_date,
                "row_count": u.row_count,
                "device_type": u.device_type,
                "uploaded_by": u.uploaded_by,
                "parsed_data": rows,
            })
        })
        .collect();
    Ok(Json(json!({
        "technician": { "id": user.id, "username": user.username, "city": user.city },
        "total_uploads": uploads.len(),
        "uploads": uploads,
    })))
}

/// The caller's own reports, newest first, with their photos (nobody else's).
#[utoipa::path(
    get,
    path = "/api/technician/submissions",
    tag = "technician",
    security(("bearer" = []), ("session" = [])),
    responses(
        (status = 200, description = "The reports.", body = shapes::SubmissionList),
        (status = 401, description = "Not signed in, or the token is invalid or revoked.", body = shapes::ErrorBody),
        (status = 403, description = "The caller's role may not do this (or a page change came without its CSRF token).", body = shapes::ErrorBody),
    )
)]
async fn my_submissions(
    State(state): State<AppState>,
    user: Technician,
    BaseUrl(base): BaseUrl,
) -> Result<Response, ApiError> {
    let f = submissions::Filters { technician_id: Some(user.id), ..Default::default() };
    let (rows, total) = submissions::list(&state.db, &f).await?;
    let links = Links { base: &base, signer: &state.links };
    let submissions = submission_json::render_all(&state.db, &rows, &links).await?;
    #[derive(serde::Serialize)]
    struct Mine<'a> {
        status: &'static str,
        count: i64,
        submissions: Vec<submission_json::SubmissionJson<'a>>,
    }
    Ok(Json(Mine { status: "success", count: total, submissions }).into_response())
}

/// One of the caller's reports.
#[utoipa::path(
    get,
    path = "/api/technician/submissions/{id}",
    tag = "technician",
    security(("bearer" = []), ("session" = [])),
    params(("id" = i64, Path, description = "The report's id.")),
    responses(
        (status = 200, description = "The report.", body = shapes::OneSubmission),
        (status = 401, description = "Not signed in, or the token is invalid or revoked.", body = shapes::ErrorBody),
        (status = 403, description = "The caller's role may not do this (or a page change came without its CSRF token).", body = shapes::ErrorBody),
        (status = 404, description = "No report of the caller has this id.", body = shapes::ErrorBody),
    )
)]
async fn my_submission(
    State(state): State<AppState>,
    user: Technician,
    BaseUrl(base): BaseUrl,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let not_found = || ApiError::NotFound("Submission not found".into());
    let id: i64 = id.parse().map_err(|_| not_found())?;
    // Someone else's report is "not found", not "forbidden": its existence is not ours to tell.
    let rec = submissions::get(&state.db, id)
        .await?
        .filter(|r| r.technician_id == user.id)
        .ok_or_else(not_found)?;
    let links = Links { base: &base, signer: &state.links };
    Ok(Json(
        json!({ "status": "success", "submission": submission_json::render_one(&state.db, &rec, &links).await? }),
    ))
}

/// The rows of the caller's list of one device type.
#[utoipa::path(
    get,
    path = "/api/technician/excel-data/{device_type}",
    tag = "technician",
    security(("bearer" = []), ("session" = [])),
    params(("device_type" = String, Path, description = "A device type, e.g. `cleaning`.")),
    responses(
        (status = 200, description = "The rows; empty with a `message` when there is no such list.", body = shapes::ExcelData),
        (status = 401, description = "Not signed in, or the token is invalid or revoked.", body = shapes::ErrorBody),
        (status = 403, description = "The caller's role may not do this (or a page change came without its CSRF token).", body = shapes::ErrorBody),
    )
)]
async fn excel_data(
    State(state): State<AppState>,
    user: Technician,
    Path(device_type): Path<String>,
) -> Result<Json<Value>, ApiError> {
    match excel::of_type(&state.db, user.id, &device_type).await? {
        Some(u) => Ok(Json(json!({
            "data": u.parsed_data,
            "device_type": device_type,
            "file_name": u.file_name,
            "upload_date": u.upload_date,
        }))),
        None => Ok(Json(json!({
            "data": [],
            "device_type": device_type,
            "message": format!("No Excel data found for device type: {device_type}"),
        }))),
    }
}

#[derive(serde::Deserialize)]
struct DeviceQuery {
    #[serde(rename = "type")]
    device_type: Option<String>,
    status: Option<String>,
}

/// The caller's devices in their city, with `submission_status` and `next_due_date`.
#[utoipa::path(
    get,
    path = "/api/technician/devices",
    tag = "technician",
    security(("bearer" = []), ("session" = [])),
    params(
        ("type" = Option<String>, Query, description = "Only this device type."),
        ("status" = Option<String>, Query, description = "Only devices whose region contains this text (the original's name for it)."),
    ),
    responses(
        (status = 200, description = "The devices.", body = shapes::DeviceList),
        (status = 401, description = "Not signed in, or the token is invalid or revoked.", body = shapes::ErrorBody),
        (status = 403, description = "The caller's role may not do this (or a page change came without its CSRF token).", body = shapes::ErrorBody),
    )
)]
async fn device_list(
    State(state): State<AppState>,
    user: Technician,
    Query(q): Query<DeviceQuery>,
) -> Result<Json<Value>, ApiError> {
    let type_filter = q.device_type.as_deref().and_then(DeviceType::parse);
    let region_filter = q.status.as_deref().map(str::to_lowercase).filter(|s| !s.is_empty());
    let latest = submissions::latest_per_device(&state.db, user.id).await?;
    let today = today();
    let now = Period::of(today);
    let list: Vec<Value> = devices::assigned_to(&state.db, user.id)
        .await?
        .into_iter()
        .filter(|d| user.city.as_deref() == Some(d.city.as_str()))
        .filter(|d| type_filter.is_none_or(|t| t.as_str() == d.device_type))
        .filter(|d| region_filter.as_ref().is_none_or(|r| d.region.to_lowercase().contains(r)))
        .map(|d| {
            let last = latest.get(&d.id);
            let submitted_half = last.is_some_and(|l| l.period == now);
            let submitted_month = last.is_some_and(|l| l.period.same_month(&now));
            json!({
                "id": d.id,
                "interaction_id": d.interaction_id,
                "gfm_cost_center": d.gfm_cost_center,
                "region": d.region,
                "gfm_problem_type": d.gfm_problem_type,
                "gfm_problem_date": d.gfm_problem_date,
                "city": d.city,
                "type": d.device_type,
                "submission_status": if submitted_half { "submitted" } else { "pending" },
                "next_due_date": next_due(&d.device_type, now, submitted_half, submitted_month),
                "created_at": d.created_at,
            })
        })
        .collect();
    Ok(Json(json!({ "count": list.len(), "devices": list })))
}

fn next_due(device_type: &str, now: Period, submitted_half: bool, submitted_month: bool) -> Value {
    match DeviceType::parse(device_type) {
        Some(t) if t.is_half_monthly() => {
            let p = if submitted_half { now.next() } else { now };
            json!({
                "date": p.first_day().to_string(),
                "half_month": p.half,
                "description": format!("Half {} of {}", p.half, p.month_label()),
            })
        }
        Some(DeviceType::Electrical | DeviceType::Security) => {
            let first = now.first_day().with_day(1).unwrap_or(now.first_day());
            let date = if submitted_month { Period::of(first).next().next().first_day() } else { first };
            let label = Period::of(date).month_label();
            json!({ "date": date.to_string(), "month": label, "description": label })
        }
        _ => Value::Null,
    }
}
