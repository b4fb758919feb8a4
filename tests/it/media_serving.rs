//! Serving stored files: the same answers (Range, validators, HEAD) whether a photo comes from
//! the in-memory copies of small objects or is streamed from disk, and a deleted photo is gone
//! even right after it was served from memory.

use crate::common::api::*;
use crate::common::*;

/// A server with one filed report; returns the API, the host's token, the technician's id and
/// the first photo's signed link.
async fn one_report(dir: &std::path::Path, cache_mb: &str) -> (Api, String, i64, String) {
    let d = Deployment::new(Backend::Sqlite, dir).await.with("MEDIA_CACHE_MB", cache_mb);
    seed_staff(&d);
    let api = Api::new(d.start().unwrap());
    let host = api.login("host1", PASSWORD).await;
    let tech = api.create_technician(&host, "tech_m", "Riyadh").await;
    let up = api.upload_excel(&host, tech, "Cleaning1", &[["GFM-M", "1", "Cleaning", "", "Riyadh"]]).await;
    assert_eq!(up.status, 201);
    let t = api.login("tech_m", PASSWORD).await;
    let (form, _) = report(api.device_id(&t, "GFM-M").await, &today(), false, 7);
    let r = api.post_form(Some(&t), "/api/technician/submit", form).await;
    assert_eq!(r.status, 201, "{}", r.body);
    let url = r.body["submission"]["photos"][0]["file_url"].as_str().unwrap().to_string();
    (api, host, tech, url)
}

#[tokio::test(flavor = "multi_thread")]
async fn ranges_and_validators_answer_alike_from_memory_and_from_disk() {
    let mut seen = Vec::new();
    for cache_mb in ["32", "0"] {
        let tmp = tempfile::tempdir().unwrap();
        let (api, _, _, url) = one_report(tmp.path(), cache_mb).await;
        let http = &api.http;
        let whole = http.get(&url).send().await.unwrap();
        assert_eq!(whole.status(), 200);
        let h = whole.headers().clone();
        let full = whole.bytes().await.unwrap();
        let n = full.len();
        assert_eq!(h["content-length"].to_str().unwrap(), n.to_string());
        assert_eq!(h["accept-ranges"], "bytes");
        let (etag, modified) =
            (h["etag"].to_str().unwrap().to_string(), h["last-modified"].to_str().unwrap().to_string());
        for _ in 0..3 {
            assert_eq!(
                http.get(&url).send().await.unwrap().bytes().await.unwrap(),
                full,
                "cache {cache_mb}: same bytes again"
            );
        }

        let part = |range: &'static str| http.get(&url).header("range", range);
        let r = part("bytes=10-109").send().await.unwrap();
        assert_eq!(r.status(), 206);
        assert_eq!(r.headers()["content-range"].to_str().unwrap(), format!("bytes 10-109/{n}"));
        assert_eq!(r.bytes().await.unwrap(), full.slice(10..110));
        let r = part("bytes=-16").send().await.unwrap();
        assert_eq!(r.status(), 206);
        assert_eq!(r.bytes().await.unwrap(), full.slice(n - 16..));
        let r = http.get(&url).header("range", format!("bytes={}-", n - 5)).send().await.unwrap();
        assert_eq!(r.bytes().await.unwrap(), full.slice(n - 5..));
        let r = http.get(&url).header("range", format!("bytes={n}-")).send().await.unwrap();
        assert_eq!(r.status(), 416);
        assert_eq!(r.headers()["content-range"].to_str().unwrap(), format!("bytes */{n}"));
        let r = http
            .get(&url)
            .header("range", "bytes=0-9")
            .header("if-range", "\"not-this-one\"")
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200, "a stale If-Range gets the whole file");
        assert_eq!(r.bytes().await.unwrap().len(), n);

        let r = http.get(&url).header("if-none-match", &etag).send().await.unwrap();
        assert_eq!(r.status(), 304);
        assert!(r.bytes().await.unwrap().is_empty());
        let r = http.get(&url).header("if-modified-since", &modified).send().await.unwrap();
        assert_eq!(r.status(), 304);
        let r = http
            .get(&url)
            .header("if-none-match", "\"other\"")
            .header("if-modified-since", &modified)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200, "If-None-Match decides when present");

        let head = http.head(&url).send().await.unwrap();
        assert_eq!(head.status(), 200);
        assert_eq!(head.headers()["content-length"].to_str().unwrap(), n.to_string());
        assert!(head.bytes().await.unwrap().is_empty());
        seen.push((crate::common::sha256_hex(&full), etag));
    }
    assert_eq!(seen.len(), 2);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_deleted_photo_is_gone_at_once_though_it_was_just_served_from_memory() {
    let tmp = tempfile::tempdir().unwrap();
    let (api, host, tech, url) = one_report(tmp.path(), "32").await;
    for _ in 0..2 {
        assert_eq!(api.http.get(&url).send().await.unwrap().status(), 200);
    }
    let r = api.delete(Some(&host), &format!("/api/host/technicians/{tech}/")).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let after = api.http.get(&url).send().await.unwrap();
    assert_eq!(after.status(), 404, "the link is still signed, but the photo is deleted");
}
