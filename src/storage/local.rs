//! The local-disk store. A write goes to a temporary name in its final directory, is fsync'd,
//! linked into place (never over an existing object) and the directory fsync'd: a crash at any
//! moment leaves either the whole object or no object.

use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};

use bytes::Bytes;
use futures_util::{Stream, StreamExt};
use sha2::{Digest, Sha256};

use super::copy::{self, Written};
use super::fsutil::{self, TEMP_PREFIX};
use super::{
    Area, Fetch, Fetched, HotObject, Listed, MediaKey, OpenFile, StoreError, StoredObject, TRASH, blocking,
    identity, keys::content_type, mounts,
};

#[derive(Clone, Debug)]
pub struct LocalStore {
    root: PathBuf,
}

impl LocalStore {
    pub fn new(root: impl Into<PathBuf>) -> Self {
        LocalStore { root: root.into() }
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    pub fn path_of(&self, key: &MediaKey) -> PathBuf {
        self.root.join(key.as_str())
    }

    /// Creates the area folders (photos, pdfs, excel_uploads) under an existing root.
    pub fn create_areas(&self) -> std::io::Result<()> {
        for area in Area::ALL {
            fsutil::create_dir_all_durable(&self.root.join(area.folder()))?;
        }
        Ok(())
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
        let final_path = self.path_of(key);
        let dir = final_path.parent().map(Path::to_path_buf).unwrap_or_else(|| self.root.clone());
        {
            let dir = dir.clone();
            tokio::task::spawn_blocking(move || fsutil::create_dir_all_durable(&dir))
                .await
                .map_err(|e| StoreError::Io(std::io::Error::other(e)))??;
        }
        let tmp = fsutil::temp_path_beside(&final_path);
        let result = write_then_publish(&tmp, &final_path, &dir, body, limit).await;
        if result.is_err() {
            let _ = tokio::fs::remove_file(&tmp).await;
        }
        let (size, sha256) = result?;
        Ok(StoredObject { key: key.clone(), size, sha256 })
    }

    pub(crate) async fn read(&self, key: &MediaKey) -> Result<Bytes, StoreError> {
        Ok(Bytes::from(tokio::fs::read(self.path_of(key)).await?))
    }

    /// Every file under the root except the marker, disk-test probes and write probes:
    /// (relative key, size, modified time). Temporary files are included (their names say so).
    fn walk(&self) -> std::io::Result<Vec<Listed>> {
        let mut out = Vec::new();
        let mut stack = vec![self.root.clone()];
        while let Some(dir) = stack.pop() {
            for entry in std::fs::read_dir(&dir)? {
                let entry = entry?;
                let path = entry.path();
                let rel = path.strip_prefix(&self.root).unwrap_or(&path).to_string_lossy().into_owned();
                let meta = entry.metadata()?;
                if meta.is_dir() {
                    if rel != "disk-test" && rel != super::TRASH {
                        stack.push(path);
                    }
                } else if rel != super::identity::MARKER_FILE {
                    let modified = meta.modified().unwrap_or(std::time::UNIX_EPOCH);
                    out.push(Listed { key: rel, size: meta.len(), modified });
                }
            }
        }
        out.sort();
        Ok(out)
    }

    /// SHA-256 of a stored file, read in blocks.
    fn hash_file(&self, rel: &str) -> std::io::Result<String> {
        use std::io::Read;
        let mut f = std::fs::File::open(self.root.join(rel))?;
        let mut h = Sha256::new();
        let mut buf = vec![0u8; 1 << 20];
        loop {
            let n = f.read(&mut buf)?;
            if n == 0 {
                break;
            }
            h.update(&buf[..n]);
        }
        Ok(hex::encode(h.finalize()))
    }

    /// Opens a file for serving in one trip to the blocking pool: a file of at most `keep_max`
    /// bytes is read whole (for the hot cache), a larger one is handed over open. The file
    /// stays readable to the end even if it is deleted meanwhile.
    pub(crate) async fn fetch(
        &self,
        key: &MediaKey,
        _fetch: &Fetch,
        keep_max: u64,
    ) -> Result<Fetched, StoreError> {
        use std::io::Read;
        let path = self.path_of(key);
        let content_type = content_type(key.as_str());
        let opened = tokio::task::spawn_blocking(move || {
            let mut file = std::fs::File::open(&path)?;
            let meta = file.metadata()?;
            if !meta.is_file() {
                return Err(StoreError::NotFound);
            }
            let modified = meta.modified().unwrap_or(std::time::UNIX_EPOCH);
            let since = modified.duration_since(std::time::UNIX_EPOCH).unwrap_or_default();
            let etag = format!("\"{:x}-{:x}.{:x}\"", meta.len(), since.as_secs(), since.subsec_nanos());
            let last_modified = chrono::DateTime::<chrono::Utc>::from(modified);
            if meta.len() <= keep_max {
                let mut bytes = Vec::with_capacity(meta.len() as usize);
                file.by_ref().take(keep_max + 1).read_to_end(&mut bytes)?;
                if bytes.len() as u64 > keep_max {
                    return Err(StoreError::Io(std::io::Error::other("the file grew while it was read")));
                }
                let object = HotObject::new(Bytes::from(bytes), last_modified, etag, content_type);
                return Ok(Fetched::Hot(std::sync::Arc::new(object)));
            }
            Ok(Fetched::Open(OpenFile { file, size: meta.len(), last_modified, etag, content_type }))
        })
        .await;
        opened.map_err(|e| StoreError::Io(std::io::Error::other(e)))?
    }

    pub(crate) async fn delete(&self, key: &MediaKey) -> Result<(), StoreError> {
        let path = self.path_of(key);
        tokio::fs::remove_file(&path).await?;
        if let Some(dir) = path.parent() {
            let dir = dir.to_path_buf();
            let _ = tokio::task::spawn_blocking(move || fsutil::fsync_dir(&dir)).await;
        }
        Ok(())
    }

    /// Write, read back and delete a probe file; a failure names the path, our uid/gid and the
    /// folder's owner and mode, because that is what an operator needs to fix it.
    /// The probe, blocking: a durable write, a read back and a delete of a small file.
    pub fn probe_blocking(&self) -> Result<(), String> {
        let path = self.root.join(format!("{TEMP_PREFIX}probe-{}", uuid::Uuid::new_v4().simple()));
        let payload = b"atm-maint storage probe";
        let attempt = (|| {
            fsutil::write_file_durably(&path, payload, 0o600)?;
            let back = std::fs::read(&path)?;
            std::fs::remove_file(&path)?;
            if back != payload {
                return Err(std::io::Error::other("read back different bytes than written"));
            }
            Ok(())
        })();
        attempt.map_err(|e| {
            let _ = std::fs::remove_file(&path);
            describe_access_problem(&self.root, &e)
        })
    }
}

/// The same API as [`super::S3Store`]'s, for [`super::MediaStore`] to hand calls to.
impl LocalStore {
    pub(crate) fn space(&self) -> Option<mounts::Space> {
        mounts::space(&self.root).ok()
    }

