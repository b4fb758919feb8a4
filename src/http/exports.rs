//! Exports for the client, supervisors only: `GET /api/supervisor/submissions/export.csv` and
//! `export.xlsx` with the list's own filters, and `GET /api/supervisor/submissions/{id}/export.zip`
//! for one report. The bodies are streamed from the database or from a temporary file.

use std::sync::Arc;

use axum::body::Body;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use utoipa_axum::routes;

use super::extract::{BaseUrl, Supervisor};
use super::openapi::shapes;
use super::supervisor::{ListQuery, filters};
use super::{ApiRouter, route};
use crate::error::ApiError;
use crate::ops::export::{self, Link, XlsxError};
use crate::state::AppState;

pub(crate) fn router() -> ApiRouter {
    let r = route(ApiRouter::new(), routes!(csv));
    let r = route(r, routes!(xlsx));
    route(r, routes!(zip))
}

fn link(state: &AppState, base: String) -> Link {
    let state = state.clone();
    Arc::new(move |key| format!("{base}{}", state.links.sign(key)))
}

fn attachment(content_type: &'static str, file_name: &str, body: Body) -> Response {
    let disposition = format!("attachment; filename=\"{file_name}\"");
    (
        [
            (header::CONTENT_TYPE, HeaderValue::from_static(content_type)),
            (
                header::CONTENT_DISPOSITION,
                HeaderValue::from_str(&disposition)
                    .unwrap_or_else(|_| HeaderValue::from_static("attachment")),
            ),
            (header::CACHE_CONTROL, HeaderValue::from_static("no-store")),
        ],
        body,
    )
        .into_response()
}

fn today() -> String {
    chrono::Utc::now().format("%Y-%m-%d").to_string()
}

/// The list with its filters as CSV (streamed): device, cost center, city, type, technician,
/// visit date, period, status, reviewed by and at, remarks, PDF link. Cells that a spreadsheet
/// would run as a formula are sent as text.
#[utoipa::path(
    get,
    path = "/api/supervisor/submissions/export.csv",
    tag = "supervisor",
    security(("bearer" = []), ("session" = [])),
    params(
        ("status" = Option<String>, Query, description = "`Pending`, `Approved` or `Rejected`; `All` or empty for every one."),
        ("city" = Option<String>, Query, description = "The technician's city."),
        ("technician_id" = Option<i64>, Query, description = "One technician."),
        ("device_type" = Option<String>, Query, description = "One device type."),
        ("date_from" = Option<String>, Query, description = "Visits on or after this day (`YYYY-MM-DD`)."),
        ("date_to" = Option<String>, Query, description = "Visits on or before this day (`YYYY-MM-DD`)."),
        ("flagged" = Option<bool>, Query, description = "`true`: only reports with findings not yet checked; `false`: only those without."),
            ),
    responses(
        (status = 200, description = "The CSV file (`Content-Disposition: attachment`).", content_type = "text/csv", body = shapes::Binary),
        (status = 400, description = "A filter is not valid; the field with its message.", body = shapes::ErrorBody),
        (status = 401, description = "Not signed in, or the token is invalid or revoked.", body = shapes::ErrorBody),
        (status = 403, description = "The caller's role may not do this (or a page change came without its CSRF token).", body = shapes::ErrorBody),
    )
)]
async fn csv(
    State(state): State<AppState>,
    _caller: Supervisor,
    BaseUrl(base): BaseUrl,
    Query(q): Query<ListQuery>,
) -> Result<Response, ApiError> {
    let f = filters(q)?;
    let link = link(&state, base);
    let body = Body::from_stream(export::csv(state.db.clone(), f, link));
    Ok(attachment("text/csv; charset=utf-8", &format!("submissions-{}.csv", today()), body))
}

