//! `/healthz` (the process is alive) and `/readyz` (database reachable, storage guard passed,
//! storage writable right now).
//!
//! `/readyz` is anonymous — load balancers call it — so its answer is only pass or fail; the
//! checks behind it (which name paths, uid/gid and folder modes when storage is not writable)
//! go to hosts and supervisors and to the bearer of `METRICS_TOKEN`. A live check writes and
//! fsyncs a probe file, so one check serves every caller for
//! [`crate::state::FRESH_FOR`]: a burst of calls costs one probe, not one each.

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::IntoResponse;
use serde_json::json;
use utoipa_axum::routes;

use super::ApiRouter;
use super::extract::Staff;
use super::openapi::shapes;
use crate::error::ApiError;
use crate::state::AppState;

pub(crate) fn router() -> ApiRouter {
    ApiRouter::new().routes(routes!(healthz)).routes(routes!(readyz))
}

/// The process is alive.
#[utoipa::path(
    get,
    path = "/healthz",
    tag = "operations",
    responses((status = 200, description = "Alive: `{\"status\": \"ok\"}`.", body = shapes::Health))
)]
async fn healthz() -> impl IntoResponse {
    Json(json!({ "status": "ok" }))
}

/// Ready to serve: the database answers, the storage guard passed and storage takes a write now.
/// Anonymous callers get pass or fail only; staff and the metrics token see the checks.
#[utoipa::path(
    get,
    path = "/readyz",
    tag = "operations",
    security((), ("bearer" = []), ("session" = []), ("metrics_token" = [])),
    responses(
        (status = 200, description = "Ready.", body = shapes::Health),
        (status = 503, description = "Not ready; `checks` (for staff) says what failed.", body = shapes::Health),
    )
)]
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
