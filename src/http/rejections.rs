//! Axum's own extractor rejections (a multipart body without a boundary, a query string with a
//! key twice, a JSON body of the wrong shape) answer in plain text that names internal types and
//! fields. Every such answer is turned into our JSON error shape with a sentence a person can act
//! on; the original text goes to the log only.

use axum::Json;
use axum::extract::Request;
use axum::http::{StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use serde_json::json;

/// Middleware: plain-text error answers become JSON.
pub(crate) async fn as_json(req: Request, next: Next) -> Response {
    let response = next.run(req).await;
    let status = response.status();
    let plain = response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("text/plain"));
    if !(status.is_client_error() || status.is_server_error()) || !plain {
        return response;
    }
    let (parts, body) = response.into_parts();
    // Rejection texts are a line or two; anything larger is not one of them.
    let text = match axum::body::to_bytes(body, 4096).await {
        Ok(b) => String::from_utf8_lossy(&b).into_owned(),
        Err(_) => String::new(),
    };
    tracing::info!(status = status.as_u16(), rejection = text, "request refused before its handler");
    let mut out =
        (status, Json(json!({ "error": title(status), "detail": sentence(status, &text) }))).into_response();
    for (name, value) in parts.headers.iter() {
        if name != header::CONTENT_TYPE && name != header::CONTENT_LENGTH {
            out.headers_mut().insert(name, value.clone());
        }
    }
    out
}

fn title(status: StatusCode) -> &'static str {
    status.canonical_reason().unwrap_or("Request refused")
}

/// What the client should do, from the kind of rejection (never its internal wording).
fn sentence(status: StatusCode, text: &str) -> &'static str {
    let t = text.to_ascii_lowercase();
    match status {
        StatusCode::PAYLOAD_TOO_LARGE => {
            "The request body is larger than this endpoint accepts; nothing was stored."
        }
        StatusCode::UNSUPPORTED_MEDIA_TYPE => {
            "The request body has the wrong Content-Type for this endpoint (JSON, a form, or multipart/form-data)."
        }
        _ if t.contains("boundary") || t.contains("multipart") => {
            "The upload is not valid multipart/form-data (its boundary is missing or does not match); send it as a form upload."
        }
        _ if t.contains("query string") => {
            "The query string is not valid: give each parameter once, with a value of the right kind."
        }
        _ if t.contains("json") => {
            "The JSON body could not be read: check its syntax and the type of each field."
        }
        _ if t.contains("path") => "The address names an item that cannot exist; check the id in the URL.",
        StatusCode::UNPROCESSABLE_ENTITY => "The request body could not be read as this endpoint expects.",
        _ => "The request could not be read; check its format and try again.",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::body::Body;

    /// A plain-text rejection as axum makes it.
    fn plain(status: StatusCode, text: &'static str) -> Response {
        (status, [(header::CONTENT_TYPE, "text/plain; charset=utf-8")], Body::from(text)).into_response()
    }
    use axum::Router;
    use axum::routing::get;
    use http_body_util::BodyExt;
    use tower::ServiceExt;

    #[tokio::test]
    async fn a_plain_text_rejection_becomes_json_without_its_internal_wording() {
        let app = Router::new()
            .route(
                "/q",
                get(|| async {
                    plain(
                        StatusCode::BAD_REQUEST,
                        "Failed to deserialize query string: duplicate field `status`",
                    )
                }),
            )
            .route("/ok", get(|| async { "fine" }))
            .layer(axum::middleware::from_fn(as_json));
        let r = app.clone().oneshot(Request::get("/q").body(Body::empty()).unwrap()).await.unwrap();
        assert_eq!(r.status(), StatusCode::BAD_REQUEST);
        assert_eq!(r.headers()[header::CONTENT_TYPE], "application/json");
        let body = r.into_body().collect().await.unwrap().to_bytes();
        let v: serde_json::Value = serde_json::from_slice(&body).unwrap();
        assert!(v["detail"].as_str().unwrap().contains("each parameter once"), "{v}");
        assert!(!String::from_utf8_lossy(&body).contains("duplicate field"));
        let r = app.oneshot(Request::get("/ok").body(Body::empty()).unwrap()).await.unwrap();
        assert_eq!(r.into_body().collect().await.unwrap().to_bytes(), "fine", "success is untouched");
    }
}
