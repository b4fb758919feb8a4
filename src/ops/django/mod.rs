//! Moving over from the original Django deployment: its database (SQLite or PostgreSQL, opened
//! read-only) and its media folder (never modified) into ours, on either engine and either
//! store. Every row is written together with its line in `import_map`, one transaction per
//! batch or per report, so a crash loses nothing and a rerun resumes; a rerun after success
//! changes nothing. Files are stored under keys derived from the original's ids, so a file
//! stored just before a crash is recognised by its hash and recorded by the rerun, not copied
//! twice. The loss report (what the database names but the folder lacks or holds damaged,
//! reports without photos, files no row names, Excel copies that no longer match their rows)
//! is printed and kept in `import_findings` for the pages and `doctor`.
//!
//! The original's quirks, mapped deliberately:
//! - one `remarks` column that the last writer won: a reviewed report's remarks are the
//!   reviewer's (they go to `review_remarks`), a pending one's are the technician's;
//! - `half_month` without month and year: the period comes from `visit_date`, as the original
//!   derived `half_month` from it;
//! - `parsed_data` with its header row: kept as it is, the format technicians are shown;
//! - devices shared between technicians: one device, one assignment per technician;
//! - an Excel copy that no longer holds the rows recorded with it: the rows are kept, the file
//!   is stored and flagged;
//! - reviewer and review time were never recorded: they stay empty.

mod media;
mod source;
mod steps;
mod submissions;

use std::collections::{BTreeMap, HashMap};
use std::path::PathBuf;

use anyhow::bail;
use serde::Serialize;

use crate::db::Db;
use crate::db::imported::{self, Finding, Kind};
use crate::domain::excel::ExcelLimits;
use crate::storage::MediaStore;
use source::{Source, Tables};

/// What to import from where.
pub(crate) struct Options {
    /// The original's `DATABASE_URL`: `sqlite:///…/db.sqlite3` or `postgres://…`.
    pub source_url: String,
    /// The original's `MEDIA_ROOT`.
    pub media_root: PathBuf,
    /// Read and check everything, write nothing.
    pub dry_run: bool,
    pub excel: ExcelLimits,
    /// For the crash test only: abort the process right after storing this many files,
    /// before they are recorded.
    pub abort_after_files: Option<u64>,
}

/// Our database and store, when the run writes.
#[derive(Clone, Copy)]
pub(crate) struct Target<'a> {
    pub db: &'a Db,
    pub store: &'a MediaStore,
}

/// Rows per table: in the original, imported by this run, imported by an earlier run, and
/// left out (each left-out row has a finding saying why).
#[derive(Debug, Default, Clone, Serialize, PartialEq, Eq)]
pub(crate) struct Count {
    pub in_original: usize,
    pub imported: usize,
    pub already: usize,
    pub not_imported: usize,
}

/// One line of the loss report, with the report's device and technician when it is about one.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct Line {
    #[serde(flatten)]
    pub finding: Finding,
    /// The report's id in the original (ours is `submission_id`; the same when it was free).
    pub original_submission_id: Option<i64>,
    pub device: Option<String>,
    pub technician: Option<String>,
}

#[derive(Debug, Serialize)]
pub(crate) struct Report {
    pub dry_run: bool,
    pub source_engine: &'static str,
    pub media_root: String,
    pub counts: BTreeMap<&'static str, Count>,
    pub findings: Vec<Line>,
}

impl Report {
    pub(crate) fn of_kind<'a>(&'a self, kinds: &'a [&str]) -> impl Iterator<Item = &'a Line> + 'a {
        self.findings.iter().filter(move |l| kinds.contains(&l.finding.kind.as_str()))
    }
}

/// The id maps of earlier runs (empty on a dry run).
#[derive(Default)]
struct Maps {
    users: HashMap<i64, i64>,
    devices: HashMap<i64, i64>,
    assignments: HashMap<i64, i64>,
    uploads: HashMap<i64, i64>,
    submissions: HashMap<i64, i64>,
    photos: HashMap<i64, i64>,
    pdfs: HashMap<i64, i64>,
    /// Our ids of the reports here now: an imported report deleted since (with its technician)
    /// is not brought back, and nothing is added to it.
    present: std::collections::HashSet<i64>,
}

