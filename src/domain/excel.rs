//! The host's device list (spec §4.6): the first visible sheet becomes rows of
//! `col_1..col_N` values, and data rows become devices by the col_1..col_5 mapping.
//! An upload is untrusted: what is read is bounded by [`ExcelLimits`] before it is allocated —
//! the zip's parts ([`archive`]), the `.xls` sheets' extent ([`xls`]), and the cells and data
//! kept ([`cells`]).

use std::io::Cursor;

use calamine::{Data, DataRef, Reader, SheetVisible, Xls, Xlsx};
use serde_json::Value;

mod archive;
mod cells;
mod xls;

pub use cells::PREVIEW_ROWS;

/// How much of an uploaded workbook is read and kept (settings `EXCEL_MAX_*`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExcelLimits {
    /// Columns read, A.. (the import uses the first five; technicians see them all).
    pub max_columns: u32,
    /// Rows read, the header included.
    pub max_rows: u32,
    /// Total inflated size of the zip entries of an `.xlsx`.
    pub max_unzipped_bytes: u64,
    /// Size of the rows kept (stored as JSON in the database and sent to technicians).
    pub max_data_bytes: u64,
}

impl Default for ExcelLimits {
    fn default() -> Self {
        ExcelLimits {
            max_columns: 64,
            max_rows: 100_000,
            max_unzipped_bytes: 64 * 1024 * 1024,
            max_data_bytes: 16 * 1024 * 1024,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ExcelError {
    #[error("Failed to load Excel file: {0}")]
    Load(String),
    #[error("Excel file contains no data rows")]
    NoRows,
    #[error(
        "The sheet uses {used} columns; at most {max} are read. Remove the cells beyond column {}.",
        column_name(*max)
    )]
    TooManyColumns { used: u64, max: u32 },
    #[error(
        "The sheet uses {used} rows; at most {max} are read. Remove the rows below row {max}, or split the list into several files."
    )]
    TooManyRows { used: u64, max: u32 },
    #[error(
        "The workbook unpacks to more than {limit_mb} MB; at most {limit_mb} MB are read. Remove pictures, unused sheets and formatting, or split the list into several files."
    )]
    Unzipped { limit_mb: u64 },
    #[error(
        "A part of the workbook (its shared text, styles or sheet list) unpacks to more than {limit_mb} MB; at most {limit_mb} MB are read. Save the list again from Excel as a plain sheet, or split it into several files."
    )]
    PartTooLarge { limit_mb: u64 },
    #[error(
        "The workbook has {parts} parts; at most {max} are read. Save the list again from Excel without pictures or attachments."
    )]
    TooManyParts { parts: u64, max: u64 },
    #[error(
        "The .xls sheets span {cells} cells (rows × columns); at most {max} are read. Save the list as .xlsx, or remove the cells far from the data."
    )]
    XlsTooLarge { cells: u64, max: u64 },
    #[error(
        "The sheet holds more than {limit_mb} MB of data; at most {limit_mb} MB are kept. Remove unused columns, or split the list into several files."
    )]
    DataTooLarge { limit_mb: u64 },
}

/// The spreadsheet name of the `n`-th column (1 = A, 64 = BL, 16384 = XFD).
pub fn column_name(n: u32) -> String {
    let mut n = n;
    let mut out = Vec::new();
    while n > 0 {
        let r = (n - 1) % 26;
        out.push(b'A' + r as u8);
        n = (n - 1) / 26;
    }
    out.reverse();
    String::from_utf8(out).unwrap_or_default()
}

/// One device described by a data row.
#[derive(Debug, Clone, PartialEq)]
pub struct DeviceRow {
    pub interaction_id: String,
    pub cost_center: String,
    pub problem_type: String,
    pub problem_date: Option<String>,
    pub city: String,
    /// The ATM's position, from the optional 6th and 7th columns (latitude, longitude in decimal
    /// degrees) when both hold a valid one.
    pub position: Option<crate::domain::evidence::Position>,
}

#[derive(Debug, Clone)]
pub struct Sheet {
    /// Every non-empty row as `[{"col_1": …}, …]` JSON text, the header included (shown to
    /// technicians, stored as is).
    pub rows_json: String,
    pub row_count: usize,
    /// The first [`PREVIEW_ROWS`] rows as values, for the upload's answer.
    pub preview: Vec<Value>,
    pub devices: Vec<DeviceRow>,
}

/// Reads the first visible sheet within `limits`; everything beyond them is refused before it
/// is allocated. Blocking: call it off the async runtime.
pub fn parse(bytes: &[u8], limits: &ExcelLimits) -> Result<Sheet, ExcelError> {
    // .xlsx is a zip, .xls an OLE compound file; anything else is refused before parsing.
    let zip = bytes.starts_with(b"PK\x03\x04");
    let ole = bytes.starts_with(&[0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1]);
    let rows = if zip {
        archive::check(bytes, limits)?;
        parse_xlsx(bytes, limits)?
    } else if ole {
        xls::check(bytes, limits)?;
        parse_xls(bytes, limits)?
    } else {
        return Err(ExcelError::Load("File is not a zip file".into()));
    };
    Ok(Sheet { rows_json: rows.json, row_count: rows.count, preview: rows.preview, devices: rows.devices })
}

