//! The S3-compatible store (AWS S3, R2, MinIO, Backblaze…) through `object_store`. Writes are
//! create-only (If-None-Match), carry a SHA-256 checksum for the server to verify, and are
//! confirmed by size before the caller records them. An endpoint that does not reject a wrong
//! checksum (found by a canary at start) gets every write read back and hashed instead.

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use bytes::{Bytes, BytesMut};
use futures_util::{Stream, StreamExt, TryStreamExt};
use object_store::aws::{AmazonS3, AmazonS3Builder, Checksum};
use object_store::path::Path;
use object_store::signer::Signer;
use object_store::{GetOptions, GetRange, ObjectStore, ObjectStoreExt, PutMode, PutOptions, PutPayload};
use sha2::{Digest, Sha256};

use super::copy::{self, Written};
use super::{
    ByteRange, Fetch, Fetched, HotObject, Listed, MediaKey, ObjectRead, StoreError, StoredObject, TRASH,
    blocking, identity, keys::content_type, mounts,
};
use crate::config::S3Settings;

#[derive(Clone, Debug)]
pub struct S3Store {
    inner: Arc<AmazonS3>,
    prefix: String,
    pub bucket: String,
    presigned_redirects: bool,
    verify_readback: Arc<AtomicBool>,
}

impl From<object_store::Error> for StoreError {
    fn from(e: object_store::Error) -> Self {
        match e {
            object_store::Error::NotFound { .. } => StoreError::NotFound,
            object_store::Error::AlreadyExists { .. } | object_store::Error::Precondition { .. } => {
                StoreError::AlreadyExists
            }
            other => StoreError::Io(std::io::Error::other(other)),
        }
    }
}

impl S3Store {
    pub fn new(s: &S3Settings) -> anyhow::Result<S3Store> {
        let mut b = AmazonS3Builder::new()
            .with_bucket_name(&s.bucket)
            .with_region(&s.region)
            .with_checksum_algorithm(Checksum::SHA256)
            .with_virtual_hosted_style_request(!s.path_style);
        if let Some(endpoint) = &s.endpoint {
            b = b.with_endpoint(endpoint).with_allow_http(endpoint.starts_with("http://"));
        }
        if let (Some(id), Some(secret)) = (&s.access_key_id, &s.secret_access_key) {
            b = b.with_access_key_id(id).with_secret_access_key(secret.expose());
        }
        Ok(S3Store {
            inner: Arc::new(b.build()?),
            prefix: s.prefix.trim_matches('/').to_string(),
            bucket: s.bucket.clone(),
            presigned_redirects: s.presigned_redirects,
            verify_readback: Arc::new(AtomicBool::new(false)),
        })
    }

    pub fn describe(&self) -> String {
        if self.prefix.is_empty() {
            format!("s3://{}", self.bucket)
        } else {
            format!("s3://{}/{}", self.bucket, self.prefix)
        }
    }

    pub fn verifies_by_readback(&self) -> bool {
        self.verify_readback.load(Ordering::Relaxed)
    }

    fn path(&self, key: &str) -> Path {
        if self.prefix.is_empty() { Path::from(key) } else { Path::from(format!("{}/{key}", self.prefix)) }
    }

    pub(crate) async fn put_stream<S, E>(
        &self,
        key: &MediaKey,
        body: S,
        limit: u64,
    ) -> Result<StoredObject, StoreError>
    where
        S: Stream<Item = Result<Bytes, E>> + Send,
        E: std::fmt::Display,
    {
        // Bounded by `limit` (10 MiB for a photo): one object in memory at a time per upload.
        let mut buf = BytesMut::new();
        let mut body = std::pin::pin!(body);
        while let Some(chunk) = body.next().await {
            let chunk = chunk.map_err(|e| StoreError::Body(e.to_string()))?;
            if (buf.len() + chunk.len()) as u64 > limit {
                return Err(StoreError::TooLarge { limit });
            }
            buf.extend_from_slice(&chunk);
        }
        let bytes = buf.freeze();
        let sha256 = hex::encode(Sha256::digest(&bytes));
        self.put_bytes(key.as_str(), bytes.clone(), true).await?;
        let path = self.path(key.as_str());
        let meta = self.inner.head(&path).await?;
        if meta.size != bytes.len() as u64 {
            let _ = self.inner.delete(&path).await;
            return Err(StoreError::Io(std::io::Error::other(format!(
                "size check failed: wrote {} bytes, the bucket holds {}",
                bytes.len(),
                meta.size
            ))));
        }
        if self.verifies_by_readback() {
            let back = self.inner.get(&path).await?.bytes().await?;
            if hex::encode(Sha256::digest(&back)) != sha256 {
                let _ = self.inner.delete(&path).await;
                return Err(StoreError::Io(std::io::Error::other(
                    "read-back hash differs from what was sent",
                )));
            }
        }
        Ok(StoredObject { key: key.clone(), size: bytes.len() as u64, sha256 })
    }

