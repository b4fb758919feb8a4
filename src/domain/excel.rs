//! The host's device list (spec §4.6): the first visible sheet becomes rows of
//! `col_1..col_N` values, and data rows become devices by the col_1..col_5 mapping.

use std::io::Cursor;

use calamine::{Data, Reader, SheetVisible};
use serde_json::{Map, Value};

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ExcelError {
    #[error("Failed to load Excel file: {0}")]
    Load(String),
    #[error("Excel file contains no data rows")]
    NoRows,
}

/// One device described by a data row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeviceRow {
    pub interaction_id: String,
    pub cost_center: String,
    pub problem_type: String,
    pub problem_date: Option<String>,
    pub city: String,
}

#[derive(Debug, Clone)]
pub struct Sheet {
    /// Every non-empty row as `{"col_1": …}`, the header included (shown to technicians).
    pub rows: Vec<Value>,
    pub devices: Vec<DeviceRow>,
}

pub fn parse(bytes: Vec<u8>) -> Result<Sheet, ExcelError> {
    // .xlsx is a zip, .xls an OLE compound file; anything else is refused before parsing.
    let zip = bytes.starts_with(b"PK\x03\x04");
    let ole = bytes.starts_with(&[0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1]);
    if !zip && !ole {
        return Err(ExcelError::Load("File is not a zip file".into()));
    }
    let mut book = calamine::open_workbook_auto_from_rs(Cursor::new(bytes))
        .map_err(|e| ExcelError::Load(load_reason(&e)))?;
    let name = book
        .sheets_metadata()
        .iter()
        .find(|s| s.visible == SheetVisible::Visible)
        .map(|s| s.name.clone())
        .ok_or(ExcelError::NoRows)?;
    let range = book.worksheet_range(&name).map_err(|e| ExcelError::Load(load_reason(&e)))?;
    let (Some((_, first_col)), Some((_, last_col))) = (range.start(), range.end()) else {
        return Err(ExcelError::NoRows);
    };
    let mut rows = Vec::new();
    for cells in range.rows() {
        let values: Vec<Value> = cells.iter().map(cell_value).collect();
        if values.iter().all(is_falsy) {
            continue;
        }
        let mut obj = Map::new();
        for col in 0..=last_col {
            let v = if col < first_col {
                Value::Null
            } else {
                values.get((col - first_col) as usize).cloned().unwrap_or(Value::Null)
            };
            obj.insert(format!("col_{}", col + 1), v);
        }
        rows.push(Value::Object(obj));
    }
    if rows.is_empty() {
        return Err(ExcelError::NoRows);
    }
    let devices = device_rows(&rows);
    Ok(Sheet { rows, devices })
}

fn load_reason(e: &calamine::Error) -> String {
    let s = e.to_string();
    if s.to_lowercase().contains("zip") {
        "File is not a zip file".into()
    } else {
        "the file is not a readable .xlsx or .xls workbook".into()
    }
}

fn cell_value(d: &Data) -> Value {
    match d {
        Data::Empty | Data::Error(_) => Value::Null,
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
    }
}

fn is_falsy(v: &Value) -> bool {
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
fn is_header(row: &Value) -> bool {
    let Some(Value::String(s)) = row.get("col_1") else {
        return false;
    };
    let s = s.to_lowercase();
    let words: Vec<&str> = s.split(|c: char| !c.is_alphanumeric()).filter(|w| !w.is_empty()).collect();
    s.contains("interaction") || words.contains(&"id") || (words.contains(&"gfm") && words.len() > 1)
}

fn device_rows(rows: &[Value]) -> Vec<DeviceRow> {
    let skip = usize::from(rows.first().is_some_and(is_header));
    rows.iter()
        .skip(skip)
        .filter_map(|r| {
            let id = text(r.get("col_1"));
            if id.is_empty() || id.eq_ignore_ascii_case("n/a") {
                return None;
            }
            let date = text(r.get("col_4"));
            Some(DeviceRow {
                interaction_id: id,
                cost_center: text(r.get("col_2")),
                problem_type: text(r.get("col_3")),
                problem_date: (!date.is_empty()).then_some(date),
                city: text(r.get("col_5")),
            })
        })
        .collect()
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
        let rows = vec![
            json!({"col_1": "Interaction ID", "col_2": "Cost", "col_3": "Type", "col_4": "Date", "col_5": "City"}),
            json!({"col_1": "GFM1", "col_2": 838, "col_3": "Cleaning", "col_4": "2025-10-13T00:00:00", "col_5": "Hail"}),
            json!({"col_1": "N/A", "col_2": 1, "col_3": "x", "col_4": null, "col_5": "y"}),
            json!({"col_1": null, "col_2": 2, "col_3": "x", "col_4": null, "col_5": "y"}),
            json!({"col_1": 4711, "col_2": "C", "col_3": "Electro Mechanical", "col_4": null, "col_5": "Abha"}),
        ];
        let d = device_rows(&rows);
        assert_eq!(d.len(), 2);
        assert_eq!(d[0].cost_center, "838");
        assert_eq!(d[1].interaction_id, "4711");
        assert_eq!(d[1].problem_date, None);
    }

    #[test]
    fn garbage_is_a_load_error() {
        assert_eq!(
            parse(b"not a workbook".to_vec()).unwrap_err(),
            ExcelError::Load("File is not a zip file".into())
        );
    }
}
