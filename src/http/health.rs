//! `/healthz` (the process is alive) and `/readyz` (database reachable, storage guard passed,
//! storage writable right now).
//!
//! `/readyz` is anonymous — load balancers call it — so its answer is only pass or fail; the
//! checks behind it (which name paths, uid/gid and folder modes when storage is not writable)
//! go to hosts and supervisors and to the bearer of `METRICS_TOKEN`. A live check writes and
//! fsyncs a probe file, so one check serves every caller for [`FRESH_FOR`]: a burst of calls
//! costs one probe, not one each.

use std::time::{Duration, Instant};

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::IntoResponse;
use axum::routing::get;
use axum::{Json, Router};
use serde_json::json;
use sha2::{Digest, Sha256};

use super::extract::AuthUser;
use crate::app::AppState;
use crate::domain::Role;
use crate::error::ApiError;

/// How long one live check answers for.
pub const FRESH_FOR: Duration = Duration::from_secs(5);

pub fn router() -> Router<AppState> {
    Router::new().route("/healthz", get(healthz)).route("/readyz", get(readyz))
}

async fn healthz() -> impl IntoResponse {
    Json(json!({ "status": "ok" }))
}

/// The outcome of one live readiness check.
#[derive(Debug, Clone)]
struct Check {
    at: Instant,
    database: bool,
    guard: bool,
    storage: Result<(), String>,
}

impl Check {
    fn ready(&self) -> bool {
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
    async fn current(&self, state: &AppState) -> Check {
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

async fn readyz(
    State(state): State<AppState>,
    headers: HeaderMap,
    user: Result<AuthUser, ApiError>,
) -> impl IntoResponse {
    let check = state.readiness.current(&state).await;
    let status = if check.ready() { StatusCode::OK } else { StatusCode::SERVICE_UNAVAILABLE };
    let word = if check.ready() { "ok" } else { "unavailable" };
    let staff = user.is_ok_and(|u| u.require(&[Role::Host, Role::Supervisor]).is_ok());
    if !staff && !bears_metrics_token(&state, &headers) {
        return (status, Json(json!({ "status": word })));
    }
    let body = json!({
        "status": word,
        "checked_seconds_ago": check.at.elapsed().as_secs(),
        "checks": {
            "database": if check.database { "ok" } else { "unreachable" },
            "storage_guard": if check.guard { "passed" } else { "failed" },
            "storage_writable": match &check.storage { Ok(()) => "ok".to_string(), Err(e) => e.clone() },
        }
    });
    (status, Json(body))
}

fn bears_metrics_token(state: &AppState, headers: &HeaderMap) -> bool {
    let Some(token) = &state.settings.metrics_token else { return false };
    let given = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "));
    // Comparing digests keeps the time taken independent of how much of a guess was right.
    given.is_some_and(|g| Sha256::digest(g.as_bytes()) == Sha256::digest(token.expose().as_bytes()))
}
