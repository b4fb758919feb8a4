//! `GET /api/admin/doctor`: the doctor report of the running service, for hosts and supervisors.

use axum::extract::State;
use axum::routing::get;
use axum::{Json, Router};

use super::extract::AuthUser;
use super::route;
use crate::app::AppState;
use crate::cli::doctor;
use crate::domain::Role;
use crate::error::ApiError;

pub fn router() -> Router<AppState> {
    route(Router::new(), "/api/admin/doctor", get(report))
}

async fn report(State(state): State<AppState>, user: AuthUser) -> Result<Json<doctor::Report>, ApiError> {
    user.require(&[Role::Host, Role::Supervisor])?;
    Ok(Json(doctor::build(&state.settings).await))
}
