//! Bad uploads: each case of the corpus gets its expected status and leaves nothing behind;
//! the odd-but-valid photos (progressive, CMYK, strange names) are accepted; a report whose
//! 19th photo fails stores nothing; a report that does not fit on the disk stores nothing.

use std::io::Write;

use crate::common::api::*;
use crate::common::*;
use reqwest::multipart::{Form, Part};

/// A PNG that claims 30000×30000 pixels: tiny on the wire, 3.6 GB once decoded.
fn png_bomb() -> Vec<u8> {
    crate::common::png::png_claiming(30_000, 30_000, 8, 2, false)
}

fn encoded(progressive: bool, cmyk: bool) -> Vec<u8> {
    let mut out = Vec::new();
    let mut enc = jpeg_encoder::Encoder::new(&mut out, 85);
    enc.set_progressive(progressive);
    let (w, h) = (64u16, 40u16);
    let (color, bpp) =
        if cmyk { (jpeg_encoder::ColorType::Cmyk, 4) } else { (jpeg_encoder::ColorType::Rgb, 3) };
    let data: Vec<u8> = (0..w as usize * h as usize * bpp).map(|i| (i * 7 % 251) as u8).collect();
    enc.encode(&data, w, h, color).unwrap();
    out
}

fn noisy_jpeg(seed: u64, w: u32, h: u32) -> Vec<u8> {
    let noise = payload(seed, (w * h * 3) as usize);
    let img = image::RgbImage::from_raw(w, h, noise).unwrap();
    let mut out = std::io::Cursor::new(Vec::new());
    img.write_to(&mut out, image::ImageFormat::Jpeg).unwrap();
    out.into_inner()
}

struct Case {
    name: &'static str,
    /// (part name, file name, bytes) replacing the slot section3_2, or extra parts.
    parts: Vec<(String, String, Vec<u8>)>,
    drop_slot: bool,
    expected: u16,
    message: &'static str,
}

fn case(name: &'static str, bytes: Vec<u8>, expected: u16, message: &'static str) -> Case {
    Case {
        name,
        parts: vec![("section3_2".into(), "photo.jpg".into(), bytes)],
        drop_slot: true,
        expected,
        message,
    }
}

