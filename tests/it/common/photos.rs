//! Photos made by the tests for the evidence checks: distinct scenes (random shapes on a random
//! gradient, noise, a seed each), EXIF written into them (capture time with its offset, GPS
//! position, camera), and the copies a reuser makes: recompressed, resized, cropped.

use std::io::Cursor;

use exif::{Field, In, Tag, Value};
use rand::{Rng, SeedableRng};

/// A 800×600 scene, the same for the same seed, unlike any other seed's.
pub fn scene(seed: u64) -> image::RgbImage {
    let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
    let (w, h) = (800u32, 600u32);
    let base: [f64; 3] =
        [rng.random_range(0.0..200.0), rng.random_range(0.0..200.0), rng.random_range(0.0..200.0)];
    let (gx, gy): (f64, f64) = (rng.random_range(-0.2..0.2), rng.random_range(-0.2..0.2));
    let mut img = image::RgbImage::from_fn(w, h, |x, y| {
        let g = gx * f64::from(x) + gy * f64::from(y);
        image::Rgb([
            (base[0] + g).clamp(0.0, 255.0) as u8,
            (base[1] + g).clamp(0.0, 255.0) as u8,
            (base[2] - g).clamp(0.0, 255.0) as u8,
        ])
    });
    for _ in 0..12 {
        let (x0, y0) = (rng.random_range(0..w), rng.random_range(0..h));
        let (rw, rh) = (rng.random_range(40..300u32), rng.random_range(40..300u32));
        let c = image::Rgb([rng.random::<u8>(), rng.random::<u8>(), rng.random::<u8>()]);
        let ellipse = rng.random_bool(0.5);
        for y in y0..(y0 + rh).min(h) {
            for x in x0..(x0 + rw).min(w) {
                let dx = (f64::from(x) - f64::from(x0 + rw / 2)) / (f64::from(rw) / 2.0);
                let dy = (f64::from(y) - f64::from(y0 + rh / 2)) / (f64::from(rh) / 2.0);
                if !ellipse || dx * dx + dy * dy <= 1.0 {
                    img.put_pixel(x, y, c);
                }
            }
        }
    }
    for p in img.pixels_mut() {
        let n: i16 = rng.random_range(-12..12);
        for c in p.0.iter_mut() {
            *c = (i16::from(*c) + n).clamp(0, 255) as u8;
        }
    }
    img
}

/// What the camera writes into a photo.
#[derive(Clone, Default)]
pub struct Shot {
    /// `DateTimeOriginal`, e.g. "2026:11:30 14:03:12".
    pub taken: Option<String>,
    /// `OffsetTimeOriginal`, e.g. "+03:00".
    pub offset: Option<String>,
    /// Latitude, longitude in degrees.
    pub gps: Option<(f64, f64)>,
    pub altitude_m: Option<f64>,
    pub accuracy_m: Option<f64>,
    pub camera: Option<(String, String)>,
}

impl Shot {
    /// Taken `minutes_ago` before now (UTC, with its +00:00 offset), at `gps`, by a test phone.
    pub fn at(minutes_ago: i64, gps: (f64, f64)) -> Shot {
        let t = chrono::Utc::now() - chrono::Duration::minutes(minutes_ago);
        Shot {
            taken: Some(t.format("%Y:%m:%d %H:%M:%S").to_string()),
            offset: Some("+00:00".into()),
            gps: Some(gps),
            altitude_m: Some(612.0),
            accuracy_m: Some(8.0),
            camera: Some(("TestPhone".into(), "Field 7".into())),
        }
    }
}

fn ascii(tag: Tag, ifd: In, s: &str) -> Field {
    Field { tag, ifd_num: ifd, value: Value::Ascii(vec![s.as_bytes().to_vec()]) }
}

fn rational(v: f64) -> exif::Rational {
    exif::Rational { num: (v * 10_000.0).round() as u32, denom: 10_000 }
}

fn dms(deg: f64) -> Value {
    let d = deg.abs();
    let (whole, minutes) = (d.trunc(), d.fract() * 60.0);
    let seconds = minutes.fract() * 60.0;
    Value::Rational(vec![rational(whole), rational(minutes.trunc()), rational(seconds)])
}

