//! Draft visit reports: one idempotent request per photo, checked on arrival, finalized into the
//! same atomic result as the one-shot submit; refusals leave nothing; abandoned drafts expire.

use std::collections::BTreeSet;

use crate::common::api::*;
use crate::common::*;
use serde_json::{Value, json};

/// A technician with a Cleaning1 device; returns (technician token, device id).
async fn technician_with_device(api: &Api, host: &str, name: &str) -> (String, i64) {
    let id = api.create_technician(host, name, "Riyadh").await;
    let interaction = format!("GFM-{name}");
    let r = api.upload_excel(host, id, "Cleaning1", &[[&interaction, "77", "Cleaning", "", "Riyadh"]]).await;
    assert_eq!(r.status, 201, "{}", r.body);
    let tech = api.login(name, PASSWORD).await;
    let device = api.device_id(&tech, &interaction).await;
    (tech, device)
}

async fn open_draft(api: &Api, tech: &str, device: i64) -> i64 {
    let r = api
        .post_json(Some(tech), "/api/technician/drafts/", json!({"device_id": device, "visit_date": today()}))
        .await;
    assert!(r.status == 201 || r.status == 200, "{}", r.body);
    r.body["id"].as_i64().unwrap()
}

async fn put_photo(
    api: &Api,
    tech: &str,
    draft: i64,
    slot: &str,
    bytes: Vec<u8>,
    sha: Option<&str>,
) -> Reply {
    let mut rb =
        api.req(reqwest::Method::PUT, Some(tech), &format!("/api/technician/drafts/{draft}/photos/{slot}"));
    if let Some(sha) = sha {
        rb = rb.header("X-Content-SHA256", sha);
    }
    api.send(rb.body(bytes)).await
}

fn finalize_body() -> Value {
    json!({"job_description": "Cleaned", "job_status": "Ok", "remarks": "fine"})
}