    async fn put_bytes(&self, key: &str, bytes: Bytes, create_only: bool) -> Result<(), StoreError> {
        let opts = PutOptions {
            mode: if create_only { PutMode::Create } else { PutMode::Overwrite },
            ..Default::default()
        };
        self.inner.put_opts(&self.path(key), PutPayload::from(bytes), opts).await?;
        Ok(())
    }

    /// Small named objects the service keeps itself (the storage marker, disk-test probes).
    pub async fn put_small(&self, key: &str, bytes: Vec<u8>) -> Result<(), StoreError> {
        self.put_bytes(key, Bytes::from(bytes), false).await
    }

    pub async fn get_small(&self, key: &str) -> Result<Option<Bytes>, StoreError> {
        match self.inner.get(&self.path(key)).await {
            Ok(r) => Ok(Some(r.bytes().await?)),
            Err(object_store::Error::NotFound { .. }) => Ok(None),
            Err(e) => Err(e.into()),
        }
    }

    pub(crate) async fn remove_listed(&self, key: &str) -> Result<(), StoreError> {
        Ok(self.inner.delete(&self.path(key)).await?)
    }

    pub(crate) async fn read(&self, key: &MediaKey) -> Result<Bytes, StoreError> {
        Ok(self.inner.get(&self.path(key.as_str())).await?.bytes().await?)
    }

    pub(crate) async fn delete(&self, key: &MediaKey) -> Result<(), StoreError> {
        Ok(self.inner.delete(&self.path(key.as_str())).await?)
    }

    /// Keys (relative to the prefix) with sizes and modification times under `under`.
    pub(crate) async fn list(&self, under: &str) -> Result<Vec<Listed>, StoreError> {
        let base = self.path(under);
        let strip = if self.prefix.is_empty() { String::new() } else { format!("{}/", self.prefix) };
        let metas: Vec<_> = self.inner.list(Some(&base)).try_collect().await?;
        Ok(metas
            .into_iter()
            .map(|m| {
                let key = m.location.as_ref().strip_prefix(&strip).unwrap_or(m.location.as_ref()).to_string();
                Listed { key, size: m.size, modified: std::time::SystemTime::from(m.last_modified) }
            })
            .collect())
    }

    pub async fn probe(&self) -> Result<(), String> {
        let key = format!(".probe/{}", uuid::Uuid::new_v4().simple());
        let payload = b"atm-maint storage probe".to_vec();
        let attempt = async {
            self.put_small(&key, payload.clone()).await?;
            let back = self.get_small(&key).await?.unwrap_or_default();
            self.inner.delete(&self.path(&key)).await?;
            if back.as_ref() != payload.as_slice() {
                return Err(StoreError::Io(std::io::Error::other("read back different bytes than written")));
            }
            Ok::<_, StoreError>(())
        };
        attempt.await.map_err(|e| format!("the bucket {} is not usable: {e}", self.describe()))
    }

    /// Sends a write whose checksum header is wrong. An endpoint that accepts it does not verify
    /// checksums, so from then on every write is read back and hashed.
    pub async fn checksum_canary(&self) -> Result<bool, String> {
        let key = format!(".probe/canary-{}", uuid::Uuid::new_v4().simple());
        let path = self.path(&key);
        let url =
            self.inner.signed_url(object_store::signer::Method::PUT, &path, Duration::from_secs(60)).await;
        let url = url.map_err(|e| format!("cannot sign a canary request: {e}"))?;
        let wrong = base64_sha256(b"not the body");
        let response = reqwest::Client::new()
            .put(url.as_str())
            .header("x-amz-checksum-sha256", wrong)
            .header("x-amz-sdk-checksum-algorithm", "SHA256")
            .body("canary body")
            .send()
            .await
            .map_err(|e| format!("canary request failed: {e}"))?;
        let rejected = response.status().is_client_error();
        if !rejected {
            let _ = self.inner.delete(&path).await;
            self.verify_readback.store(true, Ordering::Relaxed);
        }
        Ok(rejected)
    }

