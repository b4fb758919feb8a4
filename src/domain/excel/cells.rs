//! Cells gathered from a sheet under the limits, then written out as the stored rows. Only cells
//! that hold something are kept, each checked against the column and row bounds as it arrives
//! (a sheet's `<dimension>` can lie; the cells cannot), and what is kept is charged against the
//! data budget, so neither a far cell nor millions of small ones make memory grow unbounded.

use std::collections::BTreeMap;

use serde_json::{Map, Value};

use super::{ExcelError, ExcelLimits};

/// The first rows kept as values for the answer's preview; the rest only as JSON text.
pub const PREVIEW_ROWS: usize = 20;

pub(super) struct Collector {
    limits: ExcelLimits,
    rows: BTreeMap<u32, Vec<(u32, Value)>>,
    /// The widest column seen holding anything (errors included, as calamine's used range).
    width: u32,
    spent: u64,
}

/// The stored rows: `[{"col_1": …}, …]` as JSON text, its row count and the first rows.
pub(super) struct Rows {
    pub json: String,
    pub count: usize,
    pub preview: Vec<Value>,
    pub devices: Vec<super::DeviceRow>,
}

impl Collector {
    pub(super) fn new(limits: &ExcelLimits) -> Collector {
        Collector { limits: limits.clone(), rows: BTreeMap::new(), width: 0, spent: 0 }
    }

    /// Refuses a cell at 0-based (`row`, `col`) beyond the bounds.
    pub(super) fn check_extent(&self, row: u32, col: u32) -> Result<(), ExcelError> {
        if col >= self.limits.max_columns {
            return Err(ExcelError::TooManyColumns {
                used: u64::from(col) + 1,
                max: self.limits.max_columns,
            });
        }
        if row >= self.limits.max_rows {
            return Err(ExcelError::TooManyRows { used: u64::from(row) + 1, max: self.limits.max_rows });
        }
        Ok(())
    }

    /// Takes the cell at 0-based (`row`, `col`); `value` is `None` for an error cell, which
    /// counts for the bounds but stores nothing.
    pub(super) fn push(&mut self, row: u32, col: u32, value: Option<Value>) -> Result<(), ExcelError> {
        self.check_extent(row, col)?;
        self.width = self.width.max(col + 1);
        let Some(value) = value.filter(|v| !v.is_null()) else { return Ok(()) };
        // What the value costs once written: `"col_NN":` and a comma around its own text.
        self.spent += 10 + json_len(&value);
        if self.spent > self.limits.max_data_bytes {
            return Err(ExcelError::DataTooLarge { limit_mb: self.limits.max_data_bytes / (1024 * 1024) });
        }
        self.rows.entry(row).or_default().push((col, value));
        Ok(())
    }

    /// Writes the non-empty rows as `col_1..col_N` objects, N the widest column used.
    pub(super) fn finish(self) -> Result<Rows, ExcelError> {
        let too_large = || ExcelError::DataTooLarge { limit_mb: self.limits.max_data_bytes / (1024 * 1024) };
        let width = self.width as usize;
        let mut json = String::from("[");
        let mut count = 0;
        let mut preview = Vec::new();
        let mut devices = Vec::new();
        let mut header_checked = false;
        for cells in self.rows.into_values() {
            let mut values = vec![Value::Null; width];
            for (col, v) in cells {
                values[col as usize] = v;
            }
            if values.iter().all(super::is_falsy) {
                continue;
            }
            let obj: Map<String, Value> =
                values.into_iter().enumerate().map(|(i, v)| (format!("col_{}", i + 1), v)).collect();
            let row = Value::Object(obj);
            if count > 0 {
                json.push(',');
            }
            json.push_str(&row.to_string());
            if json.len() as u64 > self.limits.max_data_bytes {
                return Err(too_large());
            }
            // The first row is a header when it names its columns; it is shown, not imported.
            let header = !header_checked && super::is_header(&row);
            header_checked = true;
            if !header && let Some(d) = super::device_row(&row) {
                devices.push(d);
            }
            if preview.len() < PREVIEW_ROWS {
                preview.push(row);
            }
            count += 1;
        }
        json.push(']');
        if count == 0 {
            return Err(ExcelError::NoRows);
        }
        Ok(Rows { json, count, preview, devices })
    }
}

/// Close to the length of the value's JSON text (escapes aside; the written text is checked).
fn json_len(v: &Value) -> u64 {
    match v {
        Value::String(s) => s.len() as u64 + 2,
        Value::Number(n) => n.to_string().len() as u64,
        _ => 5,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn limits() -> ExcelLimits {
        ExcelLimits { max_columns: 8, max_rows: 10, max_data_bytes: 4096, ..ExcelLimits::default() }
    }

    #[test]
    fn a_cell_beyond_the_bounds_is_refused_naming_the_last_column_read() {
        let mut c = Collector::new(&limits());
        c.push(0, 0, Some(json!("a"))).unwrap();
        let e = c.push(0, 16_383, Some(json!("far"))).unwrap_err();
        assert_eq!(
            e.to_string(),
            "The sheet uses 16384 columns; at most 8 are read. Remove the cells beyond column H."
        );
        let e = c.push(1_048_575, 1, None).unwrap_err();
        assert!(e.to_string().starts_with("The sheet uses 1048576 rows; at most 10 are read."), "{e}");
    }

    #[test]
    fn many_small_cells_are_refused_once_they_exceed_the_data_budget() {
        let mut c = Collector::new(&limits());
        let refused = (0..10)
            .flat_map(|r| (0..8).map(move |col| (r, col)))
            .find_map(|(r, col)| c.push(r, col, Some(json!("x".repeat(40)))).err());
        assert!(matches!(refused, Some(ExcelError::DataTooLarge { .. })), "{refused:?}");
    }

    #[test]
    fn rows_come_out_in_order_padded_to_the_widest_column_and_empty_rows_dropped() {
        let mut c = Collector::new(&limits());
        c.push(3, 0, Some(json!("GFM2"))).unwrap();
        c.push(0, 0, Some(json!("Interaction ID"))).unwrap();
        c.push(1, 0, Some(json!(0))).unwrap();
        c.push(2, 2, Some(json!("Cleaning"))).unwrap();
        c.push(2, 0, Some(json!("GFM1"))).unwrap();
        c.push(5, 4, None).unwrap();
        let rows = c.finish().unwrap();
        assert_eq!(rows.count, 3, "the row of a lone 0 is empty, as the original judged it");
        let parsed: Value = serde_json::from_str(&rows.json).unwrap();
        assert_eq!(
            parsed[1],
            json!({"col_1": "GFM1", "col_2": null, "col_3": "Cleaning", "col_4": null, "col_5": null})
        );
        assert_eq!(rows.preview.len(), 3);
        assert_eq!(
            rows.devices.iter().map(|d| d.interaction_id.as_str()).collect::<Vec<_>>(),
            ["GFM1", "GFM2"]
        );
    }
}
