//! Photos that would decode to more than the renderers allow, generated here: a 16-bit
//! 10000×10000 PNG, grey+alpha and palette PNGs that expand past the bound, a 60000×1 JPEG and a
//! PNG claiming 100000×100000. Each is refused at upload (one-shot submit and draft PUT) with a
//! message, in bounded memory, leaving nothing behind. A stored photo that still cannot be
//! rendered gets a 422 for its previews and a labelled placeholder in the report PDF.

use std::path::Path;

use crate::common::api::*;
use crate::common::png::{chunk, png_claiming};
use crate::common::*;
use reqwest::multipart::{Form, Part};
use serde_json::json;

const PEAK_RSS_MB: u64 = 200;

fn strip_jpeg() -> Vec<u8> {
    let mut out = Vec::new();
    let pixels: Vec<u8> = (0..60_000 * 3).map(|i| (i % 251) as u8).collect();
    jpeg_encoder::Encoder::new(&mut out, 80)
        .encode(&pixels, 60_000, 1, jpeg_encoder::ColorType::Rgb)
        .unwrap();
    out
}

fn corpus() -> Vec<(&'static str, Vec<u8>, &'static str)> {
    vec![
        (
            "16-bit RGB PNG 10000x10000",
            png_claiming(10_000, 10_000, 16, 2, false),
            "need 573 MB once decoded",
        ),
        ("16-bit RGBA PNG 8000x8000", png_claiming(8_000, 8_000, 16, 6, false), "once decoded"),
        ("16-bit grey+alpha PNG 9000x9000", png_claiming(9_000, 9_000, 16, 4, false), "once decoded"),
        ("palette PNG with transparency 9000x9000", png_claiming(9_000, 9_000, 8, 3, true), "once decoded"),
        ("JPEG 60000x1", strip_jpeg(), "exceed the limit of 16384 pixels per side"),
        ("PNG claiming 100000x100000", png_claiming(100_000, 100_000, 8, 2, false), "exceed the limit"),
        ("64x48 PNG whose ICC profile inflates to 64 MB", png_with_icc_bomb(), "metadata expands past"),
        ("progressive JPEG 9200x9200", progressive_jpeg_claiming(9_200, 9_200), "once decoded"),
    ]
}

/// A real 64×48 PNG with an `iCCP` chunk of zlib-compressed bytes that inflate to 64 MB.
fn png_with_icc_bomb() -> Vec<u8> {
    let mut png = Vec::new();
    image::DynamicImage::ImageRgb8(image::RgbImage::new(64, 48))
        .write_to(&mut std::io::Cursor::new(&mut png), image::ImageFormat::Png)
        .unwrap();
    let mut icc = b"icc\0\0".to_vec();
    icc.extend(miniz_oxide::deflate::compress_to_vec_zlib(&vec![b'a'; 64 * 1024 * 1024], 9));
    // After the signature (8) and IHDR (25): where a profile goes.
    let mut out = png[..33].to_vec();
    out.extend(chunk(b"iCCP", &icc));
    out.extend_from_slice(&png[33..]);
    out
}

/// A small progressive JPEG whose frame header claims `w`×`h`: decoding it keeps every
/// coefficient at full size, so its header alone decides.
fn progressive_jpeg_claiming(w: u16, h: u16) -> Vec<u8> {
    let mut jpeg = Vec::new();
    let mut enc = jpeg_encoder::Encoder::new(&mut jpeg, 80);
    enc.set_progressive(true);
    enc.encode(&[90u8; 16 * 16 * 3], 16, 16, jpeg_encoder::ColorType::Rgb).unwrap();
    let sof = jpeg.windows(2).position(|m| m == [0xFF, 0xC2]).expect("a progressive frame header");
    jpeg[sof + 5..sof + 7].copy_from_slice(&h.to_be_bytes());
    jpeg[sof + 7..sof + 9].copy_from_slice(&w.to_be_bytes());
    jpeg
}

async fn technician_with_device(api: &Api, host: &str) -> (String, i64) {
    let id = api.create_technician(host, "tech_p", "Riyadh").await;
    let r = api.upload_excel(host, id, "Cleaning1", &[["GFM-P", "5", "Cleaning", "", "Riyadh"]]).await;
    assert_eq!(r.status, 201, "{}", r.body);
    let tech = api.login("tech_p", PASSWORD).await;
    let device = api.device_id(&tech, "GFM-P").await;
    (tech, device)
}

fn form_with(device: i64, bad: Option<Vec<u8>>) -> Form {
    let mut form = Form::new()
        .text("device_id", device.to_string())
        .text("visit_date", today())
        .text("job_description", "Routine maintenance visit")
        .text("job_status", "Ok");
    for (i, slot) in slots(false).into_iter().enumerate() {
        let bytes = match (&bad, slot.as_str()) {
            (Some(b), "section3_2") => b.clone(),
            _ => jpeg(i as u8),
        };
        form = form.part(slot, Part::bytes(bytes).file_name("p.png"));
    }
    form
}

