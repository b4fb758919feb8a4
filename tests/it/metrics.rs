//! `/metrics` exposes the operator's series in Prometheus format, behind its token.

use crate::common;
use crate::common::*;

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

fn counter(metrics: &str, name: &str) -> f64 {
    metrics
        .lines()
        .find_map(|l| l.strip_prefix(name).and_then(|rest| rest.trim().parse().ok()))
        .unwrap_or(0.0)
}

#[tokio::test(flavor = "multi_thread")]
async fn anonymous_readyz_says_only_pass_or_fail_and_a_burst_of_calls_costs_one_probe() {
    let tmp = tempfile::tempdir().unwrap();
    let d = Deployment::new(Backend::Sqlite, tmp.path()).await.with("METRICS_TOKEN", "scrape-me-please");
    common::api::seed_staff(&d);
    let api = common::api::Api::new(d.start().unwrap());
    let server = &api.server;
    let c = client();
    let burst = (0..50).map(|_| {
        let (c, url) = (c.clone(), server.url("/readyz"));
        tokio::spawn(async move {
            let r = c.get(url).send().await.unwrap();
            (r.status().as_u16(), r.text().await.unwrap())
        })
    });
    for call in futures_util::future::join_all(burst).await {
        let (status, body) = call.unwrap();
        assert_eq!(status, 200, "{body}");
        assert_eq!(
            serde_json::from_str::<serde_json::Value>(&body).unwrap(),
            serde_json::json!({"status": "ok"})
        );
        let root = d.media_root.to_string_lossy();
        for secret in [root.as_ref(), "uid", "gid", "mode", "media"] {
            assert!(!body.contains(secret), "anonymous /readyz tells {secret:?}: {body}");
        }
    }
    let scrape = || async {
        c.get(server.url("/metrics"))
            .bearer_auth("scrape-me-please")
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap()
    };
    let checks = counter(&scrape().await, "atm_readiness_checks_total");
    // One check answers for a few seconds; a slow machine may cross that window once.
    assert!((1.0..=2.0).contains(&checks), "50 calls ran {checks} live checks");

    // The details go to the metrics token's bearer and to staff, not to anyone else.
    let with_token = c.get(server.url("/readyz")).bearer_auth("scrape-me-please").send().await.unwrap();
    let body: serde_json::Value = with_token.json().await.unwrap();
    assert_eq!(body["checks"]["storage_writable"], "ok", "{body}");
    let sup = api.login("sup1", common::api::PASSWORD).await;
    let body = api.get(Some(&sup), "/readyz").await.body;
    assert_eq!(body["checks"]["database"], "ok", "{body}");
    let guess = c.get(server.url("/readyz")).bearer_auth("guess").send().await.unwrap();
    assert_eq!(guess.json::<serde_json::Value>().await.unwrap(), serde_json::json!({"status": "ok"}));
}
