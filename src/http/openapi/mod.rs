//! The OpenAPI 3.1 document, generated from the code: every area's router registers its
//! handlers through `utoipa_axum::routes!`, which reads each handler's `#[utoipa::path]`, so a
//! route is served and described by the same registration. `GET /api/openapi.json` serves it;
//! the page at `/docs` shows it (served by the binary, so it works offline).

pub(crate) mod shapes;

use std::sync::{Arc, OnceLock};

use axum::Extension;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use utoipa::openapi::path::{HttpMethod, OperationBuilder};
use utoipa::openapi::security::{ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::openapi::{ContentBuilder, ResponseBuilder};
use utoipa::{Modify, OpenApi};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::state::AppState;

/// A router whose routes carry their OpenAPI description.
pub(crate) type ApiRouter = OpenApiRouter<AppState>;

#[derive(OpenApi)]
#[openapi(
    info(
        title = "ATM Maintenance API",
        description = "Field-maintenance visit reports for bank ATMs: technicians file reports with \
            photos, supervisors approve or reject them, approval renders a PDF e-mailed to the client. \
            Paths and JSON shapes of the original system are kept; a path answers with or without its \
            trailing slash. Callers sign in with `POST /api/auth/login/` and send \
            `Authorization: Bearer <access>`; the pages use a session cookie with an `X-CSRF-Token` \
            header on changes. Errors are JSON with an `error` and/or `detail` sentence, or a 400 \
            naming each bad field with its messages. Photo and PDF links are signed and expire.",
        license(name = "Proprietary")
    ),
    modifiers(&Security),
    components(schemas(shapes::ErrorBody)),
    tags(
        (name = "auth", description = "Signing in: tokens for API clients, a session for the pages."),
        (name = "host", description = "The data host: technicians and their Excel device lists."),
        (name = "technician", description = "A technician's devices and visit reports."),
        (name = "supervisor", description = "Review: the list, approve, reject, exports, the dashboard."),
        (name = "notifications", description = "What happened that a user should know: reports reviewed, devices assigned."),
        (name = "operations", description = "Health, metrics, the doctor report, the audit trail."),
        (name = "media", description = "Stored photos, PDFs and previews through signed links."),
        (name = "pages", description = "The web pages the binary serves and the settings they read."),
    )
)]
pub(crate) struct ApiDoc;

struct Security;

impl Modify for Security {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let c = openapi.components.get_or_insert_with(Default::default);
        let bearer = HttpBuilder::new()
            .scheme(HttpAuthScheme::Bearer)
            .bearer_format("JWT")
            .description(Some("The `access` token of `POST /api/auth/login/` (valid for an hour)."))
            .build();
        c.add_security_scheme("bearer", SecurityScheme::Http(bearer));
        c.add_security_scheme(
            "session",
            SecurityScheme::ApiKey(ApiKey::Cookie(ApiKeyValue::with_description(
                "atm_session",
                "The pages' session cookie from `POST /api/auth/session/`; a POST, PUT, PATCH or \
                 DELETE must also send the session's `csrf_token` in `X-CSRF-Token`.",
            ))),
        );
        let metrics = HttpBuilder::new()
            .scheme(HttpAuthScheme::Bearer)
            .description(Some("`METRICS_TOKEN`, for Prometheus and the readiness details."))
            .build();
        c.add_security_scheme("metrics_token", SecurityScheme::Http(metrics));
    }
}

/// The document as served, made once when the router is built.
#[derive(Clone, Default)]
pub(crate) struct Document(Arc<OnceLock<Bytes>>);

impl Document {
    pub(crate) fn set(&self, doc: &utoipa::openapi::OpenApi) {
        let json = serde_json::to_vec(doc).unwrap_or_default();
        let _ = self.0.set(Bytes::from(json));
    }
}

pub(crate) fn router(doc: Document) -> ApiRouter {
    ApiRouter::new().routes(routes!(openapi_json)).layer(Extension(doc))
}

/// This document.
#[utoipa::path(
    get,
    path = "/api/openapi.json",
    tag = "operations",
    responses((status = 200, description = "The OpenAPI 3.1 document of this service.", content_type = "application/json"))
)]
async fn openapi_json(Extension(doc): Extension<Document>) -> Response {
    match doc.0.get() {
        Some(bytes) => (
            [
                (header::CONTENT_TYPE, HeaderValue::from_static("application/json")),
                (header::CACHE_CONTROL, HeaderValue::from_static("no-cache")),
            ],
            bytes.clone(),
        )
            .into_response(),
        None => StatusCode::SERVICE_UNAVAILABLE.into_response(),
    }
}

/// Names every operation `{tag}.{handler}` (handlers in different areas share names such as
/// `list`; client generators need them unique).
pub(crate) fn name_operations(doc: &mut utoipa::openapi::OpenApi) {
    for item in doc.paths.paths.values_mut() {
        let ops =
            [&mut item.get, &mut item.put, &mut item.post, &mut item.delete, &mut item.patch, &mut item.head];
        for op in ops.into_iter().flatten() {
            let tag = op.tags.as_ref().and_then(|t| t.first()).cloned().unwrap_or_default();
            if let Some(id) = &op.operation_id
                && !tag.is_empty()
                && !id.starts_with(&format!("{tag}."))
                && !id.starts_with("page ")
            {
                op.operation_id = Some(format!("{tag}.{id}"));
            }
        }
    }
}

/// Describes a GET route that is not an API call (a page, an embedded file), so the document
/// lists every route the binary answers.
pub(crate) fn describe_file(router: &mut ApiRouter, path: &str, content_type: &str, summary: &str) {
    let response = ResponseBuilder::new()
        .description("The file (304 when `If-None-Match` carries its ETag).")
        .content(content_type, ContentBuilder::new().build())
        .build();
    let op = OperationBuilder::new()
        .summary(Some(summary))
        .tag("pages")
        .operation_id(Some(format!("page {path}")))
        .response("200", response)
        .build();
    router.get_openapi_mut().paths.add_path_operation(path, vec![HttpMethod::Get], op);
}
