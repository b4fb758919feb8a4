//! `POST /api/auth/login/` and `/api/auth/refresh/` in the original's shapes (Bearer tokens for
//! API clients), and `/api/auth/session/` for the pages: sign-in records a session and sets an
//! HttpOnly, SameSite cookie with its secret, and answers with the CSRF token the pages send back
//! on every change; sign-out ends the session on the server.

use axum::Json;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};
use utoipa_axum::routes;

use super::body::{fields, text};
use super::extract::{ClientAddr, SESSION_COOKIE, active_user, session_cookie, session_user_id};
use super::openapi::shapes;
use super::{ApiRouter, audit, route};
use crate::auth::session;
use crate::auth::{password, tokens::TokenKind};
use crate::config::Environment;
use crate::db::{sessions, users};
use crate::domain::audit::Action;
use crate::error::ApiError;
use crate::state::AppState;

pub(crate) fn router() -> ApiRouter {
    let r = route(ApiRouter::new(), routes!(login));
    let r = route(r, routes!(refresh));
    route(r, routes!(session, sign_in, sign_out))
}

/// Checks a username and password under the login limits; the account on success.
async fn authenticate(state: &AppState, addr: &str, req: Request) -> Result<users::User, ApiError> {
    let body = fields(req).await?;
    let mut errors = serde_json::Map::new();
    let mut required = |key: &str| match text(&body, key) {
        None => {
            errors.insert(key.into(), json!(["This field is required."]));
            None
        }
        Some(v) if v.trim().is_empty() => {
            errors.insert(key.into(), json!(["This field may not be blank."]));
            None
        }
        Some(v) => Some(v),
    };
    let (username, pass) = (required("username"), required("password"));
    let (Some(username), Some(pass)) = (username, pass) else {
        return Err(ApiError::BadRequest(Value::Object(errors)));
    };
    let attempt = match state.login_limiter.reserve(&username, addr) {
        Ok(a) => a,
        Err(wait) => {
            tracing::warn!(username, client = addr, "login rate limited");
            let detail = json!({ "reason": "rate limited" });
            audit::record_as(state, None, &username, Action::SignInFailed, None, detail, addr).await;
            return Err(ApiError::TooManyRequests(format!(
                "Too many failed login attempts. Try again in {} minute(s).",
                wait.div_ceil(60)
            )));
        }
    };
    // The attempt is counted before the hash runs; one never checked (busy) is refunded.
    let turn = match state.gates.hashing.enter().await {
        Ok(t) => t,
        Err(busy) => {
            state.login_limiter.refund(attempt);
            return Err(busy.into());
        }
    };
    let user = match users::by_username(&state.db, &username).await {
        Ok(u) => u,
        Err(e) => {
            state.login_limiter.refund(attempt);
            return Err(e.into());
        }
    };
    let hash = user.as_ref().filter(|u| u.is_active).map(|u| u.password_hash.clone());
    let checked = password::check(hash, pass).await;
    drop(turn);
    let ok = !matches!(checked, password::Checked::Wrong);
    if let (password::Checked::RightUpgrade(new), Some(u)) = (&checked, &user) {
        match users::upgrade_hash(&state.db, u.id, &u.password_hash, new).await {
            Ok(true) => tracing::info!(username, "password hash from the original replaced by Argon2id"),
            Ok(false) => {}
            Err(e) => tracing::warn!(username, error = %e, "could not store the upgraded password hash"),
        }
    }
    match (ok, user) {
        (true, Some(u)) => {
            state.login_limiter.succeeded(attempt);
            tracing::info!(username, role = %u.role, "login");
            let target = Some(format!("user:{}", u.id));
            audit::record_as(state, Some(u.id), &username, Action::SignIn, target, json!({}), addr).await;
            Ok(u)
        }
        (_, user) => {
            tracing::info!(username, client = addr, "login failed");
            let detail = json!({ "reason": "wrong username or password, or the account is inactive" });
            let target = user.map(|u| format!("user:{}", u.id));
            audit::record_as(state, None, &username, Action::SignInFailed, target, detail, addr).await;
            Err(ApiError::non_field("Invalid username or password"))
        }
    }
}

