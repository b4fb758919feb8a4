//! `atm-maint import django --database-url <original's> --media-root <original's> [--dry-run] [--json]`:
//! moves the original deployment's records, files and passwords into this one and prints the
//! loss report. Here `--database-url` and `--media-root` name the original; this deployment's
//! come from the environment (DATABASE_URL, MEDIA_ROOT, DATA_DIR, S3_*) or `--into-*`.

use std::path::PathBuf;

use anyhow::bail;

use crate::config::Settings;
use crate::ops::django::{self, Line, Options, Report, Target};
use crate::storage::guard::GuardMode;

#[derive(Debug, clap::Subcommand)]
pub enum Command {
    /// Import the original Django deployment: its database (read-only) and its media folder
    /// (never modified). --database-url and --media-root name the ORIGINAL's here; this
    /// deployment's come from DATABASE_URL / MEDIA_ROOT / DATA_DIR or --into-database-url /
    /// --into-media-root. Safe to rerun: what is in is skipped, an interrupted run resumes.
    Django(DjangoArgs),
}

#[derive(Debug, clap::Args)]
pub struct DjangoArgs {
    /// Read and check everything and print the report; write nothing anywhere
    #[arg(long)]
    pub dry_run: bool,
    /// Print the report as JSON
    #[arg(long)]
    pub json: bool,
    /// This deployment's database, when not DATABASE_URL
    #[arg(long)]
    pub into_database_url: Option<String>,
    /// This deployment's media root, when not MEDIA_ROOT
    #[arg(long)]
    pub into_media_root: Option<PathBuf>,
}

/// The original's database URL and media folder, from the global flags.
pub struct OriginalFlags {
    pub database_url: Option<String>,
    pub media_root: Option<PathBuf>,
}

pub async fn run(settings: Settings, original: OriginalFlags, cmd: Command) -> anyhow::Result<i32> {
    let Command::Django(args) = cmd;
    let (Some(source_url), Some(media_root)) = (original.database_url, original.media_root) else {
        bail!(
            "name the original deployment: atm-maint import django --database-url sqlite:///path/db.sqlite3 \
             (or postgres://…) --media-root /path/to/its/media"
        );
    };
    let opts = Options {
        source_url,
        media_root,
        dry_run: args.dry_run,
        excel: settings.excel.clone(),
        abort_after_files: if settings.test_routes {
            std::env::var("ATM_TEST_IMPORT_ABORT_AFTER_FILES").ok().and_then(|v| v.parse().ok())
        } else {
            None
        },
    };
    let progress = |line: &str| eprintln!("{line}");
    let original = django::Original::open(&opts).await?;
    let report = if opts.dry_run {
        django::run(&opts, &original, None, &progress).await?
    } else {
        refuse_overlap(&settings, &opts.media_root)?;
        refuse_same_database(&settings, &opts.source_url, &original).await?;
        let prepared = crate::startup::prepare(&settings, GuardMode::Apply).await?;
        if let Ok(d) = prepared.db.durability().await
            && let Some(problem) = d.problem
        {
            bail!("refusing to import: {problem}");
        }
        if !prepared.report.is_ok() {
            for p in &prepared.report.problems {
                eprintln!("storage problem ({}): {}", p.code, p.message);
            }
            bail!("refusing to import into storage with problems; `atm-maint doctor` shows the full report");
        }
        let target = Target { db: &prepared.db, store: &prepared.store };
        let report = django::run(&opts, &original, Some(target), &progress).await?;
        let detail = serde_json::json!({
            "source_engine": report.source_engine, "media_root": report.media_root, "counts": report.counts,
            "findings": report.findings.len(),
        });
        crate::ops::audit::note_cli(&prepared.db, crate::domain::audit::Action::ImportOriginal, None, detail)
            .await;
        report
    };
    if args.json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        print!("{}", render(&report));
    }
    Ok(0)
}

/// A path made absolute and free of links as far as it exists, the rest appended: a folder
/// that does not exist yet is still placed where it will be.
fn placed(path: &std::path::Path) -> PathBuf {
    let absolute = std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf());
    let mut existing = absolute.as_path();
    let mut rest = Vec::new();
    while !existing.exists() {
        match (existing.parent(), existing.file_name()) {
            (Some(parent), Some(name)) => {
                rest.push(name.to_os_string());
                existing = parent;
            }
            _ => break,
        }
    }
    let mut out = existing.canonicalize().unwrap_or_else(|_| existing.to_path_buf());
    out.extend(rest.iter().rev());
    out
}

/// Refuses when our media root or data folder and the original's media folder overlap: the
/// original's folder is never written to, and our files must not be mistaken for its own.
fn refuse_overlap(settings: &Settings, theirs: &std::path::Path) -> anyhow::Result<()> {
    let theirs = placed(theirs);
    let mut ours = vec![("DATA_DIR", placed(&settings.data_dir))];
    if matches!(settings.storage, crate::config::StorageBackend::Local) {
        ours.push(("MEDIA_ROOT", placed(&settings.media_root)));
    }
    for (name, path) in ours {
        if path.starts_with(&theirs) || theirs.starts_with(&path) {
            bail!(
                "this deployment's {name} ({}) and the original's media folder ({}) overlap; the original's \
                 folder is never written to, so ours must be elsewhere (nothing was written)",
                path.display(),
                theirs.display()
            );
        }
    }
    Ok(())
}

