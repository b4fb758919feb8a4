//! `/metrics` exposes the operator's series in Prometheus format, behind its token.

mod common;

use common::*;

#[tokio::test(flavor = "multi_thread")]
async fn metrics_expose_uploads_storage_disk_jobs_and_latency_behind_a_token() {
    let tmp = tempfile::tempdir().unwrap();
    let d = Deployment::new(Backend::Sqlite, tmp.path()).await.with("METRICS_TOKEN", "scrape-me-please");
    let server = d.start().unwrap();
    let c = client();
    for i in 0..3 {
        let r = c.post(server.url("/api/_test/objects")).body(payload(i, 4000)).send().await.unwrap();
        assert_eq!(r.status(), 201);
    }
    assert_eq!(c.get(server.url("/metrics")).send().await.unwrap().status(), 401);
    let wrong = c.get(server.url("/metrics")).bearer_auth("guess").send().await.unwrap();
    assert_eq!(wrong.status(), 401);
    let text = c
        .get(server.url("/metrics"))
        .bearer_auth("scrape-me-please")
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    for series in [
        "atm_uploads_total{store=\"local\",outcome=\"stored\"} 3",
        "atm_upload_bytes_total{store=\"local\"} 12000",
        "atm_stored_objects 3",
        "atm_stored_bytes 12000",
        "atm_disk_free_bytes",
        "atm_disk_total_bytes",
        "atm_report_jobs{state=\"pending\"} 0",
        "atm_http_request_duration_seconds_bucket{route=\"/api/_test/objects\"",
    ] {
        assert!(text.contains(series), "{series} missing from:\n{text}");
    }
    drop(server);
    let off = Deployment { ..d }.without("METRICS_TOKEN");
    let server = off.start().unwrap();
    assert_eq!(c.get(server.url("/metrics")).send().await.unwrap().status(), 404);
}
