//! The pages people use: one small app (HTML, CSS, vanilla JavaScript) compiled into the binary,
//! so a deploy is one file and the pages share the API's origin (no CORS, cookie sessions).
//! Routing happens in the page (`#/…`); the server answers `/`, the assets, the brand logo and
//! the public UI settings (brand name, cities, device types, photo plans).

mod install;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde_json::json;
use sha2::{Digest, Sha256};
use utoipa_axum::routes;

use crate::config::{Settings, StorageBackend};
use crate::domain::accounts::CITIES;
use crate::domain::{DeviceType, PhotoPlan};
use crate::http::ApiRouter;
use crate::http::openapi::{describe_file, shapes};
use crate::state::AppState;

const ICON: &str = include_str!("assets/icon.svg");
const JS: &str = "text/javascript; charset=utf-8";

/// Every embedded file: its path, its bytes and its type. The scripts are ES modules, one per
/// role plus the shared core and the router (`main.js`).
const ASSETS: [(&str, &str, &str); 15] = [
    ("/", include_str!("assets/index.html"), "text/html; charset=utf-8"),
    ("/assets/app.css", include_str!("assets/app.css"), "text/css; charset=utf-8"),
    ("/assets/icon.svg", ICON, "image/svg+xml"),
    ("/assets/js/main.js", include_str!("assets/js/main.js"), JS),
    ("/assets/js/core.js", include_str!("assets/js/core.js"), JS),
    ("/assets/js/technician.js", include_str!("assets/js/technician.js"), JS),
    ("/assets/js/supervisor.js", include_str!("assets/js/supervisor.js"), JS),
    ("/assets/js/host.js", include_str!("assets/js/host.js"), JS),
    ("/assets/js/storage.js", include_str!("assets/js/storage.js"), JS),
    ("/assets/js/pending.js", include_str!("assets/js/pending.js"), JS),
    ("/assets/js/insights.js", include_str!("assets/js/insights.js"), JS),
    ("/assets/js/evidence.js", include_str!("assets/js/evidence.js"), JS),
    ("/assets/js/notifications.js", include_str!("assets/js/notifications.js"), JS),
    ("/docs", include_str!("assets/docs.html"), "text/html; charset=utf-8"),
    ("/assets/js/docs.js", include_str!("assets/js/docs.js"), JS),
];

/// What the pages may load: only this origin, plus images from the configured media origin and
/// bucket endpoint (signed links may point there) and the `blob:` thumbnails of photos being picked.
fn content_security_policy(settings: &Settings) -> HeaderValue {
    let mut img = vec!["'self'".to_string(), "blob:".into(), "data:".into()];
    let s3 = match &settings.storage {
        StorageBackend::S3(s3) => s3.endpoint.clone().or_else(|| Some("https://*.amazonaws.com".into())),
        StorageBackend::Local => None,
    };
    for origin in [settings.media_base_url.clone(), s3].into_iter().flatten() {
        let origin: String = origin.split('/').take(3).collect::<Vec<_>>().join("/");
        if origin.chars().all(|c| c.is_ascii_alphanumeric() || ":/.-*[]".contains(c)) {
            img.push(origin);
        }
    }
    let csp = format!(
        "default-src 'self'; img-src {}; script-src 'self'; style-src 'self'; connect-src 'self'; \
         object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'",
        img.join(" ")
    );
    HeaderValue::from_str(&csp).unwrap_or_else(|_| HeaderValue::from_static("default-src 'self'"))
}

