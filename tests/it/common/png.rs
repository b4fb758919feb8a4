//! Hand-made PNGs for the hostile-upload tests: headers that claim any size, depth and colour
//! type over a token of pixel data (only a full decode would notice).

/// One PNG chunk: length, type, data and the CRC-32 of type and data.
pub fn chunk(kind: &[u8], data: &[u8]) -> Vec<u8> {
    let mut out = (data.len() as u32).to_be_bytes().to_vec();
    out.extend_from_slice(kind);
    out.extend_from_slice(data);
    out.extend_from_slice(&crc32fast::hash(&[kind, data].concat()).to_be_bytes());
    out
}

/// A complete-looking PNG whose header claims `w`×`h` of the given depth and colour type (3 is
/// a palette, with a transparent entry when `transparent`).
pub fn png_claiming(w: u32, h: u32, depth: u8, color: u8, transparent: bool) -> Vec<u8> {
    let mut ihdr = w.to_be_bytes().to_vec();
    ihdr.extend_from_slice(&h.to_be_bytes());
    ihdr.extend_from_slice(&[depth, color, 0, 0, 0]);
    let mut out = b"\x89PNG\r\n\x1a\n".to_vec();
    out.extend(chunk(b"IHDR", &ihdr));
    if color == 3 {
        out.extend(chunk(b"PLTE", &[0, 0, 0, 255, 255, 255]));
        if transparent {
            out.extend(chunk(b"tRNS", &[0]));
        }
    }
    out.extend(chunk(b"IDAT", &[0x78, 0x9c, 0x03, 0x00, 0x00, 0x00, 0x00, 0x01]));
    out.extend(chunk(b"IEND", &[]));
    out
}
