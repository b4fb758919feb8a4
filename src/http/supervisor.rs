//! Supervisor endpoints (spec §3.5): the list with every filter and optional paging, detail,
//! approve, reject, counts, and marking a photo's finding checked.

use axum::Json;
use axum::extract::{Path, Query, Request, State};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};
use utoipa_axum::routes;

use super::audit;
use super::body::{fields, text};
use super::extract::{BaseUrl, ClientAddr, Staff, Supervisor};
use super::openapi::shapes;
use super::submission_json::{self, Links};
use super::{ApiRouter, route};
use crate::db::submissions::{self, Filters, Reviewed};
use crate::db::{evidence, jobs, objects};
use crate::domain::audit::Action;
use crate::domain::evidence::Position;
use crate::domain::{DeviceType, Role, SubmissionStatus, period};
use crate::error::ApiError;
use crate::reports::build;
use crate::state::AppState;
use crate::storage::{Area, MediaKey};

pub(crate) fn router() -> ApiRouter {
    let r = route(ApiRouter::new(), routes!(list));
    let r = route(r, routes!(detail));
    let r = route(r, routes!(approve));
    let r = route(r, routes!(reject));
    let r = route(r, routes!(preview_pdf));
    let r = route(r, routes!(retry_report));
    let r = route(r, routes!(check_finding));
    let r = route(r, routes!(technicians));
    route(r, routes!(stats))
}

#[derive(serde::Deserialize, Default)]
pub(crate) struct ListQuery {
    status: Option<String>,
    city: Option<String>,
    technician_id: Option<String>,
    device_type: Option<String>,
    date_from: Option<String>,
    date_to: Option<String>,
    flagged: Option<String>,
    page: Option<String>,
    page_size: Option<String>,
}

pub(crate) fn filters(q: ListQuery) -> Result<Filters, ApiError> {
    let all = |v: Option<String>| v.map(|s| s.trim().to_string()).filter(|s| !s.is_empty() && s != "All");
    let date = |name: &str, v: Option<String>| -> Result<Option<String>, ApiError> {
        match all(v) {
            None => Ok(None),
            Some(s) => period::parse_date(&s)
                .map(|d| Some(d.to_string()))
                .ok_or_else(|| ApiError::field(name, format!("\"{s}\" is not a date; use YYYY-MM-DD."))),
        }
    };
    let status = match all(q.status) {
        None => None,
        Some(s) => Some(
            SubmissionStatus::parse(&s)
                .ok_or_else(|| ApiError::field("status", format!("\"{s}\" is not a valid choice.")))?,
        ),
    };
    let device_type = all(q.device_type);
    if let Some(t) = &device_type
        && DeviceType::parse(t).is_none()
    {
        return Err(ApiError::field("device_type", format!("\"{t}\" is not a valid choice.")));
    }
    let technician_id = match all(q.technician_id) {
        None => None,
        Some(s) => Some(
            s.parse::<i64>().map_err(|_| ApiError::field("technician_id", "A valid integer is required."))?,
        ),
    };
    let number = |name: &str, v: Option<String>| -> Result<Option<i64>, ApiError> {
        match all(v) {
            None => Ok(None),
            Some(s) => match s.parse::<i64>() {
                Ok(n) if n >= 1 => Ok(Some(n)),
                _ => Err(ApiError::field(name, "A positive integer is required.")),
            },
        }
    };
    let flagged = match all(q.flagged).map(|s| s.to_ascii_lowercase()).as_deref() {
        None => None,
        Some("true" | "1" | "yes") => Some(true),
        Some("false" | "0" | "no") => Some(false),
        Some(s) => {
            return Err(ApiError::field(
                "flagged",
                format!("\"{s}\" is not a valid choice; use true or false."),
            ));
        }
    };
    let (page, size) = (number("page", q.page)?, number("page_size", q.page_size)?);
    let page = match (page, size) {
        (None, None) => None,
        (p, s) => {
            let size = s.unwrap_or(50).min(200);
            let offset = (p.unwrap_or(1) - 1)
                .checked_mul(size)
                .filter(|o| *o <= i64::from(i32::MAX))
                .ok_or_else(|| ApiError::field("page", "This page number is too large."))?;
            Some((size, offset))
        }
    };
    Ok(Filters {
        status,
        city: all(q.city),
        technician_id,
        device_type,
        date_from: date("date_from", q.date_from)?,
        date_to: date("date_to", q.date_to)?,
        flagged,
        page,
    })
}

