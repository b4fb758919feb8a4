//! Evidence about every photo (issue 16), against photos the tests make with EXIF written into
//! them: each finding fires when it should and links the photo it is about; 56 distinct photos
//! raise no near-duplicate; a supervisor checks a finding; the flagged filter and count; the
//! phone's position with a draft photo and a one-shot photo; bad positions refused; previews
//! carry no EXIF while the originals keep theirs. On both databases.

use std::collections::HashMap;

use reqwest::multipart::{Form, Part};
use serde_json::{Value, json};

use crate::common::api::{Api, PASSWORD, sheet_of, slots, started, today};
use crate::common::photos::{Shot, cropped, jpeg_with, north_of, recompressed, resized, scene};
use crate::common::{Backend, on_each_database, sha256_hex};

/// The ATM's street in Riyadh, where the photos are taken.
const SITE: (f64, f64) = (24.713_600, 46.675_300);
/// Jeddah: 850 km away.
const ELSEWHERE: (f64, f64) = (21.485_800, 39.192_500);

const HEADER: [&str; 7] = [
    "Interaction ID",
    "GFM Cost Center",
    "GFM Problem Type",
    "GFM Problem Date",
    "City",
    "Latitude",
    "Longitude",
];

/// A technician with the Cleaning1 list `rows` (interaction ids, with an optional position).
async fn technician(api: &Api, host: &str, name: &str, rows: &[(&str, Option<(f64, f64)>)]) -> String {
    let id = api.create_technician(host, name, "Riyadh").await;
    let cells: Vec<[String; 7]> = rows
        .iter()
        .map(|(gfm, at)| {
            let (lat, lon) =
                at.map_or((String::new(), String::new()), |(a, b)| (a.to_string(), b.to_string()));
            [gfm.to_string(), "C1".into(), "Cleaning".into(), "2026-11-01".into(), "Riyadh".into(), lat, lon]
        })
        .collect();
    let refs: Vec<[&str; 7]> = cells.iter().map(|r| std::array::from_fn(|i| r[i].as_str())).collect();
    let form = Form::new()
        .text("technician_id", id.to_string())
        .text("device_type", "Cleaning1")
        .part("file", Part::bytes(sheet_of(&HEADER, &refs)).file_name("devices.xlsx"));
    let r = api.post_form(Some(host), "/api/host/upload-excel", form).await;
    assert_eq!(r.status, 201, "{}", r.body);
    api.login(name, PASSWORD).await
}

/// Files a one-shot report of 8 photos on `device` (`extra` parts beside them); its submission.
async fn file(api: &Api, tech: &str, device: i64, photos: &[Vec<u8>], extra: &[(String, String)]) -> Value {
    let r = api.post_form(Some(tech), "/api/technician/submit", form(device, photos, extra)).await;
    assert_eq!(r.status, 201, "{}", r.body);
    r.body["submission"].clone()
}

fn form(device: i64, photos: &[Vec<u8>], extra: &[(String, String)]) -> Form {
    let mut form = Form::new()
        .text("device_id", device.to_string())
        .text("visit_date", today())
        .text("job_description", "Monthly cleaning")
        .text("job_status", "Ok");
    for (slot, bytes) in slots(false).into_iter().zip(photos) {
        form = form.part(slot, Part::bytes(bytes.clone()).file_name("p.jpg"));
    }
    for (k, v) in extra {
        form = form.text(k.clone(), v.clone());
    }
    form
}

/// Fresh photos of distinct scenes, taken minutes ago at the site (each a few metres apart).
fn fresh(seeds: std::ops::Range<u64>) -> Vec<Vec<u8>> {
    seeds.map(|s| jpeg_with(&scene(s), 85, &Shot::at(5, north_of(SITE, (s % 8) as f64 * 3.0)))).collect()
}

