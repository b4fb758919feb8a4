//! Backup and restore: a consistent snapshot of the database through the engine's own online
//! backup (SQLite `VACUUM INTO`, PostgreSQL `pg_dump`), every object as an independent copy
//! (never a hard link) hashed as it is written, and a manifest with each object's recorded size
//! and SHA-256 and, for an object that was already damaged in the store, why. Restore onto
//! empty storage restores every object that verifies and names the ones that do not.

mod create;
mod restore;

use std::path::{Path, PathBuf};

use anyhow::Context;
use serde::{Deserialize, Serialize};

use crate::config::Settings;
use crate::db::{Db, objects};
use crate::storage::{MediaKey, copy};

pub(crate) use create::create;
pub(crate) use restore::{Damaged, RestoreOptions, restore};

#[derive(Debug, Serialize, Deserialize)]
pub(crate) struct Manifest {
    pub format: u32,
    pub created_at: String,
    pub storage_id: Option<String>,
    pub database: String,
    pub objects: Vec<Entry>,
}

impl Manifest {
    /// Objects that did not match the database when the backup was taken.
    pub(crate) fn damaged(&self) -> impl Iterator<Item = &Entry> {
        self.objects.iter().filter(|e| e.damaged.is_some())
    }
}

#[derive(Debug, Serialize, Deserialize, Clone)]
pub(crate) struct Entry {
    pub key: String,
    /// Size and SHA-256 as the database records them: what the object must be.
    pub size: i64,
    pub sha256: String,
    /// Set when the store's copy was already missing or different at backup time; the bytes
    /// found (if any) are kept in the backup for inspection but are never restored as good.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub damaged: Option<String>,
}

/// Format 2 added `damaged`; format 1 manifests read as having no damaged objects.
const FORMAT: u32 = 2;
const SQLITE_FILE: &str = "database.sqlite";
const PG_FILE: &str = "database.pgdump";
const MANIFEST_FILE: &str = "manifest.json";
const MEDIA_DIR: &str = "media";

fn sqlite_path(settings: &Settings) -> PathBuf {
    let url = settings.database_url.expose();
    let path = url.trim_start_matches("sqlite:").trim_start_matches("//");
    PathBuf::from(path.split('?').next().unwrap_or(path))
}

/// The path of an object inside a backup. The key is validated first: a manifest is a file
/// someone may have edited, and `../` must not reach outside the backup.
fn media_path(dir: &Path, key: &str) -> anyhow::Result<(MediaKey, PathBuf)> {
    let parsed = MediaKey::parse(key).map_err(|_| anyhow::anyhow!("the manifest lists a bad key {key:?}"))?;
    let path = backup_path(dir, &parsed);
    Ok((parsed, path))
}

/// The path of a valid key's object inside a backup.
fn backup_path(dir: &Path, key: &MediaKey) -> PathBuf {
    dir.join(MEDIA_DIR).join(key.as_str())
}

pub(crate) fn read_manifest(dir: &Path) -> anyhow::Result<Manifest> {
    let bytes = std::fs::read(dir.join(MANIFEST_FILE))
        .with_context(|| format!("{} has no {MANIFEST_FILE}", dir.display()))?;
    serde_json::from_slice(&bytes)
        .with_context(|| format!("{MANIFEST_FILE} in {} is not readable", dir.display()))
}

/// Compares one backup file with its manifest entry; the reason when it does not match.
fn check_file(path: &Path, e: &Entry) -> Option<String> {
    match copy::hash_file(path) {
        Ok(w) if w.sha256 == e.sha256 && w.size as i64 == e.size => None,
        Ok(w) if w.size as i64 != e.size => {
            Some(format!("size {} differs from the manifest's {}", w.size, e.size))
        }
        Ok(w) => Some(format!("SHA-256 {} differs from the manifest's {}", w.sha256, e.sha256)),
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => Some("missing from the backup".into()),
        Err(err) => Some(format!("unreadable: {err}")),
    }
}

/// Restores the database and a sample of objects into scratch space and compares hashes.
/// Objects the manifest marks as damaged are always problems.
pub(crate) async fn verify(dir: &Path, sample: usize) -> anyhow::Result<(usize, Vec<String>)> {
    let manifest = read_manifest(dir)?;
    let mut problems = Vec::new();
    if manifest.database == SQLITE_FILE {
        let scratch = tempfile_dir()?;
        let copy = scratch.join(SQLITE_FILE);
        std::fs::copy(dir.join(SQLITE_FILE), &copy)?;
        let db = Db::connect(&format!("sqlite://{}", copy.display())).await?;
        let rows = objects::list(&db).await?;
        db.pool().close().await;
        if rows.len() != manifest.objects.len() {
            problems.push(format!(
                "the database lists {} objects, the manifest {}",
                rows.len(),
                manifest.objects.len()
            ));
        }
        let _ = std::fs::remove_dir_all(&scratch);
    } else if !dir.join(PG_FILE).is_file() {
        problems.push(format!("{PG_FILE} is missing"));
    }
    for e in manifest.damaged() {
        problems.push(format!(
            "{}: damaged in the store when backed up ({})",
            e.key,
            e.damaged.as_deref().unwrap_or("")
        ));
    }
    let good: Vec<&Entry> = manifest.objects.iter().filter(|e| e.damaged.is_none()).collect();
    let step = (good.len() / sample.max(1)).max(1);
    let mut checked = 0;
    for e in good.into_iter().step_by(step).take(sample) {
        checked += 1;
        let (_, path) = media_path(dir, &e.key)?;
        if let Some(reason) = check_file(&path, e) {
            problems.push(format!("{}: {reason}", e.key));
        }
    }
    Ok((checked, problems))
}

fn tempfile_dir() -> std::io::Result<PathBuf> {
    let dir = std::env::temp_dir().join(format!("atm-maint-verify-{}", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir_all(&dir)?;
    Ok(dir)
}
