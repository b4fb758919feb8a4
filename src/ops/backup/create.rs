//! `backup <dir>`: the database snapshot, then every object the snapshot lists, each checked
//! against the size and SHA-256 the database recorded as it is written. An object that is
//! already missing or different in the store is not passed off as good: its bytes (if any) are
//! kept and the manifest marks it damaged with the reason, so the caller can say so and fail.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use anyhow::{Context, ensure};

use super::{Entry, FORMAT, MANIFEST_FILE, MEDIA_DIR, Manifest, PG_FILE, SQLITE_FILE, backup_path};
use crate::config::Settings;
use crate::db::objects::ObjectRow;
use crate::db::{Backend, Db, meta, objects};
use crate::storage::{MediaStore, fsutil};

pub(crate) async fn create(
    settings: &Settings,
    db: &Db,
    store: &MediaStore,
    dir: &Path,
) -> anyhow::Result<Manifest> {
    ensure!(
        !dir.exists() || std::fs::read_dir(dir)?.next().is_none(),
        "{} is not empty; back up into a new folder",
        dir.display()
    );
    fsutil::create_dir_all_durable(&dir.join(MEDIA_DIR))?;
    let (rows, database) = snapshot_database(settings, db, dir).await?;
    let mut entries = Vec::with_capacity(rows.len());
    let mut folders = BTreeSet::new();
    for row in rows {
        let target = backup_path(dir, &row.key);
        let folder = target.parent().map(Path::to_path_buf).unwrap_or_else(|| dir.to_path_buf());
        fsutil::create_dir_all_durable(&folder)?;
        let damaged = back_up_object(store, &row, target).await?;
        if let Some(reason) = &damaged {
            tracing::warn!(key = %row.key, reason = %reason, "object already damaged in the store; marked in the backup");
        }
        folders.insert(folder);
        entries.push(Entry { key: row.key.to_string(), size: row.size, sha256: row.sha256, damaged });
    }
    // The objects' directory entries are durable before the manifest says they exist.
    for folder in &folders {
        fsutil::fsync_dir(folder).with_context(|| format!("while syncing {}", folder.display()))?;
    }
    let manifest = Manifest {
        format: FORMAT,
        created_at: chrono::Utc::now().to_rfc3339(),
        storage_id: meta::get(db, meta::STORAGE_ID).await?,
        database,
        objects: entries,
    };
    fsutil::write_file_durably(&dir.join(MANIFEST_FILE), &serde_json::to_vec_pretty(&manifest)?, 0o640)?;
    Ok(manifest)
}

/// The engine's own consistent snapshot, durable in `dir`, and the objects it lists.
async fn snapshot_database(
    settings: &Settings,
    db: &Db,
    dir: &Path,
) -> anyhow::Result<(Vec<ObjectRow>, String)> {
    match db.backend() {
        Backend::Sqlite => {
            let file = dir.join(SQLITE_FILE);
            crate::db::backup::sqlite_snapshot(db, &file).await.context("SQLite online backup")?;
            // The object list comes from the snapshot itself, so files and rows agree.
            let snap = Db::connect(&format!("sqlite://{}", file.display())).await?;
            let rows = objects::list(&snap).await?;
            // Closing checkpoints the snapshot, leaving one self-contained file.
            snap.pool().close().await;
            sync_file(&file)?;
            Ok((rows, SQLITE_FILE.to_string()))
        }
        Backend::Postgres => {
            let file = dir.join(PG_FILE);
            let out = tokio::process::Command::new("pg_dump")
                .args(["--format=custom", "--no-owner", "--file"])
                .arg(&file)
                .arg(settings.database_url.expose())
                .output()
                .await
                .context("pg_dump is needed to back up PostgreSQL (install postgresql-client)")?;
            ensure!(out.status.success(), "pg_dump failed: {}", String::from_utf8_lossy(&out.stderr).trim());
            sync_file(&file)?;
            Ok((objects::list(db).await?, PG_FILE.to_string()))
        }
    }
}

fn sync_file(file: &Path) -> anyhow::Result<()> {
    std::fs::File::open(file)
        .and_then(|f| f.sync_all())
        .and_then(|()| fsutil::fsync_dir(file.parent().unwrap_or_else(|| Path::new("."))))
        .with_context(|| format!("while syncing {}", file.display()))
}

/// Writes one object into the backup; `Some(reason)` when the store's copy does not match the
/// database. Failures of the backup itself (its disk full, unreadable store) end the backup.
async fn back_up_object(
    store: &MediaStore,
    row: &ObjectRow,
    target: PathBuf,
) -> anyhow::Result<Option<String>> {
    let written = store.export(&row.key, target).await;
    Ok(match written {
        Ok(w) if w.sha256 == row.sha256 && w.size as i64 == row.size => None,
        Ok(w) if w.size as i64 != row.size => {
            Some(format!("the store's copy has {} bytes, the database recorded {}", w.size, row.size))
        }
        Ok(w) => {
            Some(format!("the store's copy has SHA-256 {}, the database recorded {}", w.sha256, row.sha256))
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Some("missing from the store".into()),
        Err(e) => return Err(e).with_context(|| format!("while copying {} into the backup", row.key)),
    })
}