fn user_json(u: &users::User) -> Value {
    json!({ "id": u.id, "username": u.username, "role": u.role, "city": u.city })
}

/// Signs in an API client: an access token (1 hour) and a refresh token (7 days).
#[utoipa::path(
    post,
    path = "/api/auth/login/",
    tag = "auth",
    request_body(description = "The account's username and password.", content(
        (shapes::Credentials = "application/json"),
        (shapes::Credentials = "application/x-www-form-urlencoded"),
    )),
    responses(
        (status = 200, description = "Signed in.", body = shapes::TokenPair),
        (status = 400, description = "A field is missing or blank, or the username or password is wrong (`non_field_errors`).", body = shapes::ErrorBody),
        (status = 429, description = "Too many failed sign-ins for this account or address; the message says when to try again.", body = shapes::ErrorBody),
        (status = 503, description = "Too many sign-ins are being checked at once; try again (`Retry-After`).", body = shapes::ErrorBody),
    )
)]
async fn login(
    State(state): State<AppState>,
    ClientAddr(addr): ClientAddr,
    req: Request,
) -> Result<Json<Value>, ApiError> {
    let user = authenticate(&state, &addr, req).await?;
    Ok(Json(json!({
        "access": state.tokens.issue(user.id, user.token_version, TokenKind::Access)?,
        "refresh": state.tokens.issue(user.id, user.token_version, TokenKind::Refresh)?,
        "user": user_json(&user),
    })))
}

fn session_cookie_header(state: &AppState, headers: &HeaderMap, value: &str, max_age: i64) -> HeaderValue {
    // Secure wherever the pages are served over HTTPS (production, or a trusted proxy saying so);
    // plain-HTTP development on a laptop or a LAN address would otherwise lose the cookie.
    let https = state.settings.environment == Environment::Production
        || (state.settings.trust_proxy_headers
            && headers.get("x-forwarded-proto").and_then(|v| v.to_str().ok()) == Some("https"));
    let secure = if https { "; Secure" } else { "" };
    let cookie =
        format!("{SESSION_COOKIE}={value}; Path=/; HttpOnly; SameSite=Strict; Max-Age={max_age}{secure}");
    HeaderValue::from_str(&cookie).unwrap_or_else(|_| HeaderValue::from_static("atm_session=; Max-Age=0"))
}

/// `POST /api/auth/session/`: signs a person in for the pages.
#[utoipa::path(
    post,
    path = "/api/auth/session/",
    tag = "auth",
    request_body(description = "The account's username and password, as JSON only (an HTML form of another site cannot send it).", content(
        (shapes::Credentials = "application/json"),
    )),
    responses(
        (status = 200, description = "Signed in: the `atm_session` cookie is set (HttpOnly, SameSite=Strict).", body = shapes::Session),
        (status = 400, description = "A field is missing or blank, or the username or password is wrong (`non_field_errors`).", body = shapes::ErrorBody),
        (status = 429, description = "Too many failed sign-ins for this account or address; the message says when to try again.", body = shapes::ErrorBody),
        (status = 503, description = "Too many sign-ins are being checked at once; try again (`Retry-After`).", body = shapes::ErrorBody),
    )
)]
async fn sign_in(
    State(state): State<AppState>,
    ClientAddr(addr): ClientAddr,
    headers: HeaderMap,
    req: Request,
) -> Result<Response, ApiError> {
    // JSON only: a cross-site HTML form cannot send it, so no other site can sign a visitor in
    // to an account of its choosing (login CSRF).
    let json = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.to_ascii_lowercase().starts_with("application/json"));
    if !json {
        return Err(ApiError::message("Sign in with a JSON body: Content-Type must be application/json."));
    }
    let user = authenticate(&state, &addr, req).await?;
    let secret = session::new_secret();
    sessions::create(&state.db, &session::id_of(&secret), user.id, session::SESSION_SECONDS).await?;
    let body = json!({ "user": user_json(&user), "csrf_token": state.tokens.csrf_for(&secret) });
    let cookie = session_cookie_header(&state, &headers, &secret, session::SESSION_SECONDS);
    Ok((
        [(header::SET_COOKIE, cookie), (header::CACHE_CONTROL, HeaderValue::from_static("no-store"))],
        Json(body),
    )
        .into_response())
}

