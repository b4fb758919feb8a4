//! Fonts shipped inside the binary (DejaVu Sans, see assets/fonts) and the text measuring the
//! PDF needs for wrapping and centring, which krilla leaves to us.

use std::sync::{Arc, OnceLock};

use krilla::text::Font;

static REGULAR: &[u8] = include_bytes!("../../assets/fonts/DejaVuSans.ttf");
static BOLD: &[u8] = include_bytes!("../../assets/fonts/DejaVuSans-Bold.ttf");

#[derive(Clone)]
pub(crate) struct Fonts {
    pub regular: Font,
    pub bold: Font,
}

impl Fonts {
    pub(crate) fn get() -> Fonts {
        static FONTS: OnceLock<Fonts> = OnceLock::new();
        FONTS
            .get_or_init(|| Fonts {
                regular: Font::new(Arc::new(REGULAR.to_vec()).into(), 0).expect("embedded font"),
                bold: Font::new(Arc::new(BOLD.to_vec()).into(), 0).expect("embedded font"),
            })
            .clone()
    }
}

/// Advance width of `text` at `size` points.
pub(crate) fn width(text: &str, size: f32, bold: bool) -> f32 {
    static FACES: OnceLock<(rustybuzz::ttf_parser::Face<'static>, rustybuzz::ttf_parser::Face<'static>)> =
        OnceLock::new();
    let (regular, heavy) = FACES.get_or_init(|| {
        (
            rustybuzz::ttf_parser::Face::parse(REGULAR, 0).expect("embedded font"),
            rustybuzz::ttf_parser::Face::parse(BOLD, 0).expect("embedded font"),
        )
    });
    let face = if bold { heavy } else { regular };
    let units: u32 = text
        .chars()
        .map(|c| face.glyph_index(c).and_then(|g| face.glyph_hor_advance(g)).map(u32::from).unwrap_or(600))
        .sum();
    units as f32 * size / f32::from(face.units_per_em())
}

/// Greedy word wrap to `max` points.
pub(crate) fn wrap(text: &str, size: f32, bold: bool, max: f32) -> Vec<String> {
    let mut lines = Vec::new();
    let mut line = String::new();
    for word in text.split_whitespace() {
        let candidate = if line.is_empty() { word.to_string() } else { format!("{line} {word}") };
        if width(&candidate, size, bold) <= max || line.is_empty() {
            line = candidate;
        } else {
            lines.push(std::mem::take(&mut line));
            line = word.to_string();
        }
    }
    if !line.is_empty() {
        lines.push(line);
    }
    lines
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wider_text_measures_wider_and_wraps_within_the_limit() {
        assert!(width("WWWW", 10.0, false) > width("iiii", 10.0, false));
        assert!(width("Report", 10.0, true) > width("Report", 10.0, false));
        let lines =
            wrap("Photos must be clear, also showing machine and pylon from four sides", 9.0, false, 120.0);
        assert!(lines.len() > 1);
        assert!(lines.iter().all(|l| width(l, 9.0, false) <= 120.0));
    }
}
