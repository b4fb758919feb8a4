//! The zip container of an `.xlsx`, measured before calamine opens it. calamine trusts the
//! archive: it keeps shared strings, styles and the workbook part whole in memory and inflates
//! whatever an entry holds. So first the end record's entry count, then every entry's declared
//! size, then every entry's real inflated size (counted while inflating into nothing, since
//! declared sizes can lie) are checked against the limits; only then does calamine read it.

use std::io::{self, Cursor, Read, Write};

use super::{ExcelError, ExcelLimits};

/// Most entries a workbook may have: a device list has about a dozen; the bound keeps the
/// zip reader's per-entry bookkeeping small whatever the central directory claims.
pub(super) const MAX_ENTRIES: u64 = 1000;
/// Largest inflated size of a part calamine keeps whole in memory (shared strings, styles,
/// relationships, theme, the workbook part). These grow several times their size once parsed;
/// worksheets are streamed cell by cell and are bounded by the total only.
pub(super) const MAX_HELD_PART_BYTES: u64 = 16 * 1024 * 1024;

const MB: u64 = 1024 * 1024;

type Zip<'a> = zip::ZipArchive<Cursor<&'a [u8]>>;

/// One entry's bound: what it may inflate to, and whether calamine holds it whole.
#[derive(Clone, Copy)]
struct Bound {
    limit: u64,
    held: bool,
}

impl Bound {
    fn exceeded(self) -> ExcelError {
        too_big(self.held, self.limit)
    }
}

/// Checks the archive against `limits`; `Ok` means calamine may open it.
pub(super) fn check(bytes: &[u8], limits: &ExcelLimits) -> Result<(), ExcelError> {
    let entries = declared_entries(bytes).ok_or_else(not_zip)?;
    if entries > MAX_ENTRIES {
        return Err(ExcelError::TooManyParts { parts: entries, max: MAX_ENTRIES });
    }
    let mut zip = zip::ZipArchive::new(Cursor::new(bytes)).map_err(|_| not_zip())?;
    if zip.len() as u64 > MAX_ENTRIES {
        return Err(ExcelError::TooManyParts { parts: zip.len() as u64, max: MAX_ENTRIES });
    }
    let total = limits.max_unzipped_bytes;
    let bounds = bounds(&mut zip, total)?;
    let mut declared = 0u64;
    for (i, bound) in bounds.iter().enumerate() {
        let size = zip.by_index_raw(i).map_err(|_| unreadable())?.size();
        if size > bound.limit {
            return Err(bound.exceeded());
        }
        declared = declared.saturating_add(size);
        if declared > total {
            return Err(ExcelError::Unzipped { limit_mb: total / MB });
        }
    }
    // Declared sizes can lie: count what really comes out, into nothing.
    let mut used = 0u64;
    for (i, bound) in bounds.iter().enumerate() {
        let room = bound.limit.min(total - used);
        used += inflate(&mut zip, i, room, &mut io::sink()).map_err(|e| match e {
            ExcelError::Unzipped { .. } if room < bound.limit => {
                ExcelError::Unzipped { limit_mb: total / MB }
            }
            ExcelError::Unzipped { .. } => bound.exceeded(),
            other => other,
        })?;
    }
    Ok(())
}

/// Each entry's bound. The parts calamine holds whole are found by the names it gives them
/// (`sharedStrings.xml`, `styles.xml`, `theme1.xml`, any `.rels`) and, for the workbook part,
/// by what the package relationships point at.
fn bounds(zip: &mut Zip<'_>, total: u64) -> Result<Vec<Bound>, ExcelError> {
    let held_limit = MAX_HELD_PART_BYTES.min(total);
    let names: Vec<String> = (0..zip.len())
        .map(|i| zip.by_index_raw(i).map(|f| normalized(&f.name().unwrap_or_default())))
        .collect::<Result<_, _>>()
        .map_err(|_| unreadable())?;
    let mut targeted = Vec::new();
    for (i, name) in names.iter().enumerate() {
        if name == "_rels/.rels" {
            let mut rels = Vec::new();
            inflate(zip, i, held_limit, &mut rels).map_err(|e| {
                if matches!(e, ExcelError::Unzipped { .. }) { too_big(true, held_limit) } else { e }
            })?;
            targeted.extend(targets(&String::from_utf8_lossy(&rels)));
        }
    }
    Ok(names
        .iter()
        .map(|name| {
            let base = name.rsplit('/').next().unwrap_or(name);
            let held = matches!(base, "sharedstrings.xml" | "styles.xml" | "theme1.xml")
                || name.ends_with(".rels")
                || targeted.contains(name);
            Bound { limit: if held { held_limit } else { total }, held }
        })
        .collect())
}

fn not_zip() -> ExcelError {
    ExcelError::Load("File is not a zip file".into())
}

fn unreadable() -> ExcelError {
    ExcelError::Load("the file is not a readable .xlsx or .xls workbook".into())
}

