//! What makes the pages an installable app that opens offline: the web app manifest (name and
//! icons from the brand settings), its PNG icons, and the service worker that keeps the app's own
//! files, versioned by their hashes.

use std::io::Cursor;

use image::{DynamicImage, ImageFormat, Rgba, RgbaImage, imageops};
use serde_json::json;

use crate::config::Settings;

/// The icon sizes the manifest lists (Chromium's installability wants one of at least 144 px).
pub(super) const ICON_SIZES: [u32; 2] = [192, 512];

/// The manifest: the brand's name, standalone, starting at the app's home.
pub(super) fn manifest(settings: &Settings) -> String {
    let brand = &settings.report.brand_name;
    let short: String = brand.chars().take(12).collect();
    let mut icons: Vec<_> = ICON_SIZES
        .iter()
        .map(|s| json!({ "src": format!("/assets/icon-{s}.png"), "sizes": format!("{s}x{s}"), "type": "image/png", "purpose": "any" }))
        .collect();
    icons.push(json!({ "src": "/assets/icon.svg", "sizes": "any", "type": "image/svg+xml" }));
    json!({
        "id": "/",
        "name": brand,
        "short_name": short,
        "description": "Visit reports with photos for ATM maintenance.",
        "start_url": "/#/",
        "scope": "/",
        "display": "standalone",
        "background_color": "#ffffff",
        "theme_color": "#0b5cad",
        "icons": icons,
    })
    .to_string()
}

/// A square PNG icon: the configured logo (`REPORT_LOGO_PATH`) fitted on white, else the built-in
/// mark drawn at this size.
pub(super) fn icon_png(logo: Option<&[u8]>, size: u32) -> Vec<u8> {
    let img = logo
        .and_then(|b| image::load_from_memory(b).ok())
        .map(|l| fit(&l, size))
        .unwrap_or_else(|| mark(size));
    let mut out = Cursor::new(Vec::new());
    // Writing a PNG into memory fails only on a zero-sized image, which `size` never is.
    let _ = DynamicImage::ImageRgba8(img).write_to(&mut out, ImageFormat::Png);
    out.into_inner()
}

fn fit(logo: &DynamicImage, size: u32) -> RgbaImage {
    let inner = size * 4 / 5;
    let scaled = logo.resize(inner, inner, imageops::FilterType::Triangle).to_rgba8();
    let mut canvas = RgbaImage::from_pixel(size, size, Rgba([255, 255, 255, 255]));
    let (x, y) = ((size - scaled.width()) / 2, (size - scaled.height()) / 2);
    imageops::overlay(&mut canvas, &scaled, i64::from(x), i64::from(y));
    canvas
}

/// The built-in mark of `assets/icon.svg` (an ATM: screen and slots on a blue square), drawn on a
/// 64-unit grid scaled to `size`.
fn mark(size: u32) -> RgbaImage {
    const BLUE: Rgba<u8> = Rgba([0x0b, 0x5c, 0xad, 255]);
    const WHITE: Rgba<u8> = Rgba([255, 255, 255, 255]);
    let mut img = RgbaImage::from_pixel(size, size, BLUE);
    let unit = size as f32 / 64.0;
    let mut rect = |x: f32, y: f32, w: f32, h: f32, colour: Rgba<u8>| {
        let (x0, y0) = ((x * unit) as u32, (y * unit) as u32);
        let (x1, y1) = (((x + w) * unit) as u32, ((y + h) * unit) as u32);
        for py in y0..y1.min(size) {
            for px in x0..x1.min(size) {
                img.put_pixel(px, py, colour);
            }
        }
    };
    rect(14.0, 12.0, 36.0, 40.0, WHITE);
    rect(19.0, 17.0, 26.0, 14.0, BLUE);
    rect(19.0, 36.0, 26.0, 4.0, BLUE);
    rect(19.0, 44.0, 16.0, 3.0, BLUE);
    img
}

/// The service worker: the app's files kept under a cache named by `version` (a hash of every
/// file), served from there first so the app opens with no connection; a new binary is a new
/// `version`, which the browser installs on the next load and the page announces.
pub(super) fn service_worker(version: &str, files: &[&str]) -> String {
    let files = serde_json::to_string(files).unwrap_or_else(|_| "[]".into());
    format!("const VERSION = '{version}';\nconst FILES = {files};\n{}", include_str!("assets/sw.js"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_icons_are_pngs_of_their_size_with_and_without_a_logo() {
        for size in ICON_SIZES {
            let png = icon_png(None, size);
            let img = image::load_from_memory(&png).unwrap();
            assert_eq!((img.width(), img.height()), (size, size));
            // The screen of the mark is blue inside the white body.
            assert_eq!(img.to_rgba8().get_pixel(size / 2, size * 24 / 64).0, [0x0b, 0x5c, 0xad, 255]);
            assert_eq!(img.to_rgba8().get_pixel(size / 2, size * 33 / 64).0, [255, 255, 255, 255]);
        }
        let logo = icon_png(None, 40);
        let fitted = image::load_from_memory(&icon_png(Some(&logo), 192)).unwrap();
        assert_eq!((fitted.width(), fitted.height()), (192, 192));
        assert_eq!(fitted.to_rgba8().get_pixel(2, 2).0, [255, 255, 255, 255], "the logo sits on white");
        let junk = image::load_from_memory(&icon_png(Some(b"not an image"), 192)).unwrap();
        assert_eq!(
            junk.to_rgba8().get_pixel(2, 2).0,
            [0x0b, 0x5c, 0xad, 255],
            "an unreadable logo falls back to the mark"
        );
    }
}
