//! Extractors: the authenticated caller (a Bearer access token, or the pages' session cookie
//! with its CSRF token; checked against the database on every request so a deleted or
//! deactivated account stops at once) and the client address.

use std::net::SocketAddr;

use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::Method;
use axum::http::request::Parts;

use crate::app::AppState;
use crate::auth::session;
use crate::auth::tokens::TokenKind;
use crate::db::{sessions, users};
use crate::domain::Role;
use crate::error::ApiError;

/// The name of the pages' HttpOnly session cookie.
pub const SESSION_COOKIE: &str = "atm_session";

#[derive(Debug, Clone)]
pub struct AuthUser {
    pub id: i64,
    pub username: String,
    pub role: Role,
    pub city: Option<String>,
}

impl AuthUser {
    pub fn require(&self, roles: &[Role]) -> Result<(), ApiError> {
        if roles.contains(&self.role) { Ok(()) } else { Err(ApiError::Forbidden) }
    }
}

impl FromRequestParts<AppState> for AuthUser {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let user_id = match parts.headers.get(axum::http::header::AUTHORIZATION) {
            Some(header) => {
                let value = header
                    .to_str()
                    .map_err(|_| ApiError::AuthFailed("Authorization header is not readable".into()))?;
                let Some(token) = value.strip_prefix("Bearer ").map(str::trim) else {
                    return Err(ApiError::Unauthenticated);
                };
                state
                    .tokens
                    .verify(token, TokenKind::Access)
                    .ok_or_else(|| ApiError::AuthFailed("Given token not valid for any token type".into()))?
            }
            None => session_user(parts, state).await?,
        };
        let user = active_user(state, user_id).await?;
        Ok(AuthUser { id: user.id, username: user.username, role: user.role, city: user.city })
    }
}

/// The pages' session cookie, when the request carries one.
pub fn session_cookie(headers: &axum::http::HeaderMap) -> Option<&str> {
    headers
        .get_all(axum::http::header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .find_map(|c| c.trim().strip_prefix(SESSION_COOKIE).and_then(|rest| rest.strip_prefix('=')))
        .filter(|v| !v.is_empty())
}

/// The user of a session cookie. A change (any method but GET/HEAD/OPTIONS) must also carry the
/// session's CSRF token in `X-CSRF-Token`, which another site cannot read.
async fn session_user(parts: &Parts, state: &AppState) -> Result<i64, ApiError> {
    let secret = session_cookie(&parts.headers).ok_or(ApiError::Unauthenticated)?;
    if !matches!(parts.method, Method::GET | Method::HEAD | Method::OPTIONS) {
        let given = parts.headers.get("x-csrf-token").and_then(|v| v.to_str().ok()).unwrap_or("");
        if !state.tokens.csrf_matches(secret, given) {
            return Err(ApiError::ForbiddenWith(
                "This change did not come with the page's CSRF token. Reload the page and try again.".into(),
            ));
        }
    }
    session_user_id(state, secret).await
}

/// The user of an unexpired session secret.
pub(crate) async fn session_user_id(state: &AppState, secret: &str) -> Result<i64, ApiError> {
    sessions::user_of(&state.db, &session::id_of(secret))
        .await?
        .ok_or_else(|| ApiError::AuthFailed("Your session has ended. Please sign in again.".into()))
}

/// The account behind a token or session, if it still exists and is active.
pub(crate) async fn active_user(state: &AppState, id: i64) -> Result<users::User, ApiError> {
    users::by_id(&state.db, id)
        .await?
        .filter(|u| u.is_active)
        .ok_or_else(|| ApiError::AuthFailed("User not found or inactive".into()))
}

/// The client's address: the socket peer, or the first X-Forwarded-For hop when configured
/// to trust the platform's proxy.
pub struct ClientAddr(pub String);

impl FromRequestParts<AppState> for ClientAddr {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        if state.settings.trust_proxy_headers
            && let Some(first) = parts
                .headers
                .get("x-forwarded-for")
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.split(',').next())
        {
            return Ok(ClientAddr(first.trim().to_string()));
        }
        let peer = parts.extensions.get::<ConnectInfo<SocketAddr>>().map(|c| c.0.ip().to_string());
        Ok(ClientAddr(peer.unwrap_or_else(|| "unknown".into())))
    }
}

/// The absolute origin for links: MEDIA_BASE_URL, else the request's own host.
pub struct BaseUrl(pub String);

impl FromRequestParts<AppState> for BaseUrl {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        if let Some(base) = &state.settings.media_base_url {
            return Ok(BaseUrl(base.clone()));
        }
        let host = parts
            .headers
            .get(axum::http::header::HOST)
            .and_then(|h| h.to_str().ok())
            .filter(|h| h.chars().all(|c| c.is_ascii_alphanumeric() || ".-:[]".contains(c)))
            .unwrap_or("localhost");
        let scheme = match parts.headers.get("x-forwarded-proto").and_then(|v| v.to_str().ok()) {
            Some("https") if state.settings.trust_proxy_headers => "https",
            _ => "http",
        };
        Ok(BaseUrl(format!("{scheme}://{host}")))
    }
}

/// The request's Content-Length, when it declared one.
pub struct DeclaredLength(pub Option<u64>);

impl<S: Send + Sync> FromRequestParts<S> for DeclaredLength {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(DeclaredLength(
            parts
                .headers
                .get(axum::http::header::CONTENT_LENGTH)
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.parse().ok()),
        ))
    }
}