/// (photo index, kind) of every finding of a submission.
fn kinds(s: &Value) -> Vec<(usize, String)> {
    let mut out = Vec::new();
    for (i, p) in s["photos"].as_array().unwrap().iter().enumerate() {
        for f in p["evidence"]["findings"].as_array().unwrap() {
            out.push((i, f["kind"].as_str().unwrap().to_string()));
        }
    }
    out
}

fn finding<'a>(s: &'a Value, photo: usize, kind: &str) -> &'a Value {
    s["photos"][photo]["evidence"]["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["kind"] == kind)
        .unwrap_or_else(|| panic!("photo {photo} has no {kind}: {}", s["photos"][photo]["evidence"]))
}

on_each_database!(each_finding_fires_with_the_photo_it_is_about);
async fn each_finding_fires_with_the_photo_it_is_about(backend: Backend) {
    let dir = tempfile::tempdir().unwrap();
    let (_d, api, host) = started(backend, dir.path()).await;
    let devices = [("EV-1", Some(ELSEWHERE)), ("EV-2", None), ("EV-3", None), ("EV-4", None)];
    let a = technician(&api, &host, "ev_a", &devices).await;
    let b = technician(&api, &host, "ev_b", &[("EV-2", None), ("EV-9", None)]).await;
    let dev = |t: &str, id: &str| {
        let (api, t, id) = (&api, t.to_string(), id.to_string());
        async move { api.device_id(&t, &id).await }
    };

    // A clean report: fresh photos, taken at the site, no finding at all.
    let originals: Vec<image::RgbImage> = (0..8).map(scene).collect();
    let r1_photos = fresh(0..8);
    let r1 = file(&api, &a, dev(&a, "EV-2").await, &r1_photos, &[]).await;
    assert_eq!(kinds(&r1), Vec::<(usize, String)>::new(), "{}", r1["photos"]);
    assert_eq!(
        r1["evidence_summary"],
        json!({"findings": 0, "open": 0, "flagged_photos": 0, "clean_photos": 8})
    );
    let e = &r1["photos"][0]["evidence"];
    assert!(e["captured_at"].as_str().unwrap().ends_with("+00:00"), "{e}");
    assert_eq!(e["position"]["source"], "exif");
    assert!((e["position"]["latitude"].as_f64().unwrap() - SITE.0).abs() < 1e-4, "{e}");
    assert!((e["position"]["longitude"].as_f64().unwrap() - SITE.1).abs() < 1e-4, "{e}");
    assert_eq!(e["position"]["accuracy_m"], 8.0);
    assert_eq!(e["position"]["altitude_m"], 612.0);
    assert_eq!(e["camera"], json!({"make": "TestPhone", "model": "Field 7"}));
    assert_eq!(e["perceptual_hash"].as_str().unwrap().len(), 16);
    let r1_id = r1["id"].as_i64().unwrap();
    let r1_photo = |i: usize| r1["photos"][i]["id"].as_i64().unwrap();

    // Another technician, another device: one byte-identical copy of the first report's photo.
    let mut r2_photos = fresh(100..108);
    r2_photos[0] = r1_photos[0].clone();
    let r2 = file(&api, &b, dev(&b, "EV-9").await, &r2_photos, &[]).await;
    assert_eq!(kinds(&r2), vec![(0, "exact_reuse".to_string())], "{}", r2["photos"]);
    let f = finding(&r2, 0, "exact_reuse");
    assert_eq!((f["submission_id"].as_i64(), f["photo_id"].as_i64()), (Some(r1_id), Some(r1_photo(0))));
    assert_eq!(f["detail"]["sha256"], r1["photos"][0]["sha256"]);

    // The same technician again, another device: copies of the first report's photos saved
    // again, halved and cropped; one taken ten days ago, one three days ahead, one without EXIF,
    // one sent twice in the report, one taken 5 km away.
    let now = Shot::at(5, SITE);
    let old = Shot::at(10 * 24 * 60, SITE);
    let ahead = Shot::at(-3 * 24 * 60, SITE);
    let twice = jpeg_with(&scene(202), 85, &now);
    let r3_photos = vec![
        recompressed(&originals[0], &now),
        resized(&originals[1], &now),
        cropped(&originals[2], 3, &now),
        jpeg_with(&scene(200), 85, &old),
        jpeg_with(&scene(201), 85, &Shot::default()),
        twice.clone(),
        twice,
        jpeg_with(&scene(203), 85, &Shot::at(5, north_of(SITE, 5_000.0))),
    ];
    let r3 = file(&api, &a, dev(&a, "EV-3").await, &r3_photos, &[]).await;
    let r3_id = r3["id"].as_i64().unwrap();
    let mut found = kinds(&r3);
    found.sort();
    let expected: Vec<(usize, String)> = [
        (0, "near_duplicate"),
        (1, "near_duplicate"),
        (2, "near_duplicate"),
        (3, "capture_time_outside_visit"),
        (4, "capture_time_missing"),
        (5, "same_in_report"),
        (6, "same_in_report"),
        (7, "far_from_report"),
    ]
    .into_iter()
    .map(|(i, k)| (i, k.to_string()))
    .collect();
    assert_eq!(found, expected, "{}", r3["photos"]);
    for i in 0..3 {
        let f = finding(&r3, i, "near_duplicate");
        assert_eq!(
            (f["submission_id"].as_i64(), f["photo_id"].as_i64()),
            (Some(r1_id), Some(r1_photo(i))),
            "{f}"
        );
        assert!(f["detail"]["distance"].as_u64().unwrap() <= 12, "{f}");
    }
    let f = finding(&r3, 5, "same_in_report");
    assert_eq!(
        (f["submission_id"].as_i64(), f["photo_id"].as_i64()),
        (Some(r3_id), r3["photos"][6]["id"].as_i64()),
        "{f}"
    );
    assert!(finding(&r3, 3, "capture_time_outside_visit")["detail"]["window_start"].is_string());
    assert!(finding(&r3, 7, "far_from_report")["detail"]["distance_m"].as_f64().unwrap() > 4_000.0);
    assert_eq!(r3["evidence_summary"]["flagged_photos"], 8);

    // A photo from the future: a fourth report, only the clock differs.
    let mut r4_photos = fresh(300..308);
    r4_photos[2] = jpeg_with(&scene(310), 85, &ahead);
    let r4 = file(&api, &a, dev(&a, "EV-4").await, &r4_photos, &[]).await;
    assert_eq!(kinds(&r4), vec![(2, "capture_time_outside_visit".to_string())], "{}", r4["photos"]);

    // The device with a position from the Excel list: every photo is 850 km from it.
    let r5 = file(&api, &a, dev(&a, "EV-1").await, &fresh(400..408), &[]).await;
    let far: Vec<(usize, String)> = (0..8).map(|i| (i, "far_from_device".to_string())).collect();
    assert_eq!(kinds(&r5), far, "{}", r5["photos"]);
    assert!(finding(&r5, 0, "far_from_device")["detail"]["distance_m"].as_f64().unwrap() > 800_000.0);

    // A position learned from an approved report: EV-2 is where the first report was taken.
    let sup = api.login("sup1", PASSWORD).await;
    let r =
        api.patch_json(Some(&sup), &format!("/api/supervisor/submissions/{r1_id}/approve"), json!({})).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let away: Vec<Vec<u8>> =
        (500..508).map(|s| jpeg_with(&scene(s), 85, &Shot::at(5, north_of(SITE, 2_000.0)))).collect();
    let r6 = file(&api, &b, dev(&b, "EV-2").await, &away, &[]).await;
    let far: Vec<(usize, String)> = (0..8).map(|i| (i, "far_from_device".to_string())).collect();
    assert_eq!(kinds(&r6), far, "{}", r6["photos"]);

    // The supervisor's list: flagged filter and count; the dashboard's count.
    let flagged = api.get(Some(&sup), "/api/supervisor/submissions?flagged=true").await;
    assert_eq!(flagged.status, 200, "{}", flagged.body);
    let ids: Vec<i64> =
        flagged.body["submissions"].as_array().unwrap().iter().map(|s| s["id"].as_i64().unwrap()).collect();
    let all_flagged = [
        r6["id"].as_i64().unwrap(),
        r5["id"].as_i64().unwrap(),
        r4["id"].as_i64().unwrap(),
        r3_id,
        r2["id"].as_i64().unwrap(),
    ];
    assert_eq!(ids, all_flagged);
    assert_eq!(flagged.body["flagged"], 5);
    let clean = api.get(Some(&sup), "/api/supervisor/submissions?flagged=false").await;
    assert_eq!(clean.body["count"], 1);
    assert_eq!(clean.body["submissions"][0]["id"], r1_id);
    let everything = api.get(Some(&sup), "/api/supervisor/submissions").await;
    assert_eq!((everything.body["count"].as_i64(), everything.body["flagged"].as_i64()), (Some(6), Some(5)));
    let bad = api.get(Some(&sup), "/api/supervisor/submissions?flagged=maybe").await;
    assert_eq!(bad.status, 400, "{}", bad.body);
    assert!(bad.body["flagged"][0].as_str().unwrap().contains("true or false"), "{}", bad.body);
    let dashboard = api.get(Some(&sup), "/api/supervisor/insights").await;
    assert_eq!(dashboard.body["counts"]["flagged"], 5, "{}", dashboard.body["counts"]);

    // Checking r4's one finding clears its flag; the check is recorded with who and the note.
    let f = finding(&r4, 2, "capture_time_outside_visit");
    let url = format!("/api/supervisor/submissions/{}/findings/{}/check", r4["id"], f["id"]);
    let note = "The phone's clock was three days ahead; confirmed with the technician.";
    let r = api.post_json(Some(&sup), &url, json!({"note": note})).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body["finding"]["checked"]["by"], "sup1");
    assert_eq!(r.body["finding"]["checked"]["note"], note);
    let again = api.post_json(Some(&sup), &url, json!({"note": "another"})).await;
    assert_eq!(again.body["finding"]["checked"]["note"], note, "the first check stands");
    let tech_sees = api.post_json(Some(&a), &url, json!({"note": note})).await;
    assert_eq!(tech_sees.status, 403);
    let other = format!("/api/supervisor/submissions/{r1_id}/findings/{}/check", f["id"]);
    assert_eq!(
        api.post_json(Some(&sup), &other, json!({"note": note})).await.status,
        404,
        "another report's finding"
    );
    let now4 = api.get(Some(&sup), &format!("/api/supervisor/submissions/{}", r4["id"])).await;
    assert_eq!(now4.body["submission"]["evidence_summary"]["open"], 0);
    assert_eq!(now4.body["submission"]["evidence_summary"]["findings"], 1);
    let flagged = api.get(Some(&sup), "/api/supervisor/submissions?flagged=true").await;
    assert_eq!(flagged.body["flagged"], 4);
    let dashboard = api.get(Some(&sup), "/api/supervisor/insights").await;
    assert_eq!(dashboard.body["counts"]["flagged"], 4, "the check shows on the dashboard at once");
    let audit = api.get(Some(&host), "/api/host/audit?action=check_finding").await;
    assert!(audit.body.to_string().contains("confirmed with the technician"), "{}", audit.body);

    // The technician sees which photos were flagged on their own report once it is rejected.
    let because = json!({"remarks": "Photos 1 to 3 are last visit's photos; please retake them."});
    let r = api.patch_json(Some(&sup), &format!("/api/supervisor/submissions/{r3_id}/reject"), because).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let mine = api.get(Some(&a), &format!("/api/technician/submissions/{r3_id}")).await;
    let mine = if mine.body["submission"].is_object() { mine.body["submission"].clone() } else { mine.body };
    assert_eq!(mine["status"], "Rejected", "{mine}");
    assert_eq!(kinds(&mine), expected, "the technician's view names the flagged photos");
}

