//! Prometheus metrics at `GET /metrics` (bearer `METRICS_TOKEN`; off without one). Counters and
//! histograms are recorded where things happen; store, disk and job gauges are read at scrape.

use std::sync::OnceLock;
use std::time::Instant;

use axum::extract::{MatchedPath, Request, State};
use axum::http::{StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle};

use crate::app::AppState;
use crate::db::{jobs, objects};
use crate::storage::{MediaStore, mounts};

static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();

/// Installs the process-wide recorder once (the first serve in a process).
pub fn install() {
    if HANDLE.get().is_some() {
        return;
    }
    let builder = PrometheusBuilder::new()
        .set_buckets_for_metric(
            metrics_exporter_prometheus::Matcher::Suffix("duration_seconds".into()),
            &[0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0],
        )
        .expect("static buckets");
    match builder.install_recorder() {
        Ok(h) => {
            let _ = HANDLE.set(h);
        }
        Err(e) => tracing::warn!(error = %e, "metrics recorder not installed"),
    }
}

/// Request latency by route, method and status.
pub async fn track(req: Request, next: Next) -> Response {
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map(|m| m.as_str().to_string())
        .unwrap_or_else(|| "unmatched".into());
    let method = req.method().to_string();
    let started = Instant::now();
    let response = next.run(req).await;
    metrics::histogram!(
        "atm_http_request_duration_seconds",
        "route" => route,
        "method" => method,
        "status" => response.status().as_u16().to_string()
    )
    .record(started.elapsed().as_secs_f64());
    response
}

pub async fn scrape(State(state): State<AppState>, req: Request) -> Response {
    let Some(token) = &state.settings.metrics_token else {
        return (StatusCode::NOT_FOUND, "metrics are off: set METRICS_TOKEN to enable /metrics\n")
            .into_response();
    };
    let given = req
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "));
    if given != Some(token.expose()) {
        return (StatusCode::UNAUTHORIZED, "a valid METRICS_TOKEN bearer token is required\n")
            .into_response();
    }
    if let Ok((n, bytes)) = objects::count(&state.db).await {
        metrics::gauge!("atm_stored_objects").set(n as f64);
        metrics::gauge!("atm_stored_bytes").set(bytes as f64);
    }
    if let MediaStore::Local(local) = &state.store
        && let Ok(space) = mounts::space(local.root())
    {
        metrics::gauge!("atm_disk_total_bytes").set(space.total_bytes as f64);
        metrics::gauge!("atm_disk_free_bytes").set(space.free_bytes as f64);
        metrics::gauge!("atm_disk_used_percent").set(space.used_percent);
    }
    if let Ok(counts) = jobs::state_counts(&state.db).await {
        for state_name in ["pending", "done", "failed"] {
            let n = counts.get(state_name).copied().unwrap_or(0);
            metrics::gauge!("atm_report_jobs", "state" => state_name).set(n as f64);
        }
    }
    match HANDLE.get() {
        Some(h) => ([(header::CONTENT_TYPE, "text/plain; version=0.0.4")], h.render()).into_response(),
        None => (StatusCode::SERVICE_UNAVAILABLE, "metrics recorder not installed\n").into_response(),
    }
}
