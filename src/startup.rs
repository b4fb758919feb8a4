//! Start-up: a migrated database, the store and the storage guard's verdict, the start-up
//! report in the log, the refusals, the background tasks, then traffic.

use anyhow::Context;

use crate::config::Settings;
use crate::db::Db;
use crate::state::AppState;
use crate::storage::MediaStore;
use crate::storage::guard::{self, GuardMode, StorageReport};

/// Everything start-up establishes before traffic: a migrated database, the store, and the
/// guard's verdict on it.
pub struct Prepared {
    pub db: Db,
    pub store: MediaStore,
    pub report: StorageReport,
}

pub async fn prepare(settings: &Settings, mode: GuardMode) -> anyhow::Result<Prepared> {
    let db = Db::connect(settings.database_url.expose())
        .await
        .with_context(|| format!("database {}", settings.database_display()))?;
    if mode == GuardMode::Apply {
        db.migrate().await?;
    }
    let store = crate::storage::open(settings)?;
    let report = guard::check(settings, &db, &store, mode).await;
    Ok(Prepared { db, store, report })
}

/// One log line per fact, so the first screen of logs answers "where do my files go?".
pub async fn log_startup_report(settings: &Settings, db: &Db, report: &StorageReport) {
    tracing::info!(
        environment = ?settings.environment, platform = ?settings.platform,
        in_container = settings.in_container, "environment"
    );
    tracing::info!(
        media_root = %report.media_root.display(), source = %report.media_root_source, "media root"
    );
    if let Some(m) = &report.mount {
        tracing::info!(
            mount_point = %m.mount_point.display(), fs_type = %m.fs_type, device = %m.device,
            source = %m.source, read_only = m.read_only, "media mount"
        );
    }
    if let Some(s) = &report.space {
        tracing::info!(
            free_bytes = s.free_bytes,
            total_bytes = s.total_bytes,
            used_percent = s.used_percent,
            "media free space"
        );
    }
    match db.durability().await {
        Ok(d) => tracing::info!(
            backend = %db.backend(), location = %settings.database_display(), source = %settings.database_source,
            durability = ?d.settings, durable = d.durable, "database"
        ),
        Err(e) => {
            tracing::warn!(backend = %db.backend(), error = %e, "database durability unreadable")
        }
    }
    tracing::info!(storage_id = ?report.storage_id, identity = report.identity, "storage identity");
    for w in &report.warnings {
        tracing::warn!("{w}");
    }
    for p in &report.problems {
        tracing::error!(code = p.code, "{}", p.message);
    }
}

/// Prepares, refuses to start on a database or storage problem, starts the report worker, the
/// scrub and the draft expiry, then serves until shutdown. The exit code: 0 after a clean
/// shutdown, 1 when start-up refused.
pub async fn run(settings: Settings) -> anyhow::Result<i32> {
    let prepared = prepare(&settings, GuardMode::Apply).await?;
    log_startup_report(&settings, &prepared.db, &prepared.report).await;
    if let Ok(d) = prepared.db.durability().await
        && let Some(problem) = d.problem
    {
        tracing::error!("refusing to start: {problem}");
        return Ok(1);
    }
    if !prepared.report.is_ok() {
        tracing::error!(
            "refusing to start: {} storage problem(s) above; `atm-maint doctor` shows the full report",
            prepared.report.problems.len()
        );
        return Ok(1);
    }
    match crate::db::users::count(&prepared.db).await {
        Ok(0) => tracing::warn!(
            "no accounts yet: create the first with `ATM_PASSWORD=... atm-maint user create --role host --username NAME` \
             (and a supervisor with --role supervisor), then sign in on the pages this service serves at /"
        ),
        Ok(n) => tracing::info!(accounts = n, "accounts"),
        Err(e) => tracing::warn!(error = %e, "cannot count accounts"),
    }
    let state = AppState::new(settings, prepared.db, prepared.store, prepared.report)?;
    if !state.reports.email_configured() {
        tracing::warn!(
            "approval e-mails are off: set EMAIL_HOST and APPROVAL_EMAIL_RECIPIENTS to send reports"
        );
    }
    state.report_worker().spawn();
    {
        let db = state.db.clone();
        tokio::spawn(async move {
            match db.analyze_unplanned().await {
                Ok(tables) if !tables.is_empty() => {
                    tracing::info!(
                        tables = tables.join(", "),
                        "planner statistics gathered for bulk-loaded tables"
                    )
                }
                Ok(_) => {}
                Err(e) => tracing::warn!(error = %e, "cannot gather planner statistics"),
            }
        });
    }
    crate::ops::metrics::install();
    if state.settings.scrub_interval_seconds > 0 {
        crate::ops::scrub::Scrub {
            db: state.db.clone(),
            store: state.store.clone(),
            every: std::time::Duration::from_secs(state.settings.scrub_interval_seconds as u64),
            slices_per_cycle: 30,
        }
        .spawn();
    }
    crate::ops::drafts::spawn(
        state.db.clone(),
        state.store.clone(),
        std::time::Duration::from_secs(state.settings.draft_expiry_seconds as u64),
    );
    crate::app::serve(state).await?;
    Ok(0)
}
