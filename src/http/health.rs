//! `/healthz` (the process is alive) and `/readyz` (database reachable, storage guard passed,
//! storage writable right now).
//!
//! `/readyz` is anonymous — load balancers call it — so its answer is only pass or fail; the
//! checks behind it (which name paths, uid/gid and folder modes when storage is not writable)
//! go to hosts and supervisors and to the bearer of `METRICS_TOKEN`. A live check writes and
//! fsyncs a probe file, so one check serves every caller for
//! [`crate::state::FRESH_FOR`]: a burst of calls costs one probe, not one each.

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::IntoResponse;
use axum::routing::get;
use axum::{Json, Router};
use serde_json::json;

use super::extract::Staff;
use crate::error::ApiError;
use crate::state::AppState;

pub(crate) fn router() -> Router<AppState> {
    Router::new().route("/healthz", get(healthz)).route("/readyz", get(readyz))
}

async fn healthz() -> impl IntoResponse {
    Json(json!({ "status": "ok" }))
}

async fn readyz(
    State(state): State<AppState>,
    headers: HeaderMap,
    staff: Result<Staff, ApiError>,
) -> impl IntoResponse {
    let check = state.readiness.current(&state).await;
    let status = if check.ready() { StatusCode::OK } else { StatusCode::SERVICE_UNAVAILABLE };
    let word = if check.ready() { "ok" } else { "unavailable" };
    if staff.is_err() && !super::metrics::bears_metrics_token(&state, &headers) {
        return (status, Json(json!({ "status": word })));
    }
    let body = json!({
        "status": word,
        "checked_seconds_ago": check.at.elapsed().as_secs(),
        "checks": {
            "database": if check.database { "ok" } else { "unreachable" },
            "storage_guard": if check.guard { "passed" } else { "failed" },
            "storage_writable": match &check.storage { Ok(()) => "ok".to_string(), Err(e) => e.clone() },
        }
    });
    (status, Json(body))
}
