//! The process's Prometheus recorder. Counters and histograms are recorded where things happen;
//! `http/metrics.rs` serves them at `GET /metrics` with the store, disk and job gauges read then.

use std::sync::OnceLock;

use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle};

static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();

/// Installs the process-wide recorder once (the first serve in a process).
pub(crate) fn install() {
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

/// Everything recorded so far in Prometheus' text format; `None` before [`install`].
pub(crate) fn render() -> Option<String> {
    HANDLE.get().map(PrometheusHandle::render)
}
