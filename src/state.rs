//! The state every request handler shares, and how it is built from what start-up prepared.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use bytes::Bytes;

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
    /// The dashboard's recent answers.
    pub dashboards: Dashboards,
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
            dashboards: Dashboards::default(),
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

/// How long another instance's changes may take to show on this one's dashboard.
pub const DASHBOARD_FRESH_FOR: Duration = Duration::from_secs(10);
/// Periods kept at once (a period is the caller's choice; the oldest answer goes first).
const DASHBOARDS_KEPT: usize = 32;

/// The dashboard's answers, each kept for a few seconds: one answer sums every assignment of
/// the period, so a room of supervisors reloading, or a wall screen, costs one computation per
/// period, not one per request. A change this process makes to reports or assignments
/// ([`Dashboards::changed`]) forgets them at once; another instance's shows within
/// [`DASHBOARD_FRESH_FOR`]. One answer is computed at a time: a caller without a kept answer waits
/// for the computation running, then finds its answer made or makes it; a kept answer never waits.
#[derive(Default)]
pub struct Dashboards {
    generation: AtomicU64,
    kept: std::sync::Mutex<HashMap<String, (Instant, u64, Bytes)>>,
    /// One computation at a time; a kept answer is served without waiting for it.
    computing: tokio::sync::Mutex<()>,
}

impl Dashboards {
    /// Reports or assignments changed: the kept answers are out of date.
    pub fn changed(&self) {
        self.generation.fetch_add(1, Ordering::SeqCst);
    }

    fn kept(&self, key: &str, generation: u64) -> Option<Bytes> {
        let kept = self.kept.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        kept.get(key)
            .filter(|(at, g, _)| *g == generation && at.elapsed() < DASHBOARD_FRESH_FOR)
            .map(|(_, _, b)| b.clone())
    }

    /// The answer for `key`, kept or made now by `make`.
    pub async fn answer<E, F>(&self, key: &str, make: F) -> Result<Bytes, E>
    where
        F: std::future::Future<Output = Result<Bytes, E>>,
    {
        if let Some(b) = self.kept(key, self.generation.load(Ordering::SeqCst)) {
            metrics::counter!("atm_dashboard_answers_total", "source" => "kept").increment(1);
            return Ok(b);
        }
        let _turn = self.computing.lock().await;
        // Made by the computation this caller waited for?
        let generation = self.generation.load(Ordering::SeqCst);
        if let Some(b) = self.kept(key, generation) {
            metrics::counter!("atm_dashboard_answers_total", "source" => "kept").increment(1);
            return Ok(b);
        }
        let bytes = make.await?;
        metrics::counter!("atm_dashboard_answers_total", "source" => "computed").increment(1);
        let mut kept = self.kept.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        kept.retain(|_, (at, g, _)| *g == generation && at.elapsed() < DASHBOARD_FRESH_FOR);
        if kept.len() >= DASHBOARDS_KEPT
            && let Some(oldest) = kept.iter().min_by_key(|(_, (at, _, _))| *at).map(|(k, _)| k.clone())
        {
            kept.remove(&oldest);
        }
        kept.insert(key.to_string(), (Instant::now(), generation, bytes.clone()));
        Ok(bytes)
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
