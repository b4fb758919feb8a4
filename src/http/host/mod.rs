//! Data host endpoints (spec §3.3): technicians, Excel device lists, dashboard counts.

mod excel;
mod technicians;

use axum::Json;
use axum::extract::State;
use serde_json::{Value, json};
use utoipa_axum::routes;

use super::extract::Staff;
use super::openapi::shapes;
use super::{ApiRouter, route};
use crate::db::{devices, users};
use crate::domain::Role;
use crate::error::ApiError;
use crate::state::AppState;

pub(crate) fn router() -> ApiRouter {
    let r = route(ApiRouter::new(), routes!(technicians::list, technicians::create));
    let r = route(r, routes!(technicians::delete));
    let r = route(r, routes!(excel::uploaded_types));
    let r = route(r, routes!(excel::uploaded_files));
    let (schemas, paths, upload) = routes!(excel::upload);
    let upload = upload.layer(axum::extract::DefaultBodyLimit::max(excel::MAX_REQUEST_BYTES));
    let r = route(r, (schemas, paths, upload));
    let r = route(r, routes!(import_report));
    route(r, routes!(dashboard_stats))
}

/// The loss report kept by `atm-maint import django`: what the original had already lost or
/// damaged, its reports without photos, files no row named. Empty without an import.
#[utoipa::path(
    get,
    path = "/api/host/import-report",
    tag = "host",
    security(("bearer" = []), ("session" = [])),
    responses(
        (status = 200, description = "The loss report; empty counts and findings without an import.", body = shapes::ImportReport),
        (status = 401, description = "Not signed in, or the token is invalid or revoked.", body = shapes::ErrorBody),
        (status = 403, description = "The caller's role may not do this (or a page change came without its CSRF token).", body = shapes::ErrorBody),
    )
)]
async fn import_report(State(state): State<AppState>, _caller: Staff) -> Result<Json<Value>, ApiError> {
    let findings = crate::db::imported::findings(&state.db).await?;
    let counts: serde_json::Map<String, Value> = crate::db::imported::finding_counts(&state.db)
        .await?
        .into_iter()
        .map(|(kind, n)| (kind, json!(n)))
        .collect();
    Ok(Json(json!({ "counts": counts, "findings": findings })))
}

/// The host's counts, with the first ten technicians and their device counts.
#[utoipa::path(
    get,
    path = "/api/host/dashboard-stats",
    tag = "host",
    security(("bearer" = []), ("session" = [])),
    responses(
        (status = 200, description = "Counts.", body = shapes::HostStats),
        (status = 401, description = "Not signed in, or the token is invalid or revoked.", body = shapes::ErrorBody),
        (status = 403, description = "The caller's role may not do this (or a page change came without its CSRF token).", body = shapes::ErrorBody),
    )
)]
async fn dashboard_stats(State(state): State<AppState>, _caller: Staff) -> Result<Json<Value>, ApiError> {
    let techs = users::list(&state.db, Some(Role::Technician)).await?;
    let mut recent = Vec::new();
    for t in techs.iter().take(10) {
        recent.push(json!({
            "id": t.id,
            "username": t.username,
            "city": t.city,
            "device_count": devices::count_assignments(&state.db, t.id).await?,
            "created_at": t.created_at,
        }));
    }
    Ok(Json(json!({
        "total_technicians": techs.len(),
        "total_devices": devices::count(&state.db).await?,
        "technicians_with_devices": recent,
    })))
}
