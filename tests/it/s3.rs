//! Object storage: one storage contract run against the local-disk store and a real
//! S3-compatible server; the API workflow on a bucket and PostgreSQL, surviving an empty local
//! disk; two server processes sharing the database and the bucket.

use crate::common::api::*;
use crate::common::*;
use atm_maint::config::{S3Settings, Secret};
use atm_maint::error::ApiError;
use atm_maint::http::media::serve_object;
use atm_maint::storage::{Area, LocalStore, MediaKey, MediaStore, S3Store, StoreError};
use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use bytes::Bytes;
use serde_json::json;

fn once(bytes: Vec<u8>) -> impl futures_util::Stream<Item = Result<Bytes, std::io::Error>> + Send {
    futures_util::stream::once(async move { Ok(Bytes::from(bytes)) })
}

async fn body_of(r: axum::response::Response) -> Vec<u8> {
    use http_body_util::BodyExt;
    r.into_body().collect().await.unwrap().to_bytes().to_vec()
}

async fn contract(store: &MediaStore) {
    const LIMIT: u64 = 16 * 1024 * 1024;
    store.probe().await.unwrap();
    // Create-only, with size and hash.
    let key = MediaKey::generate(Area::Photos, "jpg");
    let data = payload(1, 300_000);
    let o = store.put_stream(&key, once(data.clone()), LIMIT).await.unwrap();
    assert_eq!((o.size, o.sha256.clone()), (data.len() as u64, sha256_hex(&data)));
    let again = store.put_stream(&key, once(payload(2, 10)), LIMIT).await.unwrap_err();
    assert!(matches!(again, StoreError::AlreadyExists), "{}: overwrote: {again:?}", store.name());
    assert_eq!(store.read(&key).await.unwrap().to_vec(), data);
    // Range and conditional reads.
    let req = Request::get("/").header(header::RANGE, "bytes=10-19").body(Body::empty()).unwrap();
    let r = serve_object(store, &key, req).await.unwrap();
    assert_eq!(r.status(), StatusCode::PARTIAL_CONTENT, "{}", store.name());
    assert_eq!(body_of(r).await, data[10..20].to_vec());
    let r = serve_object(store, &key, Request::get("/").body(Body::empty()).unwrap()).await.unwrap();
    let etag = r.headers()[header::ETAG].to_str().unwrap().to_string();
    assert_eq!(r.headers()[header::CONTENT_TYPE], "image/jpeg");
    let req = Request::get("/").header(header::IF_NONE_MATCH, &etag).body(Body::empty()).unwrap();
    assert_eq!(
        serve_object(store, &key, req).await.unwrap().status(),
        StatusCode::NOT_MODIFIED,
        "{}",
        store.name()
    );
    // Large objects.
    let big_key = MediaKey::generate(Area::Pdfs, "pdf");
    let big = payload(3, 9 * 1024 * 1024 + 17);
    store.put_stream(&big_key, once(big.clone()), LIMIT).await.unwrap();
    assert_eq!(sha256_hex(&store.read(&big_key).await.unwrap()), sha256_hex(&big));
    let too_big =
        store.put_stream(&MediaKey::generate(Area::Photos, "jpg"), once(payload(4, 2048)), 1024).await;
    assert!(matches!(too_big, Err(StoreError::TooLarge { .. })));
    // Missing keys.
    let missing = MediaKey::generate(Area::Photos, "jpg");
    assert!(matches!(store.read(&missing).await, Err(StoreError::NotFound)));
    assert!(matches!(
        serve_object(store, &missing, Request::get("/").body(Body::empty()).unwrap()).await,
        Err(ApiError::NotFound(_))
    ));
    // Deleted is gone; the listing sees what is stored.
    store.delete(&big_key).await.unwrap();
    let listed: Vec<String> = store.list_all().await.unwrap().into_iter().map(|l| l.key).collect();
    assert!(listed.contains(&key.to_string()) && !listed.contains(&big_key.to_string()), "{listed:?}");
}

