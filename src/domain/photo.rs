//! Photo validation by content: the first bytes must decode as a JPEG or PNG header, the pixel
//! count is bounded (decompression bombs), and the file must end where its format says it ends
//! (a truncated upload is refused).

use std::io::Cursor;

/// Largest accepted photo: 10 MiB, as the original.
pub const MAX_BYTES: u64 = 10 * 1024 * 1024;
/// 100 megapixels: above any phone's normal mode, far below a bomb's 900.
pub const MAX_PIXELS: u64 = 100_000_000;
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
    #[error("File size exceeds 10MB limit. File size: {0:.2}MB")]
    TooLarge(f64),
    #[error("The file is empty")]
    Empty,
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
mod tests {
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
