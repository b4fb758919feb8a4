//! Object keys. The server makes every key; a client's file name never reaches the store.

use std::fmt;

/// The longest segment of a key.
const MAX_SEGMENT: usize = 128;

/// The areas of the media store, each its own top-level folder (spec §5.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Area {
    Photos,
    Pdfs,
    ExcelUploads,
    /// Server-made thumbnails and screen-size copies of photos.
    Previews,
}

impl Area {
    pub const ALL: [Area; 4] = [Area::Photos, Area::Pdfs, Area::ExcelUploads, Area::Previews];

    pub fn folder(self) -> &'static str {
        match self {
            Area::Photos => "photos",
            Area::Pdfs => "pdfs",
            Area::ExcelUploads => "excel_uploads",
            Area::Previews => "previews",
        }
    }
}

/// A validated, relative object key such as `photos/2026/11/3f2a….jpg`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(transparent)]
pub struct MediaKey(String);

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("invalid media key")]
pub struct InvalidKey;

impl MediaKey {
    /// A fresh key in `area`, spread over year/month folders; `ext` is one of a fixed set.
    pub fn generate(area: Area, ext: &str) -> MediaKey {
        let now = chrono::Utc::now();
        let ext: String = ext.chars().filter(|c| c.is_ascii_alphanumeric()).take(8).collect();
        let ext = if ext.is_empty() { "bin".to_string() } else { ext.to_ascii_lowercase() };
        MediaKey(format!(
            "{}/{}/{}.{}",
            area.folder(),
            now.format("%Y/%m"),
            uuid::Uuid::new_v4().simple(),
            ext
        ))
    }

    /// A fresh folder in `area` holding a file with a readable name (already made safe by the
    /// caller, e.g. `CL1_838.pdf`), so downloads keep the name people expect.
    pub fn generate_named(area: Area, file_name: &str) -> MediaKey {
        let now = chrono::Utc::now();
        let safe: String = file_name
            .chars()
            .map(|c| if c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-') { c } else { '_' })
            .collect();
        let safe = safe.trim_start_matches('.');
        let safe = if safe.is_empty() { "file" } else { safe };
        // A segment may hold 128 characters: keep the end, where the extension is (ASCII only
        // by now, so any byte offset is a character boundary).
        let safe = safe[safe.len().saturating_sub(MAX_SEGMENT)..].trim_start_matches('.');
        let safe = if safe.is_empty() { "file" } else { safe };
        MediaKey(format!(
            "{}/{}/{}/{}",
            area.folder(),
            now.format("%Y/%m"),
            uuid::Uuid::new_v4().simple(),
            safe
        ))
    }

    /// Accepts only keys this server could have made: relative, plain segments, no hidden names.
    pub fn parse(s: &str) -> Result<MediaKey, InvalidKey> {
        if !MediaKey::valid(s) {
            return Err(InvalidKey);
        }
        Ok(MediaKey(s.to_string()))
    }

    fn valid(s: &str) -> bool {
        let ok_segment = |seg: &str| {
            !seg.is_empty()
                && seg.len() <= MAX_SEGMENT
                && !seg.starts_with('.')
                && seg.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'))
        };
        s.len() <= 512 && s.split('/').all(ok_segment)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for MediaKey {
    type Error = InvalidKey;

    /// `parse` for an owned string (a key read from the database), without a copy.
    fn try_from(s: String) -> Result<MediaKey, InvalidKey> {
        if !MediaKey::valid(&s) {
            return Err(InvalidKey);
        }
        Ok(MediaKey(s))
    }
}

impl fmt::Display for MediaKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// The Content-Type an object is served with, from its key's extension.
pub fn content_type(key: &str) -> &'static str {
    match key.rsplit('.').next().map(str::to_ascii_lowercase).as_deref() {
        Some("jpg" | "jpeg") => "image/jpeg",
        Some("png") => "image/png",
        Some("pdf") => "application/pdf",
        Some("xlsx") => "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        Some("xls") => "application/vnd.ms-excel",
        Some("json") => "application/json",
        _ => "application/octet-stream",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_long_file_name_still_makes_a_key_that_reads_back() {
        let name = format!("{}.pdf", "Cost-Center ".repeat(40));
        let key = MediaKey::generate_named(Area::Pdfs, &name);
        assert_eq!(MediaKey::parse(key.as_str()), Ok(key.clone()), "{key}");
        assert!(key.as_str().ends_with(".pdf"), "the extension is kept: {key}");
        let dots = MediaKey::generate_named(Area::Pdfs, &format!(".{}", "x".repeat(200)));
        assert!(MediaKey::parse(dots.as_str()).is_ok(), "{dots}");
        let only_dots = MediaKey::generate_named(Area::Pdfs, &format!("a{}", ".".repeat(300)));
        assert!(MediaKey::parse(only_dots.as_str()).is_ok(), "{only_dots}");
    }

    #[test]
    fn generated_keys_parse_back_and_live_in_their_area() {
        let k = MediaKey::generate(Area::Photos, "JPG");
        assert!(k.as_str().starts_with("photos/"));
        assert!(k.as_str().ends_with(".jpg"));
        assert_eq!(MediaKey::parse(k.as_str()).unwrap(), k);
    }

    #[test]
    fn traversal_hidden_and_absolute_keys_are_refused() {
        for bad in ["../etc/passwd", "/abs", "a//b", "photos/.tmp-x", "a/../b", "", "sp ace", "a\\b"] {
            assert_eq!(MediaKey::parse(bad), Err(InvalidKey), "{bad:?} accepted");
        }
    }
}