#[tokio::test(flavor = "multi_thread")]
#[ignore = "needs an S3-compatible server: ATM_TEST_S3_ENDPOINT (scripts/test starts moto when installed)"]
async fn the_storage_contract_holds_on_local_disk_and_on_s3() {
    let tmp = tempfile::tempdir().unwrap();
    contract(&MediaStore::local(LocalStore::new(tmp.path()))).await;
    let (endpoint, bucket) = s3_bucket().await;
    let s3 = S3Store::new(&S3Settings {
        bucket,
        prefix: "media".into(),
        endpoint: Some(endpoint),
        region: "us-east-1".into(),
        access_key_id: Some("test".into()),
        secret_access_key: Some(Secret::new("test")),
        path_style: true,
        presigned_redirects: false,
    })
    .unwrap();
    // The canary tells whether the endpoint verifies checksums; if not, writes are read back.
    let verifies = s3.checksum_canary().await.unwrap();
    assert_eq!(s3.verifies_by_readback(), !verifies);
    println!(
        "S3 endpoint verifies checksums: {verifies}; read-back verification: {}",
        s3.verifies_by_readback()
    );
    contract(&MediaStore::s3(s3)).await;
}

on_each_database!(
    the_workflow_runs_on_a_bucket_and_survives_an_empty_local_disk,
    needs = "needs an S3-compatible server: ATM_TEST_S3_ENDPOINT (scripts/test starts moto when installed)"
);
async fn the_workflow_runs_on_a_bucket_and_survives_an_empty_local_disk(backend: Backend) {
    let (endpoint, bucket) = s3_bucket().await;
    let tmp = tempfile::tempdir().unwrap();
    let mut d = Deployment::new(backend, tmp.path())
        .await
        .without("ATM_TEST_ROUTES")
        .with_s3(&endpoint, &bucket)
        .with("REPORT_JOB_LEASE_SECONDS", "3");
    if backend == Backend::Sqlite {
        // The database must outlive the local disk we are about to throw away.
        d.database_url = format!("sqlite://{}/kept.db", tmp.path().display());
    }
    seed_staff(&d);
    let api = Api::new(d.start().unwrap());
    let host = api.login("host1", PASSWORD).await;
    let tech_id = api.create_technician(&host, "tech_s3", "Riyadh").await;
    assert_eq!(
        api.upload_excel(&host, tech_id, "Cleaning1", &[["GFM-S3", "31", "Cleaning", "", "Riyadh"]])
            .await
            .status,
        201
    );
    let tech = api.login("tech_s3", PASSWORD).await;
    let device = api.device_id(&tech, "GFM-S3").await;
    let (form, sent) = report(device, &today(), false, 7);
    let r = api.post_form(Some(&tech), "/api/technician/submit", form).await;
    assert_eq!(r.status, 201, "{}", r.body);
    let id = r.body["submission"]["id"].as_i64().unwrap();
    let sup = api.login("sup1", PASSWORD).await;
    let r = api.patch_json(Some(&sup), &format!("/api/supervisor/submissions/{id}/approve"), json!({})).await;
    assert_eq!(r.status, 200);
    assert!(photo_files(&d.media_root) == 0, "photos went to the bucket, not the local disk");
    let Api { server, .. } = api;
    drop(server);

    // A new process with an empty local disk: everything is still there.
    let fresh = tmp.path().join("fresh");
    std::fs::create_dir_all(&fresh).unwrap();
    let d2 = Deployment { data_dir: fresh.clone(), media_root: fresh.join("media"), ..d };
    let api = Api::new(d2.start().unwrap_or_else(|r| panic!("refused with an empty local disk: {r:?}")));
    let sup = api.login("sup1", PASSWORD).await;
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    let sub = loop {
        let r = api.get(Some(&sup), &format!("/api/supervisor/submissions/{id}")).await;
        if r.body["submission"]["pdf_status"] == "done" || std::time::Instant::now() > deadline {
            break r.body["submission"].clone();
        }
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    };
    for p in sub["photos"].as_array().unwrap() {
        let slot = format!("section{}_{}", p["section"], p["order_index"]);
        let got = api.http.get(p["file_url"].as_str().unwrap()).send().await.unwrap();
        assert_eq!(got.status(), 200);
        assert_eq!(got.bytes().await.unwrap().to_vec(), sent.iter().find(|(s, _)| *s == slot).unwrap().1);
    }
    // Previews are made from the bucket's original and kept in the bucket too.
    let thumb = sub["photos"][0]["thumb_url"].as_str().unwrap();
    let got = api.http.get(thumb).send().await.unwrap();
    assert_eq!(got.status(), 200);
    let img = image::load_from_memory(&got.bytes().await.unwrap()).unwrap();
    assert!(img.width() <= 320 && img.height() <= 320);
    assert_eq!(api.http.get(thumb).send().await.unwrap().status(), 200, "served again from the bucket");
    assert!(!fresh.join("media").join("previews").exists(), "no preview went to the local disk");
    let pdf = api.http.get(sub["pdf_url"].as_str().expect("a PDF")).send().await.unwrap();
    assert_eq!(pdf.headers()["content-type"], "application/pdf");
    let ranged =
        api.http.get(sub["pdf_url"].as_str().unwrap()).header("range", "bytes=0-4").send().await.unwrap();
    assert_eq!(ranged.status(), 206);
    assert_eq!(ranged.bytes().await.unwrap().as_ref(), b"%PDF-");
    let out = d2.run(&["doctor", "--json"]);
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["storage"]["store"], "s3");
    assert_eq!(v["storage"]["identity"], "matched", "{v:#}");
    let fsck = d2.run(&["fsck"]);
    assert!(fsck.status.success(), "{}", String::from_utf8_lossy(&fsck.stdout));
    assert_eq!(api.http.get(api.server.url("/readyz")).send().await.unwrap().status(), 200);
    let first = d2.run(&["disk-test"]);
    assert!(first.status.success(), "{}", String::from_utf8_lossy(&first.stderr));
    let second = String::from_utf8_lossy(&d2.run(&["disk-test"]).stdout).into_owned();
    assert!(second.contains("s3://") && second.contains("earlier probes: 1"), "{second}");

    // Presigned redirects: the link answers 302 to the bucket, and following it gives the photo.
    drop(api);
    let d3 = d2.clone().with("S3_PRESIGNED_REDIRECTS", "true");
    let api = Api::new(d3.start().unwrap());
    let sup = api.login("sup1", PASSWORD).await;
    let r = api.get(Some(&sup), &format!("/api/supervisor/submissions/{id}")).await;
    let p = &r.body["submission"]["photos"][0];
    let no_follow = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
    let redirect = no_follow.get(p["file_url"].as_str().unwrap()).send().await.unwrap();
    assert_eq!(redirect.status(), 302);
    assert!(redirect.headers()["location"].to_str().unwrap().starts_with(&endpoint));
    let followed = api.http.get(p["file_url"].as_str().unwrap()).send().await.unwrap().bytes().await.unwrap();
    assert_eq!(sha256_hex(&followed), p["sha256"].as_str().unwrap());
}

