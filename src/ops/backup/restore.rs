//! `restore <dir>`: the database, then every object whose backup copy verifies against the
//! manifest; the others are named, never restored as good.
//!
//! A restore with damaged objects and no `accept_damaged` leaves the database and the verified
//! objects in place but does not write the storage marker, so the storage guard refuses to
//! serve the incomplete copy until the operator decides. Running the same restore again on that
//! target continues where it stopped (after repairing backup files, say); with
//! `accept_damaged` it finishes: the damaged keys are recorded in `app_meta` and, having no
//! object, are what `fsck` reports as missing.

use std::collections::HashSet;
use std::path::Path;

use anyhow::{Context, ensure};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::{
    MANIFEST_FILE, Manifest, PG_FILE, SQLITE_FILE, check_file, media_path, read_manifest, sqlite_path,
};
use crate::config::Settings;
use crate::db::{Db, meta};
use crate::storage::copy;
use crate::storage::identity::Marker;
use crate::storage::{MediaStore, fsutil};

#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct RestoreOptions {
    /// Finish a restore even though some objects are damaged in the backup.
    pub accept_damaged: bool,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub(crate) struct Damaged {
    pub key: String,
    pub reason: String,
}

#[derive(Debug)]
pub(crate) struct Restored {
    pub manifest: Manifest,
    /// Objects in the store that verified against the manifest.
    pub restored: usize,
    pub damaged: Vec<Damaged>,
    /// True when the restore is finished: the storage marker is written and `serve` will start.
    pub complete: bool,
    /// True when this run continued an earlier, unfinished restore of the same backup.
    pub resumed: bool,
}

/// Brings a backup back onto an empty store and an empty database (or continues an unfinished
/// restore of the same backup there).
pub(crate) async fn restore(
    settings: &Settings,
    store: &MediaStore,
    dir: &Path,
    opts: RestoreOptions,
) -> anyhow::Result<Restored> {
    let manifest = read_manifest(dir)?;
    let fingerprint = fingerprint(dir)?;
    // Restoring is deliberate: the target folder (and its areas) may be created here.
    store.create_root().await?;
    let resumed = unfinished_restore(settings, store, &fingerprint).await;
    if !resumed {
        ensure!(
            store.list_all().await?.is_empty() && store.read_marker().await?.is_none(),
            "the media store {} is not empty; restore needs empty storage",
            store.describe()
        );
        restore_database(settings, dir, &manifest).await?;
    }
    let db = Db::connect(settings.database_url.expose()).await?;
    // Recorded before any object, so an interrupted restore is recognised as ours afterwards.
    meta::set(&db, meta::RESTORE_PENDING, &fingerprint).await?;
    let present: HashSet<String> = store.list_all().await?.into_iter().map(|l| l.key).collect();
    let (restored, damaged) = restore_objects(store, dir, &manifest, &present).await?;
    let complete = damaged.is_empty() || opts.accept_damaged;
    if complete {
        if !damaged.is_empty() {
            meta::set(&db, meta::RESTORE_DAMAGED, &serde_json::to_string(&damaged)?).await?;
        }
        meta::delete(&db, meta::RESTORE_PENDING).await?;
        if let Some(id) = &manifest.storage_id {
            store.write_marker(&Marker::new(id)).await?;
        }
    }
    db.pool().close().await;
    Ok(Restored { manifest, restored, damaged, complete, resumed })
}

/// Identifies a backup: the SHA-256 of its manifest.
fn fingerprint(dir: &Path) -> anyhow::Result<String> {
    let bytes = std::fs::read(dir.join(MANIFEST_FILE))?;
    Ok(hex::encode(Sha256::digest(&bytes)))
}

/// True when the target holds an earlier restore of this backup that did not finish: the
/// database says so and no storage marker was written yet.
async fn unfinished_restore(settings: &Settings, store: &MediaStore, fingerprint: &str) -> bool {
    if !matches!(store.read_marker().await, Ok(None)) {
        return false;
    }
    let url = settings.database_url.expose();
    if url.starts_with("sqlite:") && !sqlite_path(settings).is_file() {
        return false;
    }
    let Ok(db) = Db::connect(url).await else { return false };
    let pending = meta::get(&db, meta::RESTORE_PENDING).await.ok().flatten();
    db.pool().close().await;
    pending.as_deref() == Some(fingerprint)
}

async fn restore_database(settings: &Settings, dir: &Path, manifest: &Manifest) -> anyhow::Result<()> {
    if manifest.database == SQLITE_FILE {
        let target = sqlite_path(settings);
        ensure!(
            settings.database_url.expose().starts_with("sqlite:"),
            "this backup holds a SQLite database; point DATABASE_URL at a SQLite file"
        );
        ensure!(!target.exists(), "{} exists; restore needs an empty database", target.display());
        fsutil::create_dir_all_durable(target.parent().unwrap_or(Path::new(".")))?;
        copy::copy_durably(&dir.join(SQLITE_FILE), &target)
            .with_context(|| format!("while copying the database to {}", target.display()))?;
        return Ok(());
    }
    let db = Db::connect(settings.database_url.expose()).await?;
    let used = crate::db::backup::postgres_table_count(&db).await?;
    db.pool().close().await;
    ensure!(used == 0, "the PostgreSQL database is not empty; restore needs an empty database");
    let out = tokio::process::Command::new("pg_restore")
        .args(["--no-owner", "--dbname"])
        .arg(settings.database_url.expose())
        .arg(dir.join(PG_FILE))
        .output()
        .await
        .context("pg_restore is needed to restore PostgreSQL")?;
    ensure!(out.status.success(), "pg_restore failed: {}", String::from_utf8_lossy(&out.stderr).trim());
    Ok(())
}

/// Verifies each backup file before it goes into the store, and the store's hash after: only
/// bytes that match the manifest are restored. Objects already present (an earlier run of this
/// restore put them there after verifying them) are counted, not rewritten.
async fn restore_objects(
    store: &MediaStore,
    dir: &Path,
    manifest: &Manifest,
    present: &HashSet<String>,
) -> anyhow::Result<(usize, Vec<Damaged>)> {
    let mut restored = 0;
    let mut damaged = Vec::new();
    for e in &manifest.objects {
        if present.contains(&e.key) {
            restored += 1;
            continue;
        }
        let (key, path) = media_path(dir, &e.key)?;
        let problem = match &e.damaged {
            Some(reason) => Some(format!("already damaged in the store when backed up: {reason}")),
            None => {
                let (p, e) = (path.clone(), e.clone());
                tokio::task::spawn_blocking(move || check_file(&p, &e)).await?
            }
        };
        if let Some(reason) = problem {
            tracing::warn!(key = %e.key, reason = %reason, "damaged object in the backup; not restored");
            damaged.push(Damaged { key: e.key.clone(), reason });
            continue;
        }
        let file = tokio::fs::File::open(&path).await?;
        let stored = store
            .put_stream(&key, tokio_util::io::ReaderStream::new(file), 1 << 40)
            .await
            .with_context(|| format!("while restoring {}", e.key))?;
        if stored.sha256 != e.sha256 {
            // The file changed between the check and the copy: take the copy back out.
            store.delete(&key).await.with_context(|| format!("while removing a bad copy of {}", e.key))?;
            damaged.push(Damaged { key: e.key.clone(), reason: "changed while being restored".into() });
            continue;
        }
        restored += 1;
    }
    Ok((restored, damaged))
}
