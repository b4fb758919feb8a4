//! Server-made previews: a 320 px thumbnail and a 1600 px screen copy per photo, upright (EXIF
//! orientation applied), never upscaled, made once, and only through the photo's own signature.

use crate::common::api::*;
use crate::common::*;

/// `jpeg` with an EXIF APP1 segment carrying `orientation`, as a phone camera writes it.
fn with_orientation(jpeg: &[u8], orientation: u16) -> Vec<u8> {
    let mut tiff = vec![b'I', b'I', 0x2A, 0, 8, 0, 0, 0, 1, 0, 0x12, 0x01, 3, 0, 1, 0, 0, 0];
    tiff.extend_from_slice(&orientation.to_le_bytes());
    tiff.extend_from_slice(&[0, 0, 0, 0, 0, 0]);
    let mut app1 = b"Exif\0\0".to_vec();
    app1.extend(tiff);
    let mut out = vec![0xFF, 0xD8, 0xFF, 0xE1];
    out.extend(((app1.len() + 2) as u16).to_be_bytes());
    out.extend(app1);
    out.extend_from_slice(&jpeg[2..]);
    out
}

fn landscape(width: u32, height: u32) -> Vec<u8> {
    let img =
        image::RgbImage::from_fn(width, height, |x, y| image::Rgb([(x % 251) as u8, (y % 241) as u8, 90]));
    let mut out = std::io::Cursor::new(Vec::new());
    img.write_to(&mut out, image::ImageFormat::Jpeg).unwrap();
    out.into_inner()
}

async fn fetch(url: &str) -> (u16, String, Vec<u8>) {
    let resp = client().get(url).send().await.unwrap();
    let status = resp.status().as_u16();
    let kind =
        resp.headers().get("content-type").map(|v| v.to_str().unwrap().to_string()).unwrap_or_default();
    (status, kind, resp.bytes().await.unwrap().to_vec())
}

on_each_database!(previews_are_made_once_upright_and_only_under_the_photo_signature);
async fn previews_are_made_once_upright_and_only_under_the_photo_signature(backend: Backend) {
    let tmp = tempfile::tempdir().unwrap();
    let (d, api, host) = started(backend, tmp.path()).await;
    let id = api.create_technician(&host, "shooter", "Riyadh").await;
    assert_eq!(
        api.upload_excel(&host, id, "Cleaning1", &[["GFM-R", "5", "Cleaning", "", "Riyadh"]]).await.status,
        201
    );
    let tech = api.login("shooter", PASSWORD).await;
    let device = api.device_id(&tech, "GFM-R").await;
    let mut form = reqwest::multipart::Form::new()
        .text("device_id", device.to_string())
        .text("visit_date", today())
        .text("job_description", "x")
        .text("job_status", "Ok");
    for (i, slot) in slots(false).into_iter().enumerate() {
        // The first photo was taken with the phone turned: stored landscape, shown portrait.
        let bytes = if i == 0 { with_orientation(&landscape(400, 200), 6) } else { jpeg(i as u8) };
        form = form.part(slot, reqwest::multipart::Part::bytes(bytes).file_name("p.jpg"));
    }
    let r = api.post_form(Some(&tech), "/api/technician/submit", form).await;
    assert_eq!(r.status, 201, "{}", r.body);
    let photos = r.body["submission"]["photos"].as_array().unwrap().clone();
    let first = photos.iter().find(|p| p["section"] == 1 && p["order_index"] == 1).unwrap();
    let thumb = first["thumb_url"].as_str().unwrap();
    let screen = first["preview_url"].as_str().unwrap();
    assert!(thumb.contains("/previews/320/") && screen.contains("/previews/1600/"), "{first}");

    let (status, kind, bytes) = fetch(thumb).await;
    assert_eq!((status, kind.as_str()), (200, "image/jpeg"));
    let img = image::load_from_memory(&bytes).unwrap();
    assert_eq!((img.width(), img.height()), (160, 320), "upright and within 320 px");
    let (_, _, bytes) = fetch(screen).await;
    let img = image::load_from_memory(&bytes).unwrap();
    assert_eq!((img.width(), img.height()), (200, 400), "upright and never upscaled");
    let previews = d.media_root.join("previews");
    let made = files_under(&previews);
    assert_eq!(made, 2, "one file per size asked for");
    let (_, _, again) = fetch(thumb).await;
    assert_eq!(files_under(&previews), made, "made once");
    assert!(!again.is_empty());

    // The photo's signature, and only that, opens its previews.
    let other = photos.iter().find(|p| p["section"] == 2).unwrap()["file_url"].as_str().unwrap().to_string();
    let other_key = other.split("/media/").nth(1).unwrap().split('?').next().unwrap();
    let (path, query) = thumb.split_once('?').unwrap();
    let own_key = path.split("/previews/320/").nth(1).unwrap();
    assert_eq!(fetch(&format!("{}?{query}", path.replace(own_key, other_key))).await.0, 403);
    assert_eq!(fetch(path).await.0, 403, "unsigned");
    assert_eq!(fetch(&thumb.replace("/previews/320/", "/previews/999/")).await.0, 404);

    let fsck = d.run(&["fsck"]);
    assert!(fsck.status.success(), "{}", String::from_utf8_lossy(&fsck.stdout));
}
