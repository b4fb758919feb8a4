//! `/healthz` (the process is alive) and `/readyz` (database reachable, storage guard passed,
//! storage writable right now).

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::routing::get;
use axum::{Json, Router};
use serde_json::json;

use crate::app::AppState;

pub fn router() -> Router<AppState> {
    Router::new().route("/healthz", get(healthz)).route("/readyz", get(readyz))
}

async fn healthz() -> impl IntoResponse {
    Json(json!({ "status": "ok" }))
}

async fn readyz(State(state): State<AppState>) -> impl IntoResponse {
    let database = state.db.ping().await;
    let storage = state.store.probe().await;
    let guard = state.guard.is_ok();
    let ready = database && storage.is_ok() && guard;
    let body = json!({
        "status": if ready { "ready" } else { "not ready" },
        "checks": {
            "database": if database { "ok" } else { "unreachable" },
            "storage_guard": if guard { "passed" } else { "failed" },
            "storage_writable": match &storage { Ok(()) => "ok".to_string(), Err(e) => e.clone() },
        }
    });
    if !ready {
        tracing::warn!(%body, "readiness check failed");
    }
    let status = if ready { StatusCode::OK } else { StatusCode::SERVICE_UNAVAILABLE };
    (status, Json(body))
}
