//! Photo validation by content: the first bytes must decode as a JPEG or PNG header, the pixel
//! count, the longest side and the decoded size are bounded (decompression bombs), and the file
//! must end where its format says it ends (a truncated upload is refused).
//!
//! [`MAX_DECODED_BYTES`] is the one bound shared by the upload check and every renderer
//! (previews, the approval PDF, see [`decode_limits`]): a photo accepted here can be decoded there.

use std::io::Cursor;

/// Largest accepted photo: 10 MiB, as the original.
pub const MAX_BYTES: u64 = 10 * 1024 * 1024;
/// 100 megapixels: above any phone's normal mode, far below a bomb's 900.
pub const MAX_PIXELS: u64 = 100_000_000;
/// Largest decoded image, in bytes (width × height × channels × bytes per sample): 256 MiB.
/// A 50 MP phone photo needs 150 MB; a 16-bit 10000×10000 PNG needs 600 MB and is refused.
/// The renderers decode with exactly this allowance, so what is accepted is renderable.
pub const MAX_DECODED_BYTES: u64 = 256 * 1024 * 1024;
/// Longest accepted side. Viewers and browsers downsample or refuse images beyond 16,384 px, no
/// camera's normal mode writes more, and a 60000×1 strip is not a photo of an ATM.
pub const MAX_SIDE: u32 = 16_384;
/// How much of the start of a file we keep for header inspection (EXIF and ICC segments
/// come before the frame header in JPEGs).
pub const HEAD_BYTES: usize = 512 * 1024;
/// How much of the end we keep for the end-of-image check.
pub const TAIL_BYTES: usize = 64 * 1024;

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub enum PhotoFormat {
    Jpeg,
    Png,
}

impl PhotoFormat {
    pub fn content_type(self) -> &'static str {
        match self {
            PhotoFormat::Jpeg => "image/jpeg",
            PhotoFormat::Png => "image/png",
        }
    }
    pub fn from_content_type(content_type: &str) -> Option<PhotoFormat> {
        match content_type {
            "image/jpeg" => Some(PhotoFormat::Jpeg),
            "image/png" => Some(PhotoFormat::Png),
            _ => None,
        }
    }
    pub fn extension(self) -> &'static str {
        match self {
            PhotoFormat::Jpeg => "jpg",
            PhotoFormat::Png => "png",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct PhotoInfo {
    pub format: PhotoFormat,
    pub width: u32,
    pub height: u32,
}

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum PhotoError {
    #[error("Invalid file format. Allowed formats: .jpg, .jpeg, .png")]
    NotAnImage,
    #[error("The image is incomplete (the upload was cut off or the file is damaged)")]
    Truncated,
    #[error("Image dimensions {width}x{height} exceed the limit of {MAX_PIXELS} pixels")]
    TooManyPixels { width: u32, height: u32 },
    #[error("Image dimensions {width}x{height} exceed the limit of {MAX_SIDE} pixels per side")]
    SideTooLong { width: u32, height: u32 },
    #[error(
        "Image dimensions {width}x{height} need {} MB once decoded ({bytes_per_pixel} bytes per pixel); \
         the limit is {} MB. Send an 8-bit JPEG or a smaller image",
        decoded_mb(*width, *height, *bytes_per_pixel),
        MAX_DECODED_BYTES / (1024 * 1024)
    )]
    TooManyBytes { width: u32, height: u32, bytes_per_pixel: u8 },
    #[error("File size exceeds 10MB limit. File size: {0:.2}MB")]
    TooLarge(f64),
    #[error("The file is empty")]
    Empty,
    /// Metadata that would inflate past its bound while a decoder reads the header.
    #[error("{0}")]
    Metadata(String),
}

fn decoded_mb(width: u32, height: u32, bytes_per_pixel: u8) -> u64 {
    (u64::from(width) * u64::from(height) * u64::from(bytes_per_pixel)).div_ceil(1024 * 1024)
}

/// The `image` crate limits every renderer decodes with: the same allowance as the upload check.
pub fn decode_limits() -> image::Limits {
    let mut limits = image::Limits::default();
    limits.max_alloc = Some(MAX_DECODED_BYTES);
    limits.max_image_width = Some(MAX_SIDE);
    limits.max_image_height = Some(MAX_SIDE);
    limits
}

/// The photo decoded small and upright: `edge` px on its longest side (never upscaled), EXIF
/// orientation applied. A JPEG original is decoded at the smallest DCT scale that still covers
/// `edge` (1/8 for a thumbnail of a camera photo: a fraction of the work of a full decode);
/// anything else is decoded whole, within [`decode_limits`]. Previews, the PDF and the
/// perceptual hash all start from this decode.
pub fn upright_small(original: &[u8], edge: u32) -> image::ImageResult<image::DynamicImage> {
    let img = match scaled_jpeg(original, edge) {
        Some(img) => img,
        None => {
            let mut reader = image::ImageReader::new(Cursor::new(original)).with_guessed_format()?;
            reader.limits(decode_limits());
            reader.decode()?
        }
    };
    // Downscale before anything else copies the image: `thumbnail` averages areas straight into
    // the small size, where `resize` would first build a float copy as wide as the original.
    let img = if img.width().max(img.height()) > edge { img.thumbnail(edge, edge) } else { img };
    Ok(orient(img, exif_orientation(original)))
}

