//! Notifications over HTTP: a signed-in user's list (`GET /api/notifications/`) and marking one
//! or all read. Kept on the server, so a second phone or a reload shows the same.

use axum::Json;
use axum::extract::{Path, Query, State};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::routes;

use super::extract::AuthUser;
use super::openapi::shapes;
use super::{ApiRouter, route};
use crate::db::notifications::{self, Notification};
use crate::error::ApiError;
use crate::state::AppState;

pub(crate) fn router() -> ApiRouter {
    let r = route(ApiRouter::new(), routes!(list));
    let r = route(r, routes!(read_one));
    route(r, routes!(read_all))
}

/// One notification.
#[derive(Serialize, ToSchema)]
pub(crate) struct NotificationJson {
    id: i64,
    /// `report_approved`, `report_rejected` or `devices_assigned`.
    kind: String,
    /// The report it is about, when it is about one.
    submission_id: Option<i64>,
    /// The device it is about, when it is about one.
    device_id: Option<i64>,
    /// The sentence to show.
    message: String,
    /// What it tells, by kind: a rejection's `reason` and `flagged_photos`
    /// (`[{photo_id, section, order_index, kinds}]`), an approval's `remarks`, an assignment's
    /// `count`, `device_type` and `file_name`.
    #[schema(value_type = Object)]
    detail: serde_json::Value,
    created_at: String,
    /// When the user marked it read; null while unread.
    read_at: Option<String>,
}

impl From<Notification> for NotificationJson {
    fn from(n: Notification) -> NotificationJson {
        let detail = n.detail_json();
        NotificationJson {
            id: n.id,
            kind: n.kind,
            submission_id: n.submission_id,
            device_id: n.device_id,
            message: n.message,
            detail,
            created_at: n.created_at,
            read_at: n.read_at,
        }
    }
}

/// The caller's newest notifications and how many are unread.
#[derive(Serialize, ToSchema)]
pub(crate) struct NotificationList {
    /// Newest first, at most 100.
    notifications: Vec<NotificationJson>,
    /// Notifications not yet marked read (all of them, not only those listed).
    unread: i64,
}

#[derive(Deserialize, IntoParams)]
pub(crate) struct ListQuery {
    /// `true`: only the unread ones.
    unread: Option<String>,
}

/// The caller's notifications, newest first (at most 100), and the unread count.
#[utoipa::path(
    get,
    path = "/api/notifications/",
    tag = "notifications",
    security(("bearer" = []), ("session" = [])),
    params(ListQuery),
    responses(
        (status = 200, description = "The notifications.", body = NotificationList),
        (status = 400, description = "`unread` is not `true` or `false`.", body = shapes::ErrorBody),
        (status = 401, description = "Not signed in, or the token is invalid or revoked.", body = shapes::ErrorBody),
    )
)]
async fn list(
    State(state): State<AppState>,
    user: AuthUser,
    Query(q): Query<ListQuery>,
) -> Result<Json<NotificationList>, ApiError> {
    let unread_only = match q.unread.as_deref() {
        None | Some("" | "false") => false,
        Some("true") => true,
        Some(_) => return Err(ApiError::message("unread must be true or false")),
    };
    let (rows, unread) = notifications::of_user(&state.db, user.id, unread_only).await?;
    Ok(Json(NotificationList { notifications: rows.into_iter().map(Into::into).collect(), unread }))
}

/// One notification marked read, and the unread count after.
#[derive(Serialize, ToSchema)]
pub(crate) struct MarkedRead {
    notification: NotificationJson,
    unread: i64,
}

/// Marks one of the caller's notifications read (marking it again changes nothing).
#[utoipa::path(
    post,
    path = "/api/notifications/{id}/read",
    tag = "notifications",
    security(("bearer" = []), ("session" = [])),
    params(("id" = i64, Path, description = "The notification's id.")),
    responses(
        (status = 200, description = "Marked read.", body = MarkedRead),
        (status = 401, description = "Not signed in, or the token is invalid or revoked.", body = shapes::ErrorBody),
        (status = 403, description = "A page change came without its CSRF token.", body = shapes::ErrorBody),
        (status = 404, description = "The caller has no notification with this id.", body = shapes::ErrorBody),
    )
)]
async fn read_one(
    State(state): State<AppState>,
    user: AuthUser,
    Path(id): Path<String>,
) -> Result<Json<MarkedRead>, ApiError> {
    let not_found = || ApiError::NotFound("You have no notification with this id.".into());
    let id: i64 = id.parse().map_err(|_| not_found())?;
    let n = notifications::mark_read(&state.db, user.id, id).await?.ok_or_else(not_found)?;
    let unread = notifications::unread(&state.db, user.id).await?;
    Ok(Json(MarkedRead { notification: n.into(), unread }))
}

/// How many notifications a mark-all changed.
#[derive(Serialize, ToSchema)]
pub(crate) struct MarkedAllRead {
    marked: u64,
    unread: i64,
}

/// Marks every unread notification of the caller read.
#[utoipa::path(
    post,
    path = "/api/notifications/read",
    tag = "notifications",
    security(("bearer" = []), ("session" = [])),
    responses(
        (status = 200, description = "Marked read.", body = MarkedAllRead),
        (status = 401, description = "Not signed in, or the token is invalid or revoked.", body = shapes::ErrorBody),
        (status = 403, description = "A page change came without its CSRF token.", body = shapes::ErrorBody),
    )
)]
async fn read_all(State(state): State<AppState>, user: AuthUser) -> Result<Json<MarkedAllRead>, ApiError> {
    let marked = notifications::mark_all_read(&state.db, user.id).await?;
    // Counted, not assumed 0: a review may have told the user something since.
    let unread = notifications::unread(&state.db, user.id).await?;
    Ok(Json(MarkedAllRead { marked, unread }))
}
