//! `GET|HEAD /media/{key}?exp=…&sig=…`: stored files through signed, expiring links, with Range,
//! ETag, Last-Modified, the right Content-Type and `Cache-Control: private`.
//! `GET /previews/{320|1600}/{key}?…`: a photo's thumbnail or screen-size copy under the photo's
//! own signature, each made once on first request (EXIF orientation applied) and stored beside it.
//! A stored photo that cannot be decoded answers 422 with a message, never a 500.

use axum::body::Body;
use axum::extract::{Path, Query, Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use utoipa_axum::routes;

use super::openapi::shapes;
use super::{ApiRouter, route_as};
use crate::auth::links::LinkCheck;
use crate::db::previews;
use crate::domain::photo;
use crate::error::ApiError;
use crate::reports::photos::rendition;
use crate::state::AppState;
use crate::storage::{Area, ByteRange, Fetch, Fetched, MediaKey, MediaStore, ObjectRead};
use bytes::Bytes;

pub(crate) fn router() -> ApiRouter {
    let r = route_as(ApiRouter::new(), "/media/{*key}", routes!(serve));
    route_as(r, "/previews/{edge}/{*key}", routes!(preview))
}

#[derive(Deserialize)]
struct Signature {
    exp: Option<String>,
    sig: Option<String>,
}

/// Checks a link's signature; returns the seconds it stays valid.
fn check(state: &AppState, key: &str, q: Signature) -> Result<i64, ApiError> {
    let (Some(exp), Some(sig)) = (q.exp, q.sig) else {
        return Err(ApiError::ForbiddenWith(
            "This link is not signed. Open the file from the application.".into(),
        ));
    };
    let exp: i64 = exp.parse().map_err(|_| ApiError::ForbiddenWith("This link is not valid.".into()))?;
    match state.links.verify(key, exp, &sig) {
        LinkCheck::Valid { exp } => Ok(exp - chrono::Utc::now().timestamp()),
        LinkCheck::Expired => {
            Err(ApiError::ForbiddenWith("This link has expired. Reload the page for a fresh one.".into()))
        }
        LinkCheck::Invalid => Err(ApiError::ForbiddenWith("This link is not valid.".into())),
    }
}

fn cached(mut response: Response, remaining: i64) -> Response {
    let cache = format!("private, max-age={}", remaining.clamp(0, 3600));
    if let Ok(v) = HeaderValue::from_str(&cache) {
        response.headers_mut().insert(header::CACHE_CONTROL, v);
    }
    response
}

/// A stored photo, PDF or Excel file through a signed, expiring link (from the JSON that names
/// it). Answers HEAD too, ranges, `ETag`/`If-None-Match` and `Last-Modified`.
#[utoipa::path(
    get,
    path = "/media/{key}",
    tag = "media",
    params(
        ("key" = String, Path, description = "The stored file's key, as the signed link gives it (it holds slashes)."),
        ("exp" = i64, Query, description = "When the link expires (Unix seconds)."),
        ("sig" = String, Query, description = "The link's signature."),
        ("Range" = Option<String>, Header, description = "One byte range, e.g. `bytes=0-1023`."),
    ),
    responses(
        (status = 200, description = "The file.", content_type = "application/octet-stream", body = shapes::Binary),
        (status = 206, description = "The asked range.", content_type = "application/octet-stream", body = shapes::Binary),
        (status = 304, description = "Not modified."),
        (status = 403, description = "The link is not signed, expired or its signature is wrong.", body = shapes::ErrorBody),
        (status = 404, description = "No such file.", body = shapes::ErrorBody),
        (status = 416, description = "The range is outside the file."),
    )
)]
async fn serve(
    State(state): State<AppState>,
    Path(key): Path<String>,
    Query(q): Query<Signature>,
    req: Request,
) -> Result<Response, ApiError> {
    let remaining = check(&state, &key, q)?;
    // A signature can only be made by us, for keys we made; parsing is one more fence.
    let key = MediaKey::parse(&key).map_err(|_| ApiError::NotFound("File not found".into()))?;
    let response = respond(&state, &key, req).await?;
    Ok(cached(response, remaining))
}

