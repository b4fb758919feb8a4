//! Application state, start-up (database, storage guard, start-up report), router assembly and
//! graceful shutdown.

use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use axum::Router;
use axum::extract::{MatchedPath, Request};
use axum::http::{HeaderValue, Method, header};
use tower::ServiceBuilder;
use tower_http::cors::{AllowOrigin, CorsLayer};
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::set_header::SetResponseHeaderLayer;
use tower_http::trace::{DefaultOnResponse, TraceLayer};
use tracing::Level;

use crate::auth::links::LinkSigner;
use crate::auth::rate_limit::LoginLimiter;
use crate::auth::tokens::TokenKeys;
use crate::config::Settings;
use crate::db::Db;
use crate::http;
use crate::limits::Gates;
use crate::reports::jobs::{Reports, Worker};
use crate::storage::MediaStore;
use crate::storage::guard::{self, GuardMode, StorageReport};

#[derive(Clone)]
pub struct AppState {
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
    pub readiness: Arc<http::health::Readiness>,
}

impl AppState {
    pub fn new(
        settings: Settings,
        db: Db,
        store: MediaStore,
        guard: StorageReport,
    ) -> anyhow::Result<AppState> {
        Ok(AppState {
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
        })
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

pub fn router(state: AppState) -> Router {
    let mut app = Router::new()
        .merge(http::health::router())
        .merge(http::auth::router())
        .merge(http::host::router())
        .merge(http::technician::router())
        .merge(http::supervisor::router())
        .merge(http::admin::router())
        .merge(http::media::router())
        .merge(crate::web::router(&state.settings))
        .route("/metrics", axum::routing::get(crate::ops::metrics::scrape));
    if state.settings.test_routes {
        app = app.merge(http::testing::router());
    }
    let cors = cors_layer(&state.settings);
    let pace = http::slow_body::BodyPace {
        window: Duration::from_secs(state.settings.limits.upload_idle_timeout_seconds),
        min_bytes_per_second: state.settings.limits.upload_min_bytes_per_second,
    };
    app.route("/api", axum::routing::any(http::api_not_found))
        .route("/api/{*rest}", axum::routing::any(http::api_not_found))
        .method_not_allowed_fallback(http::method_not_allowed)
        .route_layer(axum::middleware::from_fn(crate::ops::metrics::track))
        .layer(axum::middleware::from_fn(http::rejections::as_json))
        .layer(axum::middleware::from_fn_with_state(pace, http::slow_body::pace))
        .layer(
            ServiceBuilder::new()
                .layer(SetResponseHeaderLayer::overriding(
                    header::X_CONTENT_TYPE_OPTIONS,
                    HeaderValue::from_static("nosniff"),
                ))
                .layer(SetResponseHeaderLayer::overriding(
                    header::X_FRAME_OPTIONS,
                    HeaderValue::from_static("DENY"),
                ))
                .layer(SetResponseHeaderLayer::if_not_present(
                    header::REFERRER_POLICY,
                    HeaderValue::from_static("same-origin"),
                ))
                .layer(cors),
        )
        .layer(
            ServiceBuilder::new()
                .layer(SetRequestIdLayer::x_request_id(MakeRequestUuid))
                .layer(
                    TraceLayer::new_for_http()
                        .make_span_with(|req: &Request| {
                            let route = req
                                .extensions()
                                .get::<MatchedPath>()
                                .map(|m| m.as_str().to_string())
                                .unwrap_or_else(|| "unmatched".into());
                            let request_id = req
                                .headers()
                                .get("x-request-id")
                                .and_then(|v| v.to_str().ok())
                                .unwrap_or("-")
                                .to_string();
                            tracing::info_span!("request", method = %req.method(), route, request_id)
                        })
                        .on_request(())
                        .on_response(
                            DefaultOnResponse::new()
                                .level(Level::INFO)
                                .latency_unit(tower_http::LatencyUnit::Millis),
                        ),
                )
                .layer(PropagateRequestIdLayer::x_request_id()),
        )
        .with_state(state)
}

/// CORS from `CORS_ALLOWED_ORIGINS` only: listed origins may call with `Authorization`; no `*`.
fn cors_layer(settings: &Settings) -> CorsLayer {
    let origins: Vec<HeaderValue> =
        settings.cors_allowed_origins.iter().filter_map(|o| HeaderValue::from_str(o).ok()).collect();
    CorsLayer::new()
        .allow_origin(AllowOrigin::list(origins))
        .allow_methods([Method::GET, Method::HEAD, Method::POST, Method::PATCH, Method::PUT, Method::DELETE])
        .allow_headers([header::AUTHORIZATION, header::CONTENT_TYPE, header::RANGE])
        .expose_headers([header::CONTENT_LENGTH, header::CONTENT_RANGE, header::ETAG])
        .max_age(Duration::from_secs(600))
}

/// Serves until SIGTERM or Ctrl-C, then lets in-flight requests (uploads) finish.
pub async fn serve(state: AppState) -> anyhow::Result<()> {
    let listen = state.settings.listen;
    let listener = tokio::net::TcpListener::bind(listen)
        .await
        .with_context(|| format!("cannot listen on {listen}; pass --listen HOST:PORT or set PORT"))?;
    let local = listener.local_addr()?;
    tracing::info!(address = %local, pages = %format!("http://{local}/"), "listening");
    let limits = crate::server::ConnectionLimits {
        max_connections: state.settings.limits.max_connections,
        header_read_timeout: Duration::from_secs(state.settings.limits.header_read_timeout_seconds),
    };
    crate::server::run(listener, router(state), limits, shutdown_signal()).await?;
    tracing::info!("stopped: in-flight requests finished");
    Ok(())
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    tokio::select! { _ = ctrl_c => {}, _ = term => {} }
    tracing::info!("shutdown requested: finishing in-flight requests");
    // Give a slow client a bounded time; platforms send SIGKILL after their own grace period.
    tokio::spawn(async {
        tokio::time::sleep(Duration::from_secs(60)).await;
        tracing::warn!("in-flight requests did not finish within 60 s; exiting");
        std::process::exit(1);
    });
}