fn first_visible<R: std::io::Read + std::io::Seek>(book: &impl Reader<R>) -> Result<String, ExcelError> {
    book.sheets_metadata()
        .iter()
        .find(|s| s.visible == SheetVisible::Visible)
        .map(|s| s.name.clone())
        .ok_or(ExcelError::NoRows)
}

/// Streams the sheet's cells: no dense range is ever built from the sheet's own bounds.
fn parse_xlsx(bytes: &[u8], limits: &ExcelLimits) -> Result<cells::Rows, ExcelError> {
    let mut book: Xlsx<_> = Xlsx::new(Cursor::new(bytes)).map_err(|e| ExcelError::Load(load_reason(&e)))?;
    let name = first_visible(&book)?;
    let mut reader = book.worksheet_cells_reader(&name).map_err(|e| ExcelError::Load(load_reason(&e)))?;
    // A declared extent beyond the bounds is refused as it stands; one within them is not
    // trusted either: every cell is checked as it arrives.
    let declared = reader.dimensions();
    cells::Collector::new(limits).check_extent(declared.end.0, declared.end.1)?;
    let mut kept = cells::Collector::new(limits);
    while let Some(cell) = reader.next_cell().map_err(|e| ExcelError::Load(load_reason(&e)))? {
        if matches!(cell.get_value(), DataRef::Empty) {
            continue;
        }
        let (row, col) = cell.get_position();
        let value = Data::from(cell.get_value().clone());
        kept.push(row, col, cell_value(&value))?;
    }
    kept.finish()
}

/// calamine reads a whole `.xls` into dense ranges; [`xls::check`] has bounded them already.
fn parse_xls(bytes: &[u8], limits: &ExcelLimits) -> Result<cells::Rows, ExcelError> {
    let mut book: Xls<_> = Xls::new(Cursor::new(bytes)).map_err(|e| ExcelError::Load(load_reason(&e)))?;
    let name = first_visible(&book)?;
    let range = book.worksheet_range(&name).map_err(|e| ExcelError::Load(load_reason(&e)))?;
    let mut kept = cells::Collector::new(limits);
    let (start_row, start_col) = range.start().unwrap_or_default();
    for (row, col, value) in range.used_cells() {
        kept.push(start_row + row as u32, start_col + col as u32, cell_value(value))?;
    }
    kept.finish()
}

/// What a reader's failure means to the person who sent the file; calamine's own text names
/// internals (XML nodes, record ids) and is not sent.
fn load_reason(e: &dyn std::fmt::Display) -> String {
    let s = e.to_string();
    if s.to_lowercase().contains("zip") {
        "File is not a zip file".into()
    } else {
        "the file is not a readable .xlsx or .xls workbook".into()
    }
}

/// A cell's value; `None` for an error cell (shown empty, as the original did).
fn cell_value(d: &Data) -> Option<Value> {
    Some(match d {
        Data::Empty => Value::Null,
        Data::Error(_) => return None,
        Data::Int(i) => Value::from(*i),
        Data::Float(f) if f.fract() == 0.0 && f.abs() < 9e15 => Value::from(*f as i64),
        Data::Float(f) => serde_json::Number::from_f64(*f).map(Value::Number).unwrap_or(Value::Null),
        Data::String(s) => Value::String(s.clone()),
        Data::Bool(b) => Value::Bool(*b),
        Data::DateTime(dt) => match dt.as_datetime() {
            Some(t) if dt.as_f64() < 1.0 => Value::String(t.format("%H:%M:%S").to_string()),
            Some(t) => Value::String(t.format("%Y-%m-%dT%H:%M:%S").to_string()),
            None => Value::Null,
        },
        Data::DateTimeIso(s) | Data::DurationIso(s) => Value::String(s.clone()),
    })
}

pub(super) fn is_falsy(v: &Value) -> bool {
    match v {
        Value::Null => true,
        Value::String(s) => s.trim().is_empty(),
        Value::Bool(b) => !b,
        Value::Number(n) => n.as_f64() == Some(0.0),
        _ => false,
    }
}

/// A cell as text, as the original's `str(value)`: integers without a decimal point.
pub fn text(v: Option<&Value>) -> String {
    match v {
        None | Some(Value::Null) => String::new(),
        Some(Value::String(s)) => s.trim().to_string(),
        Some(other) => other.to_string(),
    }
}