/// Refuses when our database is the original's, however the two URLs are spelled: the same
/// SQLite file (by device and inode), or the same PostgreSQL database (our connection seen
/// among the original's sessions).
async fn refuse_same_database(
    settings: &Settings,
    source_url: &str,
    original: &django::Original,
) -> anyhow::Result<()> {
    let ours = settings.database_url.expose();
    let same = if ours.starts_with("sqlite:") && source_url.starts_with("sqlite:") {
        let file = |url: &str| {
            let path = url.trim_start_matches("sqlite:").trim_start_matches("//");
            PathBuf::from(path.split('?').next().unwrap_or(path))
        };
        use std::os::unix::fs::MetadataExt;
        match (std::fs::metadata(file(ours)), std::fs::metadata(file(source_url))) {
            (Ok(a), Ok(b)) => a.dev() == b.dev() && a.ino() == b.ino(),
            _ => false,
        }
    } else if ours.starts_with("postgres") && source_url.starts_with("postgres") {
        use sqlx::Connection;
        match sqlx::PgConnection::connect(ours).await {
            Ok(mut conn) => {
                let pid: Result<i32, _> =
                    sqlx::query_scalar("SELECT pg_backend_pid()").fetch_one(&mut conn).await;
                let same = match pid {
                    Ok(pid) => original.is_connected_with(pid).await,
                    Err(_) => false,
                };
                let _ = conn.close().await;
                same
            }
            Err(_) => false,
        }
    } else {
        false
    };
    if same {
        bail!("DATABASE_URL is the original's own database; import into a new one (nothing was written)");
    }
    Ok(())
}

/// The report as people read it.
fn render(r: &Report) -> String {
    let mut out = String::new();
    let mut line = |s: String| {
        out.push_str(&s);
        out.push('\n');
    };
    line(format!(
        "Import from the original ({} database, media folder {}){}",
        r.source_engine,
        r.media_root,
        if r.dry_run { " — DRY RUN: nothing was written" } else { "" }
    ));
    line(format!(
        "{:<20} {:>12} {:>12} {:>13} {:>13}",
        "", "in original", "imported now", "already here", "not imported"
    ));
    for (table, c) in &r.counts {
        line(format!(
            "{table:<20} {:>12} {:>12} {:>13} {:>13}",
            c.in_original, c.imported, c.already, c.not_imported
        ));
    }
    let sections: [(&str, &[&str]); 8] = [
        (
            "Lost before the move: the original's database names them, its folder lacks them",
            &["missing_photo", "missing_pdf", "missing_excel"],
        ),
        ("Damaged files (not imported)", &["damaged_photo", "damaged_pdf", "damaged_excel"]),
        (
            "Reports with no photos (the original's ghost submissions), imported and marked",
            &["ghost_submission"],
        ),
        ("Excel copies that no longer match their recorded rows (the rows are kept)", &["excel_mismatch"]),
        ("Accounts that need a new password", &["password_unusable"]),
        (
            "Left out",
            &[
                "submission_skipped",
                "submission_conflict",
                "excel_skipped",
                "excel_conflict",
                "duplicate_slot",
                "assignment_skipped",
                "orphan_photo_row",
            ],
        ),
        ("Notes (imported as the visit date says)", &["half_month_mismatch"]),
        ("Files no row names (listed, not imported)", &["unreferenced_file"]),
    ];
    let known: Vec<&str> = sections.iter().flat_map(|(_, k)| k.iter().copied()).collect();
    let other: Vec<&Line> = r.findings.iter().filter(|l| !known.contains(&l.finding.kind.as_str())).collect();
    if !other.is_empty() {
        line(String::new());
        line(format!("Other findings: {}", other.len()));
        for l in other {
            line(format!("  {}: {}", l.finding.kind, describe(l)));
        }
    }
    for (title, kinds) in sections {
        let lines: Vec<&Line> = r.of_kind(kinds).collect();
        line(String::new());
        line(format!(
            "{title}: {}",
            if lines.is_empty() { "none".to_string() } else { lines.len().to_string() }
        ));
        for l in lines {
            line(format!("  {}", describe(l)));
        }
    }
    out
}

fn describe(l: &Line) -> String {
    let f = &l.finding;
    let mut s = String::new();
    if let Some(id) = l.original_submission_id {
        s.push_str(&format!("report {id}"));
        if let (Some(d), Some(t)) = (&l.device, &l.technician) {
            s.push_str(&format!(" ({d}, {t})"));
        }
        if let (Some(sec), Some(ord)) = (f.section, f.order_index) {
            s.push_str(&format!(", section {sec} photo {ord}"));
        }
        s.push_str(": ");
    } else if !f.kind.starts_with("unreferenced") {
        s.push_str(&format!("{}: ", f.source_ref));
    }
    match &f.path {
        Some(p) if f.kind == "unreferenced_file" => s.push_str(p),
        Some(p) => s.push_str(&format!("{p} — {}", f.detail)),
        None => s.push_str(&f.detail),
    }
    s
}