#[tokio::test(flavor = "multi_thread")]
#[ignore = "needs PostgreSQL (ATM_TEST_POSTGRES_URL) and an S3-compatible server (ATM_TEST_S3_ENDPOINT)"]
async fn two_instances_share_the_database_and_the_bucket() {
    let (endpoint, bucket) = s3_bucket().await;
    let tmp = tempfile::tempdir().unwrap();
    let secret = "shared-secret-key-for-both-instances-0123456789";
    let a = Deployment::new(Backend::Postgres, &tmp.path().join("a"))
        .await
        .without("ATM_TEST_ROUTES")
        .with_s3(&endpoint, &bucket)
        .with("SECRET_KEY", secret);
    let b = Deployment {
        data_dir: tmp.path().join("b/data"),
        media_root: tmp.path().join("b/data/media"),
        ..a.clone()
    };
    std::fs::create_dir_all(&b.data_dir).unwrap();
    seed_staff(&a);
    let one = Api::new(a.start().unwrap());
    let two = Api::new(b.start().unwrap());
    let host = one.login("host1", PASSWORD).await;
    let tech_id = one.create_technician(&host, "tech_two", "Riyadh").await;
    let rows: Vec<[&str; 5]> = (0..6)
        .map(|i| {
            [["GFM-T0", "GFM-T1", "GFM-T2", "GFM-T3", "GFM-T4", "GFM-T5"][i], "1", "Cleaning", "", "Riyadh"]
        })
        .collect();
    assert_eq!(
        two.upload_excel(&host, tech_id, "Cleaning1", &rows).await.status,
        201,
        "a token from one instance works on the other"
    );
    let tech = two.login("tech_two", PASSWORD).await;
    let mut ids = Vec::new();
    for i in 0..6 {
        let api = if i % 2 == 0 { &one } else { &two };
        let device = api.device_id(&tech, &format!("GFM-T{i}")).await;
        let (form, _) = report(device, &today(), false, i as u8);
        let r = api.post_form(Some(&tech), "/api/technician/submit", form).await;
        assert_eq!(r.status, 201, "{}", r.body);
        ids.push(r.body["submission"]["id"].as_i64().unwrap());
    }
    let sup = one.login("sup1", PASSWORD).await;
    for (i, id) in ids.iter().enumerate() {
        let api = if i % 2 == 0 { &two } else { &one };
        assert_eq!(
            api.patch_json(Some(&sup), &format!("/api/supervisor/submissions/{id}/approve"), json!({}))
                .await
                .status,
            200
        );
    }
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(90);
    loop {
        let r = one.get(Some(&sup), "/api/supervisor/submissions").await;
        let done =
            r.body["submissions"].as_array().unwrap().iter().filter(|s| s["pdf_status"] == "done").count();
        if done == ids.len() {
            break;
        }
        assert!(std::time::Instant::now() < deadline, "reports not all made: {done}");
        tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    }
    // Every photo through either instance; each job ran once: one PDF per approval in the bucket.
    let r = two.get(Some(&sup), "/api/supervisor/submissions").await;
    for s in r.body["submissions"].as_array().unwrap() {
        assert_eq!(s["report"]["attempts"], 1, "a job ran more than once: {}", s["report"]);
        for p in s["photos"].as_array().unwrap() {
            let url = p["file_url"].as_str().unwrap();
            for base in [&one.server.base, &two.server.base] {
                let path = url.split_once("/media/").unwrap().1;
                assert_eq!(one.http.get(format!("{base}/media/{path}")).send().await.unwrap().status(), 200);
            }
        }
    }
    let out = a.run(&["fsck", "--json", "--quick"]);
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let pdfs = v["files"].as_i64().unwrap() - 6 * 8 - 1;
    assert_eq!(pdfs, 6, "one PDF per approval (files: {v})");
    assert!(out.status.success(), "{v:#}");
}