on_each_database!(fifty_six_distinct_photos_raise_no_near_duplicate);
async fn fifty_six_distinct_photos_raise_no_near_duplicate(backend: Backend) {
    let dir = tempfile::tempdir().unwrap();
    let (_d, api, host) = started(backend, dir.path()).await;
    let names: Vec<String> = (1..=7).map(|i| format!("FP-{i}")).collect();
    let rows: Vec<(&str, Option<(f64, f64)>)> = names.iter().map(|n| (n.as_str(), None)).collect();
    let t = technician(&api, &host, "fp_tech", &rows).await;
    let mut hashes = HashMap::new();
    for (i, n) in names.iter().enumerate() {
        let seeds = 1000 + i as u64 * 8;
        let s = file(&api, &t, api.device_id(&t, n).await, &fresh(seeds..seeds + 8), &[]).await;
        // Every report is compared with every earlier one of the same technician.
        assert_eq!(kinds(&s), Vec::<(usize, String)>::new(), "report {i}: {}", s["photos"]);
        for p in s["photos"].as_array().unwrap() {
            hashes.insert(p["evidence"]["perceptual_hash"].as_str().unwrap().to_string(), p["id"].clone());
        }
    }
    assert_eq!(hashes.len(), 56, "56 distinct perceptual hashes");
}