/// `GET /api/auth/session/`: who the cookie belongs to, and its CSRF token (after a reload).
#[utoipa::path(
    get,
    path = "/api/auth/session/",
    tag = "auth",
    security(("session" = [])),
    responses(
        (status = 200, description = "The session's user and CSRF token.", body = shapes::Session),
        (status = 401, description = "No session, or it ended or expired.", body = shapes::ErrorBody),
    )
)]
async fn session(State(state): State<AppState>, headers: HeaderMap) -> Result<Response, ApiError> {
    let secret = session_cookie(&headers).ok_or(ApiError::Unauthenticated)?;
    let user = active_user(&state, session_user_id(&state, secret).await?).await?;
    let body = json!({ "user": user_json(&user), "csrf_token": state.tokens.csrf_for(secret) });
    Ok(([(header::CACHE_CONTROL, HeaderValue::from_static("no-store"))], Json(body)).into_response())
}

/// `DELETE /api/auth/session/`: signs out — the session ends on the server and the cookie is cleared.
#[utoipa::path(
    delete,
    path = "/api/auth/session/",
    tag = "auth",
    security(("session" = [])),
    responses((status = 204, description = "Signed out (also when there was no session)."))
)]
async fn sign_out(
    State(state): State<AppState>,
    ClientAddr(addr): ClientAddr,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    if let Some(secret) = session_cookie(&headers) {
        let who = session_user_id(&state, secret).await.ok();
        let who = match who {
            Some(id) => users::by_id(&state.db, id).await?,
            None => None,
        };
        sessions::delete(&state.db, &session::id_of(secret)).await?;
        if let Some(u) = who {
            let target = Some(format!("user:{}", u.id));
            audit::record_as(&state, Some(u.id), &u.username, Action::SignOut, target, json!({}), &addr)
                .await;
        }
    }
    let cookie = session_cookie_header(&state, &headers, "", 0);
    Ok(([(header::SET_COOKIE, cookie)], axum::http::StatusCode::NO_CONTENT).into_response())
}

/// A new access token for a refresh token; refused once the password changed or the account
/// was deactivated.
#[utoipa::path(
    post,
    path = "/api/auth/refresh/",
    tag = "auth",
    request_body(content(
        (shapes::RefreshRequest = "application/json"),
        (shapes::RefreshRequest = "application/x-www-form-urlencoded"),
    )),
    responses(
        (status = 200, description = "A new access token.", body = shapes::AccessToken),
        (status = 400, description = "`refresh` is missing.", body = shapes::ErrorBody),
        (status = 401, description = "The token is invalid, expired or revoked.", body = shapes::ErrorBody),
    )
)]
async fn refresh(State(state): State<AppState>, req: Request) -> Result<Json<Value>, ApiError> {
    let body = fields(req).await?;
    let Some(token) = text(&body, "refresh").filter(|t| !t.is_empty()) else {
        return Err(ApiError::BadRequest(json!({
            "error": "Validation Error",
            "details": { "refresh": ["This field is required."] }
        })));
    };
    let t = state
        .tokens
        .verify(&token, TokenKind::Refresh)
        .ok_or_else(|| ApiError::AuthFailed("Token is invalid or expired".into()))?;
    match users::by_id(&state.db, t.user_id).await? {
        Some(u) if u.is_active && u.token_version == t.version => Ok(Json(json!({
            "access": state.tokens.issue(u.id, u.token_version, TokenKind::Access)?
        }))),
        Some(u) if u.is_active => Err(super::extract::revoked()),
        _ => Err(ApiError::AuthFailed("Token is invalid or expired".into())),
    }
}
