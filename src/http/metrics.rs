//! `GET /metrics` (bearer `METRICS_TOKEN`; off without one) and the request-latency middleware.

use std::time::Instant;

use axum::extract::{MatchedPath, Request, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use sha2::{Digest, Sha256};
use utoipa_axum::routes;

use super::ApiRouter;

use crate::db::{jobs, objects};
use crate::ops::metrics;
use crate::state::AppState;

/// Request latency by route, method and status.
pub(crate) async fn track(req: Request, next: Next) -> Response {
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map(|m| m.as_str().to_string())
        .unwrap_or_else(|| "unmatched".into());
    let method = req.method().to_string();
    let started = Instant::now();
    let response = next.run(req).await;
    ::metrics::histogram!(
        "atm_http_request_duration_seconds",
        "route" => route,
        "method" => method,
        "status" => response.status().as_u16().to_string()
    )
    .record(started.elapsed().as_secs_f64());
    response
}

pub(crate) fn router() -> ApiRouter {
    ApiRouter::new().routes(routes!(scrape))
}

/// Prometheus metrics: request latencies, uploads, report jobs, stored objects and disk space.
#[utoipa::path(
    get,
    path = "/metrics",
    tag = "operations",
    security(("metrics_token" = [])),
    responses(
        (status = 200, description = "The metrics in Prometheus' text format.", content_type = "text/plain", body = String),
        (status = 401, description = "The bearer token is not `METRICS_TOKEN`.", content_type = "text/plain", body = String),
        (status = 404, description = "Metrics are off (no `METRICS_TOKEN` set).", content_type = "text/plain", body = String),
    )
)]
pub(crate) async fn scrape(State(state): State<AppState>, req: Request) -> Response {
    if state.settings.metrics_token.is_none() {
        return (StatusCode::NOT_FOUND, "metrics are off: set METRICS_TOKEN to enable /metrics\n")
            .into_response();
    }
    if !bears_metrics_token(&state, req.headers()) {
        return (StatusCode::UNAUTHORIZED, "a valid METRICS_TOKEN bearer token is required\n")
            .into_response();
    }
    if let Ok((n, bytes)) = objects::count(&state.db).await {
        ::metrics::gauge!("atm_stored_objects").set(n as f64);
        ::metrics::gauge!("atm_stored_bytes").set(bytes as f64);
    }
    if let Some(space) = state.store.space() {
        ::metrics::gauge!("atm_disk_total_bytes").set(space.total_bytes as f64);
        ::metrics::gauge!("atm_disk_free_bytes").set(space.free_bytes as f64);
        ::metrics::gauge!("atm_disk_used_percent").set(space.used_percent);
    }
    if let Ok(counts) = jobs::state_counts(&state.db).await {
        for state_name in ["pending", "done", "failed"] {
            let n = counts.get(state_name).copied().unwrap_or(0);
            ::metrics::gauge!("atm_report_jobs", "state" => state_name).set(n as f64);
        }
    }
    match metrics::render() {
        Some(text) => ([(header::CONTENT_TYPE, "text/plain; version=0.0.4")], text).into_response(),
        None => (StatusCode::SERVICE_UNAVAILABLE, "metrics recorder not installed\n").into_response(),
    }
}

/// Whether the request carries `Authorization: Bearer <METRICS_TOKEN>`. Comparing digests keeps
/// the time taken independent of how much of a guess was right.
pub(crate) fn bears_metrics_token(state: &AppState, headers: &HeaderMap) -> bool {
    let Some(token) = &state.settings.metrics_token else { return false };
    let given = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "));
    given.is_some_and(|g| Sha256::digest(g.as_bytes()) == Sha256::digest(token.expose().as_bytes()))
}
