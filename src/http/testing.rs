//! Routes for the test suite only (`ATM_TEST_ROUTES=true`, refused in production): store a raw
//! body as an object and read objects back, so crash and disk-full tests drive the real HTTP
//! and storage path before the visit-report endpoints exist around it.

use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::routing::{get, post};
use axum::{Json, Router};

use crate::db::objects;
use crate::error::ApiError;
use crate::http::extract::DeclaredLength;
use crate::state::AppState;
use crate::storage::{Area, MediaKey};

const LIMIT: u64 = 64 * 1024 * 1024;

pub(crate) fn router() -> Router<AppState> {
    Router::new()
        .route("/api/_test/objects", post(store_object).get(list_objects))
        .route("/api/_test/objects/{id}", get(read_object))
        .route("/api/_test/codec-floor/{submission_id}", post(codec_floor))
        .merge(floor())
}

/// The PDF benchmark's floor: the submission's photos decoded and re-encoded at print size with
/// the PDF's own code, one after another (as the PDF build does at the default decode limit),
/// reads from the store excluded from the time.
async fn codec_floor(
    State(state): State<AppState>,
    Path(submission_id): Path<i64>,
) -> Result<impl IntoResponse, ApiError> {
    let mut photos = crate::db::submissions::photos_of(&state.db, &[submission_id]).await?;
    let mut originals = Vec::new();
    for p in photos.remove(&submission_id).unwrap_or_default() {
        originals.push(state.store.read(&p.key).await?);
    }
    let timed = tokio::task::spawn_blocking(move || {
        let started = std::time::Instant::now();
        let mut out = 0;
        for o in &originals {
            out += crate::reports::photos::prepare(o).map(|p| p.jpeg.len()).unwrap_or(0);
        }
        (originals.len(), started.elapsed().as_secs_f64(), out)
    })
    .await
    .map_err(anyhow::Error::from)?;
    Ok(Json(serde_json::json!({ "photos": timed.0, "seconds": timed.1, "bytes_out": timed.2 })))
}

/// The benchmarks' floor: `PUT /api/_test/floor` keeps a body in memory, `GET` answers it as
/// JSON through the same server and middleware, with no database and no serialization, so a
/// list's cost can be read next to what the framework alone costs for the same bytes.
fn floor() -> Router<AppState> {
    type Slot = std::sync::Arc<std::sync::RwLock<bytes::Bytes>>;
    async fn put(State(slot): State<Slot>, body: Body) -> Result<StatusCode, ApiError> {
        let bytes = axum::body::to_bytes(body, 64 << 20)
            .await
            .map_err(|_| ApiError::message("The floor body is larger than 64 MB."))?;
        *slot.write().unwrap_or_else(std::sync::PoisonError::into_inner) = bytes;
        Ok(StatusCode::NO_CONTENT)
    }
    async fn get_it(State(slot): State<Slot>) -> impl IntoResponse {
        let bytes = slot.read().unwrap_or_else(std::sync::PoisonError::into_inner).clone();
        ([(axum::http::header::CONTENT_TYPE, "application/json")], bytes)
    }
    Router::new().route("/api/_test/floor", get(get_it).put(put)).with_state(Slot::default())
}

async fn store_object(
    State(state): State<AppState>,
    declared: DeclaredLength,
    body: Body,
) -> Result<impl IntoResponse, ApiError> {
    if let Err(e) = state.store.check_room(declared.0, state.settings.disk_refuse_percent) {
        tokio::spawn(async move { crate::http::drain(&mut body.into_data_stream()).await });
        return Err(e.into());
    }
    let key = MediaKey::generate(Area::Photos, "bin");
    let mut stream = body.into_data_stream();
    let stored = match state.store.put_stream(&key, &mut stream, LIMIT).await {
        Ok(s) => s,
        Err(e) => {
            crate::http::drain(&mut stream).await;
            return Err(e.into());
        }
    };
    // A failure to get a connection is a failed row too: the file goes either way.
    match objects::insert(state.db.pool(), Area::Photos, &stored, None).await {
        Ok(id) => Ok((StatusCode::CREATED, Json(serde_json::json!({ "id": id, "object": stored })))),
        Err(e) => {
            // The row failed: the object must not outlive it as an orphan.
            let _ = state.store.delete(&key).await;
            Err(e.into())
        }
    }
}

async fn list_objects(State(state): State<AppState>) -> Result<impl IntoResponse, ApiError> {
    Ok(Json(objects::list(&state.db).await?))
}

async fn read_object(
    State(state): State<AppState>,
    Path(id): Path<i64>,
) -> Result<impl IntoResponse, ApiError> {
    let row =
        objects::get(&state.db, id).await?.ok_or_else(|| ApiError::NotFound("No such object".into()))?;
    Ok(state.store.read(&row.key).await?)
}