/// A page of the supervisor list, serialized straight from the rows.
#[derive(serde::Serialize)]
struct ListPage<'a> {
    status: &'static str,
    count: i64,
    /// How many of the matching reports have findings not yet checked.
    flagged: i64,
    submissions: Vec<submission_json::SubmissionJson<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    page: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    page_size: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    total_pages: Option<i64>,
}

/// Every report, newest first, with the filters; paged when `page` or `page_size` is given.
#[utoipa::path(
    get,
    path = "/api/supervisor/submissions",
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
        ("page" = Option<i64>, Query, description = "A page (from 1); without `page` and `page_size` the whole list."),
        ("page_size" = Option<i64>, Query, description = "Rows per page, at most 200 (default 50)."),
    ),
    responses(
        (status = 200, description = "The reports.", body = shapes::SubmissionList),
        (status = 400, description = "A filter is not valid; the field with its message.", body = shapes::ErrorBody),
        (status = 401, description = "Not signed in, or the token is invalid or revoked.", body = shapes::ErrorBody),
        (status = 403, description = "The caller's role may not do this (or a page change came without its CSRF token).", body = shapes::ErrorBody),
    )
)]
async fn list(
    State(state): State<AppState>,
    _caller: Supervisor,
    BaseUrl(base): BaseUrl,
    Query(q): Query<ListQuery>,
) -> Result<Response, ApiError> {
    let f = filters(q)?;
    let (rows, total) = submissions::list(&state.db, &f).await?;
    let flagged = submissions::count_flagged(&state.db, &f).await?;
    let links = Links { base: &base, signer: &state.links };
    let submissions = submission_json::render_all(&state.db, &rows, &links).await?;
    let page = f.page.map(|(limit, offset)| (offset / limit + 1, limit, (total + limit - 1) / limit));
    Ok(Json(ListPage {
        status: "success",
        count: total,
        flagged,
        submissions,
        page: page.map(|p| p.0),
        page_size: page.map(|p| p.1),
        total_pages: page.map(|p| p.2),
    })
    .into_response())
}

async fn find(state: &AppState, id: &str) -> Result<submissions::Record, ApiError> {
    let not_found = || ApiError::NotFound("Submission not found".into());
    let id: i64 = id.parse().map_err(|_| not_found())?;
    submissions::get(&state.db, id).await?.ok_or_else(not_found)
}

/// The submission's JSON, as every answer about one submission shows it.
async fn load(state: &AppState, id: &str, base: &str) -> Result<Value, ApiError> {
    let rec = find(state, id).await?;
    let links = Links { base, signer: &state.links };
    Ok(submission_json::render_one(&state.db, &rec, &links).await?)
}

/// One report.
#[utoipa::path(
    get,
    path = "/api/supervisor/submissions/{id}",
    tag = "supervisor",
    security(("bearer" = []), ("session" = [])),
    params(("id" = i64, Path, description = "The report's id.")),
    responses(
        (status = 200, description = "The report.", body = shapes::OneSubmission),
        (status = 401, description = "Not signed in, or the token is invalid or revoked.", body = shapes::ErrorBody),
        (status = 403, description = "The caller's role may not do this (or a page change came without its CSRF token).", body = shapes::ErrorBody),
        (status = 404, description = "No report has this id.", body = shapes::ErrorBody),
    )
)]
async fn detail(
    State(state): State<AppState>,
    _caller: Supervisor,
    BaseUrl(base): BaseUrl,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let json = load(&state, &id, &base).await?;
    Ok(Json(json!({ "status": "success", "submission": json })))
}

