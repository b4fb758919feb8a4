//! Request bodies as the original accepted them: JSON or form-encoded, read into a map.

use std::collections::HashMap;

use axum::Form;
use axum::extract::{FromRequest, Request};
use serde_json::{Map, Value};

use crate::error::ApiError;

pub(crate) async fn fields(req: Request) -> Result<Map<String, Value>, ApiError> {
    let content_type = req
        .headers()
        .get(axum::http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_ascii_lowercase();
    if content_type.starts_with("application/x-www-form-urlencoded") {
        let Form(map) = Form::<HashMap<String, String>>::from_request(req, &())
            .await
            .map_err(|_| ApiError::message("The form body could not be read"))?;
        return Ok(map.into_iter().map(|(k, v)| (k, Value::String(v))).collect());
    }
    let bytes = axum::body::Bytes::from_request(req, &())
        .await
        .map_err(|_| ApiError::message("The request body could not be read"))?;
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Ok(Map::new());
    }
    match serde_json::from_slice::<Value>(&bytes) {
        Ok(Value::Object(map)) => Ok(map),
        Ok(_) => Err(ApiError::BadRequest(serde_json::json!({
            "non_field_errors": ["Invalid data. Expected a dictionary."]
        }))),
        Err(e) => {
            Err(ApiError::BadRequest(serde_json::json!({ "detail": format!("JSON parse error - {e}") })))
        }
    }
}

/// A text field: `None` when absent, the string otherwise (numbers are accepted as text).
pub(crate) fn text(map: &Map<String, Value>, key: &str) -> Option<String> {
    match map.get(key)? {
        Value::String(s) => Some(s.clone()),
        Value::Null => None,
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}