on_each_database!(the_phones_position_travels_with_each_photo_and_a_bad_one_is_refused);
async fn the_phones_position_travels_with_each_photo_and_a_bad_one_is_refused(backend: Backend) {
    let dir = tempfile::tempdir().unwrap();
    let (d, api, host) = started(backend, dir.path()).await;
    let t = technician(&api, &host, "pos_tech", &[("PS-1", None), ("PS-2", None)]).await;
    let device = api.device_id(&t, "PS-1").await;
    // Photos without EXIF: the phone's position stands in for the camera's.
    let bare: Vec<Vec<u8>> = (700..708).map(|s| jpeg_with(&scene(s), 85, &Shot::default())).collect();

    // A draft photo with the phone's position in a header.
    let draft = api
        .post_json(Some(&t), "/api/technician/drafts/", json!({"device_id": device, "visit_date": today()}))
        .await;
    assert!(draft.status == 200 || draft.status == 201, "{}", draft.body);
    let id = draft.body["id"].as_i64().unwrap();
    let put = |slot: &str, bytes: Vec<u8>, position: Option<&str>| {
        let mut rb = api
            .req(reqwest::Method::PUT, Some(&t), &format!("/api/technician/drafts/{id}/photos/{slot}"))
            .body(bytes);
        if let Some(p) = position {
            rb = rb.header("X-Photo-Position", p);
        }
        api.send(rb)
    };
    for bad in ["north", "91,0", "24.7,46.6,-3", "1,2,3,4"] {
        let r = put("section1_1", bare[0].clone(), Some(bad)).await;
        assert_eq!(r.status, 400, "{bad}: {}", r.body);
        assert!(r.body["position"][0].as_str().unwrap().contains("latitude,longitude"), "{}", r.body);
    }
    let shown = api.get(Some(&t), &format!("/api/technician/drafts/{id}")).await;
    assert!(shown.body.to_string().contains("section1_1"), "{}", shown.body);
    assert!(!shown.body.to_string().contains("\"sha256\""), "a refused photo left nothing: {}", shown.body);
    for (i, slot) in slots(false).iter().enumerate() {
        let at = format!("{},{},{}", SITE.0, SITE.1 + i as f64 * 1e-5, 15 + i);
        let r = put(slot, bare[i].clone(), Some(&at)).await;
        assert_eq!(r.status, 201, "{}", r.body);
        assert_eq!(r.body["evidence"]["phone_position"]["accuracy_m"], 15.0 + i as f64, "{}", r.body);
        assert_eq!(r.body["evidence"]["captured_at"], Value::Null, "{}", r.body);
    }
    let fin = api
        .post_json(
            Some(&t),
            &format!("/api/technician/drafts/{id}/submit"),
            json!({"job_status": "Ok", "job_description": "Cleaned"}),
        )
        .await;
    assert_eq!(fin.status, 201, "{}", fin.body);
    let s = &fin.body["submission"];
    let e = &s["photos"][3]["evidence"];
    assert_eq!(e["position"]["source"], "phone", "{e}");
    assert_eq!(e["phone_position"]["accuracy_m"], 18.0, "{e}");
    assert!((e["phone_position"]["longitude"].as_f64().unwrap() - (SITE.1 + 3e-5)).abs() < 1e-9, "{e}");
    assert_eq!(e["captured_at"], Value::Null);
    let kinds_of = kinds(s);
    assert!(kinds_of.iter().all(|(_, k)| k == "capture_time_missing") && kinds_of.len() == 8, "{kinds_of:?}");

    // A one-shot report: `{slot}_position` beside each photo part; a bad one refuses it all.
    let device2 = api.device_id(&t, "PS-2").await;
    let photos: Vec<Vec<u8>> = (720..728).map(|s| jpeg_with(&scene(s), 85, &Shot::default())).collect();
    let before = crate::common::api::photo_files(&d.media_root);
    let bad = vec![("section2_1_position".to_string(), "somewhere".to_string())];
    let r = api.post_form(Some(&t), "/api/technician/submit", form(device2, &photos, &bad)).await;
    assert_eq!(r.status, 400, "{}", r.body);
    assert!(r.body.to_string().contains("latitude,longitude"), "{}", r.body);
    assert_eq!(crate::common::api::photo_files(&d.media_root), before, "nothing left behind");
    let good = vec![("section2_1_position".to_string(), format!("{},{}", ELSEWHERE.0, ELSEWHERE.1))];
    let r = api.post_form(Some(&t), "/api/technician/submit", form(device2, &photos, &good)).await;
    assert_eq!(r.status, 201, "{}\n{}", r.body, api.server.logs());
    let s = &r.body["submission"];
    assert_eq!(s["photos"][3]["evidence"]["phone_position"]["latitude"], ELSEWHERE.0);
    assert_eq!(s["photos"][0]["evidence"]["phone_position"], Value::Null);
}