/// The list with its filters as an Excel workbook, the CSV's columns.
#[utoipa::path(
    get,
    path = "/api/supervisor/submissions/export.xlsx",
    tag = "supervisor",
    security(("bearer" = []), ("session" = [])),
    params(
        ("status" = Option<String>, Query, description = "`Pending`, `Approved` or `Rejected`; `All` or empty for every one."),
        ("city" = Option<String>, Query, description = "The technician's city."),
        ("technician_id" = Option<i64>, Query, description = "One technician."),
        ("device_type" = Option<String>, Query, description = "One device type."),
        ("date_from" = Option<String>, Query, description = "Visits on or after this day (`YYYY-MM-DD`)."),
        ("date_to" = Option<String>, Query, description = "Visits on or before this day (`YYYY-MM-DD`)."),
        ("flagged" = Option<bool>, Query, description = "`true`: only reports with findings not yet checked; `false`: only those without."),
            ),
    responses(
        (status = 200, description = "The workbook (`Content-Disposition: attachment`).", content_type = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", body = shapes::Binary),
        (status = 400, description = "A filter is not valid, or the list has more rows than a sheet holds.", body = shapes::ErrorBody),
        (status = 401, description = "Not signed in, or the token is invalid or revoked.", body = shapes::ErrorBody),
        (status = 403, description = "The caller's role may not do this (or a page change came without its CSRF token).", body = shapes::ErrorBody),
        (status = 503, description = "Too many of these are being made at once; try again (`Retry-After`).", body = shapes::ErrorBody),
    )
)]
async fn xlsx(
    State(state): State<AppState>,
    _caller: Supervisor,
    BaseUrl(base): BaseUrl,
    Query(q): Query<ListQuery>,
) -> Result<Response, ApiError> {
    let f = filters(q)?;
    let file = {
        let _turn = state.gates.exports.enter().await?;
        match export::xlsx(&state.db, &f, link(&state, base)).await {
            Ok(file) => file,
            Err(XlsxError::TooManyRows(n)) => {
                return Err(ApiError::message(XlsxError::TooManyRows(n).to_string()));
            }
            Err(XlsxError::Other(e)) => return Err(ApiError::Internal(e)),
        }
    };
    let stream = tokio_util::io::ReaderStream::new(tokio::fs::File::from_std(file));
    let name = format!("submissions-{}.xlsx", today());
    Ok(attachment(
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        &name,
        Body::from_stream(stream),
    ))
}

/// One report as a ZIP: its PDF, its original photos and `manifest.json` with each file's
/// SHA-256 (checked against the stored one while writing).
#[utoipa::path(
    get,
    path = "/api/supervisor/submissions/{id}/export.zip",
    tag = "supervisor",
    security(("bearer" = []), ("session" = [])),
    params(("id" = i64, Path, description = "The report's id.")),
    responses(
        (status = 200, description = "The ZIP (`Content-Disposition: attachment`).", content_type = "application/zip", body = shapes::Binary),
        (status = 401, description = "Not signed in, or the token is invalid or revoked.", body = shapes::ErrorBody),
        (status = 403, description = "The caller's role may not do this (or a page change came without its CSRF token).", body = shapes::ErrorBody),
        (status = 404, description = "No report has this id.", body = shapes::ErrorBody),
        (status = 503, description = "Too many of these are being made at once; try again (`Retry-After`).", body = shapes::ErrorBody),
    )
)]
async fn zip(
    State(state): State<AppState>,
    _caller: Supervisor,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let not_found = || ApiError::NotFound("Submission not found".into());
    let id: i64 = id.parse().map_err(|_| not_found())?;
    let built = {
        let _turn = state.gates.exports.enter().await?;
        export::report_zip(&state.db, &state.store, id).await.map_err(ApiError::Internal)?
    };
    let (file, name) = built.ok_or_else(not_found)?;
    let stream = tokio_util::io::ReaderStream::new(tokio::fs::File::from_std(file));
    Ok(attachment("application/zip", &name, Body::from_stream(stream)))
}
