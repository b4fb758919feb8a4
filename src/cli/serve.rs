//! `atm-maint serve`: start-up report, storage guard, then traffic.

use std::net::SocketAddr;

use crate::app::{self, AppState};
use crate::config::Settings;
use crate::storage::guard::GuardMode;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Address to listen on, e.g. 0.0.0.0:8000 [default: 0.0.0.0:$PORT when PORT is set, else 127.0.0.1:8000]
    #[arg(long)]
    pub listen: Option<SocketAddr>,
}

pub async fn run(settings: Settings) -> anyhow::Result<i32> {
    let prepared = app::prepare(&settings, GuardMode::Apply).await?;
    app::log_startup_report(&settings, &prepared.db, &prepared.report).await;
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
    app::serve(state).await?;
    Ok(0)
}
