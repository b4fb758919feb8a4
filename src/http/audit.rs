//! The audit trail over HTTP: what handlers call to record an action, and the host's page of the
//! trail with its filters (`GET /api/host/audit`).

use axum::Json;
use axum::extract::{Query, State};
use serde_json::{Value, json};
use utoipa_axum::routes;

use super::extract::{AuthUser, Host};
use super::openapi::shapes;
use super::{ApiRouter, route};
use crate::db::audit::{self, Entry, Filter};
use crate::domain::audit::Action;
use crate::domain::period;
use crate::error::ApiError;
use crate::state::AppState;

pub(crate) fn router() -> ApiRouter {
    route(ApiRouter::new(), routes!(list))
}

/// Records what a signed-in caller did from `client`.
pub(crate) async fn record(
    state: &AppState,
    who: &AuthUser,
    action: Action,
    target: String,
    detail: Value,
    client: &str,
) {
    record_as(state, Some(who.id), &who.username, action, Some(target), detail, client).await
}

/// Records an action by an account id and name (before sign-in: the name that was given).
pub(crate) async fn record_as(
    state: &AppState,
    actor_id: Option<i64>,
    actor: &str,
    action: Action,
    target: Option<String>,
    detail: Value,
    client: &str,
) {
    let entry = Entry { actor_id, actor, action, target, detail, client: Some(client) };
    crate::ops::audit::note(&state.db, entry).await;
}

#[derive(serde::Deserialize, Default)]
struct AuditQuery {
    action: Option<String>,
    actor: Option<String>,
    date_from: Option<String>,
    date_to: Option<String>,
    page: Option<String>,
    page_size: Option<String>,
}

/// The audit trail, newest first, with filters (host only). Each row carries the hash that
/// chains it to the one before; `atm-maint audit verify` checks the chain.
#[utoipa::path(
    get,
    path = "/api/host/audit",
    tag = "operations",
    security(("bearer" = []), ("session" = [])),
    params(
        ("action" = Option<String>, Query, description = "One action (see `actions` in the answer)."),
        ("actor" = Option<String>, Query, description = "One username."),
        ("date_from" = Option<String>, Query, description = "On or after this day (`YYYY-MM-DD`, UTC)."),
        ("date_to" = Option<String>, Query, description = "On or before this day (`YYYY-MM-DD`, UTC)."),
        ("page" = Option<i64>, Query, description = "A page, from 1."),
        ("page_size" = Option<i64>, Query, description = "Rows per page, at most 200 (default 50)."),
    ),
    responses(
        (status = 200, description = "A page of entries.", body = shapes::AuditPage),
        (status = 400, description = "A filter is not valid.", body = shapes::ErrorBody),
        (status = 401, description = "Not signed in, or the token is invalid or revoked.", body = shapes::ErrorBody),
        (status = 403, description = "The caller's role may not do this (or a page change came without its CSRF token).", body = shapes::ErrorBody),
    )
)]
async fn list(
    State(state): State<AppState>,
    _caller: Host,
    Query(q): Query<AuditQuery>,
) -> Result<Json<Value>, ApiError> {
    let given = |v: Option<String>| v.map(|s| s.trim().to_string()).filter(|s| !s.is_empty() && s != "All");
    let action = match given(q.action) {
        None => None,
        Some(a) => Some(
            Action::parse(&a)
                .ok_or_else(|| ApiError::field("action", format!("\"{a}\" is not a recorded action.")))?,
        ),
    };
    let date = |name: &str, v: Option<String>| -> Result<Option<String>, ApiError> {
        match given(v) {
            None => Ok(None),
            Some(s) => period::parse_date(&s)
                .map(|d| Some(d.to_string()))
                .ok_or_else(|| ApiError::field(name, format!("\"{s}\" is not a date; use YYYY-MM-DD."))),
        }
    };
    let number = |name: &str, v: Option<String>, default: i64| -> Result<i64, ApiError> {
        match given(v) {
            None => Ok(default),
            Some(s) => s
                .parse::<i64>()
                .ok()
                .filter(|n| (1..=1_000_000).contains(n))
                .ok_or_else(|| ApiError::field(name, "A positive integer up to 1000000 is required.")),
        }
    };
    let filter = Filter {
        action,
        actor: given(q.actor),
        from: date("date_from", q.date_from)?,
        to: date("date_to", q.date_to)?,
    };
    let (page, size) = (number("page", q.page, 1)?, number("page_size", q.page_size, 50)?.min(200));
    let (rows, total) = audit::page(&state.db, &filter, size, (page - 1) * size).await?;
    Ok(Json(json!({
        "count": total,
        "page": page,
        "page_size": size,
        "total_pages": (total + size - 1) / size,
        "actions": Action::ALL.iter().map(|a| a.as_str()).collect::<Vec<_>>(),
        // The stored detail is the text the hash covers; here it is shown as the JSON it holds.
        "entries": rows.into_iter().map(|r| {
            let detail: Value = serde_json::from_str(&r.detail).unwrap_or(Value::String(r.detail.clone()));
            json!({
                "id": r.id, "at": r.at, "actor_id": r.actor_id, "actor": r.actor, "action": r.action,
                "target": r.target, "detail": detail, "client": r.client, "hash": r.hash,
            })
        }).collect::<Vec<_>>(),
    })))
}
