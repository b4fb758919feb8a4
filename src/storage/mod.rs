//! The media store: the only code that knows where bytes live. Handlers see keys and
//! [`StoredObject`] receipts, never paths or buckets.

pub mod copy;
pub mod fsutil;
pub mod guard;
pub mod hot;
pub mod identity;
pub mod keys;
pub mod local;
pub mod mounts;
pub mod s3;
mod types;

use std::path::PathBuf;
use std::sync::Arc;

use bytes::Bytes;
use futures_util::Stream;

pub use hot::{HotCache, HotObject};
pub use keys::{Area, MediaKey};
pub use local::LocalStore;
pub use s3::S3Store;
pub use types::{ByteRange, Fetch, Fetched, Listed, ObjectRead, OpenFile, StoreError, StoredObject};

/// Top-level folder (or key prefix) of files removed by cleanup, kept there for a grace period.
pub const TRASH: &str = "trash";

/// The configured store: a backend, and the in-memory copies of its small, often-read objects.
/// Each method hands the call to the backend; both backends have the same inherent API.
#[derive(Clone, Debug)]
pub struct MediaStore {
    backend: Backend,
    hot: Arc<HotCache>,
}

/// Where the bytes live. An enum rather than a trait object: the set of backends is ours.
#[derive(Clone, Debug)]
pub enum Backend {
    Local(LocalStore),
    S3(S3Store),
}

/// Opens the configured store (nothing is checked here: that is the guard's job).
pub fn open(settings: &crate::config::Settings) -> anyhow::Result<MediaStore> {
    let store = match &settings.storage {
        crate::config::StorageBackend::Local => MediaStore::local(LocalStore::new(&settings.media_root)),
        crate::config::StorageBackend::S3(s) => MediaStore::s3(S3Store::new(s)?),
    };
    let limits = &settings.limits;
    Ok(store.with_hot_cache(HotCache::new(limits.media_cache_bytes, limits.media_cache_object_bytes)))
}

/// One call on whichever backend this is.
macro_rules! on_backend {
    ($store:expr, $s:ident => $call:expr) => {
        match &$store.backend {
            Backend::Local($s) => $call,
            Backend::S3($s) => $call,
        }
    };
}

impl MediaStore {
    /// A store on a local folder, with no in-memory copies (tools and tests; `open` sizes them).
    pub fn local(store: LocalStore) -> MediaStore {
        MediaStore { backend: Backend::Local(store), hot: Arc::new(HotCache::off()) }
    }

    /// A store on a bucket, with no in-memory copies.
    pub fn s3(store: S3Store) -> MediaStore {
        MediaStore { backend: Backend::S3(store), hot: Arc::new(HotCache::off()) }
    }

    pub fn with_hot_cache(self, hot: HotCache) -> MediaStore {
        MediaStore { hot: Arc::new(hot), ..self }
    }

    pub fn backend(&self) -> &Backend {
        &self.backend
    }

    /// Bytes held in memory as copies of small objects.
    pub fn hot_bytes(&self) -> u64 {
        self.hot.held()
    }

    pub fn name(&self) -> &'static str {
        match self.backend {
            Backend::Local(_) => "local",
            Backend::S3(_) => "s3",
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
        let result = on_backend!(self, s => s.put_stream(key, body, limit).await);
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
        on_backend!(self, s => s.read(key).await)
    }

    /// A read for serving an object, with its range and validators; see [`Fetched`].
    /// A small object read lately is answered from memory.
    pub async fn fetch(&self, key: &MediaKey, fetch: &Fetch) -> Result<Fetched, StoreError> {
        if let Some(hit) = self.hot.get(key.as_str()) {
            return Ok(Fetched::Hot(hit));
        }
        let (max, mark) = (self.hot.max_object(), self.hot.mark());
        let fetched = on_backend!(self, s => s.fetch(key, fetch, max).await)?;
        if let Fetched::Hot(object) = &fetched {
            self.hot.keep(key.as_str(), Arc::clone(object), mark);
        }
        Ok(fetched)
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
        self.hot.forget(key.as_str());
        let deleted = on_backend!(self, s => s.delete(key).await);
        self.hot.forget(key.as_str());
        deleted
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
        on_backend!(self, s => s.space())
    }

