//! Technician accounts: list, create (the original's validation messages), delete with
//! everything they own — database first, files after the commit.

use axum::Json;
use axum::extract::{Path, Request, State};
use axum::http::StatusCode;
use serde_json::{Value, json};

use crate::auth::password;
use crate::db::users;
use crate::domain::Role;
use crate::domain::accounts::{self, FieldErrors};
use crate::domain::audit::Action;
use crate::error::ApiError;
use crate::http::audit;
use crate::http::body::{fields, text};
use crate::http::extract::{ClientAddr, Host};
use crate::http::openapi::shapes;
use crate::state::AppState;

/// Every technician account.
#[utoipa::path(
    get,
    path = "/api/host/technicians/",
    tag = "host",
    security(("bearer" = []), ("session" = [])),
    responses(
        (status = 200, description = "The technicians.", body = Vec<shapes::Technician>),
        (status = 401, description = "Not signed in, or the token is invalid or revoked.", body = shapes::ErrorBody),
        (status = 403, description = "The caller's role may not do this (or a page change came without its CSRF token).", body = shapes::ErrorBody),
    )
)]
pub(super) async fn list(State(state): State<AppState>, _caller: Host) -> Result<Json<Value>, ApiError> {
    let techs = users::list(&state.db, Some(Role::Technician)).await?;
    Ok(Json(Value::Array(
        techs
            .iter()
            .map(|t| json!({ "id": t.id, "username": t.username, "role": t.role, "city": t.city }))
            .collect(),
    )))
}

/// Creates a technician account (the original's validation messages).
#[utoipa::path(
    post,
    path = "/api/host/technicians/",
    tag = "host",
    security(("bearer" = []), ("session" = [])),
    request_body(content(
        (shapes::NewTechnician = "application/json"),
        (shapes::NewTechnician = "application/x-www-form-urlencoded"),
    )),
    responses(
        (status = 201, description = "Created.", body = shapes::CreatedTechnician),
        (status = 400, description = "A field is missing or invalid, or the username is taken; each field with its messages.", body = shapes::ErrorBody),
        (status = 401, description = "Not signed in, or the token is invalid or revoked.", body = shapes::ErrorBody),
        (status = 403, description = "The caller's role may not do this (or a page change came without its CSRF token).", body = shapes::ErrorBody),
    )
)]
pub(super) async fn create(
    State(state): State<AppState>,
    user: Host,
    ClientAddr(addr): ClientAddr,
    req: Request,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let body = fields(req).await?;
    let mut errors = FieldErrors::new();
    let username = accounts::validate_username(text(&body, "username").as_deref(), &mut errors);
    if let Some(u) = &username
        && users::by_username(&state.db, u).await?.is_some()
    {
        errors.push(("username", users::CreateError::UsernameTaken.to_string()));
    }
    let pass =
        accounts::validate_password(text(&body, "password").as_deref(), username.as_deref(), &mut errors);
    let city = accounts::validate_city(text(&body, "city").as_deref(), &mut errors);
    let (Some(username), Some(pass), Some(city), true) = (username, pass, city, errors.is_empty()) else {
        return Err(ApiError::BadRequest(accounts::to_json(&errors)));
    };
    let hash = {
        let _turn = state.gates.hashing.enter().await?;
        password::hash(pass).await?
    };
    let created = match users::create(&state.db, &username, &hash, Role::Technician, Some(&city)).await {
        Ok(u) => u,
        Err(users::CreateError::UsernameTaken) => {
            return Err(ApiError::field("username", users::CreateError::UsernameTaken.to_string()));
        }
        Err(users::CreateError::Db(e)) => return Err(e.into()),
    };
    tracing::info!(by = user.username, technician = created.username, "technician created");
    let detail = json!({ "username": created.username, "city": created.city });
    audit::record(&state, &user, Action::CreateTechnician, format!("user:{}", created.id), detail, &addr)
        .await;
    Ok((
        StatusCode::CREATED,
        Json(json!({
            "id": created.id,
            "username": created.username,
            "role": created.role,
            "city": created.city,
            "created_at": created.created_at,
        })),
    ))
}

/// Deletes a technician with their reports, photos, PDFs, Excel lists and assignments.
#[utoipa::path(
    delete,
    path = "/api/host/technicians/{id}/",
    tag = "host",
    security(("bearer" = []), ("session" = [])),
    params(("id" = i64, Path, description = "The technician's id.")),
    responses(
        (status = 200, description = "Deleted, with what went with the account.", body = shapes::DeletedTechnician),
        (status = 401, description = "Not signed in, or the token is invalid or revoked.", body = shapes::ErrorBody),
        (status = 403, description = "The caller's role may not do this (or a page change came without its CSRF token).", body = shapes::ErrorBody),
        (status = 404, description = "No technician has this id.", body = shapes::ErrorBody),
    )
)]
pub(super) async fn delete(
    State(state): State<AppState>,
    user: Host,
    ClientAddr(addr): ClientAddr,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let not_found = || ApiError::NotFound("Technician not found".into());
    let id: i64 = id.parse().map_err(|_| not_found())?;
    let d = users::delete_technician(&state.db, id).await?.ok_or_else(not_found)?;
    state.dashboards.changed();
    let pdfs = state.store.delete_all(&d.pdf_keys).await;
    let photos = state.store.delete_all(&d.photo_keys).await;
    let excel_files = state.store.delete_all(&d.excel_keys).await;
    tracing::info!(
        by = user.username,
        technician = d.username,
        submissions = d.submissions,
        "technician deleted"
    );
    let detail = json!({
        "username": d.username, "submissions": d.submissions, "excel_uploads": d.excel_uploads,
        "device_assignments": d.assignments, "files": { "pdfs": pdfs, "photos": photos, "excel_files": excel_files },
    });
    audit::record(&state, &user, Action::DeleteTechnician, format!("user:{id}"), detail, &addr).await;
    Ok(Json(json!({
        "message": format!("Technician \"{}\" and all related data deleted successfully", d.username),
        "deleted_data": {
            "device_assignments": d.assignments,
            "submissions": d.submissions,
            "excel_uploads": d.excel_uploads,
            "physical_files": { "pdfs": pdfs, "photos": photos, "excel_files": excel_files },
        }
    })))
}