on_each_database!(previews_carry_no_exif_while_the_original_keeps_its_bytes);
async fn previews_carry_no_exif_while_the_original_keeps_its_bytes(backend: Backend) {
    let dir = tempfile::tempdir().unwrap();
    let (_d, api, host) = started(backend, dir.path()).await;
    let t = technician(&api, &host, "priv_tech", &[("PV-1", None)]).await;
    let photos = fresh(900..908);
    let s = file(&api, &t, api.device_id(&t, "PV-1").await, &photos, &[]).await;
    let p = &s["photos"][0];
    let original = api.http.get(p["file_url"].as_str().unwrap()).send().await.unwrap().bytes().await.unwrap();
    assert_eq!(sha256_hex(&original), sha256_hex(&photos[0]), "the original is kept byte for byte");
    let gps = |bytes: &[u8]| {
        exif::Reader::new()
            .read_from_container(&mut std::io::Cursor::new(bytes))
            .ok()
            .and_then(|e| e.get_field(exif::Tag::GPSLatitude, exif::In::PRIMARY).map(|_| ()))
            .is_some()
    };
    assert!(gps(&original), "the original keeps its GPS");
    for url in [&p["thumb_url"], &p["preview_url"]] {
        let r = api.http.get(url.as_str().unwrap()).send().await.unwrap();
        assert_eq!(r.status(), 200);
        let bytes = r.bytes().await.unwrap();
        assert!(bytes.starts_with(&[0xFF, 0xD8]), "a JPEG");
        assert!(!gps(&bytes), "a preview carries no position");
        assert!(!bytes.windows(6).any(|w| w == b"Exif\0\0"), "a preview carries no EXIF at all");
    }
}