/// A JPEG decoded at reduced scale, or `None` to take the general path (not a JPEG, CMYK, …).
pub(crate) fn scaled_jpeg(bytes: &[u8], edge: u32) -> Option<image::DynamicImage> {
    if image::guess_format(bytes).ok()? != image::ImageFormat::Jpeg {
        return None;
    }
    let mut decoder = jpeg_decoder::Decoder::new(Cursor::new(bytes));
    decoder.set_max_decoding_buffer_size(usize::try_from(MAX_DECODED_BYTES).unwrap_or(usize::MAX));
    let request = u16::try_from(edge).unwrap_or(u16::MAX);
    // The smallest scale at least `edge` wide or high: the longest side still covers `edge`.
    let (w, h) = decoder.scale(request, request).ok()?;
    let pixels = decoder.decode().ok()?;
    let (w, h) = (u32::from(w), u32::from(h));
    match decoder.info()?.pixel_format {
        jpeg_decoder::PixelFormat::RGB24 => {
            image::RgbImage::from_raw(w, h, pixels).map(image::DynamicImage::ImageRgb8)
        }
        jpeg_decoder::PixelFormat::L8 => {
            image::GrayImage::from_raw(w, h, pixels).map(image::DynamicImage::ImageLuma8)
        }
        _ => None,
    }
}

