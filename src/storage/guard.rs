//! The storage guard: before the service accepts traffic it proves that the media root exists,
//! survives a restart, is writable, and is the same storage the database remembers. `serve`
//! refuses to start on any problem; `doctor` reports the same facts without changing anything.

use std::path::{Path, PathBuf};

use super::identity::{self, Decision};
use super::mounts::{self, MountFacts, Space};
use super::{Area, Backend, LocalStore, MediaStore, S3Store, fsutil};
use crate::config::{Platform, Settings, Source};
use crate::db::{Db, meta, objects};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GuardMode {
    /// `serve` and `migrate`: create what is missing (sub-folders, a first identity).
    Apply,
    /// `doctor`: look only.
    Inspect,
}

#[derive(Debug, Clone, serde::Serialize)]
pub struct Problem {
    pub code: &'static str,
    pub message: String,
}

#[derive(Debug, Clone, serde::Serialize)]
pub struct StorageReport {
    pub store: &'static str,
    pub media_root: PathBuf,
    pub media_root_source: Source,
    pub exists: bool,
    pub mount: Option<MountFacts>,
    pub space: Option<Space>,
    pub persistent: bool,
    pub ephemeral_reason: Option<String>,
    pub writable: bool,
    pub storage_id: Option<String>,
    pub identity: &'static str,
    pub problems: Vec<Problem>,
    pub warnings: Vec<String>,
}

impl StorageReport {
    pub fn is_ok(&self) -> bool {
        self.problems.is_empty()
    }

    fn problem(&mut self, code: &'static str, message: String) {
        self.problems.push(Problem { code, message });
    }
}

const FIX: &str = "set MEDIA_ROOT under your disk's mount path, e.g. /var/data/media";

pub async fn check(settings: &Settings, db: &Db, store: &MediaStore, mode: GuardMode) -> StorageReport {
    match store.backend() {
        Backend::Local(local) => check_local(settings, db, store, local, mode).await,
        Backend::S3(bucket) => check_bucket(settings, db, store, bucket, mode).await,
    }
}

fn empty_report(settings: &Settings, store: &MediaStore, location: PathBuf) -> StorageReport {
    StorageReport {
        store: store.name(),
        media_root: location,
        media_root_source: settings.media_root_source,
        exists: true,
        mount: None,
        space: None,
        persistent: true,
        ephemeral_reason: None,
        writable: false,
        storage_id: None,
        identity: "not checked",
        problems: Vec::new(),
        warnings: Vec::new(),
    }
}

async fn check_local(
    settings: &Settings,
    db: &Db,
    media: &MediaStore,
    store: &LocalStore,
    mode: GuardMode,
) -> StorageReport {
    let root = store.root().to_path_buf();
    let mut r = empty_report(settings, media, root.clone());
    r.exists = root.is_dir();
    check_existence(settings, &mut r, mode);
    check_persistence(settings, &mut r);
    check_database_file(settings, db, &mut r);
    if r.exists {
        match store.probe_blocking() {
            Ok(()) => r.writable = true,
            Err(msg) => r.problem("media_root_not_writable", msg),
        }
        check_areas(store, &mut r, mode);
    }
    if r.exists && (r.writable || mode == GuardMode::Inspect) {
        check_identity(db, media, &root, &mut r, mode).await;
    }
    r
}

/// A bucket survives restarts by nature; what must be proven is that it is reachable,
/// writable, verifies what it is sent, and is the bucket the database remembers.
async fn check_bucket(
    settings: &Settings,
    db: &Db,
    media: &MediaStore,
    bucket: &S3Store,
    mode: GuardMode,
) -> StorageReport {
    let location = PathBuf::from(bucket.describe());
    let mut r = empty_report(settings, media, location.clone());
    check_database_file(settings, db, &mut r);
    match bucket.probe().await {
        Ok(()) => r.writable = true,
        Err(msg) => {
            r.exists = false;
            r.problem("bucket_unusable", format!("{msg}. Check S3_BUCKET, S3_ENDPOINT and the credentials"));
            return r;
        }
    }
    if mode == GuardMode::Apply {
        match bucket.checksum_canary().await {
            Ok(true) => {}
            Ok(false) => r.warnings.push(
                "the S3 endpoint accepted a write with a wrong checksum: every write is now read back and hashed".into(),
            ),
            Err(e) => r.warnings.push(format!("checksum canary not run ({e}); writes are confirmed by size")),
        }
    }
    check_identity(db, media, &location, &mut r, mode).await;
    r
}