/// The TIFF body of an APP1 EXIF segment for `shot`.
fn exif_segment(shot: &Shot) -> Vec<u8> {
    let mut fields = Vec::new();
    if let Some(t) = &shot.taken {
        fields.push(ascii(Tag::DateTimeOriginal, In::PRIMARY, t));
    }
    if let Some(o) = &shot.offset {
        fields.push(ascii(Tag::OffsetTimeOriginal, In::PRIMARY, o));
    }
    if let Some((make, model)) = &shot.camera {
        fields.push(ascii(Tag::Make, In::PRIMARY, make));
        fields.push(ascii(Tag::Model, In::PRIMARY, model));
    }
    if let Some((lat, lon)) = shot.gps {
        fields.push(ascii(Tag::GPSLatitudeRef, In::PRIMARY, if lat < 0.0 { "S" } else { "N" }));
        fields.push(Field { tag: Tag::GPSLatitude, ifd_num: In::PRIMARY, value: dms(lat) });
        fields.push(ascii(Tag::GPSLongitudeRef, In::PRIMARY, if lon < 0.0 { "W" } else { "E" }));
        fields.push(Field { tag: Tag::GPSLongitude, ifd_num: In::PRIMARY, value: dms(lon) });
    }
    if let Some(a) = shot.altitude_m {
        fields.push(Field { tag: Tag::GPSAltitudeRef, ifd_num: In::PRIMARY, value: Value::Byte(vec![0]) });
        fields.push(Field {
            tag: Tag::GPSAltitude,
            ifd_num: In::PRIMARY,
            value: Value::Rational(vec![rational(a)]),
        });
    }
    if let Some(a) = shot.accuracy_m {
        fields.push(Field {
            tag: Tag::GPSHPositioningError,
            ifd_num: In::PRIMARY,
            value: Value::Rational(vec![rational(a)]),
        });
    }
    let mut w = exif::experimental::Writer::new();
    for f in &fields {
        w.push_field(f);
    }
    let mut tiff = Cursor::new(Vec::new());
    w.write(&mut tiff, false).unwrap();
    let mut out = b"Exif\0\0".to_vec();
    out.extend(tiff.into_inner());
    out
}

/// A JPEG of `img` at `quality`, with `shot` written as EXIF (none when the shot is empty).
pub fn jpeg_with(img: &image::RgbImage, quality: u8, shot: &Shot) -> Vec<u8> {
    let mut out = Vec::new();
    let mut enc = jpeg_encoder::Encoder::new(&mut out, quality);
    let empty = shot.taken.is_none() && shot.gps.is_none() && shot.camera.is_none();
    if !empty {
        enc.add_app_segment(1, &exif_segment(shot)).unwrap();
    }
    enc.encode(img.as_raw(), img.width() as u16, img.height() as u16, jpeg_encoder::ColorType::Rgb).unwrap();
    out
}

/// The copy a reuser makes by saving the picture again at another quality.
pub fn recompressed(img: &image::RgbImage, shot: &Shot) -> Vec<u8> {
    jpeg_with(img, 55, shot)
}

/// Half the size.
pub fn resized(img: &image::RgbImage, shot: &Shot) -> Vec<u8> {
    let small = image::imageops::resize(
        img,
        img.width() / 2,
        img.height() / 2,
        image::imageops::FilterType::Triangle,
    );
    jpeg_with(&small, 80, shot)
}

/// `percent` cut off each side.
pub fn cropped(img: &image::RgbImage, percent: u32, shot: &Shot) -> Vec<u8> {
    let (dx, dy) = (img.width() * percent / 100, img.height() * percent / 100);
    let inner =
        image::imageops::crop_imm(img, dx, dy, img.width() - 2 * dx, img.height() - 2 * dy).to_image();
    jpeg_with(&inner, 85, shot)
}

/// A point `metres` north of `from`.
pub fn north_of(from: (f64, f64), metres: f64) -> (f64, f64) {
    (from.0 + metres / 111_195.0, from.1)
}
