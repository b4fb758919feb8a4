//! The original's media folder, read and never written: where a stored path points, whether
//! the file is there and sound, and which files no row names. The original kept paths relative
//! to `MEDIA_ROOT` (`photos/1/section1_1_….jpg`); older releases wrote `media/pdfs/…`, and its URL
//! builder accepted `\` separators. A path that would leave the folder is refused, not read.

use std::collections::BTreeSet;
use std::io::Read;
use std::path::{Path, PathBuf};

use crate::domain::photo::{self, PhotoInfo};

/// A path from the original's database, normalised relative to `root` (`/` separators, no
/// `media/` prefix). An absolute path is accepted only inside `root`.
pub(crate) fn normalise(root: &Path, stored: &str) -> Result<String, &'static str> {
    let s = stored.trim().replace('\\', "/");
    let s = if s.starts_with('/') {
        let given = root.to_string_lossy().trim_end_matches('/').to_string();
        let real =
            root.canonicalize().map(|r| r.to_string_lossy().into_owned()).unwrap_or_else(|_| given.clone());
        let inside =
            [given, real].into_iter().find_map(|r| s.strip_prefix(&format!("{r}/")).map(str::to_string));
        inside.ok_or("the path is absolute and outside the media folder")?
    } else {
        s
    };
    let s = s.strip_prefix("media/").unwrap_or(&s);
    if s.is_empty() {
        return Err("the path is empty");
    }
    if s.split('/').any(|seg| seg.is_empty() || seg == "." || seg == "..") {
        return Err("the path leaves the media folder or has empty parts");
    }
    if s.contains(':') || s.contains('\0') {
        return Err("the path is not a relative file path");
    }
    Ok(s.to_string())
}

/// What a stored path turned out to be.
pub(crate) enum Found {
    /// The file's bytes (within the size limit).
    Bytes(Vec<u8>),
    /// No file at that path: lost before the move.
    Missing,
    /// There is something, but it cannot be imported as it is: the reason.
    Unusable(String),
}

/// Reads the file `stored` names under `root`, refusing anything above `limit` bytes and
/// anything that resolves outside `root` (a symbolic link out of the folder).
pub(crate) fn read(root: &Path, stored: &str, limit: u64) -> Found {
    let rel = match normalise(root, stored) {
        Ok(r) => r,
        Err(why) => return Found::Unusable(why.to_string()),
    };
    let path = root.join(&rel);
    let meta = match std::fs::metadata(&path) {
        Ok(m) => m,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Found::Missing,
        Err(e) => return Found::Unusable(format!("cannot be read: {e}")),
    };
    if !meta.is_file() {
        return Found::Unusable("is not a regular file".into());
    }
    match (path.canonicalize(), root.canonicalize()) {
        (Ok(real), Ok(base)) if real.starts_with(&base) => {}
        _ => return Found::Unusable("resolves outside the media folder".into()),
    }
    if meta.len() > limit {
        return Found::Unusable(format!(
            "is {:.1} MiB, above the {:.0} MiB this service accepts",
            meta.len() as f64 / 1048576.0,
            limit as f64 / 1048576.0
        ));
    }
    let mut bytes = Vec::with_capacity(meta.len() as usize);
    match std::fs::File::open(&path).and_then(|f| f.take(limit + 1).read_to_end(&mut bytes)) {
        Ok(_) if bytes.len() as u64 > limit => Found::Unusable("grew past the size limit while read".into()),
        Ok(_) => Found::Bytes(bytes),
        Err(e) => Found::Unusable(format!("cannot be read: {e}")),
    }
}

/// The checks an upload gets (a JPEG or PNG within the pixel bounds, ending where its format
/// ends), then a full decode: an import has time to prove every photo renders.
pub(crate) fn check_photo(bytes: &[u8]) -> Result<PhotoInfo, String> {
    let head = &bytes[..bytes.len().min(photo::HEAD_BYTES)];
    let tail = &bytes[bytes.len().saturating_sub(photo::TAIL_BYTES)..];
    let info = photo::inspect(head, tail, bytes.len() as u64).map_err(|e| e.to_string())?;
    let format = match info.format {
        photo::PhotoFormat::Jpeg => image::ImageFormat::Jpeg,
        photo::PhotoFormat::Png => image::ImageFormat::Png,
    };
    let mut reader = image::ImageReader::with_format(std::io::Cursor::new(bytes), format);
    reader.limits(photo::decode_limits());
    reader.decode().map_err(|e| format!("does not decode: {e}"))?;
    Ok(info)
}