fn check_existence(settings: &Settings, r: &mut StorageReport, mode: GuardMode) {
    if r.exists {
        return;
    }
    let root = r.media_root.display().to_string();
    if r.media_root.exists() {
        r.problem(
            "media_root_not_a_directory",
            format!("the media root {root} exists but is not a directory; {FIX}"),
        );
    } else if settings.is_production() {
        r.problem(
            "media_root_missing",
            format!(
                "the media root {root} does not exist. In production it is never created automatically, \
                 because a missing mount would silently become an empty folder on the container's disk. \
                 Attach and mount your disk, then {FIX}"
            ),
        );
    } else if mode == GuardMode::Apply {
        match fsutil::create_dir_all_durable(&r.media_root) {
            Ok(()) => r.exists = true,
            Err(e) => {
                r.problem("media_root_not_writable", format!("cannot create the media root {root}: {e}"))
            }
        }
    } else {
        r.warnings
            .push(format!("the media root {root} does not exist yet; `serve` creates it in development"));
    }
}

fn check_persistence(settings: &Settings, r: &mut StorageReport) {
    match mounts::mount_for(&r.media_root) {
        Ok(m) => r.mount = Some(m),
        Err(e) => r.warnings.push(format!("cannot tell which mount holds the media root: {e}")),
    }
    r.space = mounts::space(&r.media_root).ok();
    if let Some(sp) = &r.space {
        if sp.used_percent >= f64::from(settings.disk_refuse_percent) {
            r.warnings.push(format!(
                "the media disk is {}% full: new uploads are refused from {}% (DISK_REFUSE_PERCENT); free space or grow the volume",
                sp.used_percent, settings.disk_refuse_percent
            ));
        } else if sp.used_percent >= f64::from(settings.disk_warn_percent) {
            r.warnings.push(format!(
                "the media disk is {}% full (warning level {}%, DISK_WARN_PERCENT); plan more space",
                sp.used_percent, settings.disk_warn_percent
            ));
        }
    }
    let Some(m) = &r.mount else { return };
    let Some(reason) = mounts::ephemeral_reason(m, settings.in_container || settings.platform.is_some())
    else {
        return;
    };
    r.persistent = false;
    let described = format!(
        "the media root {} is on {} ({} from {}): {reason}",
        r.media_root.display(),
        m.mount_point.display(),
        m.fs_type,
        m.source
    );
    r.ephemeral_reason = Some(reason);
    if settings.is_production() && !settings.allow_ephemeral_media {
        let platform_hint = match settings.platform {
            Some(Platform::Render) => {
                " On Render, add a persistent disk (mountPath /var/data) and keep MEDIA_ROOT inside it."
            }
            _ => "",
        };
        r.problem(
            "media_root_ephemeral",
            format!(
                "{described}. Uploaded photos would be lost. Fix: {FIX}.{platform_hint} \
                 (ATM_ALLOW_EPHEMERAL_MEDIA=true accepts this for a throw-away demo only)"
            ),
        );
    } else {
        r.warnings.push(format!("{described}. Fine for development; production would refuse it"));
    }
}

/// A SQLite file on throw-away storage loses the records of every photo: the same rule applies.
fn check_database_file(settings: &Settings, db: &Db, r: &mut StorageReport) {
    if db.backend() != crate::db::Backend::Sqlite
        || !settings.is_production()
        || settings.allow_ephemeral_media
    {
        return;
    }
    let url = settings.database_url.expose();
    let path = url.trim_start_matches("sqlite:").trim_start_matches("//");
    let path = Path::new(path.split('?').next().unwrap_or(path));
    if let Ok(m) = mounts::mount_for(path)
        && let Some(reason) =
            mounts::ephemeral_reason(&m, settings.in_container || settings.platform.is_some())
    {
        r.problem(
            "database_ephemeral",
            format!(
                "the SQLite database {} is on {} ({}): {reason}. Put DATABASE_URL on the persistent disk \
                 (e.g. sqlite:///var/data/atm-maint.db) or use PostgreSQL",
                path.display(),
                m.mount_point.display(),
                m.fs_type
            ),
        );
    }
}

