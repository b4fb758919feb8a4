//! Router assembly (every area's router, the middleware stack) and serving with graceful
//! shutdown.

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

use crate::config::Settings;
use crate::http;
use crate::state::AppState;

/// Every route the binary answers (test-only ones aside), each with its OpenAPI description.
fn described(settings: &Settings, doc: http::openapi::Document) -> http::ApiRouter {
    let mut all = http::ApiRouter::with_openapi(<http::openapi::ApiDoc as utoipa::OpenApi>::openapi())
        .merge(http::health::router())
        .merge(http::auth::router())
        .merge(http::host::router())
        .merge(http::audit::router())
        .merge(http::technician::router())
        .merge(http::notifications::router())
        .merge(http::supervisor::router())
        .merge(http::exports::router())
        .merge(http::insights::router())
        .merge(http::admin::router())
        .merge(http::media::router())
        .merge(http::metrics::router())
        .merge(http::openapi::router(doc))
        .merge(crate::web::router(settings));
    http::openapi::name_operations(all.get_openapi_mut());
    all
}

/// The OpenAPI document of a service with these settings (what `/api/openapi.json` serves).
pub fn openapi(settings: &Settings) -> utoipa::openapi::OpenApi {
    described(settings, http::openapi::Document::default()).into_openapi()
}

pub fn router(state: AppState) -> Router {
    let doc = http::openapi::Document::default();
    let (mut app, spec) = described(&state.settings, doc.clone()).split_for_parts();
    doc.set(&spec);
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
        .route_layer(axum::middleware::from_fn(http::metrics::track))
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
