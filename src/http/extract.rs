//! Extractors: the authenticated caller (a Bearer access token, or the pages' session cookie
//! with its CSRF token; checked against the database on every request so a deleted or
//! deactivated account stops at once) and the client address.

use std::net::SocketAddr;

use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::Method;
use axum::http::request::Parts;

use crate::auth::session;
use crate::auth::tokens::TokenKind;
use crate::db::{sessions, users};
use crate::domain::Role;
use crate::error::ApiError;
use crate::state::AppState;

/// The name of the pages' HttpOnly session cookie.
pub(crate) const SESSION_COOKIE: &str = "atm_session";

#[derive(Debug, Clone)]
pub(crate) struct AuthUser {
    pub id: i64,
    pub username: String,
    pub role: Role,
    pub city: Option<String>,
}

impl AuthUser {
    pub(crate) fn require(&self, roles: &[Role]) -> Result<(), ApiError> {
        if roles.contains(&self.role) { Ok(()) } else { Err(ApiError::Forbidden) }
    }
}

impl FromRequestParts<AppState> for AuthUser {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let (user_id, version) = match parts.headers.get(axum::http::header::AUTHORIZATION) {
            Some(header) => {
                let value = header
                    .to_str()
                    .map_err(|_| ApiError::AuthFailed("Authorization header is not readable".into()))?;
                let Some(token) = value.strip_prefix("Bearer ").map(str::trim) else {
                    return Err(ApiError::Unauthenticated);
                };
                let t = state
                    .tokens
                    .verify(token, TokenKind::Access)
                    .ok_or_else(|| ApiError::AuthFailed("Given token not valid for any token type".into()))?;
                (t.user_id, Some(t.version))
            }
            None => (session_user(parts, state).await?, None),
        };
        let user = active_user(state, user_id).await?;
        if version.is_some_and(|v| v != user.token_version) {
            return Err(revoked());
        }
        Ok(AuthUser { id: user.id, username: user.username, role: user.role, city: user.city })
    }
}

/// An extractor for a caller of the given roles: 401 without valid credentials, 403 for any
/// other role. The handler's signature states who may call it; the rest of `AuthUser` is
/// reached through `Deref`.
macro_rules! caller_of_roles {
    ($(#[$doc:meta])* $name:ident: $($role:ident),+) => {
        $(#[$doc])*
        #[derive(Debug, Clone)]
        pub(crate) struct $name(pub(crate) AuthUser);

        impl FromRequestParts<AppState> for $name {
            type Rejection = ApiError;

            async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
                let user = AuthUser::from_request_parts(parts, state).await?;
                user.require(&[$(Role::$role),+])?;
                Ok($name(user))
            }
        }

        impl std::ops::Deref for $name {
            type Target = AuthUser;

            fn deref(&self) -> &AuthUser {
                &self.0
            }
        }
    };
}

caller_of_roles!(
    /// A technician: their devices, drafts and reports.
    Technician: Technician
);
caller_of_roles!(
    /// A supervisor: the review of reports.
    Supervisor: Supervisor
);
caller_of_roles!(
    /// A host: accounts and device lists.
    Host: Host
);
caller_of_roles!(
    /// A host or a supervisor: the operational views both roles see.
    Staff: Host, Supervisor
);

/// The pages' session cookie, when the request carries one.
pub(crate) fn session_cookie(headers: &axum::http::HeaderMap) -> Option<&str> {
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

/// A token issued before the account's password changed.
pub(crate) fn revoked() -> ApiError {
    ApiError::AuthFailed("This token was revoked when the password changed. Please sign in again.".into())
}

/// The account behind a token or session, if it still exists and is active.
pub(crate) async fn active_user(state: &AppState, id: i64) -> Result<users::User, ApiError> {
    users::by_id(&state.db, id)
        .await?
        .filter(|u| u.is_active)
        .ok_or_else(|| ApiError::AuthFailed("User not found or inactive".into()))
}

/// The client's address: the socket peer, or — behind trusted proxies — the address the proxy
/// itself recorded. X-Forwarded-For is read from the right: each proxy appends the address it
/// saw, so the entry `TRUSTED_PROXY_HOPS` places from the right was written by our own proxy,
/// while everything left of it was written by the client and proves nothing.
pub(crate) struct ClientAddr(pub String);

impl FromRequestParts<AppState> for ClientAddr {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let peer = parts.extensions.get::<ConnectInfo<SocketAddr>>().map(|c| c.0.ip());
        let limits = &state.settings.limits;
        let trusted = state.settings.trust_proxy_headers.then_some(Proxies {
            hops: limits.trusted_proxy_hops,
            client_ip_header: limits.client_ip_header.as_deref(),
        });
        let addr = client_address(&parts.headers, peer, trusted);
        Ok(ClientAddr(addr.map_or_else(|| "unknown".into(), |a| a.to_string())))
    }
}

/// How far proxy headers are believed.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Proxies<'a> {
    pub hops: usize,
    pub client_ip_header: Option<&'a str>,
}