    /// GET or HEAD with a range and `If-None-Match`, or a short-lived presigned redirect.
    /// A whole object of at most `keep_max` bytes comes back in memory (for the hot cache);
    /// anything else as a stream, or as a redirect when so configured.
    pub(crate) async fn fetch(
        &self,
        key: &MediaKey,
        fetch: &Fetch,
        keep_max: u64,
    ) -> Result<Fetched, StoreError> {
        let path = self.path(key.as_str());
        if self.presigned_redirects {
            let url = self
                .inner
                .signed_url(object_store::signer::Method::GET, &path, Duration::from_secs(300))
                .await
                .map_err(StoreError::from)?;
            return Ok(Fetched::Redirect(url.to_string()));
        }
        let range = fetch.range.map(|r| match r {
            ByteRange::Bounded(a, b) => GetRange::Bounded(a..b),
            ByteRange::From(a) => GetRange::Offset(a),
            ByteRange::Last(n) => GetRange::Suffix(n),
        });
        let opts = GetOptions {
            if_none_match: fetch.if_none_match.clone(),
            range: range.clone(),
            head: fetch.head,
            ..Default::default()
        };
        let result = match self.inner.get_opts(&path, opts).await {
            Err(object_store::Error::NotModified { .. }) => return Ok(Fetched::NotModified),
            other => other?,
        };
        let (meta, served) = (result.meta.clone(), result.range.clone());
        let content_type = content_type(key.as_str());
        if range.is_none() && !fetch.head && meta.size <= keep_max {
            let mut whole = BytesMut::with_capacity(meta.size as usize);
            let mut stream = result.into_stream();
            while let Some(chunk) = stream.next().await {
                whole.extend_from_slice(&chunk.map_err(StoreError::from)?);
                if whole.len() as u64 > keep_max {
                    return Err(StoreError::Io(std::io::Error::other("the object grew while it was read")));
                }
            }
            let etag = meta
                .e_tag
                .unwrap_or_else(|| format!("\"{:x}-{:x}\"", meta.size, meta.last_modified.timestamp()));
            return Ok(Fetched::Hot(Arc::new(HotObject::new(
                whole.freeze(),
                meta.last_modified,
                etag,
                content_type,
            ))));
        }
        let body = (!fetch.head).then(|| result.into_stream().map_err(std::io::Error::other).boxed());
        Ok(Fetched::Object(ObjectRead {
            size: meta.size,
            range: served,
            partial: range.is_some(),
            last_modified: meta.last_modified,
            etag: meta.e_tag,
            content_type,
            body,
        }))
    }
}

/// The same API as [`super::LocalStore`]'s, for [`super::MediaStore`] to hand calls to.
impl S3Store {
    /// A bucket has no free-space figure.
    pub(crate) fn space(&self) -> Option<mounts::Space> {
        None
    }

    /// A bucket has no free-space figure to guard.
    pub(crate) fn check_room(&self, _declared: Option<u64>, _refuse_percent: u8) -> Result<(), StoreError> {
        Ok(())
    }

    pub(crate) fn root_exists(&self) -> bool {
        true
    }

    pub(crate) async fn create_root(&self) -> std::io::Result<()> {
        Ok(())
    }

    pub(crate) async fn read_marker(&self) -> std::io::Result<Option<identity::Marker>> {
        match self.get_small(identity::MARKER_FILE).await.map_err(std::io::Error::other)? {
            None => Ok(None),
            Some(b) => serde_json::from_slice(&b).map(Some).map_err(std::io::Error::other),
        }
    }

    pub(crate) async fn write_marker(&self, marker: &identity::Marker) -> std::io::Result<()> {
        let json = serde_json::to_vec_pretty(marker).map_err(std::io::Error::other)?;
        self.put_small(identity::MARKER_FILE, json).await.map_err(std::io::Error::other)
    }

    pub(crate) async fn hash_listed(&self, key: &str) -> Result<String, StoreError> {
        let bytes = self.get_small(key).await?.ok_or(StoreError::NotFound)?;
        Ok(hex::encode(Sha256::digest(&bytes)))
    }

    /// Copies a listed object to `to`, then removes it (a bucket has no rename).
    pub(crate) async fn move_listed(&self, key: &str, to: &str) -> Result<(), StoreError> {
        let bytes = self.get_small(key).await?.ok_or(StoreError::NotFound)?;
        self.put_small(to, bytes.to_vec()).await?;
        self.remove_listed(key).await
    }

    pub(crate) async fn list_trash(&self) -> Result<Vec<Listed>, StoreError> {
        self.list(TRASH).await
    }

    /// Every object but the marker, disk-test probes and write probes.
    pub(crate) async fn list_all(&self) -> Result<Vec<Listed>, StoreError> {
        let mut all = self.list("").await?;
        all.retain(|l| {
            l.key != identity::MARKER_FILE
                && !l.key.starts_with("disk-test/")
                && !l.key.starts_with(".probe/")
        });
        Ok(all)
    }

    pub(crate) async fn put_note(&self, key: &str, bytes: Vec<u8>) -> std::io::Result<()> {
        self.put_small(key, bytes).await.map_err(std::io::Error::other)
    }

    pub(crate) async fn get_note(&self, key: &str) -> std::io::Result<Option<Bytes>> {
        self.get_small(key).await.map_err(std::io::Error::other)
    }

    pub(crate) async fn list_notes(&self, folder: &str) -> std::io::Result<Vec<String>> {
        let listed = self.list(folder).await.map_err(std::io::Error::other)?;
        let prefix = format!("{folder}/");
        Ok(listed.into_iter().map(|l| l.key.strip_prefix(&prefix).unwrap_or(&l.key).to_string()).collect())
    }

    pub(crate) async fn export(&self, key: &MediaKey, target: PathBuf) -> std::io::Result<Written> {
        let bytes = self.read(key).await.map_err(|e| match e {
            StoreError::NotFound => std::io::Error::from(std::io::ErrorKind::NotFound),
            StoreError::Io(e) => e,
            other => std::io::Error::other(other),
        })?;
        blocking(move || copy::write_bytes(&bytes, &target)).await
    }
}

fn base64_sha256(bytes: &[u8]) -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.encode(Sha256::digest(bytes))
}