#[tokio::test(flavor = "multi_thread")]
#[ignore = "needs an S3-compatible server: ATM_TEST_S3_ENDPOINT (scripts/test starts moto when installed)"]
async fn storage_migrate_round_trips_disk_to_s3_to_disk_and_resumes_after_a_kill() {
    let (endpoint, bucket) = s3_bucket().await;
    let tmp = tempfile::tempdir().unwrap();
    let d = Deployment::new(Backend::Sqlite, tmp.path())
        .await
        .with("S3_ACCESS_KEY_ID", "test")
        .with("S3_SECRET_ACCESS_KEY", "test");
    let server = d.start().unwrap();
    let stored = server.store_payloads(120, 20_000).await;
    assert!(server.stop().success());
    let target = format!("s3://{bucket}/moved");

    // Interrupted, then resumed.
    let mut first =
        d.command(&["storage", "migrate", "--to", &target, "--endpoint", &endpoint]).spawn().unwrap();
    std::thread::sleep(std::time::Duration::from_millis(400));
    let _ = first.kill();
    let _ = first.wait();
    let out = d.run(&["storage", "migrate", "--to", &target, "--endpoint", &endpoint]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{text}");
    assert!(
        text.contains("120 objects")
            && text.contains("STORAGE_BACKEND=s3")
            && text.contains("S3_PREFIX=moved"),
        "{text}"
    );
    println!("resumed migration: {}", text.lines().nth(1).unwrap_or(""));

    // The service on the bucket has everything, hash-identical.
    let on_s3 = Deployment { ..d.clone() }.with_s3(&endpoint, &bucket).with("S3_PREFIX", "moved");
    let server = on_s3.start().unwrap_or_else(|r| panic!("refused on the migrated bucket: {r:?}"));
    server.assert_objects(&stored).await;
    drop(server);

    // And back to a new folder.
    let back = tmp.path().join("back/media");
    let out = on_s3.run(&["storage", "migrate", "--to", back.to_str().unwrap()]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stdout));
    let on_disk = Deployment { media_root: back.clone(), ..d.clone() };
    let server = on_disk.start().unwrap_or_else(|r| panic!("refused on the migrated folder: {r:?}"));
    server.assert_objects(&stored).await;
    drop(server);
    assert!(on_disk.run(&["fsck"]).status.success());

    // A corrupt source object is reported and the switch is not offered.
    let row: serde_json::Value = {
        let s = on_disk.start().unwrap();
        let rows: Vec<serde_json::Value> =
            client().get(s.url("/api/_test/objects")).send().await.unwrap().json().await.unwrap();
        rows[0].clone()
    };
    let path = back.join(row["key"].as_str().unwrap());
    let mut bytes = std::fs::read(&path).unwrap();
    bytes[0] ^= 1;
    std::fs::write(&path, bytes).unwrap();
    let out = on_disk.run(&["storage", "migrate", "--to", tmp.path().join("third").to_str().unwrap()]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{text}");
    assert!(text.contains("CORRUPT") && !text.contains("To switch"), "{text}");
}