pub(crate) fn router(settings: &Settings) -> ApiRouter {
    let csp = content_security_policy(settings);
    let logo_bytes = settings.report.logo.as_ref().and_then(|p| std::fs::read(p).ok());
    let mut files: Vec<(String, Bytes, &'static str, &'static str)> = ASSETS
        .iter()
        .map(|&(path, body, kind)| {
            let what = match path {
                "/" => "The app: one page for the three roles (routing happens in the page).",
                "/docs" => "This API's documentation, drawn from `/api/openapi.json` (works offline).",
                _ => "A file of the pages, embedded in the binary.",
            };
            (path.to_string(), Bytes::from_static(body.as_bytes()), kind, what)
        })
        .collect();
    files.push((
        "/manifest.webmanifest".into(),
        Bytes::from(install::manifest(settings)),
        "application/manifest+json",
        "The web app manifest: the brand's name and icons, so the app can be installed.",
    ));
    for size in install::ICON_SIZES {
        files.push((
            format!("/assets/icon-{size}.png"),
            Bytes::from(install::icon_png(logo_bytes.as_deref(), size)),
            "image/png",
            "An icon of the installed app (the configured logo, else the built-in mark).",
        ));
    }
    // The service worker's version is a hash of every file it keeps, so any change is a new one.
    let mut hasher = Sha256::new();
    for (path, body, _, _) in &files {
        hasher.update(path.as_bytes());
        hasher.update(Sha256::digest(body));
    }
    let version = hex::encode(hasher.finalize())[..16].to_string();
    let kept: Vec<&str> = files.iter().map(|(p, ..)| p.as_str()).chain(["/assets/logo"]).collect();
    let worker = install::service_worker(&version, &kept);
    files.push((
        "/sw.js".into(),
        Bytes::from(worker),
        JS,
        "The service worker: keeps the app's files so it opens offline (versioned by their hashes).",
    ));
    let mut router = ApiRouter::new();
    for (path, body, kind, what) in files {
        // Hashed once here, not on every request.
        let etag = format!("\"{}\"", &hex::encode(Sha256::digest(&body))[..20]);
        let etag = HeaderValue::from_str(&etag).unwrap_or_else(|_| HeaderValue::from_static("\"0\""));
        let csp = csp.clone();
        let handler = get(move |h: HeaderMap| async move { asset(&h, body, kind, &etag, &csp) });
        router = router.route(&path, handler);
        describe_file(&mut router, &path, kind, what);
    }
    router
        .routes(routes!(logo))
        .routes(routes!(ui_config))
        // A slow phone connection gets the app in about a third of the bytes.
        .layer(tower_http::compression::CompressionLayer::new())
}

/// An embedded asset with an ETag: browsers revalidate (cheap 304s) and never run a stale app.
fn asset(
    headers: &HeaderMap,
    body: Bytes,
    content_type: &'static str,
    etag: &HeaderValue,
    csp: &HeaderValue,
) -> Response {
    let fresh = headers.get(header::IF_NONE_MATCH) == Some(etag);
    let mut response = if fresh {
        StatusCode::NOT_MODIFIED.into_response()
    } else {
        ([(header::CONTENT_TYPE, content_type)], body).into_response()
    };
    let h = response.headers_mut();
    h.insert(header::ETAG, etag.clone());
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    h.insert(header::CONTENT_SECURITY_POLICY, csp.clone());
    response
}

/// The configured logo (`REPORT_LOGO`), else the built-in icon.
#[utoipa::path(
    get,
    path = "/assets/logo",
    tag = "pages",
    responses((status = 200, description = "The configured logo (PNG or JPEG), else the built-in icon (SVG).", content_type = "image/*", body = shapes::Binary))
)]
async fn logo(State(state): State<AppState>) -> Response {
    if let Some(path) = &state.settings.report.logo
        && let Ok(bytes) = tokio::fs::read(path).await
    {
        let content_type =
            if bytes.starts_with(&[0x89, b'P', b'N', b'G']) { "image/png" } else { "image/jpeg" };
        return (
            [(header::CONTENT_TYPE, content_type), (header::CACHE_CONTROL, "public, max-age=3600")],
            bytes,
        )
            .into_response();
    }
    ([(header::CONTENT_TYPE, "image/svg+xml"), (header::CACHE_CONTROL, "no-cache")], ICON).into_response()
}

/// The public settings the pages read: brand, cities, device types, the two photo plans.
#[utoipa::path(
    get,
    path = "/api/ui/config",
    tag = "pages",
    responses((status = 200, description = "The settings.", body = shapes::UiConfig))
)]
async fn ui_config(State(state): State<AppState>) -> Response {
    let plans = json!({ "cleaning": PhotoPlan::cleaning(), "electrical": PhotoPlan::electrical() });
    let body = json!({
        "brand": state.settings.report.brand_name,
        "region": state.settings.report.region,
        "logo_url": "/assets/logo",
        "cities": CITIES,
        "device_types": DeviceType::ALL.iter().map(|t| t.as_str()).collect::<Vec<_>>(),
        "plans": plans,
        "max_photo_bytes": crate::domain::photo::MAX_BYTES,
    });
    axum::Json(body).into_response()
}
