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
pub struct Original {
    pub database_url: Option<String>,
    pub media_root: Option<PathBuf>,
}

pub async fn run(settings: Settings, original: Original, cmd: Command) -> anyhow::Result<i32> {
    let Command::Django(args) = cmd;
    let (Some(source_url), Some(media_root)) = (original.database_url, original.media_root) else {
        bail!(
            "name the original deployment: atm-maint import django --database-url sqlite:///path/db.sqlite3 \
             (or postgres://…) --media-root /path/to/its/media"
        );
    };
    if source_url == settings.database_url.expose() {
        bail!("--database-url names this deployment's own database; it must name the original's");
    }
    if let (Ok(ours), Ok(theirs)) = (settings.media_root.canonicalize(), media_root.canonicalize())
        && matches!(settings.storage, crate::config::StorageBackend::Local)
        && (ours.starts_with(&theirs) || theirs.starts_with(&ours))
    {
        bail!(
            "this deployment's MEDIA_ROOT ({}) and the original's media folder ({}) overlap; the original's \
             folder is never written to, so ours must be elsewhere",
            ours.display(),
            theirs.display()
        );
    }
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
    let report = if opts.dry_run {
        django::run(&opts, None, &progress).await?
    } else {
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
        let report = django::run(&opts, Some(target), &progress).await?;
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
    let sections: [(&str, &[&str]); 7] = [
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
            ],
        ),
        ("Files no row names (listed, not imported)", &["unreferenced_file"]),
    ];
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