pub(crate) fn client_address(
    headers: &axum::http::HeaderMap,
    peer: Option<std::net::IpAddr>,
    trusted: Option<Proxies<'_>>,
) -> Option<std::net::IpAddr> {
    let Some(proxies) = trusted else { return peer };
    let parse = |s: &str| s.trim().parse::<std::net::IpAddr>().ok();
    if let Some(name) = proxies.client_ip_header
        && let Some(ip) = headers.get(name).and_then(|v| v.to_str().ok()).and_then(parse)
    {
        return Some(ip);
    }
    // Several X-Forwarded-For headers are one list, in order.
    let entries: Vec<&str> = headers
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .collect();
    match entries.len().checked_sub(proxies.hops.max(1)) {
        Some(i) => parse(entries[i]).or(peer),
        // Fewer entries than proxies: the request did not come through them all.
        None => peer,
    }
}

/// The absolute origin for links: MEDIA_BASE_URL, else the request's own host.
pub(crate) struct BaseUrl(pub String);

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
pub(crate) struct DeclaredLength(pub Option<u64>);

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

#[cfg(test)]
mod client_address_tests {
    use super::*;
    use axum::http::{HeaderMap, HeaderValue};

    fn xff(values: &[&str]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for v in values {
            h.append("x-forwarded-for", HeaderValue::from_str(v).unwrap());
        }
        h
    }

    fn ip(s: &str) -> Option<std::net::IpAddr> {
        Some(s.parse().unwrap())
    }

    const ONE: Option<Proxies<'static>> = Some(Proxies { hops: 1, client_ip_header: None });
    const TWO: Option<Proxies<'static>> = Some(Proxies { hops: 2, client_ip_header: None });

    #[test]
    fn with_one_proxy_the_rightmost_entry_is_the_client_and_forged_entries_are_ignored() {
        let peer = ip("10.0.0.1");
        assert_eq!(client_address(&xff(&["203.0.113.9"]), peer, ONE), ip("203.0.113.9"));
        assert_eq!(client_address(&xff(&["1.1.1.1, 203.0.113.9"]), peer, ONE), ip("203.0.113.9"));
        assert_eq!(client_address(&xff(&["1.1.1.1", "203.0.113.9"]), peer, ONE), ip("203.0.113.9"));
    }

    #[test]
    fn with_two_proxies_the_second_entry_from_the_right_is_the_client() {
        let peer = ip("10.0.0.1");
        let h = xff(&["6.6.6.6, 203.0.113.9, 10.1.1.1"]);
        assert_eq!(client_address(&h, peer, TWO), ip("203.0.113.9"));
        assert_eq!(client_address(&xff(&["10.1.1.1"]), peer, TWO), peer, "too few hops: the peer");
    }

    #[test]
    fn untrusted_headers_and_garbage_fall_back_to_the_peer() {
        let peer = ip("192.0.2.7");
        assert_eq!(client_address(&xff(&["203.0.113.9"]), peer, None), peer);
        assert_eq!(client_address(&xff(&["1.1.1.1, not-an-ip"]), peer, ONE), peer);
        assert_eq!(client_address(&HeaderMap::new(), peer, ONE), peer);
    }

    #[test]
    fn a_platform_client_ip_header_wins_when_configured() {
        let mut h = xff(&["6.6.6.6"]);
        h.insert("fly-client-ip", HeaderValue::from_static("198.51.100.4"));
        let p = Some(Proxies { hops: 1, client_ip_header: Some("fly-client-ip") });
        assert_eq!(client_address(&h, ip("10.0.0.1"), p), ip("198.51.100.4"));
    }
}