    pub(crate) fn check_room(&self, declared: Option<u64>, refuse_percent: u8) -> Result<(), StoreError> {
        let Some(space) = self.space() else { return Ok(()) };
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

    pub(crate) fn describe(&self) -> String {
        self.root.display().to_string()
    }

    pub(crate) fn root_exists(&self) -> bool {
        self.root.is_dir()
    }

    pub(crate) async fn create_root(&self) -> std::io::Result<()> {
        let s = self.clone();
        blocking(move || {
            fsutil::create_dir_all_durable(&s.root)?;
            s.create_areas()
        })
        .await
    }

    pub(crate) async fn read_marker(&self) -> std::io::Result<Option<identity::Marker>> {
        identity::read_marker(&self.root)
    }

    pub(crate) async fn write_marker(&self, marker: &identity::Marker) -> std::io::Result<()> {
        identity::write_marker(&self.root, marker)
    }

    pub(crate) async fn remove_listed(&self, key: &str) -> Result<(), StoreError> {
        Ok(tokio::fs::remove_file(self.root.join(key)).await?)
    }

    pub(crate) async fn hash_listed(&self, key: &str) -> Result<String, StoreError> {
        let (s, key) = (self.clone(), key.to_string());
        Ok(blocking(move || s.hash_file(&key)).await?)
    }

    /// Renames a listed file to `to` (both relative to the root), durably.
    pub(crate) async fn move_listed(&self, key: &str, to: &str) -> Result<(), StoreError> {
        let (from, to) = (self.root.join(key), self.root.join(to));
        let parent = to.parent().map(Path::to_path_buf).unwrap_or_else(|| self.root.clone());
        blocking(move || {
            fsutil::create_dir_all_durable(&parent)?;
            std::fs::rename(&from, &to)?;
            fsutil::fsync_dir(&parent)?;
            if let Some(old) = from.parent() {
                fsutil::fsync_dir(old)?;
            }
            Ok(())
        })
        .await?;
        Ok(())
    }

    pub(crate) async fn list_trash(&self) -> Result<Vec<Listed>, StoreError> {
        let trash = LocalStore::new(self.root.join(TRASH));
        if !trash.root.is_dir() {
            return Ok(Vec::new());
        }
        let found = blocking(move || trash.walk()).await?;
        Ok(found.into_iter().map(|l| Listed { key: format!("{TRASH}/{}", l.key), ..l }).collect())
    }

    pub(crate) async fn list_all(&self) -> Result<Vec<Listed>, StoreError> {
        let s = self.clone();
        Ok(blocking(move || s.walk()).await?)
    }

    pub(crate) async fn export(&self, key: &MediaKey, target: PathBuf) -> std::io::Result<Written> {
        let source = self.path_of(key);
        blocking(move || copy::copy_file(&source, &target)).await
    }

    pub(crate) async fn put_note(&self, key: &str, bytes: Vec<u8>) -> std::io::Result<()> {
        let path = self.root.join(key);
        blocking(move || {
            if let Some(dir) = path.parent() {
                fsutil::create_dir_all_durable(dir)?;
            }
            fsutil::write_file_durably(&path, &bytes, 0o644)
        })
        .await
    }

    pub(crate) async fn get_note(&self, key: &str) -> std::io::Result<Option<Bytes>> {
        match tokio::fs::read(self.root.join(key)).await {
            Ok(b) => Ok(Some(Bytes::from(b))),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(e),
        }
    }

    pub(crate) async fn list_notes(&self, folder: &str) -> std::io::Result<Vec<String>> {
        let dir = self.root.join(folder);
        blocking(move || {
            let mut names = Vec::new();
            match std::fs::read_dir(&dir) {
                Ok(entries) => {
                    for e in entries {
                        names.push(e?.file_name().to_string_lossy().into_owned());
                    }
                }
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => return Err(e),
            }
            Ok(names)
        })
        .await
    }

    pub(crate) async fn probe(&self) -> Result<(), String> {
        let s = self.clone();
        tokio::task::spawn_blocking(move || s.probe_blocking()).await.map_err(|e| e.to_string())?
    }
}

const WRITE_BUFFER: usize = 256 * 1024;

async fn write_then_publish<S, E>(
    tmp: &Path,
    final_path: &Path,
    dir: &Path,
    body: S,
    limit: u64,
) -> Result<(u64, String), StoreError>
where
    S: Stream<Item = Result<Bytes, E>> + Send,
    E: std::fmt::Display,
{
    let file = tokio::fs::OpenOptions::new().write(true).create_new(true).mode(0o640).open(tmp).await?;
    let Received { size, mut hasher, mut file, rest } = receive(body, limit, file.into_std().await).await?;
    let (tmp, final_path, dir) = (tmp.to_path_buf(), final_path.to_path_buf(), dir.to_path_buf());
    // The last block, the fsync and the publication in one trip to the blocking pool.
    let published = tokio::task::spawn_blocking(move || -> Result<String, StoreError> {
        use std::io::Write;
        hasher.update(&rest);
        file.write_all(&rest)?;
        file.sync_all()?;
        drop(file);
        // hard_link fails when the target exists: stored originals are never overwritten.
        std::fs::hard_link(&tmp, &final_path).map_err(|e| match e.kind() {
            std::io::ErrorKind::AlreadyExists => StoreError::AlreadyExists,
            _ => StoreError::from(e),
        })?;
        // Once linked, a failure takes the object back out: on an error nothing stays under the key.
        let published = (|| -> Result<(), StoreError> {
            std::fs::remove_file(&tmp)?;
            fsutil::fsync_dir(&dir)?;
            let on_disk = std::fs::metadata(&final_path)?.len();
            if on_disk != size {
                return Err(StoreError::Io(std::io::Error::other(format!(
                    "size check failed: wrote {size} bytes, found {on_disk}"
                ))));
            }
            Ok(())
        })();
        if let Err(e) = published {
            let _ = std::fs::remove_file(&final_path);
            let _ = std::fs::remove_file(&tmp);
            return Err(e);
        }
        Ok(hex::encode(hasher.finalize()))
    })
    .await
    .map_err(|e| StoreError::Io(std::io::Error::other(e)))?;
    Ok((size, published?))
}

/// Reads the body and hands it in `WRITE_BUFFER` blocks to the blocking pool, which hashes and
/// writes each block while the next one is received: on two cores, receiving a photo and
/// hashing it (a quarter of an upload's CPU) run side by side. No thread waits on the client:
/// a block is handed over only once it is full. The last block is left to the caller, who
/// writes it with the fsync.
async fn receive<S, E>(body: S, limit: u64, file: std::fs::File) -> Result<Received, StoreError>
where
    S: Stream<Item = Result<Bytes, E>> + Send,
    E: std::fmt::Display,
{
    use std::io::Write;
    /// The file and the hash so far travel together to each block's write.
    type Sink = (std::fs::File, Sha256);
    type Writing = tokio::task::JoinHandle<std::io::Result<Sink>>;
    async fn settle(writing: Writing) -> Result<Sink, StoreError> {
        writing.await.map_err(|e| StoreError::Io(std::io::Error::other(e)))?.map_err(StoreError::from)
    }
    fn write((mut file, mut hasher): Sink, block: impl AsRef<[u8]> + Send + 'static) -> Writing {
        tokio::task::spawn_blocking(move || {
            hasher.update(block.as_ref());
            file.write_all(block.as_ref()).map(|()| (file, hasher))
        })
    }
    let mut size: u64 = 0;
    let mut block = bytes::BytesMut::with_capacity(WRITE_BUFFER);
    // The sink is either here or with the write under way.
    let mut idle: Option<Sink> = Some((file, Sha256::new()));
    let mut writing: Option<Writing> = None;
    let lost = || StoreError::Io(std::io::Error::other("the file being written was lost"));
    let mut body = std::pin::pin!(body);
    let outcome = async {
        while let Some(chunk) = body.next().await {
            let chunk = chunk.map_err(|e| StoreError::Body(e.to_string()))?;
            size += chunk.len() as u64;
            if size > limit {
                return Err(StoreError::TooLarge { limit });
            }
            if block.is_empty() && chunk.len() >= WRITE_BUFFER {
                // A body handed over whole (a PDF, a preview) is written as it is, not copied.
                let sink = match writing.take() {
                    Some(w) => settle(w).await?,
                    None => idle.take().ok_or_else(lost)?,
                };
                writing = Some(write(sink, chunk));
                continue;
            }
            block.extend_from_slice(&chunk);
            if block.len() >= WRITE_BUFFER {
                let sink = match writing.take() {
                    Some(w) => settle(w).await?,
                    None => idle.take().ok_or_else(lost)?,
                };
                let full = std::mem::replace(&mut block, bytes::BytesMut::with_capacity(WRITE_BUFFER));
                writing = Some(write(sink, full));
            }
        }
        Ok(())
    }
    .await;
    // A write under way is waited for even when receiving failed: its thread holds the file.
    let sink = match writing.take() {
        Some(w) => settle(w).await,
        None => idle.take().ok_or_else(lost),
    };
    outcome?;
    let (file, hasher) = sink?;
    Ok(Received { size, hasher, file, rest: block })
}

/// A body received: all but `rest` is written to `file` and hashed, nothing is fsync'd yet.
struct Received {
    size: u64,
    hasher: Sha256,
    file: std::fs::File,
    rest: bytes::BytesMut,
}

fn describe_access_problem(root: &Path, e: &std::io::Error) -> String {
    let uid = rustix::process::getuid().as_raw();
    let gid = rustix::process::getgid().as_raw();
    let owner = match std::fs::metadata(root) {
        Ok(m) => format!(
            "the folder is owned by uid {} gid {} with mode {:o}",
            m.uid(),
            m.gid(),
            m.permissions().mode() & 0o7777
        ),
        Err(me) => format!("the folder cannot be inspected ({me})"),
    };
    let hint = if e.raw_os_error() == Some(30) {
        "the filesystem is mounted read-only; mount it read-write"
    } else if fsutil::is_no_space(e) {
        "the disk is full; free space or grow the volume"
    } else {
        "give this uid write access (chown/chmod) or point MEDIA_ROOT at a writable volume"
    };
    format!(
        "cannot write to the media root {}: {e}; the service runs as uid {uid} gid {gid}, {owner}; {hint}",
        root.display()
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chunks(parts: &[&'static [u8]]) -> impl Stream<Item = Result<Bytes, std::io::Error>> + Send {
        futures_util::stream::iter(parts.iter().map(|p| Ok(Bytes::from_static(p))).collect::<Vec<_>>())
    }

    #[tokio::test]
    async fn a_stored_object_has_its_size_and_hash_and_no_temporary_file_remains() {
        let dir = tempfile::tempdir().unwrap();
        let store = LocalStore::new(dir.path());
        let key = MediaKey::generate(Area::Photos, "jpg");
        let o = store.put_stream(&key, chunks(&[b"hello ", b"world"]), 1 << 20).await.unwrap();
        assert_eq!(o.size, 11);
        assert_eq!(o.sha256, hex::encode(Sha256::digest(b"hello world")));
        assert_eq!(&store.read(&key).await.unwrap()[..], b"hello world");
        let folder = store.path_of(&key).parent().unwrap().to_path_buf();
        let leftovers: Vec<_> = std::fs::read_dir(folder)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .filter(|n| n.starts_with(TEMP_PREFIX))
            .collect();
        assert!(leftovers.is_empty(), "{leftovers:?}");
    }

    #[tokio::test]
    async fn an_existing_object_is_never_overwritten() {
        let dir = tempfile::tempdir().unwrap();
        let store = LocalStore::new(dir.path());
        let key = MediaKey::generate(Area::Pdfs, "pdf");
        store.put_stream(&key, chunks(&[b"first"]), 100).await.unwrap();
        let err = store.put_stream(&key, chunks(&[b"second"]), 100).await.unwrap_err();
        assert!(matches!(err, StoreError::AlreadyExists), "{err:?}");
        assert_eq!(&store.read(&key).await.unwrap()[..], b"first");
    }

    #[tokio::test]
    async fn a_broken_or_oversized_body_leaves_nothing_behind() {
        let dir = tempfile::tempdir().unwrap();
        let store = LocalStore::new(dir.path());
        let key = MediaKey::generate(Area::Photos, "png");
        let err = store.put_stream(&key, chunks(&[b"0123456789", b"abc"]), 10).await.unwrap_err();
        assert!(matches!(err, StoreError::TooLarge { limit: 10 }));
        let broken = futures_util::stream::iter(vec![
            Ok(Bytes::from_static(b"part")),
            Err(std::io::Error::other("connection reset")),
        ]);
        let err = store.put_stream(&key, broken, 100).await.unwrap_err();
        assert!(matches!(err, StoreError::Body(_)));
        let folder = store.path_of(&key).parent().unwrap().to_path_buf();
        assert_eq!(std::fs::read_dir(folder).unwrap().count(), 0);
    }

    #[test]
    fn the_probe_succeeds_on_a_writable_folder() {
        let dir = tempfile::tempdir().unwrap();
        LocalStore::new(dir.path()).probe_blocking().unwrap();
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
    }
}
