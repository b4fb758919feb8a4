//! `POST /api/auth/login/` and `/api/auth/refresh/` in the original's shapes.

use axum::extract::{Request, State};
use axum::routing::post;
use axum::{Json, Router};
use serde_json::{Value, json};

use super::body::{fields, text};
use super::extract::ClientAddr;
use super::route;
use crate::app::AppState;
use crate::auth::{password, tokens::TokenKind};
use crate::db::users;
use crate::error::ApiError;

pub fn router() -> Router<AppState> {
    let r = Router::new();
    let r = route(r, "/api/auth/login/", post(login));
    route(r, "/api/auth/refresh/", post(refresh))
}

async fn login(
    State(state): State<AppState>,
    ClientAddr(addr): ClientAddr,
    req: Request,
) -> Result<Json<Value>, ApiError> {
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
    if let Some(wait) = state.login_limiter.check(&username, &addr) {
        tracing::warn!(username, client = addr, "login rate limited");
        return Err(ApiError::TooManyRequests(format!(
            "Too many failed login attempts. Try again in {} minute(s).",
            wait.div_ceil(60)
        )));
    }
    let user = users::by_username(&state.db, &username).await?;
    let hash = user.as_ref().filter(|u| u.is_active).map(|u| u.password_hash.clone());
    let ok = password::verify(hash, pass).await;
    let user = match (ok, user) {
        (true, Some(u)) => u,
        _ => {
            state.login_limiter.record_failure(&username, &addr);
            tracing::info!(username, client = addr, "login failed");
            return Err(ApiError::non_field("Invalid username or password"));
        }
    };
    state.login_limiter.record_success(&username);
    tracing::info!(username, role = %user.role, "login");
    Ok(Json(json!({
        "access": state.tokens.issue(user.id, TokenKind::Access)?,
        "refresh": state.tokens.issue(user.id, TokenKind::Refresh)?,
        "user": { "id": user.id, "username": user.username, "role": user.role, "city": user.city },
    })))
}

async fn refresh(State(state): State<AppState>, req: Request) -> Result<Json<Value>, ApiError> {
    let body = fields(req).await?;
    let Some(token) = text(&body, "refresh").filter(|t| !t.is_empty()) else {
        return Err(ApiError::BadRequest(json!({
            "error": "Validation Error",
            "details": { "refresh": ["This field is required."] }
        })));
    };
    let user_id = state
        .tokens
        .verify(&token, TokenKind::Refresh)
        .ok_or_else(|| ApiError::AuthFailed("Token is invalid or expired".into()))?;
    match users::by_id(&state.db, user_id).await? {
        Some(u) if u.is_active => Ok(Json(json!({ "access": state.tokens.issue(u.id, TokenKind::Access)? }))),
        _ => Err(ApiError::AuthFailed("Token is invalid or expired".into())),
    }
}
