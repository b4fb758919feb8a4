//! Data host endpoints (spec §3.3): technicians, Excel device lists, dashboard counts.

mod excel;
mod technicians;

use axum::extract::State;
use axum::routing::{get, post};
use axum::{Json, Router};
use serde_json::{Value, json};

use super::extract::Staff;
use super::route;
use crate::db::{devices, users};
use crate::domain::Role;
use crate::error::ApiError;
use crate::state::AppState;

pub(crate) fn router() -> Router<AppState> {
    let r = Router::new();
    let r = route(r, "/api/host/technicians/", get(technicians::list).post(technicians::create));
    let r = route(r, "/api/host/technicians/{id}/", axum::routing::delete(technicians::delete));
    let r = route(r, "/api/host/technicians/{id}/uploaded-types", get(excel::uploaded_types));
    let r = route(r, "/api/host/technicians/{id}/uploaded-files", get(excel::uploaded_files));
    let r = route(
        r,
        "/api/host/upload-excel",
        post(excel::upload).layer(axum::extract::DefaultBodyLimit::max(excel::MAX_REQUEST_BYTES)),
    );
    let r = route(r, "/api/host/import-report", get(import_report));
    route(r, "/api/host/dashboard-stats", get(dashboard_stats))
}

/// The loss report kept by `atm-maint import django`: what the original had already lost or
/// damaged, its reports without photos, files no row named. Empty without an import.
async fn import_report(State(state): State<AppState>, _caller: Staff) -> Result<Json<Value>, ApiError> {
    let findings = crate::db::imported::findings(&state.db).await?;
    let counts: serde_json::Map<String, Value> = crate::db::imported::finding_counts(&state.db)
        .await?
        .into_iter()
        .map(|(kind, n)| (kind, json!(n)))
        .collect();
    Ok(Json(json!({ "counts": counts, "findings": findings })))
}

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
