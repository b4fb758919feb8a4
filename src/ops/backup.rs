//! Backup and restore: a consistent snapshot of the database through the engine's own online
//! backup (SQLite `VACUUM INTO`, PostgreSQL `pg_dump`), the media hard-linked or copied, and a
//! manifest with every object's size and SHA-256; restore onto empty storage; verify a sample.

use std::path::{Path, PathBuf};

use anyhow::{Context, bail, ensure};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::config::Settings;
use crate::db::{Backend, Db, meta, objects};
use crate::storage::identity::Marker;
use crate::storage::{MediaKey, MediaStore, fsutil};

#[derive(Debug, Serialize, Deserialize)]
pub struct Manifest {
    pub format: u32,
    pub created_at: String,
    pub storage_id: Option<String>,
    pub database: String,
    pub objects: Vec<Entry>,
}

#[derive(Debug, Serialize, Deserialize, Clone)]
pub struct Entry {
    pub key: String,
    pub size: i64,
    pub sha256: String,
}

const SQLITE_FILE: &str = "database.sqlite";
const PG_FILE: &str = "database.pgdump";

fn sqlite_path(settings: &Settings) -> PathBuf {
    let url = settings.database_url.expose();
    let path = url.trim_start_matches("sqlite:").trim_start_matches("//");
    PathBuf::from(path.split('?').next().unwrap_or(path))
}

fn hash_file(path: &Path) -> std::io::Result<String> {
    use std::io::Read;
    let mut f = std::fs::File::open(path)?;
    let mut h = Sha256::new();
    let mut buf = vec![0u8; 1 << 20];
    loop {
        let n = f.read(&mut buf)?;
        if n == 0 {
            return Ok(hex::encode(h.finalize()));
        }
        h.update(&buf[..n]);
    }
}

pub async fn create(
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
    fsutil::create_dir_all_durable(&dir.join("media"))?;
    let (rows, database) = match db.backend() {
        Backend::Sqlite => {
            let file = dir.join(SQLITE_FILE);
            sqlx::query("VACUUM INTO $1")
                .bind(file.to_string_lossy().to_string())
                .execute(db.pool())
                .await
                .context("SQLite online backup")?;
            // The object list comes from the snapshot itself, so files and rows agree.
            let snap = Db::connect(&format!("sqlite://{}", file.display())).await?;
            let rows = objects::list(&snap).await?;
            // Closing checkpoints the snapshot, leaving one self-contained file.
            snap.pool().close().await;
            (rows, SQLITE_FILE.to_string())
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
            (objects::list(db).await?, PG_FILE.to_string())
        }
    };
    let mut entries = Vec::with_capacity(rows.len());
    for row in rows {
        let target = dir.join("media").join(&row.key);
        fsutil::create_dir_all_durable(target.parent().unwrap_or(dir))?;
        match store {
            MediaStore::Local(local) => {
                let source = local.root().join(&row.key);
                if std::fs::hard_link(&source, &target).is_err() {
                    std::fs::copy(&source, &target).with_context(|| format!("copying {}", row.key))?;
                }
            }
            MediaStore::S3(_) => {
                let key = MediaKey::parse(&row.key).map_err(|_| anyhow::anyhow!("bad key {}", row.key))?;
                let bytes = store.read(&key).await.with_context(|| format!("reading {}", row.key))?;
                fsutil::write_file_durably(&target, &bytes, 0o640)?;
            }
        }
        let found = hash_file(&target)?;
        ensure!(
            found == row.sha256,
            "{} does not match its recorded SHA-256; run `atm-maint fsck` first",
            row.key
        );
        entries.push(Entry { key: row.key, size: row.size, sha256: row.sha256 });
    }
    let manifest = Manifest {
        format: 1,
        created_at: chrono::Utc::now().to_rfc3339(),
        storage_id: meta::get(db, meta::STORAGE_ID).await?,
        database,
        objects: entries,
    };
    fsutil::write_file_durably(&dir.join("manifest.json"), &serde_json::to_vec_pretty(&manifest)?, 0o640)?;
    Ok(manifest)
}