/// Approves a pending report; its PDF is rendered and e-mailed in the background.
#[utoipa::path(
    patch,
    path = "/api/supervisor/submissions/{id}/approve",
    tag = "supervisor",
    security(("bearer" = []), ("session" = [])),
    params(("id" = i64, Path, description = "The report's id.")),
    request_body(content(
        (shapes::Remarks = "application/json"),
        (shapes::Remarks = "application/x-www-form-urlencoded"),
    )),
    responses(
        (status = 200, description = "Approved; `pdf_status` and `email_status` follow the report job.", body = shapes::Approved),
        (status = 400, description = "The report is already approved.", body = shapes::ErrorBody),
        (status = 401, description = "Not signed in, or the token is invalid or revoked.", body = shapes::ErrorBody),
        (status = 403, description = "The caller's role may not do this (or a page change came without its CSRF token).", body = shapes::ErrorBody),
        (status = 404, description = "No report has this id.", body = shapes::ErrorBody),
        (status = 409, description = "The report was rejected; it can be approved once the technician resubmits it.", body = shapes::ErrorBody),
    )
)]
async fn approve(
    State(state): State<AppState>,
    user: Supervisor,
    ClientAddr(addr): ClientAddr,
    BaseUrl(base): BaseUrl,
    Path(id): Path<String>,
    req: Request,
) -> Result<Json<Value>, ApiError> {
    let body = fields(req).await?;
    let rec = find(&state, &id).await?;
    // Empty remarks (the original UI always sent "") are no remarks; the technician's stay as they are.
    let remarks = text(&body, "remarks").filter(|r| !r.trim().is_empty());
    let email = state.reports.email_configured();
    let job = match submissions::approve(&state.db, rec.id, remarks.as_deref(), user.id, email).await? {
        (Reviewed::Done, Some(job)) => job,
        (Reviewed::Refused(None), _) => return Err(ApiError::NotFound("Submission not found".into())),
        (Reviewed::Refused(Some(SubmissionStatus::Rejected)), _) => {
            return Err(ApiError::Conflict(
                "Submission was rejected; it can be approved once the technician resubmits it.".into(),
            ));
        }
        _ => return Err(ApiError::message("Submission is already approved")),
    };
    state.reports.wake.notify_one();
    state.dashboards.changed();
    learn_position(&state, &rec).await;
    tracing::info!(submission = rec.id, job, by = user.username, "submission approved; report queued");
    let detail =
        json!({ "remarks": remarks, "device": rec.interaction_id, "technician": rec.technician_name });
    audit::record(&state, &user, Action::Approve, format!("submission:{}", rec.id), detail, &addr).await;
    let json = load(&state, &id, &base).await?;
    Ok(Json(json!({
        "status": "success",
        "message": "Submission approved successfully. PDF generation and email notification are being processed in the background.",
        "submission": json,
        "pdf_status": json["pdf_status"],
        "email_status": json["email_status"],
    })))
}

/// A 409: the approval's report may already be with the client, so it is not taken back.
fn approved_cannot_be_rejected() -> ApiError {
    ApiError::Conflict(
        "Submission is already approved; an approved report cannot be rejected. \
         Ask the technician to file a new report if the visit must be redone."
            .into(),
    )
}

