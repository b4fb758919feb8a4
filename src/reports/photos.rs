//! Photos made ready for print and for screens: EXIF orientation applied, downscaled and
//! re-encoded as JPEG, so a 19-photo report stays small enough to e-mail and review pages never
//! load originals. Originals stay untouched. Decoding is bounded by the same allowance the upload
//! check uses ([`photo::decode_limits`]), so a photo that passed the upload decodes here.

use std::io::Cursor;

use image::DynamicImage;

use crate::domain::photo;

/// The longest edge after downscaling: ~200 dpi over the tallest photo cell of an A4 page.
pub(crate) const MAX_EDGE: u32 = 1400;
const QUALITY: u8 = 75;

#[derive(Debug, Clone)]
pub(crate) struct PrintPhoto {
    pub jpeg: Vec<u8>,
    pub width: u32,
    pub height: u32,
}

pub(crate) fn prepare(original: &[u8]) -> anyhow::Result<PrintPhoto> {
    rendition(original, MAX_EDGE)
}

/// A JPEG of the photo, upright, `edge` px on its longest side (never upscaled), re-encoded (no
/// EXIF travels with it: previews and the PDF's images carry no position).
pub(crate) fn rendition(original: &[u8], edge: u32) -> anyhow::Result<PrintPhoto> {
    let img = photo::upright_small(original, edge)?;
    let rgb = DynamicImage::ImageRgb8(img.to_rgb8());
    let mut buf = Cursor::new(Vec::new());
    let encoder = image::codecs::jpeg::JpegEncoder::new_with_quality(&mut buf, QUALITY);
    rgb.write_with_encoder(encoder)?;
    Ok(PrintPhoto { jpeg: buf.into_inner(), width: rgb.width(), height: rgb.height() })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::photo::{orient, scaled_jpeg};
    use image::ImageFormat;

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
    fn a_photo_past_the_decoded_bound_fails_fast_instead_of_allocating() {
        let bomb = crate::domain::photo::tests::png_claiming(10_000, 10_000, 16, 2, false);
        let err = rendition(&bomb, 320).unwrap_err();
        assert!(format!("{err:#}").to_lowercase().contains("limit"), "{err:#}");
    }

    /// Photos just under the decoded bound are accepted at upload and still render: the bound is
    /// the renderers' own allowance, not a guess below it. Slow (encodes ~250 MB images):
    /// `cargo test --lib -- --ignored photos_at_the_bound` (CI runs it).
    #[test]
    #[ignore = "slow: encodes images of ~250 MB"]
    fn photos_at_the_bound_are_accepted_and_render() {
        use crate::domain::photo::HeadTail;
        let check = |bytes: &[u8]| {
            let mut ht = HeadTail::default();
            ht.push(bytes);
            ht.inspect()
        };
        let mut png = Cursor::new(Vec::new());
        image::RgbImage::from_fn(9400, 9400, |x, y| image::Rgb([x as u8, y as u8, 3]))
            .write_to(&mut png, ImageFormat::Png)
            .unwrap();
        let rgba = {
            let mut out = Cursor::new(Vec::new());
            image::RgbaImage::from_fn(8100, 8100, |x, y| image::Rgba([x as u8, y as u8, 3, 200]))
                .write_to(&mut out, ImageFormat::Png)
                .unwrap();
            out.into_inner()
        };
        let mut cmyk = Vec::new();
        let pixels: Vec<u8> = (0..8000 * 8000 * 4).map(|i| (i % 253) as u8).collect();
        jpeg_encoder::Encoder::new(&mut cmyk, 70)
            .encode(&pixels, 8000, 8000, jpeg_encoder::ColorType::Cmyk)
            .unwrap();
        for (name, bytes) in [
            ("RGB PNG 9400x9400", png.into_inner()),
            ("RGBA PNG 8100x8100", rgba),
            ("CMYK JPEG 8000x8000", cmyk),
        ] {
            assert!(check(&bytes).is_ok(), "{name}: {:?}", check(&bytes));
            let thumb = rendition(&bytes, 320).unwrap_or_else(|e| panic!("{name}: {e:#}"));
            assert_eq!(thumb.width.max(thumb.height), 320, "{name}");
        }
    }

    #[test]
    fn orientation_six_turns_a_landscape_photo_upright() {
        let img = DynamicImage::ImageRgb8(image::RgbImage::new(40, 20));
        let turned = orient(img, 6);
        assert_eq!((turned.width(), turned.height()), (20, 40));
    }

    fn jpeg_of(img: DynamicImage) -> Vec<u8> {
        let mut bytes = Cursor::new(Vec::new());
        img.write_to(&mut bytes, ImageFormat::Jpeg).unwrap();
        bytes.into_inner()
    }

    #[test]
    fn a_thumbnail_of_a_camera_jpeg_is_decoded_at_reduced_scale_and_comes_out_right() {
        let camera = jpeg_of(DynamicImage::ImageRgb8(image::RgbImage::from_fn(3000, 2000, |x, y| {
            image::Rgb([(x % 256) as u8, (y % 256) as u8, 128])
        })));
        assert!(scaled_jpeg(&camera, 320).is_some_and(|img| img.width() == 375), "1/8 scale covers 320 px");
        let thumb = rendition(&camera, 320).unwrap();
        assert_eq!((thumb.width, thumb.height), (320, 213));
        let screen = rendition(&camera, 1600).unwrap();
        assert_eq!((screen.width, screen.height), (1600, 1067));
        let gray = jpeg_of(DynamicImage::ImageLuma8(image::GrayImage::new(800, 600)));
        assert_eq!(rendition(&gray, 320).unwrap().width, 320);
        let mut png = Cursor::new(Vec::new());
        image::RgbImage::new(640, 480).write_to(&mut png, ImageFormat::Png).unwrap();
        assert_eq!(rendition(png.get_ref(), 320).unwrap().height, 240, "other formats take the general path");
    }
}
