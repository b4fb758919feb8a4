//! `GET|HEAD /media/{key}?exp=…&sig=…`: stored files through signed, expiring links, with Range,
//! ETag, Last-Modified, the right Content-Type and `Cache-Control: private`.

use axum::Router;
use axum::extract::{Path, Query, Request, State};
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde::Deserialize;

use crate::app::AppState;
use crate::auth::links::LinkCheck;
use crate::error::ApiError;
use crate::storage::MediaKey;

pub fn router() -> Router<AppState> {
    Router::new().route("/media/{*key}", get(serve))
}

#[derive(Deserialize)]
struct Signature {
    exp: Option<String>,
    sig: Option<String>,
}

async fn serve(
    State(state): State<AppState>,
    Path(key): Path<String>,
    Query(q): Query<Signature>,
    req: Request,
) -> Result<Response, ApiError> {
    let (Some(exp), Some(sig)) = (q.exp, q.sig) else {
        return Err(ApiError::ForbiddenWith(
            "This link is not signed. Open the file from the application.".into(),
        ));
    };
    let exp: i64 = exp.parse().map_err(|_| ApiError::ForbiddenWith("This link is not valid.".into()))?;
    let remaining = match state.links.verify(&key, exp, &sig) {
        LinkCheck::Valid { exp } => exp - chrono::Utc::now().timestamp(),
        LinkCheck::Expired => {
            return Err(ApiError::ForbiddenWith(
                "This link has expired. Reload the page for a fresh one.".into(),
            ));
        }
        LinkCheck::Invalid => {
            return Err(ApiError::ForbiddenWith("This link is not valid.".into()));
        }
    };
    // A signature can only be made by us, for keys we made; parsing is one more fence.
    let key = MediaKey::parse(&key).map_err(|_| ApiError::NotFound("File not found".into()))?;
    let mut response = state.store.serve(&key, req).await?;
    let cache = format!("private, max-age={}", remaining.clamp(0, 3600));
    if let Ok(v) = HeaderValue::from_str(&cache) {
        response.headers_mut().insert(header::CACHE_CONTROL, v);
    }
    Ok(response.into_response())
}
