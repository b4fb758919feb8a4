//! HTTP areas, one router each.

pub mod health;
pub mod testing;

use axum::Json;
use axum::http::{StatusCode, Uri};
use axum::response::IntoResponse;
use serde_json::json;

/// Unknown paths under `/api/` get JSON, never an HTML page.
pub async fn api_not_found(uri: Uri) -> impl IntoResponse {
    (
        StatusCode::NOT_FOUND,
        Json(
            json!({ "error": "Not found", "detail": format!("There is no API endpoint at {}", uri.path()) }),
        ),
    )
}