/// A PDF starts with its header and ends with an end-of-file marker; a cut copy lacks the end.
pub(crate) fn check_pdf(bytes: &[u8]) -> Result<(), String> {
    if !bytes.starts_with(b"%PDF-") {
        return Err("is not a PDF".into());
    }
    let tail = &bytes[bytes.len().saturating_sub(1024)..];
    if !tail.windows(5).any(|w| w == b"%%EOF") {
        return Err("is cut short (no end-of-file marker)".into());
    }
    Ok(())
}

/// Every file under `root` (relative, `/`-separated), for the list of files no row names.
/// Symbolic links are listed but not followed.
pub(crate) fn all_files(root: &Path) -> std::io::Result<BTreeSet<String>> {
    let mut found = BTreeSet::new();
    let mut pending: Vec<PathBuf> = vec![root.to_path_buf()];
    while let Some(dir) = pending.pop() {
        for entry in std::fs::read_dir(&dir)? {
            let entry = entry?;
            let kind = entry.file_type()?;
            if kind.is_dir() {
                pending.push(entry.path());
            } else if let Ok(rel) = entry.path().strip_prefix(root) {
                let parts: Vec<String> =
                    rel.components().map(|c| c.as_os_str().to_string_lossy().into_owned()).collect();
                found.insert(parts.join("/"));
            }
        }
    }
    Ok(found)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_path_forms_are_accepted_and_escapes_refused() {
        let root = Path::new("/srv/old/media");
        let n = |s: &str| normalise(root, s);
        assert_eq!(n("pdfs/9/CL2_CCJED001.pdf").unwrap(), "pdfs/9/CL2_CCJED001.pdf");
        assert_eq!(n("media/pdfs/9/CL2_CCJED001.pdf").unwrap(), "pdfs/9/CL2_CCJED001.pdf");
        assert_eq!(n("/srv/old/media/pdfs/9/a.pdf").unwrap(), "pdfs/9/a.pdf");
        assert_eq!(n("photos\\1\\section1_1_ab.jpg").unwrap(), "photos/1/section1_1_ab.jpg");
        let bad = [
            "",
            "../etc/passwd",
            "photos/../../x",
            "photos//a.jpg",
            "C:/x.jpg",
            "media/",
            "/etc/hostname",
            "/media/pdfs/9/a.pdf",
        ];
        for b in bad {
            assert!(n(b).is_err(), "{b:?}");
        }
    }

    #[test]
    fn a_missing_file_an_escape_and_an_oversized_file_are_told_apart() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("media");
        std::fs::create_dir_all(root.join("photos/1")).unwrap();
        std::fs::write(root.join("photos/1/a.jpg"), b"12345").unwrap();
        std::fs::write(dir.path().join("secret.txt"), b"outside").unwrap();
        #[cfg(unix)]
        std::os::unix::fs::symlink(dir.path().join("secret.txt"), root.join("photos/1/link.jpg")).unwrap();
        assert!(matches!(read(&root, "photos/1/a.jpg", 10), Found::Bytes(b) if b == b"12345"));
        assert!(matches!(read(&root, "media/photos/1/a.jpg", 10), Found::Bytes(_)));
        assert!(matches!(read(&root, "photos/1/gone.jpg", 10), Found::Missing));
        assert!(matches!(read(&root, "photos/1/a.jpg", 4), Found::Unusable(_)));
        assert!(matches!(read(&root, "../secret.txt", 100), Found::Unusable(_)));
        #[cfg(unix)]
        assert!(matches!(read(&root, "photos/1/link.jpg", 100), Found::Unusable(_)));
        assert!(matches!(read(&root, "photos/1", 100), Found::Unusable(_)));
        let files = all_files(&root).unwrap();
        assert!(files.contains("photos/1/a.jpg"), "{files:?}");
    }

    #[test]
    fn a_cut_pdf_and_a_cut_photo_are_damaged() {
        assert!(check_pdf(b"%PDF-1.4 ... %%EOF\n").is_ok());
        assert!(check_pdf(b"%PDF-1.4 ... ").is_err());
        assert!(check_pdf(b"hello").is_err());
        let img = image::RgbImage::from_fn(64, 48, |x, y| image::Rgb([x as u8, y as u8, 9]));
        let mut jpeg = std::io::Cursor::new(Vec::new());
        img.write_to(&mut jpeg, image::ImageFormat::Jpeg).unwrap();
        let jpeg = jpeg.into_inner();
        assert_eq!(check_photo(&jpeg).unwrap().width, 64);
        assert!(check_photo(&jpeg[..jpeg.len() / 2]).is_err());
        assert!(check_photo(b"not a photo").is_err());
    }
}
