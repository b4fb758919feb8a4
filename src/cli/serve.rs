//! `atm-maint serve`: start-up report, storage guard, then traffic.

use std::net::SocketAddr;
use std::sync::Arc;

use crate::app::{self, AppState};
use crate::config::Settings;
use crate::storage::MediaStore;
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
    let state = AppState {
        settings: Arc::new(settings),
        db: prepared.db,
        store: MediaStore::Local(prepared.store),
        guard: Arc::new(prepared.report),
    };
    app::serve(state).await?;
    Ok(0)
}