/// The preview sizes made: a list thumbnail and a full-screen copy.
pub const PREVIEW_EDGES: [u32; 2] = [320, 1600];

/// A photo's preview, 320 or 1600 px on its longest side, under the photo's own signed link;
/// made on first request and kept.
#[utoipa::path(
    get,
    path = "/previews/{edge}/{key}",
    tag = "media",
    params(
        ("edge" = u32, Path, description = "320 or 1600."),
        ("key" = String, Path, description = "The photo's key, as its signed link gives it."),
        ("exp" = i64, Query, description = "When the link expires (Unix seconds)."),
        ("sig" = String, Query, description = "The photo link's signature."),
    ),
    responses(
        (status = 200, description = "The preview (JPEG).", content_type = "image/jpeg", body = shapes::Binary),
        (status = 304, description = "Not modified."),
        (status = 403, description = "The link is not signed, expired or its signature is wrong.", body = shapes::ErrorBody),
        (status = 404, description = "No such photo or size.", body = shapes::ErrorBody),
        (status = 422, description = "The stored photo cannot be decoded.", body = shapes::ErrorBody),
        (status = 503, description = "Too many previews are being made at once; try again (`Retry-After`).", body = shapes::ErrorBody),
    )
)]
async fn preview(
    State(state): State<AppState>,
    Path((edge, key)): Path<(String, String)>,
    Query(q): Query<Signature>,
    req: Request,
) -> Result<Response, ApiError> {
    let remaining = check(&state, &key, q)?;
    let not_found = || ApiError::NotFound("File not found".into());
    let edge: u32 = edge.parse().ok().filter(|e| PREVIEW_EDGES.contains(e)).ok_or_else(not_found)?;
    let key = MediaKey::parse(&key).map_err(|_| not_found())?;
    let preview = match previews::find(&state.db, key.as_str(), edge).await? {
        Some(k) => k,
        None => make_preview(&state, &key, edge).await?,
    };
    let response = respond(&state, &preview, req).await?;
    Ok(cached(response, remaining))
}

/// Makes and stores the photo's preview of `edge` px; returns its key. A thumbnail decodes a
/// JPEG at reduced scale, so a review page's first look costs little; the screen size is made
/// when the viewer first asks for it.
async fn make_preview(state: &AppState, key: &MediaKey, edge: u32) -> Result<MediaKey, ApiError> {
    let photo_id = previews::photo_id(&state.db, key.as_str())
        .await?
        .ok_or_else(|| ApiError::NotFound("File not found".into()))?;
    // Decoding a large photo takes memory and a core: a few at a time.
    let _turn = state.gates.decoding.enter().await?;
    if let Some(k) = previews::find(&state.db, key.as_str(), edge).await? {
        return Ok(k);
    }
    let original = state.store.read(key).await?;
    let made = tokio::task::spawn_blocking(move || rendition(&original, edge)).await;
    let made = made
        .map_err(anyhow::Error::from)
        .and_then(|r| r)
        .map_err(|e| {
            // The stored bytes will not decode on a retry either (nor stop panicking the
            // decoder): a clear 422, not a 500 loop.
            tracing::warn!(key = %key, edge, error = format!("{e:#}"), "photo could not be rendered");
            ApiError::Unprocessable(
                "This photo cannot be shown as a preview (it could not be decoded). Open the original file instead."
                    .into(),
            )
        })?;
    let preview = MediaKey::generate(Area::Previews, "jpg");
    let body = futures_util::stream::once(async move { Ok::<_, std::io::Error>(Bytes::from(made.jpeg)) });
    let stored = state.store.put_stream(&preview, body, photo::MAX_BYTES).await?;
    if let Err(e) = previews::record(&state.db, photo_id, edge, &stored).await {
        state.store.delete_all(std::slice::from_ref(&preview)).await;
        return Err(e.into());
    }
    tracing::info!(key = %key, edge, preview = %preview, size = stored.size, "preview made");
    metrics::counter!("atm_previews_made_total", "edge" => edge.to_string()).increment(1);
    Ok(preview)
}

