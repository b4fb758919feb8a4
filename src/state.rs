//! The state every request handler shares, and how it is built from what start-up prepared.

use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::auth::links::LinkSigner;
use crate::auth::rate_limit::LoginLimiter;
use crate::auth::tokens::TokenKeys;
use crate::config::Settings;
use crate::db::Db;
use crate::limits::Gates;
use crate::reports::jobs::{Reports, Worker};
use crate::storage::MediaStore;
use crate::storage::guard::StorageReport;

/// How long one live readiness check answers for.
pub const FRESH_FOR: Duration = Duration::from_secs(5);

/// Cheap to clone (one reference count): extractors clone it for every request.
#[derive(Clone)]
pub struct AppState(Arc<Shared>);

impl std::ops::Deref for AppState {
    type Target = Shared;

    fn deref(&self) -> &Shared {
        &self.0
    }
}

pub struct Shared {
    pub settings: Arc<Settings>,
    pub db: Db,
    pub store: MediaStore,
    pub guard: Arc<StorageReport>,
    pub tokens: TokenKeys,
    pub links: LinkSigner,
    pub login_limiter: Arc<LoginLimiter>,
    pub reports: Reports,
    /// Turns for password hashes, image decodes and PDF builds.
    pub gates: Gates,
    /// The last `/readyz` check, shared so a burst of calls costs one probe.
    pub readiness: Arc<Readiness>,
}

impl AppState {
    pub fn new(
        settings: Settings,
        db: Db,
        store: MediaStore,
        guard: StorageReport,
    ) -> anyhow::Result<AppState> {
        Ok(AppState(Arc::new(Shared {
            reports: Reports::new(&settings)?,
            gates: Gates::new(&settings.limits),
            readiness: Arc::default(),
            tokens: TokenKeys::new(&settings.secret_key),
            links: LinkSigner::new(&settings.secret_key, settings.media_url_ttl_seconds),
            // 5 failures per account, 30 per address, in 15 minutes.
            login_limiter: Arc::new(LoginLimiter::new(Duration::from_secs(15 * 60), 5, 30)),
            settings: Arc::new(settings),
            db,
            store,
            guard: Arc::new(guard),
        })))
    }

    /// The report worker of this process.
    pub fn report_worker(&self) -> Worker {
        Worker {
            db: self.db.clone(),
            store: self.store.clone(),
            settings: self.settings.clone(),
            reports: self.reports.clone(),
            pdf_gate: self.gates.pdf.clone(),
            decode_gate: self.gates.decoding.clone(),
            id: format!("{}-{}", crate::storage::identity::hostname(), uuid::Uuid::new_v4().simple()),
        }
    }
}

/// The outcome of one live readiness check.
#[derive(Debug, Clone)]
pub struct Check {
    pub at: Instant,
    pub database: bool,
    pub guard: bool,
    pub storage: Result<(), String>,
}

impl Check {
    pub fn ready(&self) -> bool {
        self.database && self.guard && self.storage.is_ok()
    }
}

/// The latest check, shared by the whole process. The lock is held while a check runs, so
/// callers arriving meanwhile wait for its result instead of starting their own.
#[derive(Default)]
pub struct Readiness {
    last: tokio::sync::Mutex<Option<Check>>,
}

impl Readiness {
    pub async fn current(&self, state: &AppState) -> Check {
        let mut last = self.last.lock().await;
        if let Some(c) = last.as_ref().filter(|c| c.at.elapsed() < FRESH_FOR) {
            return c.clone();
        }
        metrics::counter!("atm_readiness_checks_total").increment(1);
        let database = state.db.ping().await;
        let storage = state.store.probe().await;
        let check = Check { at: Instant::now(), database, guard: state.guard.is_ok(), storage };
        if !check.ready() {
            tracing::warn!(
                database = check.database, storage_guard = check.guard,
                storage_writable = ?check.storage, "readiness check failed"
            );
        }
        *last = Some(check.clone());
        check
    }
}