impl Maps {
    async fn load(db: &Db) -> sqlx::Result<Maps> {
        Ok(Maps {
            users: imported::mapped(db, Kind::User).await?,
            devices: imported::mapped(db, Kind::Device).await?,
            assignments: imported::mapped(db, Kind::Assignment).await?,
            uploads: imported::mapped(db, Kind::ExcelUpload).await?,
            submissions: imported::mapped(db, Kind::Submission).await?,
            photos: imported::mapped(db, Kind::Photo).await?,
            pdfs: imported::mapped(db, Kind::Pdf).await?,
            present: imported::submission_ids(db).await?,
        })
    }
}

/// One run over the original's tables.
struct Run<'a> {
    opts: &'a Options,
    target: Option<Target<'a>>,
    t: &'a Tables,
    maps: Maps,
    counts: BTreeMap<&'static str, Count>,
    findings: Vec<Line>,
    files_stored: u64,
    progress: &'a (dyn Fn(&str) + Sync),
}

impl Run<'_> {
    fn count(&mut self, table: &'static str) -> &mut Count {
        self.counts.entry(table).or_default()
    }

    /// Adds a finding; `submission` is the original's report id it is about.
    fn found(&mut self, finding: Finding, submission: Option<i64>) {
        let s = submission.and_then(|id| self.t.submissions.iter().find(|s| s.id == id));
        let device = s.and_then(|s| self.t.devices.iter().find(|d| d.id == s.device_id));
        let technician = s.and_then(|s| self.t.users.iter().find(|u| u.id == s.technician_id));
        self.findings.push(Line {
            finding,
            original_submission_id: submission,
            device: device.map(|d| d.interaction_id.clone()),
            technician: technician.map(|u| u.username.clone()),
        });
    }
}

/// A finding without a report of its own.
fn finding(kind: &str, source_ref: String, path: Option<String>, detail: String) -> Finding {
    Finding {
        kind: kind.into(),
        source_ref,
        submission_id: None,
        section: None,
        order_index: None,
        path,
        detail,
    }
}

/// The original's database, open read-only, and its tables as read.
pub(crate) struct Original {
    source: Source,
    tables: Tables,
}

impl Original {
    /// Opens and reads the original and checks what would stop the import, before anything
    /// of ours is opened or created.
    pub(crate) async fn open(opts: &Options) -> anyhow::Result<Original> {
        if !opts.media_root.is_dir() {
            bail!(
                "the original's media folder {} is not a folder: pass its MEDIA_ROOT with --media-root",
                opts.media_root.display()
            );
        }
        let source = Source::open(&opts.source_url).await?;
        let tables = source.read().await?;
        steps::check_roles(&tables)?;
        Ok(Original { source, tables })
    }

    /// Whether the PostgreSQL backend `pid` is connected to this same database: then our
    /// database and the original's are one, whatever their URLs say.
    pub(crate) async fn is_connected_with(&self, pid: i32) -> bool {
        self.source.sees_backend(pid).await
    }
}

/// Checks every file of `original`, writes into `target` unless it is `None` (a dry run), and
/// returns the report.
pub(crate) async fn run(
    opts: &Options,
    original: &Original,
    target: Option<Target<'_>>,
    progress: &(dyn Fn(&str) + Sync),
) -> anyhow::Result<Report> {
    let (source, tables) = (&original.source, &original.tables);
    let maps = match target {
        Some(t) => Maps::load(t.db).await?,
        None => Maps::default(),
    };
    let mut run = Run {
        opts,
        target,
        t: tables,
        maps,
        counts: BTreeMap::new(),
        findings: Vec::new(),
        files_stored: 0,
        progress,
    };
    run.users().await?;
    run.devices().await?;
    run.assignments().await?;
    run.uploads().await?;
    run.submissions().await?;
    run.unreferenced_files()?;
    if let Some(t) = target {
        let kept: Vec<Finding> = run.findings.iter().map(|l| l.finding.clone()).collect();
        imported::replace_findings(t.db, &kept).await?;
    }
    Ok(Report {
        dry_run: target.is_none(),
        source_engine: source.engine(),
        media_root: opts.media_root.display().to_string(),
        counts: run.counts,
        findings: run.findings,
    })
}
