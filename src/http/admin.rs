//! `GET /api/admin/doctor`: the doctor report of the running service, for hosts and supervisors.

use axum::Json;
use axum::extract::State;
use utoipa_axum::routes;

use super::extract::Staff;
use super::openapi::shapes;
use super::{ApiRouter, route};
use crate::error::ApiError;
use crate::ops::doctor;
use crate::state::AppState;

pub(crate) fn router() -> ApiRouter {
    route(ApiRouter::new(), routes!(report))
}

/// What `atm-maint doctor` reports, from the running service (staff only).
#[utoipa::path(
    get,
    path = "/api/admin/doctor",
    tag = "operations",
    security(("bearer" = []), ("session" = [])),
    responses(
        (status = 200, description = "The report.", body = shapes::DoctorReport),
        (status = 401, description = "Not signed in, or the token is invalid or revoked.", body = shapes::ErrorBody),
        (status = 403, description = "The caller's role may not do this (or a page change came without its CSRF token).", body = shapes::ErrorBody),
    )
)]
async fn report(State(state): State<AppState>, _staff: Staff) -> Result<Json<doctor::Report>, ApiError> {
    Ok(Json(doctor::of_running(&state.settings, &state.db, &state.store).await))
}