on_each_database!(a_draft_takes_one_photo_per_request_and_finalizes_into_a_report);
async fn a_draft_takes_one_photo_per_request_and_finalizes_into_a_report(backend: Backend) {
    let tmp = tempfile::tempdir().unwrap();
    let (d, api, host) = started(backend, tmp.path()).await;
    let (tech, device) = technician_with_device(&api, &host, "drafter").await;

    let r = api
        .post_json(
            Some(&tech),
            "/api/technician/drafts/",
            json!({"device_id": device, "visit_date": today()}),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
    assert_eq!((r.body["required"].clone(), r.body["received"].clone()), (json!(8), json!(0)));
    assert_eq!(r.body["sections"].as_array().unwrap().len(), 3);
    let draft = r.body["id"].as_i64().unwrap();
    assert_eq!(open_draft(&api, &tech, device).await, draft, "one open draft per device");

    let mut sent = std::collections::BTreeMap::new();
    for (i, slot) in slots(false).iter().enumerate() {
        let bytes = jpeg(i as u8 + 1);
        let sha = sha256_hex(&bytes);
        let r = put_photo(&api, &tech, draft, slot, bytes, Some(&sha)).await;
        assert_eq!(r.status, 201, "{slot}: {}", r.body);
        assert_eq!(r.body["sha256"], sha.as_str(), "the receipt is the hash of what was sent");
        sent.insert(slot.clone(), sha);
    }
    // The same photo again (an answer lost on the way back) is harmless.
    let again = put_photo(&api, &tech, draft, "section1_1", jpeg(1), None).await;
    assert_eq!(again.status, 200, "{}", again.body);
    assert_eq!(photo_files(&d.media_root), 8);
    // Another photo replaces the slot's; the old file goes.
    let other = png(99);
    let r = put_photo(&api, &tech, draft, "section1_1", other.clone(), None).await;
    assert_eq!(r.status, 201, "{}", r.body);
    sent.insert("section1_1".into(), sha256_hex(&other));
    assert_eq!(photo_files(&d.media_root), 8);
    let shown = api.get(Some(&tech), &format!("/api/technician/drafts/{draft}")).await;
    assert_eq!(shown.body["received"], 8, "{}", shown.body);

    // A refused finalize keeps the draft as it was.
    let r = api
        .post_json(
            Some(&tech),
            &format!("/api/technician/drafts/{draft}/submit/"),
            json!({"job_status": "Maybe"}),
        )
        .await;
    assert_eq!(r.status, 400);
    assert!(r.body["job_status"][0].as_str().unwrap().contains("not a valid choice"), "{}", r.body);
    assert_eq!(api.get(Some(&tech), &format!("/api/technician/drafts/{draft}")).await.status, 200);

    let r =
        api.post_json(Some(&tech), &format!("/api/technician/drafts/{draft}/submit/"), finalize_body()).await;
    assert_eq!(r.status, 201, "{}", r.body);
    let s = &r.body["submission"];
    assert_eq!(s["status"], "Pending");
    let stored: BTreeSet<String> =
        s["photos"].as_array().unwrap().iter().map(|p| p["sha256"].as_str().unwrap().to_string()).collect();
    assert_eq!(stored, sent.values().cloned().collect::<BTreeSet<_>>());
    assert_eq!(api.get(Some(&tech), &format!("/api/technician/drafts/{draft}")).await.status, 404);
    let dup = open_draft_status(&api, &tech, device).await;
    assert_eq!(dup.0, 400, "a second report in the period is refused at the start: {}", dup.1);
    assert_eq!(photo_files(&d.media_root), 8);
    let fsck = d.run(&["fsck"]);
    assert!(fsck.status.success(), "{}", String::from_utf8_lossy(&fsck.stdout));
}

async fn open_draft_status(api: &Api, tech: &str, device: i64) -> (u16, Value) {
    let r = api
        .post_json(Some(tech), "/api/technician/drafts/", json!({"device_id": device, "visit_date": today()}))
        .await;
    (r.status, r.body)
}

#[tokio::test(flavor = "multi_thread")]
async fn refused_draft_photos_and_foreign_callers_leave_nothing_behind() {
    let tmp = tempfile::tempdir().unwrap();
    let (d, api, host) = started(Backend::Sqlite, tmp.path()).await;
    let (tech, device) = technician_with_device(&api, &host, "careful").await;
    let (other, other_device) = technician_with_device(&api, &host, "someone").await;
    let draft = open_draft(&api, &tech, device).await;

    let zeros = "0".repeat(64);
    let whole = jpeg(3);
    let cut_off = whole[..whole.len() - 40].to_vec();
    let cases: Vec<(&str, Vec<u8>, Option<&str>, &str)> = vec![
        ("section9_1", jpeg(1), None, "no photo slot named"),
        ("section1_1", b"%PDF-1.4 not a photo".to_vec(), None, "Invalid file format"),
        ("section1_1", Vec::new(), None, "empty"),
        ("section1_1", jpeg(2), Some(&zeros), "arrived damaged"),
        ("section1_1", cut_off, None, "incomplete"),
    ];
    for (slot, bytes, sha, expect) in cases {
        let r = put_photo(&api, &tech, draft, slot, bytes, sha).await;
        assert_eq!(r.status, 400, "{slot}: {}", r.body);
        assert!(r.body["error"].as_str().unwrap().contains(expect), "{expect}: {}", r.body);
    }
    // Too large, declared up front (refused before reading) or sent without a length (cut off
    // at the limit while streaming).
    let mut big = jpeg(5);
    big.resize(10 * 1024 * 1024 + 1, 0);
    let r = put_photo(&api, &tech, draft, "section1_1", big.clone(), None).await;
    assert_eq!(r.status, 413, "{}", r.body);
    assert!(r.body["detail"].as_str().unwrap().contains("10MB"), "{}", r.body);
    let chunks: Vec<Result<Vec<u8>, std::io::Error>> = big.chunks(1 << 20).map(|c| Ok(c.to_vec())).collect();
    let streamed = api
        .req(reqwest::Method::PUT, Some(&tech), &format!("/api/technician/drafts/{draft}/photos/section1_1"))
        .body(reqwest::Body::wrap_stream(futures_util::stream::iter(chunks)))
        .send()
        .await;
    if let Ok(resp) = streamed {
        // The answer may also be a reset, as the server stops reading at the limit.
        assert_eq!(resp.status(), 400);
    }
    assert_eq!(photo_files(&d.media_root), 0, "nothing of a refused photo is kept");

    // Someone else's draft does not exist for them; staff cannot file photos.
    assert_eq!(put_photo(&api, &other, draft, "section1_1", jpeg(4), None).await.status, 404);
    assert_eq!(api.get(Some(&other), &format!("/api/technician/drafts/{draft}")).await.status, 404);
    let sup = api.login("sup1", PASSWORD).await;
    assert_eq!(put_photo(&api, &sup, draft, "section1_1", jpeg(4), None).await.status, 403);
    let r = api
        .post_json(
            Some(&tech),
            "/api/technician/drafts/",
            json!({"device_id": other_device, "visit_date": today()}),
        )
        .await;
    assert_eq!(r.status, 400);
    assert!(r.body.to_string().contains("not assigned to you"), "{}", r.body);
    let r = api
        .post_json(
            Some(&tech),
            "/api/technician/drafts/",
            json!({"device_id": device, "visit_date": "2999-01-01"}),
        )
        .await;
    assert_eq!(r.status, 400);
    assert!(r.body["visit_date"][0].as_str().unwrap().contains("future"), "{}", r.body);

    // Seven of eight photos: the finalize names the missing slot and nothing is written.
    for slot in slots(false).iter().take(7) {
        assert_eq!(put_photo(&api, &tech, draft, slot, jpeg(9), None).await.status, 201);
    }
    let r =
        api.post_json(Some(&tech), &format!("/api/technician/drafts/{draft}/submit/"), finalize_body()).await;
    assert_eq!(r.status, 400);
    assert_eq!(r.body["error"], "Missing required photos: section3_2");
    assert_eq!(api.get(Some(&tech), "/api/technician/submissions").await.body["count"], 0);

    // Discarding removes the draft's photos too.
    let r = api.delete(Some(&tech), &format!("/api/technician/drafts/{draft}/")).await;
    assert_eq!(r.status, 204);
    assert_eq!(photo_files(&d.media_root), 0);
}

#[tokio::test(flavor = "multi_thread")]
async fn abandoned_drafts_expire_with_their_photos() {
    let tmp = tempfile::tempdir().unwrap();
    let d = Deployment::new(Backend::Sqlite, tmp.path())
        .await
        .without("ATM_TEST_ROUTES")
        .with("DRAFT_EXPIRY_SECONDS", "2");
    seed_staff(&d);
    let api = Api::new(d.start().unwrap());
    let host = api.login("host1", PASSWORD).await;
    let (tech, device) = technician_with_device(&api, &host, "wanderer").await;
    let draft = open_draft(&api, &tech, device).await;
    assert_eq!(put_photo(&api, &tech, draft, "section1_1", jpeg(1), None).await.status, 201);
    assert_eq!(photo_files(&d.media_root), 1);
    let mut gone = false;
    for _ in 0..40 {
        tokio::time::sleep(std::time::Duration::from_millis(250)).await;
        if api.get(Some(&tech), &format!("/api/technician/drafts/{draft}")).await.status == 404 {
            gone = true;
            break;
        }
    }
    assert!(gone, "the draft did not expire");
    // The rows go first, then the files, then the log line: each is awaited a little.
    for _ in 0..40 {
        if photo_files(&d.media_root) == 0 && api.server.logs().contains("abandoned drafts expired") {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(250)).await;
    }
    assert_eq!(photo_files(&d.media_root), 0, "its photo went with it");
    assert!(api.server.logs().contains("abandoned drafts expired"), "{}", api.server.logs());
}
