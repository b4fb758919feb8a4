//! The one HTTP error type. Client errors carry the sentence the user should read; server errors
//! log their cause chain inside the request span and send a generic message, never SQL or paths.

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use crate::domain::accounts;
use crate::filing::FilingError;
use crate::storage::StoreError;

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// A 400 whose body is given as-is (the original's field-keyed shapes).
    #[error("bad request")]
    BadRequest(Value),
    #[error("{0}")]
    NotFound(String),
    /// 401 without credentials.
    #[error("authentication credentials were not provided")]
    Unauthenticated,
    /// 401 with credentials that did not check out.
    #[error("{0}")]
    AuthFailed(String),
    #[error("permission denied")]
    Forbidden,
    /// 403 with a message of its own (media links).
    #[error("{0}")]
    ForbiddenWith(String),
    #[error("{0}")]
    TooManyRequests(String),
    #[error("{0}")]
    PayloadTooLarge(String),
    #[error("{0}")]
    InsufficientStorage(String),
    #[error("{0}")]
    Unavailable(String),
    /// 503 with Retry-After: a bounded kind of work had no free turn within the queue wait.
    #[error("{0}")]
    Busy(String),
    /// 422: the request was understood but its object cannot be processed (a stored photo
    /// that does not decode); asking again gives the same answer.
    #[error("{0}")]
    Unprocessable(String),
    /// 409: the request lost a race with another one; sending it again is the fix.
    #[error("{0}")]
    Conflict(String),
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

impl ApiError {
    /// A 400 `{"field": ["message"]}`.
    pub fn field(field: &str, msg: impl Into<String>) -> Self {
        ApiError::BadRequest(json!({ field: [msg.into()] }))
    }

    /// A 400 `{"non_field_errors": [message]}`.
    pub fn non_field(msg: impl Into<String>) -> Self {
        ApiError::field("non_field_errors", msg)
    }

    /// A 400 `{"error": message}`.
    pub fn message(msg: impl Into<String>) -> Self {
        ApiError::BadRequest(json!({ "error": msg.into() }))
    }
}

impl From<sqlx::Error> for ApiError {
    fn from(e: sqlx::Error) -> Self {
        ApiError::Internal(anyhow::Error::new(e).context("database query failed"))
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::NoSpace => ApiError::InsufficientStorage(
                "The media storage is full, so the upload was not stored. Nothing was kept; \
                 try again later or ask an operator to free space."
                    .into(),
            ),
            StoreError::TooLarge { limit } => ApiError::PayloadTooLarge(format!(
                "The upload is larger than the limit of {:.1} MB; nothing was stored.",
                limit as f64 / (1024.0 * 1024.0)
            )),
            StoreError::Body(_) => ApiError::message(
                "The upload was interrupted before it finished; nothing was stored. Please send it again.",
            ),
            StoreError::NotFound => ApiError::NotFound("File not found".into()),
            other => ApiError::Internal(anyhow::Error::new(other)),
        }
    }
}

impl From<FilingError> for ApiError {
    fn from(e: FilingError) -> Self {
        match e {
            FilingError::Invalid(errors) => ApiError::BadRequest(accounts::to_json(&errors)),
            FilingError::Rule(m) => ApiError::non_field(m),
            FilingError::Photos(m) => ApiError::message(m),
            FilingError::Interrupted => ApiError::message(
                "The upload was interrupted before it finished; nothing was stored. Please send it again.",
            ),
            FilingError::Duplicate(p) => ApiError::non_field(format!(
                "You have already submitted for this device in half {} of {}",
                p.half,
                p.month_label()
            )),
            FilingError::DraftGone => {
                ApiError::NotFound("This draft was already submitted or has expired.".into())
            }
            FilingError::PhotoReplaced => ApiError::Conflict(
                "A photo of this report was replaced while it was being submitted. Please submit again."
                    .into(),
            ),
            FilingError::Removed => ApiError::Conflict(
                "This device or account was removed while the report was being sent; nothing was stored."
                    .into(),
            ),
            FilingError::Db(e) => e.into(),
            FilingError::Store(e) => e.into(),
        }
    }
}

impl From<crate::limits::Busy> for ApiError {
    fn from(e: crate::limits::Busy) -> Self {
        ApiError::Busy(e.to_string())
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        if let ApiError::Busy(m) = &self {
            let body = Json(json!({ "error": "Service Busy", "detail": m }));
            return (StatusCode::SERVICE_UNAVAILABLE, [(axum::http::header::RETRY_AFTER, "2")], body)
                .into_response();
        }
        let (status, body) = match self {
            ApiError::BadRequest(body) => (StatusCode::BAD_REQUEST, body),
            ApiError::NotFound(m) => (StatusCode::NOT_FOUND, json!({ "error": m })),
            ApiError::Unauthenticated => (
                StatusCode::UNAUTHORIZED,
                json!({ "detail": "Authentication credentials were not provided." }),
            ),
            ApiError::AuthFailed(m) => {
                (StatusCode::UNAUTHORIZED, json!({ "error": "Authentication Failed", "detail": m }))
            }
            ApiError::Forbidden => (
                StatusCode::FORBIDDEN,
                json!({
                    "error": "Permission Denied",
                    "detail": "You do not have permission to perform this action."
                }),
            ),
            ApiError::ForbiddenWith(m) => (StatusCode::FORBIDDEN, json!({ "error": m })),
            ApiError::TooManyRequests(m) => (StatusCode::TOO_MANY_REQUESTS, json!({ "error": m })),
            ApiError::PayloadTooLarge(m) => {
                (StatusCode::PAYLOAD_TOO_LARGE, json!({ "error": "Request Too Large", "detail": m }))
            }
            ApiError::InsufficientStorage(m) => {
                (StatusCode::INSUFFICIENT_STORAGE, json!({ "error": "Insufficient Storage", "detail": m }))
            }
            ApiError::Unavailable(m) | ApiError::Busy(m) => {
                (StatusCode::SERVICE_UNAVAILABLE, json!({ "error": m }))
            }
            ApiError::Conflict(m) => (StatusCode::CONFLICT, json!({ "error": m })),
            ApiError::Unprocessable(m) => (StatusCode::UNPROCESSABLE_ENTITY, json!({ "error": m })),
            ApiError::Internal(e) => {
                tracing::error!(error = format!("{e:#}"), "request failed");
                (
                    StatusCode::INTERNAL_SERVER_ERROR,
                    json!({
                        "error": "Internal Server Error",
                        "detail": "An unexpected error occurred. Please try again later."
                    }),
                )
            }
        };
        (status, Json(body)).into_response()
    }
}
