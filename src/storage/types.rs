//! The store's vocabulary, shared by both backends: the receipt of a durable write, the errors,
//! a listed file, and what a read for serving asks for and gets back.

use std::ops::Range;

use bytes::Bytes;
use futures_util::stream::BoxStream;

use super::{MediaKey, fsutil};

/// What the store acknowledges after a durable write: the receipt a database row records.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct StoredObject {
    pub key: MediaKey,
    pub size: u64,
    pub sha256: String,
}

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("the media storage is full")]
    NoSpace,
    #[error("an object with this key already exists")]
    AlreadyExists,
    #[error("no such object")]
    NotFound,
    #[error("the upload is larger than {limit} bytes")]
    TooLarge { limit: u64 },
    #[error("the upload was interrupted: {0}")]
    Body(String),
    #[error("storage I/O failed: {0}")]
    Io(#[source] std::io::Error),
}

impl From<std::io::Error> for StoreError {
    fn from(e: std::io::Error) -> Self {
        if fsutil::is_no_space(&e) {
            StoreError::NoSpace
        } else if e.kind() == std::io::ErrorKind::NotFound {
            StoreError::NotFound
        } else {
            StoreError::Io(e)
        }
    }
}

/// A file found by listing the store (temporary files included: their names say so).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Listed {
    /// The path relative to the store's root (or the bucket's prefix).
    pub key: String,
    pub size: u64,
    pub modified: std::time::SystemTime,
}

/// A single byte range of a read: `bytes=a-b` (end exclusive here), `bytes=a-`, `bytes=-n`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ByteRange {
    Bounded(u64, u64),
    From(u64),
    Last(u64),
}

/// What a GET or HEAD of an object asks for.
#[derive(Debug, Clone, Default)]
pub struct Fetch {
    pub range: Option<ByteRange>,
    pub if_none_match: Option<String>,
    pub head: bool,
}

/// What the store answers a read for serving with; the HTTP layer turns it into a response.
pub enum Fetched {
    /// A small object's bytes, from memory or just read whole; the HTTP layer applies Range
    /// and the validators.
    Hot(std::sync::Arc<super::HotObject>),
    /// An open local file too large to keep in memory, streamed by the HTTP layer.
    Open(OpenFile),
    /// A short-lived presigned URL to send the client to.
    Redirect(String),
    /// The client's copy (`If-None-Match`) is current.
    NotModified,
    /// The object's bytes (none for HEAD) and what a response says of them.
    Object(ObjectRead),
}

/// An opened local file and what a response says of it.
pub struct OpenFile {
    pub file: std::fs::File,
    pub size: u64,
    pub last_modified: chrono::DateTime<chrono::Utc>,
    pub etag: String,
    pub content_type: &'static str,
}

pub struct ObjectRead {
    pub size: u64,
    /// The bytes sent; `partial` when a range was asked for and honoured.
    pub range: Range<u64>,
    pub partial: bool,
    pub last_modified: chrono::DateTime<chrono::Utc>,
    pub etag: Option<String>,
    pub content_type: &'static str,
    pub body: Option<BoxStream<'static, std::io::Result<Bytes>>>,
}
