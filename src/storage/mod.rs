//! The media store: the only code that knows where bytes live. Handlers see keys and
//! [`StoredObject`] receipts, never paths or buckets.

pub mod fsutil;
pub mod guard;
pub mod identity;
pub mod keys;
pub mod local;
pub mod mounts;
pub mod s3;

use bytes::Bytes;
use futures_util::Stream;

pub use keys::{Area, MediaKey};
pub use local::LocalStore;
pub use s3::S3Store;

/// Top-level folder (or key prefix) of files removed by cleanup, kept there for a grace period.
pub const TRASH: &str = "trash";

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

/// The configured store. An enum rather than a trait object: the set of backends is ours.
#[derive(Clone, Debug)]
pub enum MediaStore {
    Local(LocalStore),
    S3(S3Store),
}

/// Opens the configured store (nothing is checked here: that is the guard's job).
pub fn open(settings: &crate::config::Settings) -> anyhow::Result<MediaStore> {
    Ok(match &settings.storage {
        crate::config::StorageBackend::Local => MediaStore::Local(LocalStore::new(&settings.media_root)),
        crate::config::StorageBackend::S3(s) => MediaStore::S3(S3Store::new(s)?),
    })
}

impl MediaStore {
    pub fn name(&self) -> &'static str {
        match self {
            MediaStore::Local(_) => "local",
            MediaStore::S3(_) => "s3",
        }
    }

    /// Streams `body` into a new object at `key`; returns only once the bytes are durable.
    /// On any error nothing is left under `key`.
    pub async fn put_stream<S, E>(
        &self,
        key: &MediaKey,
        body: S,
        limit: u64,
    ) -> Result<StoredObject, StoreError>
    where
        S: Stream<Item = Result<Bytes, E>> + Send,
        E: std::fmt::Display,
    {
        let started = std::time::Instant::now();
        let result = match self {
            MediaStore::Local(s) => s.put_stream(key, body, limit).await,
            MediaStore::S3(s) => s.put_stream(key, body, limit).await,
        };
        let outcome = match &result {
            Ok(_) => "stored",
            Err(StoreError::NoSpace) => "no_space",
            Err(StoreError::TooLarge { .. }) => "too_large",
            Err(StoreError::Body(_)) => "interrupted",
            Err(StoreError::AlreadyExists) => "already_exists",
            Err(_) => "io_error",
        };
        metrics::counter!("atm_uploads_total", "store" => self.name(), "outcome" => outcome).increment(1);
        if let Ok(o) = &result {
            metrics::counter!("atm_upload_bytes_total", "store" => self.name()).increment(o.size);
        }
        match &result {
            Ok(o) => tracing::info!(
                store = self.name(), key = %o.key, size = o.size, sha256 = %o.sha256,
                duration_ms = started.elapsed().as_millis() as u64, "stored file"
            ),
            Err(e) => {
                tracing::warn!(store = self.name(), key = %key, error = %e, "store write failed")
            }
        }
        result
    }

    pub async fn read(&self, key: &MediaKey) -> Result<Bytes, StoreError> {
        match self {
            MediaStore::Local(s) => s.read(key).await,
            MediaStore::S3(s) => s.read(key).await,
        }
    }

    /// Answers a GET or HEAD for an object, with Range and conditional requests.
    pub async fn serve(
        &self,
        key: &MediaKey,
        req: axum::extract::Request,
    ) -> Result<axum::response::Response, StoreError> {
        match self {
            MediaStore::Local(s) => s.serve(key, req).await,
            MediaStore::S3(s) => s.serve(key, req).await,
        }
    }

    /// Deletes objects after a database commit no longer refers to them; failures are logged,
    /// not returned: a leftover file is an orphan for `fsck`, never a broken reference.
    pub async fn delete_all(&self, keys: &[MediaKey]) -> usize {
        let mut deleted = 0;
        for key in keys {
            match self.delete(key).await {
                Ok(()) | Err(StoreError::NotFound) => deleted += 1,
                Err(e) => tracing::warn!(key = %key, error = %e, "could not delete a stored file"),
            }
        }
        deleted
    }

    pub async fn delete(&self, key: &MediaKey) -> Result<(), StoreError> {
        match self {
            MediaStore::Local(s) => s.delete(key).await,
            MediaStore::S3(s) => s.delete(key).await,
        }
    }

    /// Keeps the objects a request has just stored only if recording them succeeds: when
    /// `record` fails (or refuses), they are deleted again, so no file stays that no row names.
    pub async fn keep_if_recorded<T, E>(
        &self,
        keys: &[MediaKey],
        record: impl std::future::Future<Output = Result<T, E>>,
    ) -> Result<T, E> {
        let result = record.await;
        if result.is_err() {
            let removed = self.delete_all(keys).await;
            if removed > 0 {
                tracing::info!(removed, "not recorded: the files this request stored were removed");
            }
        }
        result
    }

    /// Free and total space of the disk under a local store; a bucket has no such figure.
    pub fn space(&self) -> Option<mounts::Space> {
        match self {
            MediaStore::Local(s) => mounts::space(s.root()).ok(),
            MediaStore::S3(_) => None,
        }
    }

    /// Refuses a new upload before its body is read when the disk is above `refuse_percent`
    /// or the declared size would not fit.
    pub fn check_room(&self, declared: Option<u64>, refuse_percent: u8) -> Result<(), StoreError> {
        match self {
            MediaStore::Local(s) => {
                let Ok(space) = mounts::space(s.root()) else { return Ok(()) };
                let full = space.used_percent >= f64::from(refuse_percent);
                let too_big = declared.is_some_and(|d| d.saturating_add(1 << 20) > space.free_bytes);
                if full || too_big {
                    tracing::warn!(
                        used_percent = space.used_percent,
                        free_bytes = space.free_bytes,
                        ?declared,
                        "upload refused: disk nearly full"
                    );
                    return Err(StoreError::NoSpace);
                }
                Ok(())
            }
            // A bucket has no free-space figure to guard.
            MediaStore::S3(_) => Ok(()),
        }
    }

    /// Where the store is, for logs and reports.
    pub fn describe(&self) -> String {
        match self {
            MediaStore::Local(s) => s.root().display().to_string(),
            MediaStore::S3(s) => s.describe(),
        }
    }

    pub async fn read_marker(&self) -> std::io::Result<Option<identity::Marker>> {
        match self {
            MediaStore::Local(s) => identity::read_marker(s.root()),
            MediaStore::S3(s) => {
                match s.get_small(identity::MARKER_FILE).await.map_err(std::io::Error::other)? {
                    None => Ok(None),
                    Some(b) => serde_json::from_slice(&b).map(Some).map_err(std::io::Error::other),
                }
            }
        }
    }

    pub async fn write_marker(&self, marker: &identity::Marker) -> std::io::Result<()> {
        match self {
            MediaStore::Local(s) => identity::write_marker(s.root(), marker),
            MediaStore::S3(s) => {
                let json = serde_json::to_vec_pretty(marker).map_err(std::io::Error::other)?;
                s.put_small(identity::MARKER_FILE, json).await.map_err(std::io::Error::other)
            }
        }
    }

    /// Removes a file found by a listing, even one whose name no key could have (temporary
    /// files); used by fsck's repair only.
    pub async fn remove_listed(&self, key: &str) -> Result<(), StoreError> {
        if key.split('/').any(|seg| seg == ".." || seg.is_empty()) {
            return Err(StoreError::NotFound);
        }
        match self {
            MediaStore::Local(s) => Ok(tokio::fs::remove_file(s.root().join(key)).await?),
            MediaStore::S3(s) => s.remove_listed(key).await,
        }
    }

    /// SHA-256 of a listed file.
    pub async fn hash_listed(&self, key: &str) -> Result<String, StoreError> {
        match self {
            MediaStore::Local(s) => {
                let (s, key) = (s.clone(), key.to_string());
                Ok(tokio::task::spawn_blocking(move || s.hash_file(&key))
                    .await
                    .map_err(|e| StoreError::Io(std::io::Error::other(e)))??)
            }
            MediaStore::S3(s) => {
                let bytes = s.get_small(key).await?.ok_or(StoreError::NotFound)?;
                Ok(hex::encode(<sha2::Sha256 as sha2::Digest>::digest(&bytes)))
            }
        }
    }

    /// Moves a listed file under `trash/<date>/`, from where a later cleanup purges it.
    pub async fn move_to_trash(&self, key: &str) -> Result<(), StoreError> {
        let dated = format!("{TRASH}/{}/{key}", chrono::Utc::now().format("%Y%m%d"));
        match self {
            MediaStore::Local(s) => {
                let (from, to) = (s.root().join(key), s.root().join(&dated));
                let parent =
                    to.parent().map(std::path::Path::to_path_buf).unwrap_or_else(|| s.root().to_path_buf());
                tokio::task::spawn_blocking(move || -> std::io::Result<()> {
                    fsutil::create_dir_all_durable(&parent)?;
                    std::fs::rename(&from, &to)?;
                    fsutil::fsync_dir(&parent)?;
                    if let Some(old) = from.parent() {
                        fsutil::fsync_dir(old)?;
                    }
                    Ok(())
                })
                .await
                .map_err(|e| StoreError::Io(std::io::Error::other(e)))??;
                Ok(())
            }
            MediaStore::S3(s) => {
                let bytes = s.get_small(key).await?.ok_or(StoreError::NotFound)?;
                s.put_small(&dated, bytes.to_vec()).await?;
                s.remove_listed(key).await
            }
        }
    }

    /// Files in the trash: (key, size, modified).
    pub async fn list_trash(&self) -> Result<Vec<(String, u64, std::time::SystemTime)>, StoreError> {
        match self {
            MediaStore::Local(s) => {
                let trash = LocalStore::new(s.root().join(TRASH));
                if !trash.root().is_dir() {
                    return Ok(Vec::new());
                }
                let found = tokio::task::spawn_blocking(move || trash.walk())
                    .await
                    .map_err(|e| StoreError::Io(std::io::Error::other(e)))??;
                Ok(found.into_iter().map(|(k, size, t)| (format!("{TRASH}/{k}"), size, t)).collect())
            }
            MediaStore::S3(s) => s.list(TRASH).await,
        }
    }

    /// Every stored file: (key, size, modified).
    pub async fn list_all(&self) -> Result<Vec<(String, u64, std::time::SystemTime)>, StoreError> {
        match self {
            MediaStore::Local(s) => {
                let s = s.clone();
                Ok(tokio::task::spawn_blocking(move || s.walk())
                    .await
                    .map_err(|e| StoreError::Io(std::io::Error::other(e)))??)
            }
            MediaStore::S3(s) => {
                let mut all = s.list("").await?;
                all.retain(|(k, _, _)| {
                    k != identity::MARKER_FILE && !k.starts_with("disk-test/") && !k.starts_with(".probe/")
                });
                Ok(all)
            }
        }
    }

    /// A small write/read/delete round trip proving the store is usable right now.
    pub async fn probe(&self) -> Result<(), String> {
        match self {
            MediaStore::Local(s) => {
                let s = s.clone();
                tokio::task::spawn_blocking(move || s.probe()).await.map_err(|e| e.to_string())?
            }
            MediaStore::S3(s) => s.probe().await,
        }
    }
}
