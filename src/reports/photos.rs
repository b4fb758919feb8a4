//! Photos made ready for print and for screens: EXIF orientation applied, downscaled and
//! re-encoded as JPEG, so a 19-photo report stays small enough to e-mail and review pages never
//! load originals. Originals stay untouched.

use std::io::Cursor;

use image::{DynamicImage, ImageFormat, ImageReader};

/// The longest edge after downscaling: ~200 dpi over the tallest photo cell of an A4 page.
pub const MAX_EDGE: u32 = 1400;
const QUALITY: u8 = 75;

#[derive(Debug, Clone)]
pub struct PrintPhoto {
    pub jpeg: Vec<u8>,
    pub width: u32,
    pub height: u32,
}

pub fn prepare(original: &[u8]) -> anyhow::Result<PrintPhoto> {
    Ok(renditions(original, &[MAX_EDGE])?.remove(0))
}

/// One decode, then a JPEG per requested longest edge (never upscaled), upright.
pub fn renditions(original: &[u8], edges: &[u32]) -> anyhow::Result<Vec<PrintPhoto>> {
    let reader = ImageReader::new(Cursor::new(original)).with_guessed_format()?;
    let img = orient(reader.decode()?, exif_orientation(original));
    let mut out = Vec::with_capacity(edges.len());
    // Largest first, each made from the previous one: cheaper than starting from the original.
    let mut order: Vec<(usize, u32)> = edges.iter().copied().enumerate().collect();
    order.sort_by_key(|o| std::cmp::Reverse(o.1));
    let mut current = img;
    for (i, edge) in order {
        if current.width().max(current.height()) > edge {
            current = current.resize(edge, edge, image::imageops::FilterType::Triangle);
        }
        let rgb = DynamicImage::ImageRgb8(current.to_rgb8());
        let mut buf = Cursor::new(Vec::new());
        let encoder = image::codecs::jpeg::JpegEncoder::new_with_quality(&mut buf, QUALITY);
        rgb.write_with_encoder(encoder)?;
        out.push((i, PrintPhoto { jpeg: buf.into_inner(), width: rgb.width(), height: rgb.height() }));
    }
    out.sort_by_key(|(i, _)| *i);
    Ok(out.into_iter().map(|(_, p)| p).collect())
}

fn exif_orientation(bytes: &[u8]) -> u32 {
    if image::guess_format(bytes).ok() != Some(ImageFormat::Jpeg) {
        return 1;
    }
    exif::Reader::new()
        .read_from_container(&mut Cursor::new(bytes))
        .ok()
        .and_then(|e| {
            e.get_field(exif::Tag::Orientation, exif::In::PRIMARY).and_then(|f| f.value.get_uint(0))
        })
        .unwrap_or(1)
}

fn orient(img: DynamicImage, orientation: u32) -> DynamicImage {
    match orientation {
        2 => img.fliph(),
        3 => img.rotate180(),
        4 => img.flipv(),
        5 => img.rotate90().fliph(),
        6 => img.rotate90(),
        7 => img.rotate270().fliph(),
        8 => img.rotate270(),
        _ => img,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn large_photos_are_downscaled_and_small_ones_kept() {
        let big = image::RgbImage::from_fn(2400, 1200, |x, _| image::Rgb([(x % 256) as u8, 0, 0]));
        let mut bytes = Cursor::new(Vec::new());
        big.write_to(&mut bytes, ImageFormat::Png).unwrap();
        let p = prepare(bytes.get_ref()).unwrap();
        assert_eq!((p.width, p.height), (1400, 700));
        assert!(p.jpeg.starts_with(&[0xFF, 0xD8]));
        let small = image::RgbImage::new(300, 200);
        let mut bytes = Cursor::new(Vec::new());
        small.write_to(&mut bytes, ImageFormat::Jpeg).unwrap();
        assert_eq!(prepare(bytes.get_ref()).unwrap().width, 300);
    }

    #[test]
    fn orientation_six_turns_a_landscape_photo_upright() {
        let img = DynamicImage::ImageRgb8(image::RgbImage::new(40, 20));
        let turned = orient(img, 6);
        assert_eq!((turned.width(), turned.height()), (20, 40));
    }
}