    /// Refuses a new upload before its body is read when the disk is above `refuse_percent`
    /// or the declared size would not fit.
    pub fn check_room(&self, declared: Option<u64>, refuse_percent: u8) -> Result<(), StoreError> {
        on_backend!(self, s => s.check_room(declared, refuse_percent))
    }

    /// Where the store is, for logs and reports.
    pub fn describe(&self) -> String {
        on_backend!(self, s => s.describe())
    }

    /// Whether the store's root is there (a bucket always is; whether it answers is `probe`'s).
    pub fn root_exists(&self) -> bool {
        on_backend!(self, s => s.root_exists())
    }

    /// Creates the root and the area folders where a backend has folders (a restore target).
    pub async fn create_root(&self) -> std::io::Result<()> {
        on_backend!(self, s => s.create_root().await)
    }

    pub async fn read_marker(&self) -> std::io::Result<Option<identity::Marker>> {
        on_backend!(self, s => s.read_marker().await)
    }

    pub async fn write_marker(&self, marker: &identity::Marker) -> std::io::Result<()> {
        on_backend!(self, s => s.write_marker(marker).await)
    }

    /// Removes a file found by a listing, even one whose name no key could have (temporary
    /// files); used by fsck's repair only.
    pub async fn remove_listed(&self, key: &str) -> Result<(), StoreError> {
        if key.split('/').any(|seg| seg == ".." || seg.is_empty()) {
            return Err(StoreError::NotFound);
        }
        self.hot.forget(key);
        let removed = on_backend!(self, s => s.remove_listed(key).await);
        self.hot.forget(key);
        removed
    }

    /// SHA-256 of a listed file.
    pub async fn hash_listed(&self, key: &str) -> Result<String, StoreError> {
        on_backend!(self, s => s.hash_listed(key).await)
    }

    /// Moves a listed file under `trash/<date>/`, from where a later cleanup purges it.
    pub async fn move_to_trash(&self, key: &str) -> Result<(), StoreError> {
        let dated = format!("{TRASH}/{}/{key}", chrono::Utc::now().format("%Y%m%d"));
        self.hot.forget(key);
        let moved = on_backend!(self, s => s.move_listed(key, &dated).await);
        self.hot.forget(key);
        moved
    }

    /// Files in the trash.
    pub async fn list_trash(&self) -> Result<Vec<Listed>, StoreError> {
        on_backend!(self, s => s.list_trash().await)
    }

    /// Every stored file.
    pub async fn list_all(&self) -> Result<Vec<Listed>, StoreError> {
        on_backend!(self, s => s.list_all().await)
    }

    /// Writes an independent copy of the object to the local file `target` (a backup): a
    /// copy-on-write clone or a byte copy, never a link. Returns what was written; a missing
    /// object is an `io::ErrorKind::NotFound`.
    pub async fn export(&self, key: &MediaKey, target: PathBuf) -> std::io::Result<copy::Written> {
        on_backend!(self, s => s.export(key, target).await)
    }

    /// Writes a small named file the service keeps for itself (a disk-test probe), durably.
    pub async fn put_note(&self, key: &str, bytes: Vec<u8>) -> std::io::Result<()> {
        on_backend!(self, s => s.put_note(key, bytes).await)
    }

    pub async fn get_note(&self, key: &str) -> std::io::Result<Option<Bytes>> {
        on_backend!(self, s => s.get_note(key).await)
    }

    /// The names of the notes under `folder`, relative to it.
    pub async fn list_notes(&self, folder: &str) -> std::io::Result<Vec<String>> {
        on_backend!(self, s => s.list_notes(folder).await)
    }

    /// A small write/read/delete round trip proving the store is usable right now.
    pub async fn probe(&self) -> Result<(), String> {
        on_backend!(self, s => s.probe().await)
    }
}

/// Runs blocking file work off the async runtime, as one `io::Result`.
pub(crate) async fn blocking<T: Send + 'static>(
    work: impl FnOnce() -> std::io::Result<T> + Send + 'static,
) -> std::io::Result<T> {
    tokio::task::spawn_blocking(work).await.map_err(std::io::Error::other)?
}