/// A draft on `device` with every photo received; its id.
async fn draft_with(api: &Api, tech: &str, device: i64, photos: &[Vec<u8>]) -> i64 {
    let d = api
        .post_json(Some(tech), "/api/technician/drafts/", json!({"device_id": device, "visit_date": today()}))
        .await;
    let id = d.body["id"].as_i64().unwrap_or_else(|| panic!("{}", d.body));
    for (slot, bytes) in slots(false).iter().zip(photos) {
        let r = api
            .put_bytes(Some(tech), &format!("/api/technician/drafts/{id}/photos/{slot}"), bytes.clone())
            .await;
        assert_eq!(r.status, 201, "{}", r.body);
    }
    id
}

async fn finalize(api: &Api, tech: &str, id: i64) -> Value {
    let body = json!({"job_status": "Ok", "job_description": "Cleaned"});
    let r = api.post_json(Some(tech), &format!("/api/technician/drafts/{id}/submit"), body).await;
    assert_eq!(r.status, 201, "{}", r.body);
    r.body["submission"].clone()
}

on_each_database!(two_reports_filed_at_once_with_one_photo_see_each_other);
async fn two_reports_filed_at_once_with_one_photo_see_each_other(backend: Backend) {
    let dir = tempfile::tempdir().unwrap();
    let (_d, api, host) = started(backend, dir.path()).await;
    const ROUNDS: u64 = 10;
    let names_a: Vec<String> = (0..ROUNDS).map(|i| format!("RA-{i}")).collect();
    let names_b: Vec<String> = (0..ROUNDS).map(|i| format!("RB-{i}")).collect();
    let ra: Vec<(&str, Option<(f64, f64)>)> = names_a.iter().map(|n| (n.as_str(), None)).collect();
    let rb: Vec<(&str, Option<(f64, f64)>)> = names_b.iter().map(|n| (n.as_str(), None)).collect();
    let a = technician(&api, &host, "race_a", &ra).await;
    let b = technician(&api, &host, "race_b", &rb).await;
    for round in 0..ROUNDS {
        let (da, db) = (
            api.device_id(&a, &names_a[round as usize]).await,
            api.device_id(&b, &names_b[round as usize]).await,
        );
        let shared = jpeg_with(&scene(5000 + round), 85, &Shot::at(5, SITE));
        let mut pa = fresh(6000 + round * 20..6008 + round * 20);
        let mut pb = fresh(6010 + round * 20..6018 + round * 20);
        pa[0] = shared.clone();
        pb[0] = shared;
        // Both drafts filled, then finalized at once: one is compared with the other's rows.
        let (ia, ib) = (draft_with(&api, &a, da, &pa).await, draft_with(&api, &b, db, &pb).await);
        let (x, y) = tokio::join!(finalize(&api, &a, ia), finalize(&api, &b, ib));
        let reuse = |s: &Value| kinds(s).contains(&(0, "exact_reuse".to_string()));
        assert!(
            reuse(&x) != reuse(&y),
            "round {round}: exactly the later one sees the earlier\n{}\n{}",
            x["photos"][0],
            y["photos"][0]
        );
        let (later, earlier) = if reuse(&x) { (&x, &y) } else { (&y, &x) };
        let f = finding(later, 0, "exact_reuse");
        assert_eq!(f["submission_id"], earlier["id"], "round {round}: {f}");
        assert_eq!(f["photo_id"], earlier["photos"][0]["id"], "round {round}: {f}");
    }
}