async fn respond(state: &AppState, key: &MediaKey, req: Request) -> Result<Response, ApiError> {
    serve_object(&state.store, key, req).await
}

/// Answers a GET or HEAD for a stored object with Range and conditional requests: a small
/// object from memory, a large local file streamed from its open handle, a bucket's object
/// from its stream or by a redirect.
pub async fn serve_object(store: &MediaStore, key: &MediaKey, req: Request) -> Result<Response, ApiError> {
    let fetch = fetch_of(req.method(), req.headers());
    match store.fetch(key, &fetch).await? {
        Fetched::Hot(o) => {
            let plan = plan(req.headers(), o.bytes.len() as u64, &o.last_modified, &o.etag);
            let body = |r: std::ops::Range<u64>| Body::from(o.bytes.slice(r.start as usize..r.end as usize));
            Ok(answer(&plan, &fetch, o.content_type, &o.last_modified, &o.etag, body))
        }
        Fetched::Open(f) => {
            let plan = plan(req.headers(), f.size, &f.last_modified, &f.etag);
            let (content_type, last_modified, etag) = (f.content_type, f.last_modified, f.etag.clone());
            let mut file = f.file;
            let body = |r: std::ops::Range<u64>| {
                use std::io::{Seek, SeekFrom};
                // A seek on an open file does no I/O.
                if r.start > 0 && file.seek(SeekFrom::Start(r.start)).is_err() {
                    return Body::from_stream(futures_util::stream::once(async {
                        Err::<Bytes, _>(std::io::Error::other("seek failed"))
                    }));
                }
                use tokio::io::AsyncReadExt;
                let reader = tokio::fs::File::from_std(file).take(r.end - r.start);
                Body::from_stream(tokio_util::io::ReaderStream::with_capacity(reader, FILE_CHUNK))
            };
            Ok(answer(&plan, &fetch, content_type, &last_modified, &etag, body))
        }
        Fetched::Redirect(url) => Ok((StatusCode::FOUND, [(header::LOCATION, url)]).into_response()),
        Fetched::NotModified => Ok(StatusCode::NOT_MODIFIED.into_response()),
        Fetched::Object(o) => Ok(object_response(o)),
    }
}

/// Bytes read from a large file per trip to the blocking pool: fewer trips than the 64 KiB
/// of a plain file service, and little memory per connection.
const FILE_CHUNK: usize = 256 * 1024;

/// What a GET or HEAD of an object with these validators gets.
#[derive(Debug, PartialEq, Eq)]
enum Plan {
    NotModified,
    Whole(u64),
    Part { range: std::ops::Range<u64>, size: u64 },
    Unsatisfiable(u64),
}

/// RFC 9110's order: `If-None-Match` (any listed tag, weakly, or `*`) decides alone when
/// present, else `If-Modified-Since`; then a single `Range` (with `If-Range` naming this
/// version) is honoured, anything else serves the whole object.
fn plan(h: &HeaderMap, size: u64, last_modified: &chrono::DateTime<chrono::Utc>, etag: &str) -> Plan {
    let text = |name: header::HeaderName| h.get(name).and_then(|v| v.to_str().ok());
    let bare = |t: &str| t.trim().trim_start_matches("W/").to_string();
    let seconds = last_modified.timestamp();
    let since = |t: &str| {
        let at = httpdate::parse_http_date(t.trim()).ok()?;
        Some(chrono::DateTime::<chrono::Utc>::from(at).timestamp())
    };
    let fresh = match (text(header::IF_NONE_MATCH), text(header::IF_MODIFIED_SINCE)) {
        (Some(tags), _) => tags.split(',').any(|t| t.trim() == "*" || bare(t) == bare(etag)),
        (None, Some(t)) => since(t).is_some_and(|at| seconds <= at),
        (None, None) => false,
    };
    if fresh {
        return Plan::NotModified;
    }
    let Some(range) = text(header::RANGE).and_then(parse_range) else {
        return Plan::Whole(size);
    };
    if let Some(if_range) = text(header::IF_RANGE) {
        let same = if if_range.trim().ends_with('"') {
            if_range.trim() == etag
        } else {
            since(if_range) == Some(seconds)
        };
        if !same {
            return Plan::Whole(size);
        }
    }
    let range = match range {
        ByteRange::Bounded(a, b) if a < size => a..b.min(size),
        ByteRange::From(a) if a < size => a..size,
        ByteRange::Last(n) if n > 0 && size > 0 => size - n.min(size)..size,
        _ => return Plan::Unsatisfiable(size),
    };
    Plan::Part { range, size }
}