/// Rejects a pending report with remarks (10 to 2000 characters) the technician reads.
#[utoipa::path(
    patch,
    path = "/api/supervisor/submissions/{id}/reject",
    tag = "supervisor",
    security(("bearer" = []), ("session" = [])),
    params(("id" = i64, Path, description = "The report's id.")),
    request_body(content(
        (shapes::Remarks = "application/json"),
        (shapes::Remarks = "application/x-www-form-urlencoded"),
    )),
    responses(
        (status = 200, description = "Rejected.", body = shapes::OneSubmission),
        (status = 400, description = "The remarks are missing, too short or too long, or the report is already rejected.", body = shapes::ErrorBody),
        (status = 401, description = "Not signed in, or the token is invalid or revoked.", body = shapes::ErrorBody),
        (status = 403, description = "The caller's role may not do this (or a page change came without its CSRF token).", body = shapes::ErrorBody),
        (status = 404, description = "No report has this id.", body = shapes::ErrorBody),
        (status = 409, description = "The report is approved; an approved report is not taken back.", body = shapes::ErrorBody),
    )
)]
async fn reject(
    State(state): State<AppState>,
    user: Supervisor,
    ClientAddr(addr): ClientAddr,
    BaseUrl(base): BaseUrl,
    Path(id): Path<String>,
    req: Request,
) -> Result<Json<Value>, ApiError> {
    let body = fields(req).await?;
    let rec = find(&state, &id).await?;
    if rec.status == SubmissionStatus::Rejected {
        return Err(ApiError::message("Submission is already rejected"));
    }
    if rec.status == SubmissionStatus::Approved {
        return Err(approved_cannot_be_rejected());
    }
    let remarks = text(&body, "remarks").unwrap_or_default();
    if remarks.trim().is_empty() {
        return Err(ApiError::message("Remarks are required for rejection"));
    }
    if remarks.trim().chars().count() < 10 {
        return Err(ApiError::message("Remarks must be at least 10 characters long"));
    }
    if remarks.chars().count() > 2000 {
        return Err(ApiError::message("Remarks must be at most 2000 characters long"));
    }
    match submissions::reject(&state.db, rec.id, remarks.trim(), user.id).await? {
        Reviewed::Done => {}
        Reviewed::Refused(Some(SubmissionStatus::Approved)) => return Err(approved_cannot_be_rejected()),
        Reviewed::Refused(None) => return Err(ApiError::NotFound("Submission not found".into())),
        Reviewed::Refused(_) => return Err(ApiError::message("Submission is already rejected")),
    }
    state.dashboards.changed();
    tracing::info!(submission = rec.id, by = user.username, "submission rejected");
    let detail =
        json!({ "remarks": remarks.trim(), "device": rec.interaction_id, "technician": rec.technician_name });
    audit::record(&state, &user, Action::Reject, format!("submission:{}", rec.id), detail, &addr).await;
    let json = load(&state, &id, &base).await?;
    Ok(Json(json!({ "status": "success", "message": "Submission rejected", "submission": json })))
}

/// Renders the report's PDF now, without recording it on the report.
#[utoipa::path(
    post,
    path = "/api/supervisor/submissions/{id}/preview-pdf",
    tag = "supervisor",
    security(("bearer" = []), ("session" = [])),
    params(("id" = i64, Path, description = "The report's id.")),
    responses(
        (status = 200, description = "Rendered.", body = shapes::PreviewPdf),
        (status = 401, description = "Not signed in, or the token is invalid or revoked.", body = shapes::ErrorBody),
        (status = 403, description = "The caller's role may not do this (or a page change came without its CSRF token).", body = shapes::ErrorBody),
        (status = 404, description = "No report has this id.", body = shapes::ErrorBody),
        (status = 422, description = "A stored photo of the report cannot be decoded.", body = shapes::ErrorBody),
        (status = 503, description = "Too many of these are being made at once; try again (`Retry-After`).", body = shapes::ErrorBody),
    )
)]
async fn preview_pdf(
    State(state): State<AppState>,
    user: Supervisor,
    ClientAddr(addr): ClientAddr,
    BaseUrl(base): BaseUrl,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let rec = find(&state, &id).await?;
    let built = {
        let _turn = state.gates.pdf.enter().await?;
        build::build(&state.db, &state.store, &state.settings, rec.id, &state.gates.decoding).await?
    };
    let key = MediaKey::generate_named(Area::Pdfs, &built.file_name);
    let size = built.pdf.len() as u64;
    let bytes = bytes::Bytes::from(built.pdf);
    let stored = state
        .store
        .put_stream(&key, futures_util::stream::once(async move { Ok::<_, std::io::Error>(bytes) }), size)
        .await?;
    if let Err(e) = objects::insert(state.db.pool(), Area::Pdfs, &stored, Some("application/pdf")).await {
        let _ = state.store.delete(&key).await;
        return Err(e.into());
    }
    let detail = json!({ "key": key.as_str(), "sha256": stored.sha256, "size": stored.size });
    audit::record(&state, &user, Action::PreviewPdf, format!("submission:{}", rec.id), detail, &addr).await;
    let links = Links { base: &base, signer: &state.links };
    Ok(Json(json!({
        "status": "success",
        "message": "PDF preview generated successfully",
        "pdf_url": links.url(&key),
    })))
}

