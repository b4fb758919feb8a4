//! Exports for the client, supervisors only: `GET /api/supervisor/submissions/export.csv` and
//! `export.xlsx` with the list's own filters, and `GET /api/supervisor/submissions/{id}/export.zip`
//! for one report. The bodies are streamed from the database or from a temporary file.

use std::sync::Arc;

use axum::Router;
use axum::body::Body;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;

use super::extract::{BaseUrl, Supervisor};
use super::route;
use super::supervisor::{ListQuery, filters};
use crate::error::ApiError;
use crate::ops::export::{self, Link, XlsxError};
use crate::state::AppState;

pub(crate) fn router() -> Router<AppState> {
    let r = route(Router::new(), "/api/supervisor/submissions/export.csv", get(csv));
    let r = route(r, "/api/supervisor/submissions/export.xlsx", get(xlsx));
    route(r, "/api/supervisor/submissions/{id}/export.zip", get(zip))
}

fn link(state: &AppState, base: String) -> Link {
    let state = state.clone();
    Arc::new(move |key| format!("{base}{}", state.links.sign(key)))
}

fn attachment(content_type: &'static str, file_name: &str, body: Body) -> Response {
    let disposition = format!("attachment; filename=\"{file_name}\"");
    (
        [
            (header::CONTENT_TYPE, HeaderValue::from_static(content_type)),
            (
                header::CONTENT_DISPOSITION,
                HeaderValue::from_str(&disposition)
                    .unwrap_or_else(|_| HeaderValue::from_static("attachment")),
            ),
            (header::CACHE_CONTROL, HeaderValue::from_static("no-store")),
        ],
        body,
    )
        .into_response()
}

fn today() -> String {
    chrono::Utc::now().format("%Y-%m-%d").to_string()
}

async fn csv(
    State(state): State<AppState>,
    _caller: Supervisor,
    BaseUrl(base): BaseUrl,
    Query(q): Query<ListQuery>,
) -> Result<Response, ApiError> {
    let f = filters(q)?;
    let link = link(&state, base);
    let body = Body::from_stream(export::csv(state.db.clone(), f, link));
    Ok(attachment("text/csv; charset=utf-8", &format!("submissions-{}.csv", today()), body))
}

async fn xlsx(
    State(state): State<AppState>,
    _caller: Supervisor,
    BaseUrl(base): BaseUrl,
    Query(q): Query<ListQuery>,
) -> Result<Response, ApiError> {
    let f = filters(q)?;
    let file = {
        let _turn = state.gates.exports.enter().await?;
        match export::xlsx(&state.db, &f, link(&state, base)).await {
            Ok(file) => file,
            Err(XlsxError::TooManyRows(n)) => {
                return Err(ApiError::message(XlsxError::TooManyRows(n).to_string()));
            }
            Err(XlsxError::Other(e)) => return Err(ApiError::Internal(e)),
        }
    };
    let stream = tokio_util::io::ReaderStream::new(tokio::fs::File::from_std(file));
    let name = format!("submissions-{}.xlsx", today());
    Ok(attachment(
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        &name,
        Body::from_stream(stream),
    ))
}

async fn zip(
    State(state): State<AppState>,
    _caller: Supervisor,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let not_found = || ApiError::NotFound("Submission not found".into());
    let id: i64 = id.parse().map_err(|_| not_found())?;
    let built = {
        let _turn = state.gates.exports.enter().await?;
        export::report_zip(&state.db, &state.store, id).await.map_err(ApiError::Internal)?
    };
    let (file, name) = built.ok_or_else(not_found)?;
    let stream = tokio_util::io::ReaderStream::new(tokio::fs::File::from_std(file));
    Ok(attachment("application/zip", &name, Body::from_stream(stream)))
}