fn exif_orientation(bytes: &[u8]) -> u32 {
    if image::guess_format(bytes).ok() != Some(image::ImageFormat::Jpeg) {
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

pub(crate) fn orient(img: image::DynamicImage, orientation: u32) -> image::DynamicImage {
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

/// Bytes per pixel once decoded, read from the headers only. The most of what the `image`
/// decoder outputs and what the file stores is taken: a CMYK JPEG is decoded through four
/// channels even though it comes out as RGB, a palette PNG expands to RGB or RGBA, 16-bit
/// samples stay 16-bit.
fn bytes_per_pixel(head: &[u8], format: PhotoFormat) -> Result<u8, PhotoError> {
    let image_format = match format {
        PhotoFormat::Jpeg => image::ImageFormat::Jpeg,
        PhotoFormat::Png => image::ImageFormat::Png,
    };
    let reader = image::ImageReader::with_format(Cursor::new(head), image_format);
    let decoder = reader.into_decoder().map_err(|e| match e {
        image::ImageError::IoError(_) => PhotoError::Truncated,
        _ => PhotoError::NotAnImage,
    })?;
    let output = image::ImageDecoder::color_type(&decoder).bytes_per_pixel();
    let stored = match format {
        PhotoFormat::Jpeg => {
            let mut d = jpeg_decoder::Decoder::new(Cursor::new(head));
            match d.read_info().ok().and(d.info()) {
                // A progressive JPEG keeps every DCT coefficient (2 bytes a sample) at full
                // resolution while it decodes, whatever the output scale, and a fallback decode
                // needs the full output on top: three times the samples.
                Some(info) if info.coding_process == jpeg_decoder::CodingProcess::DctProgressive => {
                    (info.pixel_format.pixel_bytes() * 3) as u8
                }
                Some(info) => info.pixel_format.pixel_bytes() as u8,
                None => 0,
            }
        }
        PhotoFormat::Png => 0,
    };
    Ok(output.max(stored))
}

/// Sniffs the format from magic bytes only; the client's name and content type are ignored.
pub fn sniff(head: &[u8]) -> Option<PhotoFormat> {
    if head.starts_with(&[0xFF, 0xD8, 0xFF]) {
        Some(PhotoFormat::Jpeg)
    } else if head.starts_with(b"\x89PNG\r\n\x1a\n") {
        Some(PhotoFormat::Png)
    } else {
        None
    }
}

/// Checks a complete upload given its first [`HEAD_BYTES`], last [`TAIL_BYTES`] and size.
pub fn inspect(head: &[u8], tail: &[u8], size: u64) -> Result<PhotoInfo, PhotoError> {
    if size == 0 {
        return Err(PhotoError::Empty);
    }
    let format = sniff(head).ok_or(PhotoError::NotAnImage)?;
    // Before any decoder reads the header: decoders inflate a PNG's profile and text as they go.
    if format == PhotoFormat::Png {
        super::png_chunks::check(head).map_err(|e| PhotoError::Metadata(e.to_string()))?;
    }
    let image_format = match format {
        PhotoFormat::Jpeg => image::ImageFormat::Jpeg,
        PhotoFormat::Png => image::ImageFormat::Png,
    };
    let reader = image::ImageReader::with_format(Cursor::new(head), image_format);
    let (width, height) = reader.into_dimensions().map_err(|e| match e {
        image::ImageError::IoError(_) => PhotoError::Truncated,
        _ => PhotoError::NotAnImage,
    })?;
    if width == 0 || height == 0 {
        return Err(PhotoError::NotAnImage);
    }
    if u64::from(width) * u64::from(height) > MAX_PIXELS {
        return Err(PhotoError::TooManyPixels { width, height });
    }
    if width.max(height) > MAX_SIDE {
        return Err(PhotoError::SideTooLong { width, height });
    }
    let bpp = bytes_per_pixel(head, format)?;
    if u64::from(width) * u64::from(height) * u64::from(bpp) > MAX_DECODED_BYTES {
        return Err(PhotoError::TooManyBytes { width, height, bytes_per_pixel: bpp });
    }
    let complete = match format {
        // An end-of-image marker near the end; phones may append a small trailer after it.
        PhotoFormat::Jpeg => tail.windows(2).any(|w| w == [0xFF, 0xD9]),
        // The IEND chunk: length 0, type IEND, CRC.
        PhotoFormat::Png => tail.ends_with(b"IEND\xAE\x42\x60\x82"),
    };
    if !complete {
        return Err(PhotoError::Truncated);
    }
    Ok(PhotoInfo { format, width, height })
}

/// Keeps the first and last bytes of a stream as it passes, for [`inspect`].
#[derive(Default)]
pub struct HeadTail {
    pub head: Vec<u8>,
    pub tail: Vec<u8>,
    pub size: u64,
}

impl HeadTail {
    pub fn push(&mut self, chunk: &[u8]) {
        self.size += chunk.len() as u64;
        if self.head.len() < HEAD_BYTES {
            let take = (HEAD_BYTES - self.head.len()).min(chunk.len());
            self.head.extend_from_slice(&chunk[..take]);
        }
        if chunk.len() >= TAIL_BYTES {
            self.tail.clear();
            self.tail.extend_from_slice(&chunk[chunk.len() - TAIL_BYTES..]);
        } else {
            self.tail.extend_from_slice(chunk);
            if self.tail.len() > TAIL_BYTES {
                self.tail.drain(..self.tail.len() - TAIL_BYTES);
            }
        }
    }

    pub fn inspect(&self) -> Result<PhotoInfo, PhotoError> {
        inspect(&self.head, &self.tail, self.size)
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    fn encode(format: image::ImageFormat, w: u32, h: u32) -> Vec<u8> {
        let img = image::RgbImage::from_fn(w, h, |x, y| image::Rgb([x as u8, y as u8, 7]));
        let mut out = Cursor::new(Vec::new());
        img.write_to(&mut out, format).unwrap();
        out.into_inner()
    }

    fn check(bytes: &[u8]) -> Result<PhotoInfo, PhotoError> {
        let mut ht = HeadTail::default();
        for c in bytes.chunks(1000) {
            ht.push(c);
        }
        ht.inspect()
    }

    #[test]
    fn real_jpegs_and_pngs_pass_with_their_dimensions() {
        let j = check(&encode(image::ImageFormat::Jpeg, 64, 48)).unwrap();
        assert_eq!((j.format, j.width, j.height), (PhotoFormat::Jpeg, 64, 48));
        let p = check(&encode(image::ImageFormat::Png, 10, 20)).unwrap();
        assert_eq!((p.format, p.width, p.height), (PhotoFormat::Png, 10, 20));
    }

    #[test]
    fn text_empty_and_truncated_files_are_refused() {
        assert_eq!(check(b"hello, I am not a photo"), Err(PhotoError::NotAnImage));
        assert_eq!(check(b""), Err(PhotoError::Empty));
        let jpeg = encode(image::ImageFormat::Jpeg, 64, 48);
        assert_eq!(check(&jpeg[..jpeg.len() - 40]), Err(PhotoError::Truncated));
        let png = encode(image::ImageFormat::Png, 64, 48);
        assert_eq!(check(&png[..png.len() - 5]), Err(PhotoError::Truncated));
    }

    /// A 1-pixel-high PNG of `w` pixels (or a header claiming `w`×`h`) with the given depth,
    /// colour type and optional tRNS; its IDAT is a stored zlib block (valid for 1×1 at 8 bits).
    pub(crate) fn png_claiming(w: u32, h: u32, depth: u8, color: u8, trns: bool) -> Vec<u8> {
        let chunk = |kind: &[u8], data: &[u8]| {
            let mut out = (data.len() as u32).to_be_bytes().to_vec();
            out.extend_from_slice(kind);
            out.extend_from_slice(data);
            out.extend_from_slice(&crc32fast::hash(&[kind, data].concat()).to_be_bytes());
            out
        };
        let mut ihdr = w.to_be_bytes().to_vec();
        ihdr.extend_from_slice(&h.to_be_bytes());
        ihdr.extend_from_slice(&[depth, color, 0, 0, 0]);
        let mut out = b"\x89PNG\r\n\x1a\n".to_vec();
        out.extend(chunk(b"IHDR", &ihdr));
        if color == 3 {
            out.extend(chunk(b"PLTE", &[0, 0, 0, 255, 255, 255]));
        }
        if trns {
            out.extend(chunk(b"tRNS", &[0]));
        }
        out.extend(chunk(b"IDAT", &[0x78, 0x01, 0x01, 0x02, 0x00, 0xFD, 0xFF, 0, 0, 0x00, 0x02, 0x00, 0x01]));
        out.extend(chunk(b"IEND", &[]));
        out
    }

    fn bpp_of(bytes: &[u8]) -> u8 {
        bytes_per_pixel(bytes, sniff(bytes).unwrap()).unwrap()
    }

    #[test]
    fn bytes_per_pixel_counts_what_decoding_needs_for_every_kind_of_photo() {
        let png = |img: image::DynamicImage| {
            let mut out = Cursor::new(Vec::new());
            img.write_to(&mut out, image::ImageFormat::Png).unwrap();
            out.into_inner()
        };
        assert_eq!(bpp_of(&png(image::DynamicImage::ImageRgb16(image::ImageBuffer::new(4, 4)))), 6);
        assert_eq!(bpp_of(&png(image::DynamicImage::ImageLumaA8(image::ImageBuffer::new(4, 4)))), 2);
        assert_eq!(bpp_of(&png(image::DynamicImage::ImageLumaA16(image::ImageBuffer::new(4, 4)))), 4);
        assert_eq!(bpp_of(&png_claiming(1, 1, 8, 3, false)), 3, "a palette expands to RGB");
        assert_eq!(bpp_of(&png_claiming(1, 1, 8, 3, true)), 4, "or to RGBA with transparency");
        assert_eq!(bpp_of(&png_claiming(1, 1, 1, 0, false)), 1, "1-bit grey expands to 8 bits");
        let mut cmyk = Vec::new();
        jpeg_encoder::Encoder::new(&mut cmyk, 80)
            .encode(&[9u8; 16 * 8 * 4], 16, 8, jpeg_encoder::ColorType::Cmyk)
            .unwrap();
        assert_eq!(bpp_of(&cmyk), 4, "CMYK is decoded through four channels");
        let mut progressive = Vec::new();
        let mut enc = jpeg_encoder::Encoder::new(&mut progressive, 80);
        enc.set_progressive(true);
        enc.encode(&[9u8; 16 * 8 * 3], 16, 8, jpeg_encoder::ColorType::Rgb).unwrap();
        assert_eq!(bpp_of(&progressive), 9, "a progressive JPEG keeps 2-byte coefficients and the output");
        assert_eq!(bpp_of(&encode(image::ImageFormat::Jpeg, 8, 8)), 3);
    }

    #[test]
    fn photos_that_decode_past_the_bound_are_refused_from_their_headers() {
        assert_eq!(
            check(&png_claiming(10_000, 10_000, 16, 2, false)).unwrap_err().to_string(),
            "Image dimensions 10000x10000 need 573 MB once decoded (6 bytes per pixel); the limit is \
             256 MB. Send an 8-bit JPEG or a smaller image"
        );
        assert!(matches!(
            check(&png_claiming(9_000, 9_000, 8, 3, true)),
            Err(PhotoError::TooManyBytes { .. })
        ));
        assert!(check(&png_claiming(9_000, 9_000, 8, 3, false)).is_ok(), "243 MB as RGB fits");
        assert_eq!(
            check(&png_claiming(60_000, 1, 8, 2, false)),
            Err(PhotoError::SideTooLong { width: 60_000, height: 1 })
        );
        assert!(matches!(
            check(&png_claiming(100_000, 100_000, 8, 2, false)),
            Err(PhotoError::TooManyPixels { .. })
        ));
        assert_eq!(decode_limits().max_alloc, Some(MAX_DECODED_BYTES), "the renderers use the same bound");
    }

    #[test]
    fn the_tail_window_follows_the_stream() {
        let mut ht = HeadTail::default();
        ht.push(&vec![1u8; TAIL_BYTES + 10]);
        ht.push(&[2, 3]);
        assert_eq!(ht.tail.len(), TAIL_BYTES);
        assert_eq!(&ht.tail[TAIL_BYTES - 2..], &[2, 3]);
        assert_eq!(ht.size, TAIL_BYTES as u64 + 12);
    }
}
