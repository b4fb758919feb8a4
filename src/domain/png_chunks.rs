//! The compressed metadata of a PNG (an ICC profile in `iCCP`, text in `zTXt` and `iTXt`) is
//! inflated by decoders while they read the header, before any pixel: a 200 KB file whose profile
//! inflates to 480 MB took the process past 1 GB during the upload check. Each such chunk before
//! the image data is inflated here with a cap, and a file whose metadata would expand past it is
//! refused before any decoder sees it.

/// Most an ICC profile or text chunk may inflate to. Camera and editor profiles are well under
/// 1 MB; anything larger is not a photo's metadata.
pub const MAX_INFLATED_METADATA: usize = MAX_INFLATED_MB * 1024 * 1024;
const MAX_INFLATED_MB: usize = 4;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MetadataError {
    #[error("The PNG's {0} metadata expands past {MAX_INFLATED_MB} MB; save the photo without it")]
    TooLarge(String),
    #[error("The PNG's {0} metadata is damaged")]
    Damaged(String),
}

/// Checks the compressed chunks among the first bytes of a PNG (`head`, signature included).
/// A compressed chunk that does not end within `head` is refused: its profile alone would be
/// larger than any real one.
pub fn check(head: &[u8]) -> Result<(), MetadataError> {
    let mut at = 8;
    while at + 8 <= head.len() {
        let len = u32::from_be_bytes([head[at], head[at + 1], head[at + 2], head[at + 3]]) as usize;
        let kind = &head[at + 4..at + 8];
        let name = String::from_utf8_lossy(kind).into_owned();
        if kind == b"IDAT" || kind == b"IEND" {
            return Ok(());
        }
        let start = at + 8;
        let compressed = matches!(kind, b"iCCP" | b"zTXt" | b"iTXt");
        let end = start.checked_add(len).filter(|e| *e <= head.len());
        match (compressed, end) {
            (true, None) => return Err(MetadataError::TooLarge(name)),
            (false, None) => return Ok(()), // a plain chunk running past the head: nothing inflates
            (true, Some(end)) => {
                if let Some(stream) = zlib_stream(kind, &head[start..end]) {
                    miniz_oxide::inflate::decompress_to_vec_zlib_with_limit(stream, MAX_INFLATED_METADATA)
                        .map_err(|e| match e.status {
                            miniz_oxide::inflate::TINFLStatus::HasMoreOutput => MetadataError::TooLarge(name),
                            _ => MetadataError::Damaged(name),
                        })?;
                }
            }
            (false, Some(_)) => {}
        }
        at = start + len + 4; // data and CRC
    }
    Ok(())
}

/// Where the zlib stream of a compressed chunk starts, if it has one.
fn zlib_stream<'a>(kind: &[u8], data: &'a [u8]) -> Option<&'a [u8]> {
    let keyword_end = data.iter().position(|b| *b == 0)?;
    let rest = &data[keyword_end + 1..];
    match kind {
        // keyword, NUL, compression method, stream
        b"iCCP" | b"zTXt" => rest.get(1..),
        // keyword, NUL, compression flag, method, language, NUL, translated keyword, NUL, text
        b"iTXt" => {
            let (flag, rest) = (*rest.first()?, rest.get(2..)?);
            if flag == 0 {
                return None;
            }
            let lang_end = rest.iter().position(|b| *b == 0)?;
            let rest = &rest[lang_end + 1..];
            let translated_end = rest.iter().position(|b| *b == 0)?;
            rest.get(translated_end + 1..)
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chunk(kind: &[u8], data: &[u8]) -> Vec<u8> {
        let mut out = (data.len() as u32).to_be_bytes().to_vec();
        out.extend_from_slice(kind);
        out.extend_from_slice(data);
        out.extend_from_slice(&[0, 0, 0, 0]); // the CRC is not checked here
        out
    }

    fn png_with(meta: &[Vec<u8>]) -> Vec<u8> {
        let mut out = b"\x89PNG\r\n\x1a\n".to_vec();
        out.extend(chunk(b"IHDR", &[0, 0, 0, 64, 0, 0, 0, 48, 8, 2, 0, 0, 0]));
        for m in meta {
            out.extend_from_slice(m);
        }
        out.extend(chunk(b"IDAT", b"anything"));
        out
    }

    fn zlib(bytes: &[u8]) -> Vec<u8> {
        miniz_oxide::deflate::compress_to_vec_zlib(bytes, 9)
    }

    #[test]
    fn an_icc_profile_that_inflates_past_the_cap_is_refused_and_a_real_one_passes() {
        let mut bomb = b"icc\0\0".to_vec();
        bomb.extend(zlib(&vec![b'a'; 64 * 1024 * 1024]));
        let err = check(&png_with(&[chunk(b"iCCP", &bomb)])).unwrap_err();
        assert_eq!(err, MetadataError::TooLarge("iCCP".into()));
        let mut real = b"sRGB IEC61966-2.1\0\0".to_vec();
        real.extend(zlib(&vec![7u8; 3144]));
        assert!(check(&png_with(&[chunk(b"iCCP", &real)])).is_ok());
    }

    #[test]
    fn compressed_text_bombs_are_refused_whatever_the_chunk() {
        let mut ztxt = b"Comment\0\0".to_vec();
        ztxt.extend(zlib(&vec![b' '; 32 * 1024 * 1024]));
        assert!(check(&png_with(&[chunk(b"zTXt", &ztxt)])).is_err());
        let mut itxt = b"Comment\0\x01\0en\0\0".to_vec();
        itxt.extend(zlib(&vec![b' '; 32 * 1024 * 1024]));
        assert!(check(&png_with(&[chunk(b"iTXt", &itxt)])).is_err());
        assert!(check(&png_with(&[chunk(b"iTXt", b"Comment\0\0\0en\0\0plain text")])).is_ok());
    }

    #[test]
    fn a_compressed_chunk_running_past_the_inspected_head_is_refused() {
        let mut png = png_with(&[]);
        png.truncate(33);
        png.extend_from_slice(&(10_000_000u32).to_be_bytes());
        png.extend_from_slice(b"iCCP");
        png.extend_from_slice(b"icc\0\0");
        assert!(check(&png).is_err());
    }
}
