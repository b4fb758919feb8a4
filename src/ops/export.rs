//! Exports for the client: the supervisor list with its filters as CSV (streamed a batch at a
//! time) and as XLSX (rows flushed to a temporary file as they are written), and one report as
//! a ZIP of its PDF, its original photos and a manifest with every file's SHA-256. None of them
//! holds the whole list or all of a report's photos in memory.

use std::io::{Seek, Write};
use std::sync::Arc;

use anyhow::Context;
use bytes::Bytes;
use futures_util::Stream;
use serde_json::json;
use sha2::{Digest, Sha256};

use crate::db::Db;
use crate::db::submissions::{self, Cursor, Filters, Record};
use crate::domain::period::{self, Period};
use crate::storage::{MediaKey, MediaStore};

/// The columns a bank expects, in order.
pub(crate) const COLUMNS: [&str; 12] = [
    "Device",
    "Cost center",
    "City",
    "Type",
    "Technician",
    "Visit date",
    "Period",
    "Status",
    "Reviewed by",
    "Reviewed at",
    "Remarks",
    "PDF link",
];

/// Rows read per query.
const BATCH: i64 = 1000;
/// Excel's last row, the header taken.
const XLSX_MAX_ROWS: i64 = 1_048_575;

/// Makes a signed absolute link to a stored object (the caller knows the base URL and key).
pub(crate) type Link = Arc<dyn Fn(&MediaKey) -> String + Send + Sync>;

/// The half-month as people say it: `2026-12 first half`.
fn period_of(visit_date: &str) -> String {
    match period::parse_date(visit_date).map(Period::of) {
        Some(p) => format!("{}-{:02} {} half", p.year, p.month, if p.half == 1 { "first" } else { "second" }),
        None => String::new(),
    }
}

/// One row's cells, the remarks as the pages show them.
pub(crate) fn cells(r: &Record, link: &Link) -> [String; 12] {
    let remarks = r.shown_remarks().unwrap_or_default().to_string();
    [
        r.interaction_id.clone(),
        r.gfm_cost_center.clone(),
        r.device_city.clone(),
        r.device_type.clone(),
        r.technician_name.clone(),
        r.visit_date.clone(),
        period_of(&r.visit_date),
        r.status.as_str().to_string(),
        r.reviewed_by.clone().unwrap_or_default(),
        r.reviewed_at.clone().unwrap_or_default(),
        remarks,
        r.pdf_key.as_ref().map(|k| link(k)).unwrap_or_default(),
    ]
}

/// A spreadsheet opening the CSV would run a cell that starts like a formula (`=`, `+`, `-`, `@`,
/// a tab or carriage return): such cells get a leading apostrophe, which shows them as text.
fn inert(cell: &str) -> std::borrow::Cow<'_, str> {
    match cell.chars().next() {
        Some('=' | '+' | '-' | '@' | '\t' | '\r') => format!("'{cell}").into(),
        _ => cell.into(),
    }
}

struct CsvWalk {
    db: Db,
    filters: Filters,
    link: Link,
    after: Option<Cursor>,
    started: bool,
    done: bool,
}

/// The filtered list as CSV, a batch of rows per chunk, the header first.
pub(crate) fn csv(db: Db, filters: Filters, link: Link) -> impl Stream<Item = std::io::Result<Bytes>> {
    let walk = CsvWalk { db, filters, link, after: None, started: false, done: false };
    futures_util::stream::unfold(walk, |mut w| async move {
        if w.done {
            return None;
        }
        let mut start = Vec::new();
        if !w.started {
            // A byte-order mark, so spreadsheet programs read the UTF-8 names right.
            start.extend_from_slice("\u{feff}".as_bytes());
        }
        let mut out = csv::Writer::from_writer(start);
        if !w.started {
            w.started = true;
            if let Err(e) = out.write_record(COLUMNS) {
                return Some((Err(std::io::Error::other(e)), w));
            }
        }
        let rows = match submissions::batch_after(&w.db, &w.filters, w.after.as_ref(), BATCH).await {
            Ok(rows) => rows,
            Err(e) => {
                tracing::error!(error = %e, "CSV export stopped: the list could not be read");
                w.done = true;
                return Some((Err(std::io::Error::other("the list could not be read")), w));
            }
        };
        w.done = (rows.len() as i64) < BATCH;
        w.after = rows.last().map(|r| (r.created_at.clone(), r.id));
        for r in &rows {
            let cells = cells(r, &w.link);
            if let Err(e) = out.write_record(cells.iter().map(|c| inert(c).into_owned())) {
                return Some((Err(std::io::Error::other(e)), w));
            }
        }
        match out.into_inner() {
            Ok(bytes) => Some((Ok(Bytes::from(bytes)), w)),
            Err(e) => Some((Err(std::io::Error::other(e.to_string())), w)),
        }
    })
}

/// Why an XLSX could not be made from this list.
#[derive(Debug, thiserror::Error)]
pub(crate) enum XlsxError {
    #[error(
        "the list has {0} rows, more than a worksheet holds ({XLSX_MAX_ROWS}); narrow the filters or export CSV"
    )]
    TooManyRows(i64),
    #[error(transparent)]
    Other(#[from] anyhow::Error),
}

