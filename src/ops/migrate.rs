//! Copies every stored object to another store with a hash check per object. Objects already
//! present and intact at the target are kept, so an interrupted run resumes where it stopped.
//! Only when every object is verified is the target given the storage identity.

use serde::Serialize;

use crate::db::{Db, meta, objects};
use crate::storage::identity::Marker;
use crate::storage::{MediaStore, StoreError};

#[derive(Debug, Default, Serialize)]
pub(crate) struct Report {
    pub objects: usize,
    pub copied: usize,
    pub already_there: usize,
    pub missing_at_source: Vec<String>,
    pub corrupt_at_source: Vec<String>,
    pub failed: Vec<String>,
}

impl Report {
    pub(crate) fn complete(&self) -> bool {
        self.missing_at_source.is_empty() && self.corrupt_at_source.is_empty() && self.failed.is_empty()
    }
}

const LIMIT: u64 = 1 << 30;

pub(crate) async fn run(
    db: &Db,
    from: &MediaStore,
    to: &MediaStore,
    progress: impl Fn(&str),
) -> anyhow::Result<Report> {
    let rows = objects::list_as_text(db).await?;
    let present: std::collections::HashMap<String, u64> =
        to.list_all().await?.into_iter().map(|l| (l.key, l.size)).collect();
    let mut report = Report { objects: rows.len(), ..Report::default() };
    for row in rows {
        // A row whose key no server could have made is named, and the others still move.
        let row = match row.parsed() {
            Ok(row) => row,
            Err(key) => {
                report.failed.push(format!("{key}: not a valid key"));
                continue;
            }
        };
        let row = &row;
        let (key, name) = (&row.key, row.key.as_str());
        if present.get(name) == Some(&(row.size as u64)) {
            match to.hash_listed(name).await {
                Ok(h) if h == row.sha256 => {
                    report.already_there += 1;
                    continue;
                }
                _ => {
                    report.failed.push(format!(
                        "{}: present at the target with other content; remove it there and rerun",
                        row.key
                    ));
                    continue;
                }
            }
        }
        let bytes = match from.read(key).await {
            Ok(b) => b,
            Err(StoreError::NotFound) => {
                report.missing_at_source.push(name.to_string());
                continue;
            }
            Err(e) => {
                report.failed.push(format!("{}: {e}", row.key));
                continue;
            }
        };
        if hex::encode(<sha2::Sha256 as sha2::Digest>::digest(&bytes)) != row.sha256 {
            report.corrupt_at_source.push(name.to_string());
            continue;
        }
        let body = futures_util::stream::once(async move { Ok::<_, std::io::Error>(bytes) });
        match to.put_stream(key, body, LIMIT).await {
            Ok(o) if o.sha256 == row.sha256 => match to.hash_listed(name).await {
                Ok(h) if h == row.sha256 => {
                    report.copied += 1;
                    progress(name);
                }
                _ => report.failed.push(format!("{}: read-back hash differs at the target", row.key)),
            },
            Ok(_) => report.failed.push(format!("{}: the target stored different bytes", row.key)),
            Err(e) => report.failed.push(format!("{}: {e}", row.key)),
        }
    }
    if report.complete() {
        let id = meta::get(db, meta::STORAGE_ID)
            .await?
            .ok_or_else(|| anyhow::anyhow!("the database has no storage id"))?;
        to.write_marker(&Marker::new(&id)).await?;
    }
    Ok(report)
}