on_each_database!(every_bad_upload_is_refused_with_its_reason_and_leaves_nothing_behind);
async fn every_bad_upload_is_refused_with_its_reason_and_leaves_nothing_behind(backend: Backend) {
    let tmp = tempfile::tempdir().unwrap();
    let (d, api, host) = started(backend, tmp.path()).await;
    let tech_id = api.create_technician(&host, "tech_a", "Riyadh").await;
    let rows: Vec<[String; 5]> = (0..30)
        .map(|i| [format!("GFM{i}"), format!("{i}"), "Cleaning".into(), String::new(), "Riyadh".into()])
        .collect();
    let rows: Vec<[&str; 5]> =
        rows.iter().map(|r| [r[0].as_str(), r[1].as_str(), r[2].as_str(), "", "Riyadh"]).collect();
    assert_eq!(api.upload_excel(&host, tech_id, "Cleaning1", &rows).await.status, 201);
    let tech = api.login("tech_a", PASSWORD).await;

    let good = jpeg(200);
    let mut polyglot = b"<html><script>alert(1)</script></html>".to_vec();
    polyglot.extend_from_slice(&good);
    let mut oversize = good.clone();
    oversize.resize(10 * 1024 * 1024 + 1, 0);
    let truncated = good[..good.len() - 30].to_vec();
    let cases = vec![
        case("text renamed .jpg", b"this is a text file, not a photo".to_vec(), 400, "Invalid file format"),
        case("HTML/JPEG polyglot", polyglot, 400, "Invalid file format"),
        case("truncated JPEG", truncated, 400, "incomplete"),
        case("zero bytes", Vec::new(), 400, "empty"),
        case("10 MiB + 1 byte", oversize, 400, "File size exceeds 10MB limit"),
        case("30000x30000 PNG bomb", png_bomb(), 400, "exceed the limit"),
        case("progressive JPEG", encoded(true, false), 201, ""),
        case("CMYK JPEG", encoded(false, true), 201, ""),
        Case {
            name: "traversal in the file name (the name is never used)",
            parts: vec![("section3_2".into(), "../../../etc/cron.d/x.jpg".into(), jpeg(9))],
            drop_slot: true,
            expected: 201,
            message: "",
        },
        Case {
            name: "control characters in the file name (not a valid multipart header)",
            parts: vec![("section3_2".into(), "x\u{7}\u{1b}[31m.jpg".into(), jpeg(9))],
            drop_slot: true,
            expected: 400,
            message: "could not be read",
        },
        Case {
            name: "missing part",
            parts: vec![],
            drop_slot: true,
            expected: 400,
            message: "Missing required photos: section3_2",
        },
        Case {
            name: "duplicate part",
            parts: vec![("section1_1".into(), "again.jpg".into(), jpeg(3))],
            drop_slot: false,
            expected: 400,
            message: "Duplicate photo for section1_1",
        },
        Case {
            name: "extra part",
            parts: vec![("section9_9".into(), "extra.jpg".into(), jpeg(4))],
            drop_slot: false,
            expected: 201,
            message: "",
        },
    ];
    let mut accepted = 0;
    for (n, c) in cases.into_iter().enumerate() {
        let device = api.device_id(&tech, &format!("GFM{n}")).await;
        let files_before = photo_files(&d.media_root);
        let mut form = Form::new()
            .text("device_id", device.to_string())
            .text("visit_date", today())
            .text("job_description", "Routine maintenance visit")
            .text("job_status", "Ok");
        for slot in slots(false) {
            if c.drop_slot && slot == "section3_2" {
                continue;
            }
            form = form.part(slot.clone(), Part::bytes(jpeg(n as u8)).file_name("ok.jpg"));
        }
        for (name, file, bytes) in &c.parts {
            form = form.part(name.clone(), Part::bytes(bytes.clone()).file_name(file.clone()));
        }
        let r = api.post_form(Some(&tech), "/api/technician/submit", form).await;
        assert_eq!(r.status, c.expected, "{backend:?} {}: {}", c.name, r.body);
        assert!(temp_files(&d.media_root).is_empty(), "{}: temporary files remain", c.name);
        if c.expected == 201 {
            accepted += 1;
            assert_eq!(
                photo_files(&d.media_root),
                files_before + 8,
                "{}: exactly the 8 planned photos are kept",
                c.name
            );
        } else {
            assert!(r.body.to_string().contains(c.message), "{}: {}", c.name, r.body);
            assert_eq!(photo_files(&d.media_root), files_before, "{}: files left behind", c.name);
        }
    }
    assert!(!tmp.path().join("etc").exists());
    let sup = api.login("sup1", PASSWORD).await;
    assert_eq!(
        api.get(Some(&sup), "/api/supervisor/submissions").await.body["count"],
        accepted,
        "no rows from refused reports"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_request_cut_off_mid_body_stores_nothing() {
    let tmp = tempfile::tempdir().unwrap();
    let (d, api, host) = started(Backend::Sqlite, tmp.path()).await;
    let tech_id = api.create_technician(&host, "tech_a", "Riyadh").await;
    api.upload_excel(&host, tech_id, "Cleaning1", &[["GFM1", "1", "Cleaning", "", "Riyadh"]]).await;
    let tech = api.login("tech_a", PASSWORD).await;
    let device = api.device_id(&tech, "GFM1").await;

    let boundary = "XyZcutoff";
    let mut body = Vec::new();
    for (k, v) in [
        ("device_id", device.to_string()),
        ("visit_date", today()),
        ("job_description", "x".into()),
        ("job_status", "Ok".into()),
    ] {
        write!(body, "--{boundary}\r\nContent-Disposition: form-data; name=\"{k}\"\r\n\r\n{v}\r\n").unwrap();
    }
    for slot in slots(false) {
        write!(body, "--{boundary}\r\nContent-Disposition: form-data; name=\"{slot}\"; filename=\"a.jpg\"\r\nContent-Type: image/jpeg\r\n\r\n").unwrap();
        body.extend_from_slice(&noisy_jpeg(slot.len() as u64, 200, 200));
        body.extend_from_slice(b"\r\n");
    }
    let declared = body.len() + 1000;
    let cut = body.len() * 2 / 3;
    let addr = api.server.base.trim_start_matches("http://").to_string();
    let mut s = std::net::TcpStream::connect(&addr).unwrap();
    write!(
        s,
        "POST /api/technician/submit HTTP/1.1\r\nHost: {addr}\r\nAuthorization: Bearer {tech}\r\n\
         Content-Type: multipart/form-data; boundary={boundary}\r\nContent-Length: {declared}\r\n\r\n"
    )
    .unwrap();
    s.write_all(&body[..cut]).unwrap();
    s.flush().unwrap();
    std::thread::sleep(std::time::Duration::from_millis(300));
    drop(s);
    std::thread::sleep(std::time::Duration::from_millis(500));
    assert_eq!(photo_files(&d.media_root), 0, "photos of a cut-off request were kept");
    assert!(temp_files(&d.media_root).is_empty());
    let sup = api.login("sup1", PASSWORD).await;
    assert_eq!(api.get(Some(&sup), "/api/supervisor/submissions").await.body["count"], 0);
    // The same report, sent whole, goes through.
    let (form, _) = report(device, &today(), false, 1);
    assert_eq!(api.post_form(Some(&tech), "/api/technician/submit", form).await.status, 201);
}

on_each_database!(a_nineteenth_photo_that_fails_leaves_no_row_and_no_file);
async fn a_nineteenth_photo_that_fails_leaves_no_row_and_no_file(backend: Backend) {
    let tmp = tempfile::tempdir().unwrap();
    let (d, api, host) = started(backend, tmp.path()).await;
    let tech_id = api.create_technician(&host, "tech_e", "Abha").await;
    api.upload_excel(&host, tech_id, "Electrical", &[["GFM-E", "7", "Electro Mechanical", "", "Abha"]]).await;
    let tech = api.login("tech_e", PASSWORD).await;
    let device = api.device_id(&tech, "GFM-E").await;
    let mut form = Form::new()
        .text("device_id", device.to_string())
        .text("visit_date", today())
        .text("job_description", "Monthly electrical check")
        .text("job_status", "Not Ok");
    for (i, slot) in slots(true).into_iter().enumerate() {
        let bytes = if slot == "section5_3" { b"not a photo at all".to_vec() } else { jpeg(i as u8) };
        form = form.part(slot, Part::bytes(bytes).file_name("p.jpg"));
    }
    let r = api.post_form(Some(&tech), "/api/technician/submit", form).await;
    assert_eq!(r.status, 400, "{}", r.body);
    assert_eq!(photo_files(&d.media_root), 0, "18 good photos must not outlive the refused report");
    let sup = api.login("sup1", PASSWORD).await;
    assert_eq!(api.get(Some(&sup), "/api/supervisor/submissions").await.body["count"], 0);
    let (form, _) = report(device, &today(), true, 5);
    let r = api.post_form(Some(&tech), "/api/technician/submit", form).await;
    assert_eq!(r.status, 201, "the half-month is still free: {}", r.body);
}

#[tokio::test(flavor = "multi_thread")]
#[ignore = "needs root (mounts tmpfs and loop ext4 filesystems) and e2fsprogs"]
async fn a_report_that_does_not_fit_on_the_disk_answers_507_and_stores_nothing() {
    let tmp = tempfile::tempdir().unwrap();
    let d = Deployment::new(Backend::Sqlite, tmp.path()).await.without("ATM_TEST_ROUTES");
    let _m = mount_tmpfs(&d.media_root, "3m");
    seed_staff(&d);
    let api = Api::new(d.start().unwrap());
    let host = api.login("host1", PASSWORD).await;
    let tech_id = api.create_technician(&host, "tech_a", "Riyadh").await;
    api.upload_excel(&host, tech_id, "Cleaning1", &[["GFM1", "1", "Cleaning", "", "Riyadh"]]).await;
    let tech = api.login("tech_a", PASSWORD).await;
    let device = api.device_id(&tech, "GFM1").await;
    let mut form = Form::new()
        .text("device_id", device.to_string())
        .text("visit_date", today())
        .text("job_description", "x")
        .text("job_status", "Ok");
    for (i, slot) in slots(false).into_iter().enumerate() {
        form = form.part(slot, Part::bytes(noisy_jpeg(i as u64, 700, 500)).file_name("big.jpg"));
    }
    let r = api.post_form(Some(&tech), "/api/technician/submit", form).await;
    assert_eq!(r.status, 507, "{}", r.body);
    assert!(r.body["detail"].as_str().unwrap().contains("full"));
    assert_eq!(photo_files(&d.media_root), 0);
    assert!(temp_files(&d.media_root).is_empty());
    let sup = api.login("sup1", PASSWORD).await;
    assert_eq!(api.get(Some(&sup), "/api/supervisor/submissions").await.body["count"], 0);
}

on_each_database!(the_same_half_of_another_month_is_a_new_period_and_unknown_devices_are_named);
async fn the_same_half_of_another_month_is_a_new_period_and_unknown_devices_are_named(backend: Backend) {
    let tmp = tempfile::tempdir().unwrap();
    let (d, api, host) = started(backend, tmp.path()).await;
    let tech_id = api.create_technician(&host, "tech_m", "Tabuk").await;
    api.upload_excel(&host, tech_id, "Cleaning2", &[["GFM-M", "5", "Cleaning", "", "Tabuk"]]).await;
    let tech = api.login("tech_m", PASSWORD).await;
    let device = api.device_id(&tech, "GFM-M").await;
    // Half 2 of October, then half 2 of November: the original answered the second with a 500.
    for date in ["2026-10-20", "2026-11-20"] {
        let (form, _) = report(device, date, false, 1);
        let r = api.post_form(Some(&tech), "/api/technician/submit", form).await;
        assert_eq!(r.status, 201, "{backend:?} {date}: {}", r.body);
    }
    let (form, _) = report(device, "2026-11-25", false, 2);
    let r = api.post_form(Some(&tech), "/api/technician/submit", form).await;
    assert_eq!(
        r.body["non_field_errors"][0],
        "You have already submitted for this device in half 2 of November 2026"
    );
    let (form, _) = report(987654, "2026-11-05", false, 3);
    let r = api.post_form(Some(&tech), "/api/technician/submit", form).await;
    assert_eq!(r.body, serde_json::json!({"device_id": ["Device with ID 987654 does not exist"]}));
    assert_eq!(photo_files(&d.media_root), 16, "only the two accepted reports' photos are kept");
}