/// A first row is a header when its first cell names a column ("Interaction ID", "GFM code"),
/// not when it merely contains "GFM" like the code `GFM1190544` (a latent defect of the original).
pub(super) fn is_header(row: &Value) -> bool {
    let Some(Value::String(s)) = row.get("col_1") else {
        return false;
    };
    let s = s.to_lowercase();
    let words: Vec<&str> = s.split(|c: char| !c.is_alphanumeric()).filter(|w| !w.is_empty()).collect();
    s.contains("interaction") || words.contains(&"id") || (words.contains(&"gfm") && words.len() > 1)
}

/// The device a data row describes, or `None` for a row without a usable id.
pub(super) fn device_row(r: &Value) -> Option<DeviceRow> {
    let id = text(r.get("col_1"));
    if id.is_empty() || id.eq_ignore_ascii_case("n/a") {
        return None;
    }
    let date = text(r.get("col_4"));
    let degrees = |k: &str| match r.get(k) {
        Some(Value::Number(n)) => n.as_f64(),
        Some(Value::String(s)) => s.trim().replace(',', ".").parse::<f64>().ok(),
        _ => None,
    };
    let position = match (degrees("col_6"), degrees("col_7")) {
        (Some(lat), Some(lon)) => crate::domain::evidence::Position::new(lat, lon),
        _ => None,
    };
    Some(DeviceRow {
        position,
        interaction_id: id,
        cost_center: text(r.get("col_2")),
        problem_type: text(r.get("col_3")),
        problem_date: (!date.is_empty()).then_some(date),
        city: text(r.get("col_5")),
    })
}

/// The id a technician's row refers to: col_1, or col_2 when col_1 is empty.
pub fn row_device_key(row: &Value) -> String {
    let first = text(row.get("col_1"));
    if first.is_empty() { text(row.get("col_2")) } else { first }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn header_rows_are_recognised_but_gfm_codes_are_data() {
        assert!(is_header(&json!({"col_1": "Interaction ID"})));
        assert!(is_header(&json!({"col_1": "GFM Code"})));
        assert!(is_header(&json!({"col_1": "ID"})));
        assert!(!is_header(&json!({"col_1": "GFM1190544"})));
        assert!(!is_header(&json!({"col_1": 12345})));
    }

    #[test]
    fn empty_and_na_ids_are_skipped_and_numbers_become_text() {
        let rows = [
            json!({"col_1": "Interaction ID", "col_2": "Cost", "col_3": "Type", "col_4": "Date", "col_5": "City"}),
            json!({"col_1": "GFM1", "col_2": 838, "col_3": "Cleaning", "col_4": "2025-10-13T00:00:00", "col_5": "Hail"}),
            json!({"col_1": "N/A", "col_2": 1, "col_3": "x", "col_4": null, "col_5": "y"}),
            json!({"col_1": null, "col_2": 2, "col_3": "x", "col_4": null, "col_5": "y"}),
            json!({"col_1": 4711, "col_2": "C", "col_3": "Electro Mechanical", "col_4": null, "col_5": "Abha"}),
        ];
        let d: Vec<DeviceRow> = rows.iter().skip(1).filter_map(device_row).collect();
        assert_eq!(d.len(), 2);
        assert_eq!(d[0].cost_center, "838");
        assert_eq!(d[1].interaction_id, "4711");
        assert_eq!(d[1].problem_date, None);
    }

    #[test]
    fn column_names_follow_the_spreadsheet_letters() {
        assert_eq!(column_name(1), "A");
        assert_eq!(column_name(26), "Z");
        assert_eq!(column_name(27), "AA");
        assert_eq!(column_name(64), "BL");
        assert_eq!(column_name(16_384), "XFD");
    }

    /// Both made with Python's xlwt (BIFF8, the format of Excel 97-2003), see tests/fixtures.
    const XLS: &[u8] = include_bytes!("../../tests/fixtures/devices.xls");
    const FAR_XLS: &[u8] = include_bytes!("../../tests/fixtures/far-cell.xls");

    #[test]
    fn a_real_xls_is_read_and_one_with_a_far_cell_is_refused_before_calamine_opens_it() {
        let sheet = parse(XLS, &ExcelLimits::default()).unwrap();
        assert_eq!(sheet.row_count, 3);
        assert_eq!(sheet.devices.len(), 2);
        assert_eq!(sheet.devices[1].city, "Abha");
        assert_eq!(sheet.devices[1].cost_center, "839");
        assert_eq!(
            xls::check(FAR_XLS, &ExcelLimits::default()),
            Err(ExcelError::TooManyColumns { used: 256, max: 64 })
        );
        let tight = ExcelLimits { max_columns: 300, ..ExcelLimits::default() };
        assert_eq!(
            xls::check(FAR_XLS, &tight),
            Err(ExcelError::XlsTooLarge { cells: 65_536 * 256, max: xls::MAX_XLS_CELLS })
        );
    }

    #[test]
    fn garbage_is_a_load_error() {
        assert_eq!(
            parse(b"not a workbook", &ExcelLimits::default()).unwrap_err(),
            ExcelError::Load("File is not a zip file".into())
        );
    }
}