fn too_big(held: bool, limit: u64) -> ExcelError {
    if held {
        ExcelError::PartTooLarge { limit_mb: limit / MB }
    } else {
        ExcelError::Unzipped { limit_mb: limit / MB }
    }
}

/// Entry names as calamine looks them up: `/` separators, ASCII case ignored.
fn normalized(name: &str) -> String {
    name.replace('\\', "/").to_ascii_lowercase()
}

/// Inflates entry `i` into `out`, refusing once more than `limit` bytes come out.
fn inflate<W: Write>(zip: &mut Zip<'_>, i: usize, limit: u64, out: &mut W) -> Result<u64, ExcelError> {
    let entry = zip.by_index(i).map_err(|_| unreadable())?;
    let mut bounded = entry.take(limit + 1);
    let n = io::copy(&mut bounded, out).map_err(|_| unreadable())?;
    if n > limit {
        return Err(ExcelError::Unzipped { limit_mb: limit / MB });
    }
    Ok(n)
}

/// The number of entries the end-of-central-directory record (or its ZIP64 twin) declares,
/// or `None` when there is no end record.
fn declared_entries(bytes: &[u8]) -> Option<u64> {
    let u16_at = |b: &[u8], at: usize| b.get(at..at + 2).map(|s| u16::from_le_bytes([s[0], s[1]]));
    let u64_at =
        |b: &[u8], at: usize| b.get(at..at + 8).map(|s| u64::from_le_bytes(s.try_into().expect("8 bytes")));
    // The end record is the last 22 bytes plus a comment of at most 65535 bytes.
    let floor = bytes.len().saturating_sub(22 + 65_535);
    let at =
        (floor..=bytes.len().saturating_sub(22)).rev().find(|&i| bytes[i..].starts_with(b"PK\x05\x06"))?;
    let mut entries = u64::from(u16_at(bytes, at + 10)?);
    // A ZIP64 locator right before it points at a record whose count wins in every zip reader.
    if at >= 20 && bytes[at - 20..].starts_with(b"PK\x06\x07") {
        let record = usize::try_from(u64_at(bytes, at - 20 + 8)?).ok()?;
        if bytes.get(record..)?.starts_with(b"PK\x06\x06") {
            entries = entries.max(u64_at(bytes, record + 32)?);
        }
    }
    Some(entries)
}

/// Every `Target` attribute value of a relationships part, entities decoded, as the entry name
/// it points at (relative to the package root, as `_rels/.rels` targets are).
fn targets(rels: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut rest = rels;
    while let Some(i) = rest.find("Target") {
        rest = &rest[i + "Target".len()..];
        let after = rest.trim_start();
        let Some(after) = after.strip_prefix('=') else { continue };
        let after = after.trim_start();
        let Some(quote) = after.chars().next().filter(|c| *c == '"' || *c == '\'') else { continue };
        let value = &after[1..];
        let Some(end) = value.find(quote) else { break };
        let target = unescape(&value[..end]);
        out.push(normalized(target.trim_start_matches('/')));
        rest = &value[end..];
    }
    out
}

fn unescape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(i) = rest.find('&') {
        out.push_str(&rest[..i]);
        rest = &rest[i..];
        let Some(end) = rest.find(';') else { break };
        let entity = &rest[1..end];
        let c = match entity {
            "amp" => Some('&'),
            "lt" => Some('<'),
            "gt" => Some('>'),
            "quot" => Some('"'),
            "apos" => Some('\''),
            e if e.starts_with("#x") || e.starts_with("#X") => {
                u32::from_str_radix(&e[2..], 16).ok().and_then(char::from_u32)
            }
            e if e.starts_with('#') => e[1..].parse().ok().and_then(char::from_u32),
            _ => None,
        };
        match c {
            Some(c) => {
                out.push(c);
                rest = &rest[end + 1..];
            }
            None => {
                out.push('&');
                rest = &rest[1..];
            }
        }
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn relationship_targets_are_found_with_entities_decoded() {
        let rels = r#"<Relationships><Relationship Id="rId1" Type="x/officeDocument"
            Target = '/xl/work&#98;ook.xml'/><Relationship Target="docProps/app.xml"/></Relationships>"#;
        assert_eq!(targets(rels), ["xl/workbook.xml", "docprops/app.xml"]);
        assert_eq!(unescape("a&amp;b&#x41;&bogus;"), "a&bA&bogus;");
    }

    #[test]
    fn the_end_record_count_is_read_and_a_missing_end_record_is_not_a_zip() {
        let mut eocd = b"PK\x05\x06\0\0\0\0".to_vec();
        eocd.extend_from_slice(&7u16.to_le_bytes());
        eocd.extend_from_slice(&7u16.to_le_bytes());
        eocd.extend_from_slice(&[0; 10]);
        assert_eq!(declared_entries(&eocd), Some(7));
        assert_eq!(declared_entries(b"PK\x03\x04 nothing else"), None);
    }
}
