//! The router in process, without a server (`tower::ServiceExt::oneshot`): the role guards of
//! every area and the JSON shape of every kind of refusal, on a real SQLite database and media
//! folder made by `startup::prepare`, as `serve` makes them.

use std::net::SocketAddr;

use atm_maint::auth::tokens::TokenKind;
use atm_maint::config::{Flags, Settings};
use atm_maint::domain::Role;
use atm_maint::state::AppState;
use atm_maint::storage::guard::GuardMode;
use axum::Router;
use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::http::{Method, Request, StatusCode, header};
use http_body_util::BodyExt;
use serde_json::{Value, json};
use tower::ServiceExt;

/// The service's router on a fresh data dir, and its state (for tokens and accounts).
async fn app(dir: &std::path::Path) -> (Router, AppState) {
    let env = [("DATA_DIR".to_string(), dir.display().to_string())].into_iter().collect();
    let settings = Settings::from_map(Flags::default(), env, dir).unwrap();
    let prepared = atm_maint::startup::prepare(&settings, GuardMode::Apply).await.unwrap();
    assert!(prepared.report.is_ok(), "{:?}", prepared.report.problems);
    let state = AppState::new(settings, prepared.db, prepared.store, prepared.report).unwrap();
    (atm_maint::app::router(state.clone()), state)
}

/// An account of `role` and an access token for it.
async fn bearer(state: &AppState, name: &str, role: Role) -> String {
    // Not a real password hash: these accounts never sign in with a password.
    let user = atm_maint::db::users::create(&state.db, name, "!", role, Some("Riyadh")).await.unwrap();
    state.tokens.issue(user.id, user.token_version, TokenKind::Access).unwrap()
}

async fn call(
    app: &Router,
    method: Method,
    path: &str,
    token: Option<&str>,
    body: Option<&str>,
) -> (StatusCode, Value) {
    let mut req = Request::builder().method(method).uri(path);
    if let Some(t) = token {
        req = req.header(header::AUTHORIZATION, format!("Bearer {t}"));
    }
    if body.is_some() {
        req = req.header(header::CONTENT_TYPE, "application/json");
    }
    let mut req = req.body(body.map(|b| Body::from(b.to_string())).unwrap_or_default()).unwrap();
    req.extensions_mut().insert(ConnectInfo(SocketAddr::from(([127, 0, 0, 1], 40000))));
    let response = app.clone().oneshot(req).await.unwrap();
    let status = response.status();
    let content_type = response.headers().get(header::CONTENT_TYPE).cloned();
    let bytes = response.into_body().collect().await.unwrap().to_bytes();
    let value = serde_json::from_slice(&bytes).unwrap_or_else(|_| {
        panic!("{path}: {status} is not JSON ({content_type:?}): {}", String::from_utf8_lossy(&bytes))
    });
    (status, value)
}

const UNAUTHENTICATED: &str = "Authentication credentials were not provided.";

fn forbidden() -> Value {
    json!({ "error": "Permission Denied", "detail": "You do not have permission to perform this action." })
}

#[tokio::test(flavor = "multi_thread")]
async fn each_area_admits_only_its_roles_and_refuses_the_rest_in_the_same_shape() {
    let tmp = tempfile::tempdir().unwrap();
    let (app, state) = app(tmp.path()).await;
    let host = bearer(&state, "host_r", Role::Host).await;
    let sup = bearer(&state, "sup_r", Role::Supervisor).await;
    let tech = bearer(&state, "tech_r", Role::Technician).await;
    // (path, who may call it): one read of each guard's area.
    let cases = [
        ("/api/technician/devices", vec![&tech]),
        ("/api/technician/drafts", vec![&tech]),
        ("/api/supervisor/submissions", vec![&sup]),
        ("/api/supervisor/dashboard-stats", vec![&sup]),
        ("/api/host/technicians/", vec![&host]),
        ("/api/admin/doctor", vec![&host, &sup]),
    ];
    for (path, allowed) in cases {
        let (status, body) = call(&app, Method::GET, path, None, None).await;
        assert_eq!((status, &body["detail"]), (StatusCode::UNAUTHORIZED, &json!(UNAUTHENTICATED)), "{path}");
        for token in [&host, &sup, &tech] {
            let (status, body) = call(&app, Method::GET, path, Some(token), None).await;
            if allowed.contains(&token) {
                assert_eq!(status, StatusCode::OK, "{path}: {body}");
            } else {
                assert_eq!((status, body), (StatusCode::FORBIDDEN, forbidden()), "{path}");
            }
        }
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_forged_or_revoked_token_is_refused_and_the_role_is_checked_before_the_body_is_read() {
    let tmp = tempfile::tempdir().unwrap();
    let (app, state) = app(tmp.path()).await;
    let (status, body) = call(&app, Method::GET, "/api/technician/devices", Some("not.a.token"), None).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(body["detail"], "Given token not valid for any token type");
    let sup = bearer(&state, "sup_b", Role::Supervisor).await;
    // A body that is not even JSON: the guard answers first.
    let (status, body) =
        call(&app, Method::POST, "/api/technician/drafts", Some(&sup), Some("{ not json")).await;
    assert_eq!((status, body), (StatusCode::FORBIDDEN, forbidden()));
    // A token of an account whose token version moved on (a password change) is revoked.
    let tech = bearer(&state, "tech_b", Role::Technician).await;
    assert!(atm_maint::db::users::set_password(&state.db, "tech_b", "!").await.unwrap());
    let (status, _) = call(&app, Method::GET, "/api/technician/devices", Some(&tech), None).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
}

#[tokio::test(flavor = "multi_thread")]
async fn unknown_paths_wrong_methods_and_bad_bodies_are_json_4xx() {
    let tmp = tempfile::tempdir().unwrap();
    let (app, state) = app(tmp.path()).await;
    let tech = bearer(&state, "tech_c", Role::Technician).await;
    let (status, body) = call(&app, Method::GET, "/api/no-such-thing", None, None).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{body}");
    let (status, body) = call(&app, Method::DELETE, "/api/technician/devices", Some(&tech), None).await;
    assert_eq!(status, StatusCode::METHOD_NOT_ALLOWED, "{body}");
    let (status, body) =
        call(&app, Method::POST, "/api/technician/drafts", Some(&tech), Some("{ not json")).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    let (status, body) = call(&app, Method::POST, "/api/technician/drafts", Some(&tech), Some("{}")).await;
    assert_eq!(
        (status, body),
        (StatusCode::BAD_REQUEST, json!({ "device_id": ["This field is required."] }))
    );
    let (status, body) =
        call(&app, Method::GET, "/api/supervisor/submissions?page=99999999999999999999", None, None).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "the guard answers before the query is read: {body}");
}