/// Puts a failed report job (PDF or e-mail) back in the queue (staff only).
#[utoipa::path(
    post,
    path = "/api/supervisor/submissions/{id}/report/retry",
    tag = "supervisor",
    security(("bearer" = []), ("session" = [])),
    params(("id" = i64, Path, description = "The report's id.")),
    responses(
        (status = 200, description = "Queued again.", body = shapes::OneSubmission),
        (status = 400, description = "The report has no failed job.", body = shapes::ErrorBody),
        (status = 401, description = "Not signed in, or the token is invalid or revoked.", body = shapes::ErrorBody),
        (status = 403, description = "The caller's role may not do this (or a page change came without its CSRF token).", body = shapes::ErrorBody),
        (status = 404, description = "No report has this id.", body = shapes::ErrorBody),
    )
)]
async fn retry_report(
    State(state): State<AppState>,
    user: Staff,
    BaseUrl(base): BaseUrl,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let rec = find(&state, &id).await?;
    if !jobs::retry(&state.db, rec.id, state.reports.email_configured()).await? {
        return Err(ApiError::message("There is no failed report job for this submission"));
    }
    state.reports.wake.notify_one();
    tracing::info!(submission = rec.id, by = user.username, "report job retried");
    let json = load(&state, &id, &base).await?;
    Ok(Json(json!({ "status": "success", "message": "Report job queued again", "submission": json })))
}

/// Counts of reports per status.
#[utoipa::path(
    get,
    path = "/api/supervisor/dashboard-stats",
    tag = "supervisor",
    security(("bearer" = []), ("session" = [])),
    responses(
        (status = 200, description = "Counts.", body = shapes::SupervisorStats),
        (status = 401, description = "Not signed in, or the token is invalid or revoked.", body = shapes::ErrorBody),
        (status = 403, description = "The caller's role may not do this (or a page change came without its CSRF token).", body = shapes::ErrorBody),
    )
)]
async fn stats(State(state): State<AppState>, _caller: Supervisor) -> Result<Json<Value>, ApiError> {
    let counts = submissions::status_counts(&state.db).await?;
    let get = |k: SubmissionStatus| counts.get(&k).copied().unwrap_or(0);
    Ok(Json(json!({
        "total_submissions": counts.values().sum::<i64>(),
        "pending_submissions": get(SubmissionStatus::Pending),
        "approved_submissions": get(SubmissionStatus::Approved),
        "rejected_submissions": get(SubmissionStatus::Rejected),
    })))
}

/// Every technician's id, name and city, for the list's filter.
#[utoipa::path(
    get,
    path = "/api/supervisor/technicians",
    tag = "supervisor",
    security(("bearer" = []), ("session" = [])),
    responses(
        (status = 200, description = "The technicians.", body = shapes::TechnicianList),
        (status = 401, description = "Not signed in, or the token is invalid or revoked.", body = shapes::ErrorBody),
        (status = 403, description = "The caller's role may not do this (or a page change came without its CSRF token).", body = shapes::ErrorBody),
    )
)]
async fn technicians(State(state): State<AppState>, _caller: Supervisor) -> Result<Json<Value>, ApiError> {
    let techs = crate::db::users::list(&state.db, Some(Role::Technician)).await?;
    let list: Vec<Value> =
        techs.iter().map(|t| json!({ "id": t.id, "username": t.username, "city": t.city })).collect();
    Ok(Json(json!({ "technicians": list })))
}

