//! HTTP areas, one router each, and the helpers they share.

pub(crate) mod admin;
pub(crate) mod audit;
pub(crate) mod auth;
pub(crate) mod body;
pub(crate) mod exports;
pub(crate) mod extract;
pub(crate) mod health;
pub(crate) mod host;
pub(crate) mod insights;
pub mod media;
pub(crate) mod metrics;
pub(crate) mod notifications;
pub(crate) mod openapi;
pub(crate) mod rejections;
pub(crate) mod slow_body;
pub(crate) mod submission_json;
pub(crate) mod supervisor;
pub(crate) mod technician;
pub(crate) mod testing;

use axum::Json;
use axum::http::{Method, StatusCode, Uri};
use axum::response::IntoResponse;
use serde_json::json;
use utoipa_axum::router::UtoipaMethodRouter;

pub(crate) use self::openapi::ApiRouter;
use crate::state::AppState;

/// Registers a handler (or several for one path, one per method) made by `routes!`, both with
/// and without its trailing slash, so a client that adds or drops the slash reaches the same
/// handler (the original redirected, losing POST bodies). The document lists the spelling of the
/// handler's `#[utoipa::path]`.
pub(crate) fn route(router: ApiRouter, (schemas, paths, handler): UtoipaMethodRouter<AppState>) -> ApiRouter {
    let mut router = router;
    for path in paths.paths.keys() {
        let other = match path.strip_suffix('/') {
            Some(bare) => bare.to_string(),
            None => format!("{path}/"),
        };
        router = router.route(&other, handler.clone());
    }
    router.routes((schemas, paths, handler))
}

/// Serves a `routes!` handler at an axum path spelled differently from the documented one: a
/// catch-all `{*key}` (a key holds slashes) is `{key}` in the document.
pub(crate) fn route_as(
    router: ApiRouter,
    axum_path: &str,
    (schemas, paths, handler): UtoipaMethodRouter<AppState>,
) -> ApiRouter {
    let mut router = router.route(axum_path, handler);
    let doc = router.get_openapi_mut();
    doc.paths.paths.extend(paths.paths);
    doc.components.get_or_insert_with(Default::default).schemas.extend(schemas);
    router
}

/// Unknown paths under `/api/` get JSON, never an HTML page.
pub async fn api_not_found(uri: Uri) -> impl IntoResponse {
    (
        StatusCode::NOT_FOUND,
        Json(
            json!({ "error": "Not found", "detail": format!("There is no API endpoint at {}", uri.path()) }),
        ),
    )
}

/// A known path called with the wrong method, in the original's shape.
pub async fn method_not_allowed(method: Method) -> impl IntoResponse {
    (StatusCode::METHOD_NOT_ALLOWED, Json(json!({ "detail": format!("Method \"{method}\" not allowed.") })))
}

/// Reads and drops what is left of a refused upload (bounded in bytes and time), so the client,
/// still sending, gets to read our answer instead of a reset connection.
pub async fn drain<S, E>(stream: &mut S)
where
    S: futures_util::Stream<Item = Result<bytes::Bytes, E>> + Unpin,
{
    use futures_util::StreamExt;
    let mut left: usize = 256 * 1024 * 1024;
    let _ = tokio::time::timeout(std::time::Duration::from_secs(30), async {
        while let Some(Ok(chunk)) = stream.next().await {
            left = left.saturating_sub(chunk.len());
            if left == 0 {
                break;
            }
        }
    })
    .await;
}
