//! `GET /api/admin/doctor`: the doctor report of the running service, for hosts and supervisors.

use axum::extract::State;
use axum::routing::get;
use axum::{Json, Router};

use super::extract::Staff;
use super::route;
use crate::error::ApiError;
use crate::ops::doctor;
use crate::state::AppState;

pub(crate) fn router() -> Router<AppState> {
    route(Router::new(), "/api/admin/doctor", get(report))
}

async fn report(State(state): State<AppState>, _staff: Staff) -> Result<Json<doctor::Report>, ApiError> {
    Ok(Json(doctor::of_running(&state.settings, &state.db, &state.store).await))
}