fn http_date(t: &chrono::DateTime<chrono::Utc>) -> String {
    httpdate::fmt_http_date(std::time::SystemTime::from(*t))
}

/// The response a plan makes; `body` gives the bytes of a range (not called for HEAD).
fn answer(
    plan: &Plan,
    fetch: &Fetch,
    content_type: &'static str,
    last_modified: &chrono::DateTime<chrono::Utc>,
    etag: &str,
    body: impl FnOnce(std::ops::Range<u64>) -> Body,
) -> Response {
    let mut b = Response::builder().header(header::LAST_MODIFIED, http_date(last_modified));
    if let Ok(tag) = HeaderValue::from_str(etag) {
        b = b.header(header::ETAG, tag);
    }
    let (status, range, size) = match plan {
        Plan::NotModified => return empty(b.status(StatusCode::NOT_MODIFIED)),
        Plan::Unsatisfiable(size) => {
            let b = b
                .status(StatusCode::RANGE_NOT_SATISFIABLE)
                .header(header::CONTENT_RANGE, format!("bytes */{size}"));
            return empty(b);
        }
        Plan::Whole(size) => (StatusCode::OK, 0..*size, *size),
        Plan::Part { range, size } => (StatusCode::PARTIAL_CONTENT, range.clone(), *size),
    };
    b = b
        .status(status)
        .header(header::CONTENT_TYPE, content_type)
        .header(header::ACCEPT_RANGES, "bytes")
        .header(header::CONTENT_LENGTH, range.end - range.start);
    if status == StatusCode::PARTIAL_CONTENT {
        b = b.header(header::CONTENT_RANGE, format!("bytes {}-{}/{size}", range.start, range.end - 1));
    }
    let body = if fetch.head { Body::empty() } else { body(range) };
    b.body(body).unwrap_or_else(|_| StatusCode::INTERNAL_SERVER_ERROR.into_response())
}

fn empty(b: axum::http::response::Builder) -> Response {
    b.body(Body::empty()).unwrap_or_else(|_| StatusCode::INTERNAL_SERVER_ERROR.into_response())
}

fn fetch_of(method: &Method, h: &HeaderMap) -> Fetch {
    let text = |name: header::HeaderName| h.get(name).and_then(|v| v.to_str().ok()).map(str::to_string);
    Fetch {
        range: text(header::RANGE).and_then(|r| parse_range(&r)),
        if_none_match: text(header::IF_NONE_MATCH),
        head: method == Method::HEAD,
    }
}

fn object_response(o: ObjectRead) -> Response {
    let mut b = Response::builder()
        .header(header::CONTENT_TYPE, o.content_type)
        .header(header::ACCEPT_RANGES, "bytes")
        .header(header::CONTENT_LENGTH, o.range.end - o.range.start)
        .header(header::LAST_MODIFIED, http_date(&o.last_modified));
    if let Some(etag) = o.etag.as_deref().and_then(|e| HeaderValue::from_str(e).ok()) {
        b = b.header(header::ETAG, etag);
    }
    if o.partial {
        b = b.status(StatusCode::PARTIAL_CONTENT).header(
            header::CONTENT_RANGE,
            format!("bytes {}-{}/{}", o.range.start, o.range.end.saturating_sub(1), o.size),
        );
    }
    let body = o.body.map_or_else(Body::empty, Body::from_stream);
    b.body(body).unwrap_or_else(|_| StatusCode::INTERNAL_SERVER_ERROR.into_response())
}