/// Once a report is approved, the median of its photos' positions becomes its device's known
/// position, unless the Excel import gave one. A failure is logged: the approval stands.
async fn learn_position(state: &AppState, rec: &submissions::Record) {
    let learned = async {
        let positions = evidence::report_positions(&state.db, rec.id).await?;
        if let Some(at) = Position::median(&positions) {
            evidence::learn_device_position(&state.db, rec.device_id, at).await?;
        }
        Ok::<_, sqlx::Error>(())
    };
    if let Err(e) = learned.await {
        tracing::warn!(submission = rec.id, error = %e, "device position not learned");
    }
}

#[derive(serde::Deserialize)]
struct CheckPath {
    id: String,
    finding: String,
}

/// Marks one finding of a report as checked, with the supervisor's note (what they verified).
/// Recorded with who and when, in the audit trail too; the report's open count drops. Checking
/// a finding already checked changes nothing.
#[utoipa::path(
    post,
    path = "/api/supervisor/submissions/{id}/findings/{finding}/check",
    tag = "supervisor",
    security(("bearer" = []), ("session" = [])),
    params(
        ("id" = i64, Path, description = "The report's id."),
        ("finding" = i64, Path, description = "The finding's id (`evidence.findings[].id` of a photo)."),
    ),
    request_body(content(
        (shapes::CheckNote = "application/json"),
        (shapes::CheckNote = "application/x-www-form-urlencoded"),
    )),
    responses(
        (status = 200, description = "Checked (or already checked: the first check stands).", body = shapes::CheckedFinding),
        (status = 400, description = "The note is missing or longer than 2000 characters.", body = shapes::ErrorBody),
        (status = 401, description = "Not signed in, or the token is invalid or revoked.", body = shapes::ErrorBody),
        (status = 403, description = "The caller's role may not do this (or a page change came without its CSRF token).", body = shapes::ErrorBody),
        (status = 404, description = "No report has this id, or it has no such finding.", body = shapes::ErrorBody),
    )
)]
async fn check_finding(
    State(state): State<AppState>,
    user: Supervisor,
    ClientAddr(addr): ClientAddr,
    Path(p): Path<CheckPath>,
    req: Request,
) -> Result<Json<Value>, ApiError> {
    let body = fields(req).await?;
    let rec = find(&state, &p.id).await?;
    let not_found = || ApiError::NotFound("This report has no such finding".into());
    let finding: i64 = p.finding.parse().map_err(|_| not_found())?;
    let note = text(&body, "note").map(|n| n.trim().to_string()).unwrap_or_default();
    if note.is_empty() {
        return Err(ApiError::field("note", "Say what you checked: a note is required."));
    }
    if note.chars().count() > 2000 {
        return Err(ApiError::field("note", "The note must be at most 2000 characters long."));
    }
    let (row, first) =
        match evidence::check(&state.db, rec.id, finding, (user.id, &user.username), &note).await? {
            evidence::Checked::Done(row) => (row, true),
            evidence::Checked::Already(row) => (row, false),
            evidence::Checked::NotFound => return Err(not_found()),
        };
    if first {
        state.dashboards.changed();
        let detail = json!({ "kind": row.kind, "note": note, "photo": row.photo_id });
        audit::record(&state, &user, Action::CheckFinding, format!("submission:{}", rec.id), detail, &addr)
            .await;
    }
    Ok(Json(json!({
        "status": "success",
        "message": if first { "Finding marked as checked" } else { "This finding was already checked" },
        "finding": submission_json::finding_json(&row),
    })))
}