pub fn read_manifest(dir: &Path) -> anyhow::Result<Manifest> {
    let bytes = std::fs::read(dir.join("manifest.json"))
        .with_context(|| format!("{} has no manifest.json", dir.display()))?;
    Ok(serde_json::from_slice(&bytes)?)
}

/// Brings a backup back onto empty storage and an empty database.
pub async fn restore(settings: &Settings, store: &MediaStore, dir: &Path) -> anyhow::Result<Manifest> {
    let manifest = read_manifest(dir)?;
    if let MediaStore::Local(local) = store {
        // Restoring is deliberate: the target folder may be created here.
        fsutil::create_dir_all_durable(local.root())?;
    }
    ensure!(
        store.list_all().await?.is_empty() && store.read_marker().await?.is_none(),
        "the media store {} is not empty; restore needs empty storage",
        store.describe()
    );
    if manifest.database == SQLITE_FILE {
        let target = sqlite_path(settings);
        ensure!(
            settings.database_url.expose().starts_with("sqlite:"),
            "this backup holds a SQLite database; point DATABASE_URL at a SQLite file"
        );
        ensure!(!target.exists(), "{} exists; restore needs an empty database", target.display());
        fsutil::create_dir_all_durable(target.parent().unwrap_or(Path::new(".")))?;
        std::fs::copy(dir.join(SQLITE_FILE), &target)?;
    } else {
        let db = Db::connect(settings.database_url.expose()).await?;
        let used: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM information_schema.tables WHERE table_schema = 'public'",
        )
        .fetch_one(db.pool())
        .await?;
        ensure!(used == 0, "the PostgreSQL database is not empty; restore needs an empty database");
        let out = tokio::process::Command::new("pg_restore")
            .args(["--no-owner", "--dbname"])
            .arg(settings.database_url.expose())
            .arg(dir.join(PG_FILE))
            .output()
            .await
            .context("pg_restore is needed to restore PostgreSQL")?;
        ensure!(out.status.success(), "pg_restore failed: {}", String::from_utf8_lossy(&out.stderr).trim());
    }
    if let MediaStore::Local(local) = store {
        local.create_areas()?;
    }
    for e in &manifest.objects {
        let key = MediaKey::parse(&e.key).map_err(|_| anyhow::anyhow!("bad key {}", e.key))?;
        let bytes = bytes::Bytes::from(std::fs::read(dir.join("media").join(&e.key))?);
        let stored = store
            .put_stream(
                &key,
                futures_util::stream::once(async move { Ok::<_, std::io::Error>(bytes) }),
                1 << 30,
            )
            .await?;
        if stored.sha256 != e.sha256 {
            bail!("{} in the backup does not match the manifest", e.key);
        }
    }
    if let Some(id) = &manifest.storage_id {
        store.write_marker(&Marker::new(id)).await?;
    }
    Ok(manifest)
}

/// Restores the database and a sample of objects into scratch space and compares hashes.
pub async fn verify(dir: &Path, sample: usize) -> anyhow::Result<(usize, Vec<String>)> {
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
    let step = (manifest.objects.len() / sample.max(1)).max(1);
    let mut checked = 0;
    for e in manifest.objects.iter().step_by(step).take(sample) {
        checked += 1;
        match hash_file(&dir.join("media").join(&e.key)) {
            Ok(h) if h == e.sha256 => {}
            Ok(_) => problems.push(format!("{}: SHA-256 differs from the manifest", e.key)),
            Err(err) => problems.push(format!("{}: {err}", e.key)),
        }
    }
    Ok((checked, problems))
}

fn tempfile_dir() -> std::io::Result<PathBuf> {
    let dir = std::env::temp_dir().join(format!("atm-maint-verify-{}", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir_all(&dir)?;
    Ok(dir)
}