/// A single `bytes=a-b`, `bytes=a-` or `bytes=-n` range; anything else is served whole.
fn parse_range(v: &str) -> Option<ByteRange> {
    let spec = v.strip_prefix("bytes=")?;
    if spec.contains(',') {
        return None;
    }
    let (a, b) = spec.split_once('-')?;
    match (a.trim(), b.trim()) {
        ("", n) => n.parse().ok().map(ByteRange::Last),
        (a, "") => a.parse().ok().map(ByteRange::From),
        (a, b) => {
            let (a, b): (u64, u64) = (a.parse().ok()?, b.parse().ok()?);
            (b >= a).then_some(ByteRange::Bounded(a, b.checked_add(1)?))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.insert(*k, HeaderValue::from_str(v).unwrap());
        }
        h
    }

    #[test]
    fn validators_and_ranges_decide_the_answer() {
        let at = chrono::DateTime::parse_from_rfc2822("Tue, 01 Dec 2026 10:00:00 GMT").unwrap().to_utc();
        let etag = "\"a-1\"";
        let p = |pairs: &[(&'static str, &str)]| plan(&headers(pairs), 1000, &at, etag);
        assert_eq!(p(&[]), Plan::Whole(1000));
        assert_eq!(p(&[("if-none-match", "\"x\", W/\"a-1\"")]), Plan::NotModified);
        assert_eq!(p(&[("if-none-match", "*")]), Plan::NotModified);
        assert_eq!(
            p(&[("if-none-match", "\"x\""), ("if-modified-since", "Tue, 01 Dec 2026 10:00:00 GMT")]),
            Plan::Whole(1000)
        );
        assert_eq!(p(&[("if-modified-since", "Tue, 01 Dec 2026 10:00:00 GMT")]), Plan::NotModified);
        assert_eq!(p(&[("if-modified-since", "Tue, 01 Dec 2026 09:59:59 GMT")]), Plan::Whole(1000));
        assert_eq!(p(&[("if-modified-since", "yesterday")]), Plan::Whole(1000));
        assert_eq!(p(&[("range", "bytes=0-99")]), Plan::Part { range: 0..100, size: 1000 });
        assert_eq!(p(&[("range", "bytes=900-5000")]), Plan::Part { range: 900..1000, size: 1000 });
        assert_eq!(p(&[("range", "bytes=-10")]), Plan::Part { range: 990..1000, size: 1000 });
        assert_eq!(p(&[("range", "bytes=-5000")]), Plan::Part { range: 0..1000, size: 1000 });
        assert_eq!(p(&[("range", "bytes=1000-")]), Plan::Unsatisfiable(1000));
        assert_eq!(p(&[("range", "bytes=-0")]), Plan::Unsatisfiable(1000));
        assert_eq!(p(&[("range", "bytes=0-1,4-5")]), Plan::Whole(1000));
        assert_eq!(p(&[("range", "bytes=0-9"), ("if-range", "\"old\"")]), Plan::Whole(1000));
        assert_eq!(p(&[("range", "bytes=0-9"), ("if-range", etag)]), Plan::Part { range: 0..10, size: 1000 });
        assert_eq!(
            p(&[("range", "bytes=0-9"), ("if-range", "Tue, 01 Dec 2026 10:00:00 GMT")]),
            Plan::Part { range: 0..10, size: 1000 }
        );
    }

    #[test]
    fn single_byte_ranges_parse_and_others_do_not() {
        assert_eq!(parse_range("bytes=0-99"), Some(ByteRange::Bounded(0, 100)));
        assert_eq!(parse_range("bytes=100-"), Some(ByteRange::From(100)));
        assert_eq!(parse_range("bytes=-20"), Some(ByteRange::Last(20)));
        assert_eq!(parse_range("bytes=5-1"), None);
        assert_eq!(parse_range("bytes=0-1,5-6"), None);
        assert_eq!(parse_range("items=0-1"), None);
        assert_eq!(parse_range(&format!("bytes=0-{}", u64::MAX)), None, "no overflow");
    }
}