on_each_database!(photos_that_decode_past_the_bound_are_refused_at_upload_in_bounded_memory);
async fn photos_that_decode_past_the_bound_are_refused_at_upload_in_bounded_memory(backend: Backend) {
    let tmp = tempfile::tempdir().unwrap();
    let (d, api, host) = started(backend, tmp.path()).await;
    let (tech, device) = technician_with_device(&api, &host).await;
    let sup = api.login("sup1", PASSWORD).await;
    let draft = api
        .post_json(
            Some(&tech),
            "/api/technician/drafts/",
            json!({"device_id": device, "visit_date": today()}),
        )
        .await;
    let draft = draft.body["id"].as_i64().unwrap_or_else(|| panic!("{}", draft.body));
    for (name, bytes, message) in corpus() {
        api.server.reset_peak_rss();
        let r = api
            .post_form(Some(&tech), "/api/technician/submit", form_with(device, Some(bytes.clone())))
            .await;
        assert_eq!(r.status, 400, "{name}: {}", r.body);
        assert!(r.body.to_string().contains(message), "{name}: {}", r.body);
        let path = format!("/api/technician/drafts/{draft}/photos/section3_2");
        let put = api.send(api.req(reqwest::Method::PUT, Some(&tech), &path).body(bytes)).await;
        assert_eq!(put.status, 400, "{name} (draft): {}", put.body);
        let text = put.body["error"].as_str().unwrap_or_default();
        assert!(text.starts_with("Failed to save photo: ") && text.contains(message), "{name}: {text}");
        let peak = api.server.peak_rss_mb();
        eprintln!("{backend:?} {name}: peak RSS {peak} MB");
        assert!(peak < PEAK_RSS_MB, "{name}: peak RSS {peak} MB");
        assert_eq!(photo_files(&d.media_root), 0, "{name}: files left behind");
        let listed = api.get(Some(&sup), "/api/supervisor/submissions").await;
        assert_eq!((listed.status, listed.body["count"].clone()), (200, json!(0)), "{name}");
    }
    let r = api.post_form(Some(&tech), "/api/technician/submit", form_with(device, None)).await;
    assert_eq!(r.status, 201, "the same report with ordinary photos goes through: {}", r.body);
}

/// The stored file behind a photo's key, found under the media root.
fn stored_file(media_root: &Path, key: &str) -> std::path::PathBuf {
    let path = media_root.join(key);
    assert!(path.is_file(), "{key} not under {}", media_root.display());
    path
}

#[tokio::test(flavor = "multi_thread")]
#[ignore = "needs poppler-utils (pdftotext, pdfimages)"]
async fn a_stored_photo_that_cannot_be_rendered_gets_a_422_preview_and_a_placeholder_in_the_pdf() {
    let tmp = tempfile::tempdir().unwrap();
    let (d, api, host) = started(Backend::Sqlite, tmp.path()).await;
    let (tech, device) = technician_with_device(&api, &host).await;
    let r = api.post_form(Some(&tech), "/api/technician/submit", form_with(device, None)).await;
    assert_eq!(r.status, 201, "{}", r.body);
    let id = r.body["submission"]["id"].as_i64().unwrap();
    let photos = r.body["submission"]["photos"].as_array().unwrap().clone();
    let victim = photos.iter().find(|p| p["section"] == 2 && p["order_index"] == 1).unwrap();
    let key =
        victim["file_url"].as_str().unwrap().split("/media/").nth(1).unwrap().split('?').next().unwrap();
    let sha = victim["sha256"].as_str().unwrap().to_string();
    // What a photo accepted before the decoded-size bound existed looks like on disk: a 16-bit
    // 10000×10000 PNG that no renderer may decode.
    std::fs::write(stored_file(&d.media_root, key), png_claiming(10_000, 10_000, 16, 2, false)).unwrap();

    for url in [victim["thumb_url"].as_str().unwrap(), victim["preview_url"].as_str().unwrap()] {
        for _ in 0..2 {
            let resp = client().get(url).send().await.unwrap();
            assert_eq!(resp.status().as_u16(), 422, "{url}");
            let body: serde_json::Value = resp.json().await.unwrap();
            assert!(body["error"].as_str().unwrap().contains("cannot be shown as a preview"), "{body}");
        }
    }

    let sup = api.login("sup1", PASSWORD).await;
    let r =
        api.post_json(Some(&sup), &format!("/api/supervisor/submissions/{id}/preview-pdf"), json!({})).await;
    assert_eq!(r.status, 200, "one bad photo must not fail the report: {}", r.body);
    let pdf = client().get(r.body["pdf_url"].as_str().unwrap()).send().await.unwrap().bytes().await.unwrap();
    assert!(pdf.starts_with(b"%PDF"));
    let file = tmp.path().join("report.pdf");
    std::fs::write(&file, &pdf).unwrap();
    let text = std::process::Command::new("pdftotext").arg(&file).arg("-").output();
    let images = std::process::Command::new("pdfimages").arg("-list").arg(&file).output();
    match (text, images) {
        (Ok(t), Ok(i)) if t.status.success() && i.status.success() => {
            let text = String::from_utf8_lossy(&t.stdout);
            assert!(text.contains("photo could not be rendered"), "{text}");
            assert!(
                text.contains(&sha[..32]) && text.contains(&sha[32..]),
                "the full SHA-256 is printed: {text}"
            );
            let count =
                String::from_utf8_lossy(&i.stdout).lines().skip(2).filter(|l| l.contains("image")).count();
            assert_eq!(count, 7, "the other seven photos are embedded");
        }
        other => panic!("this test needs poppler-utils (pdftotext, pdfimages): {other:?}"),
    }
}