fn check_areas(store: &LocalStore, r: &mut StorageReport, mode: GuardMode) {
    if mode == GuardMode::Apply && r.writable {
        if let Err(e) = store.create_areas() {
            r.problem("media_root_not_writable", format!("cannot create the media sub-folders: {e}"));
        }
        return;
    }
    for area in Area::ALL {
        if !store.root().join(area.folder()).is_dir() {
            r.warnings.push(format!("the sub-folder {} is missing; `serve` creates it", area.folder()));
        }
    }
}

async fn check_identity(db: &Db, store: &MediaStore, root: &Path, r: &mut StorageReport, mode: GuardMode) {
    let marker = match store.read_marker().await {
        Ok(m) => m,
        Err(e) => {
            r.identity = "unreadable";
            r.problem(
                "storage_marker_unreadable",
                format!("cannot read the storage marker in {}: {e}", root.display()),
            );
            return;
        }
    };
    let (db_id, referenced) = match (meta::get(db, meta::STORAGE_ID).await, objects::count(db).await) {
        (Ok(id), Ok((n, _))) => (id, n),
        (Err(e), _) | (_, Err(e)) => {
            r.identity = "unknown";
            r.problem("database_unreadable", format!("cannot read the storage id from the database: {e}"));
            return;
        }
    };
    let decision =
        identity::decide(marker.as_ref().map(|m| m.storage_id.as_str()), db_id.as_deref(), referenced);
    let result = match (decision, mode) {
        (Decision::Matched(id), _) => {
            r.identity = "matched";
            Ok(Some(id))
        }
        (Decision::Refuse(identity::Refusal::MarkerMissing { .. }), _) if restore_unfinished(db).await => {
            // A restore stopped at damaged objects withholds the marker on purpose; say that
            // rather than "the storage was wiped".
            r.identity = "refused";
            r.problem(
                "restore_unfinished",
                "a restore into this database stopped at objects damaged in the backup, so the storage \
                 is not marked yet; run the same `atm-maint restore <dir>` again once the backup is \
                 repaired, or accept the loss with `atm-maint restore --accept-damaged <dir>`"
                    .to_string(),
            );
            Ok(None)
        }
        (Decision::Refuse(refusal), _) => {
            r.identity = "refused";
            r.problem(refusal.code(), refusal.message(root));
            Ok(None)
        }
        (Decision::InitialiseBoth, GuardMode::Apply) => {
            r.identity = "initialised";
            // The database first: if the marker write then fails, the next start rewrites it.
            match meta::insert_if_absent(db, meta::STORAGE_ID, &identity::new_storage_id()).await {
                Ok(id) => store.write_marker(&identity::Marker::new(&id)).await.map(|()| Some(id)),
                Err(e) => Err(std::io::Error::other(e)),
            }
        }
        (Decision::WriteMarker(id), GuardMode::Apply) => {
            r.identity = "marker rewritten";
            store.write_marker(&identity::Marker::new(&id)).await.map(|()| Some(id))
        }
        (Decision::InitialiseBoth | Decision::WriteMarker(_), GuardMode::Inspect) => {
            r.identity = "not yet initialised";
            r.warnings.push("no storage identity yet; `serve` records one on its first start".into());
            Ok(db_id.clone())
        }
    };
    match result {
        Ok(id) => r.storage_id = id,
        Err(e) => r.problem("storage_marker_unwritable", format!("cannot record the storage identity: {e}")),
    }
}

async fn restore_unfinished(db: &Db) -> bool {
    matches!(meta::get(db, meta::RESTORE_PENDING).await, Ok(Some(_)))
}