/// The filtered list as an XLSX in an unnamed temporary file, rewound.
pub(crate) async fn xlsx(db: &Db, filters: &Filters, link: Link) -> Result<std::fs::File, XlsxError> {
    let counted = Filters { page: Some((1, 0)), ..filters.clone() };
    let (_, total) = submissions::list(db, &counted).await.map_err(anyhow::Error::from)?;
    if total > XLSX_MAX_ROWS {
        return Err(XlsxError::TooManyRows(total));
    }
    let (db, filters, handle) = (db.clone(), filters.clone(), tokio::runtime::Handle::current());
    let built = tokio::task::spawn_blocking(move || -> anyhow::Result<std::fs::File> {
        use rust_xlsxwriter::{Format, Workbook};
        let mut book = Workbook::new();
        let sheet = book.add_worksheet_with_constant_memory()?;
        sheet.set_name("Submissions")?;
        let bold = Format::new().set_bold();
        for (c, name) in COLUMNS.iter().enumerate() {
            sheet.write_string_with_format(0, c as u16, *name, &bold)?;
        }
        let (mut row, mut after): (u32, Option<Cursor>) = (1, None);
        loop {
            let rows = handle.block_on(submissions::batch_after(&db, &filters, after.as_ref(), BATCH))?;
            for r in &rows {
                for (c, v) in cells(r, &link).iter().enumerate() {
                    sheet.write_string(row, c as u16, v)?;
                }
                row += 1;
            }
            after = rows.last().map(|r| (r.created_at.clone(), r.id));
            if (rows.len() as i64) < BATCH || i64::from(row) > XLSX_MAX_ROWS {
                break;
            }
        }
        let mut file = tempfile::tempfile().context("while making a temporary file for the export")?;
        book.save_to_writer(&mut file)?;
        file.rewind()?;
        Ok(file)
    })
    .await
    .map_err(|e| anyhow::anyhow!("the export task failed: {e}"))??;
    Ok(built)
}

/// One report as a ZIP in an unnamed temporary file, rewound, with its suggested file name;
/// `None` when there is no such report.
pub(crate) async fn report_zip(
    db: &Db,
    store: &MediaStore,
    id: i64,
) -> anyhow::Result<Option<(std::fs::File, String)>> {
    let Some(r) = submissions::get(db, id).await? else { return Ok(None) };
    let photos = submissions::photos_of(db, &[id]).await?.remove(&id).unwrap_or_default();
    let lost = crate::db::imported::findings_of(db, &[id]).await?.remove(&id).unwrap_or_default();
    let file = tempfile::tempfile().context("while making a temporary file for the export")?;
    let mut zip = zip::ZipWriter::new(file);
    let stored = zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Stored);
    let mut files = Vec::new();
    let add = async |zip: zip::ZipWriter<std::fs::File>, name: String, key: &MediaKey, recorded: &str| {
        let bytes = store.read(key).await.with_context(|| format!("while reading {key}"))?;
        let sha256 = hex::encode(Sha256::digest(&bytes));
        let entry = json!({
            "name": name, "size": bytes.len(), "sha256": sha256,
            "recorded_sha256": recorded, "matches_record": sha256 == recorded,
        });
        let zip = tokio::task::spawn_blocking(move || -> anyhow::Result<_> {
            let mut zip = zip;
            zip.start_file(name.as_str(), stored)?;
            zip.write_all(&bytes)?;
            Ok(zip)
        })
        .await??;
        anyhow::Ok((zip, entry))
    };
    for p in &photos {
        let ext = p.key.as_str().rsplit('.').next().unwrap_or("jpg");
        let name = format!("photos/section{}_{}.{ext}", p.section, p.order_index);
        let (z, entry) = add(zip, name, &p.key, &p.sha256).await?;
        zip = z;
        let mut entry = entry;
        entry["section"] = json!(p.section);
        entry["order_index"] = json!(p.order_index);
        files.push(entry);
    }
    if let Some(key) = &r.pdf_key {
        let recorded = crate::db::objects::sha256_of_key(db, key).await?.unwrap_or_default();
        let (z, entry) = add(zip, "report.pdf".into(), key, &recorded).await?;
        zip = z;
        files.push(entry);
    }
    let manifest = json!({
        "submission": {
            "id": r.id, "device": r.interaction_id, "cost_center": r.gfm_cost_center, "city": r.device_city,
            "type": r.device_type, "technician": r.technician_name, "visit_date": r.visit_date,
            "period": period_of(&r.visit_date), "status": r.status, "job_status": r.job_status,
            "job_description": r.job_description, "technician_remarks": r.remarks,
            "review_remarks": r.review_remarks, "reviewed_by": r.reviewed_by, "reviewed_at": r.reviewed_at,
            "created_at": r.created_at,
        },
        "files": files,
        "lost_before_move": lost,
        "exported_at": Db::now(),
    });
    let text = serde_json::to_vec_pretty(&manifest)?;
    let mut file = tokio::task::spawn_blocking(move || -> anyhow::Result<std::fs::File> {
        let deflated = zip::write::SimpleFileOptions::default();
        zip.start_file("manifest.json", deflated)?;
        zip.write_all(&text)?;
        let mut file = zip.finish()?;
        file.rewind()?;
        Ok(file)
    })
    .await??;
    file.flush()?;
    let safe: String = r
        .interaction_id
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() || c == '-' || c == '_' { c } else { '_' })
        .collect();
    Ok(Some((file, format!("report-{}-{safe}.zip", r.id))))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cells_that_a_spreadsheet_would_run_are_made_text() {
        for bad in ["=HYPERLINK(\"http://x\")", "+1", "-2+3", "@SUM(A1)", "\tx"] {
            assert!(inert(bad).starts_with('\''), "{bad:?}");
        }
        for fine in ["RUN1-C001", "All good", "", "2026-12-01"] {
            assert_eq!(inert(fine), fine);
        }
        assert_eq!(period_of("2026-12-01"), "2026-12 first half");
        assert_eq!(period_of("2026-11-20"), "2026-11 second half");
    }
}
