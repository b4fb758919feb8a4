//! Reconciles the database and the media store both ways: rows without files, files without
//! rows, size and hash mismatches, leftover temporary files. Repair only ever removes files
//! nobody references (orphans and temporaries older than a grace period), never a row.

use std::collections::HashMap;
use std::time::{Duration, SystemTime};

use serde::Serialize;

use crate::db::{Db, objects};
use crate::storage::fsutil::TEMP_PREFIX;
use crate::storage::{Listed, MediaStore};

#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub(crate) enum Finding {
    /// A row points at a file that is not there.
    Missing {
        key: String,
    },
    /// A file no row refers to.
    Orphan {
        key: String,
        size: u64,
        age_hours: u64,
    },
    SizeMismatch {
        key: String,
        recorded: i64,
        found: u64,
    },
    HashMismatch {
        key: String,
        recorded: String,
        found: String,
    },
    /// A temporary file left by an interrupted write.
    Temporary {
        key: String,
        size: u64,
        age_hours: u64,
    },
}

#[derive(Debug, Default, Serialize)]
pub(crate) struct Report {
    pub rows: usize,
    pub files: usize,
    pub hashed: usize,
    pub findings: Vec<Finding>,
    pub repaired: Vec<String>,
    /// Files without a row younger than `Options::recent`: on a running service these are
    /// uploads in flight (a photo's row is written once its whole report checks out), so they
    /// are counted, not judged.
    pub recent: usize,
}

impl Report {
    pub(crate) fn is_clean(&self) -> bool {
        self.findings.is_empty()
    }
}

pub(crate) struct Options {
    /// Re-hash every file (slow on big stores); otherwise sizes only.
    pub hash: bool,
    pub repair: bool,
    pub grace: Duration,
    /// How young a file without a row may be before it counts as an orphan.
    pub recent: Duration,
}

pub(crate) async fn run(db: &Db, store: &MediaStore, opts: &Options) -> anyhow::Result<Report> {
    let rows = objects::list(db).await?;
    let files = store.list_all().await?;
    let now = SystemTime::now();
    let age = |t: SystemTime| now.duration_since(t).unwrap_or_default();
    let on_disk: HashMap<&str, (u64, SystemTime)> =
        files.iter().map(|l| (l.key.as_str(), (l.size, l.modified))).collect();
    let mut report = Report { rows: rows.len(), files: files.len(), ..Report::default() };
    for row in &rows {
        match on_disk.get(row.key.as_str()) {
            None => report.findings.push(Finding::Missing { key: row.key.to_string() }),
            Some((size, _)) if *size as i64 != row.size => report.findings.push(Finding::SizeMismatch {
                key: row.key.to_string(),
                recorded: row.size,
                found: *size,
            }),
            Some(_) if opts.hash => {
                let found = store.hash_listed(row.key.as_str()).await?;
                report.hashed += 1;
                if found != row.sha256 {
                    report.findings.push(Finding::HashMismatch {
                        key: row.key.to_string(),
                        recorded: row.sha256.clone(),
                        found,
                    });
                }
            }
            Some(_) => {}
        }
    }
    let referenced: std::collections::HashSet<&str> = rows.iter().map(|r| r.key.as_str()).collect();
    for Listed { key, size, modified } in &files {
        if referenced.contains(key.as_str()) {
            continue;
        }
        if age(*modified) < opts.recent {
            report.recent += 1;
            continue;
        }
        let name = key.rsplit('/').next().unwrap_or(key);
        let hours = age(*modified).as_secs() / 3600;
        let finding = if name.starts_with(TEMP_PREFIX) {
            Finding::Temporary { key: key.clone(), size: *size, age_hours: hours }
        } else {
            Finding::Orphan { key: key.clone(), size: *size, age_hours: hours }
        };
        if opts.repair && age(*modified) >= opts.grace {
            store.remove_listed(key).await?;
            report.repaired.push(key.clone());
        }
        report.findings.push(finding);
    }
    Ok(report)
}
