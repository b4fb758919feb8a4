//! Storage identity: the media root holds a marker with a random id and the database holds the
//! same id. A disagreement means the storage was wiped, unmounted or swapped, and is caught at
//! start instead of by users meeting 404s.

use std::path::Path;

use super::fsutil;

pub const MARKER_FILE: &str = ".atm-storage-id";

#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct Marker {
    pub storage_id: String,
    pub created_at: String,
    pub created_on_host: String,
}

impl Marker {
    pub fn new(storage_id: &str) -> Marker {
        Marker {
            storage_id: storage_id.to_string(),
            created_at: chrono::Utc::now().to_rfc3339(),
            created_on_host: hostname(),
        }
    }
}

pub fn new_storage_id() -> String {
    uuid::Uuid::new_v4().to_string()
}

pub fn read_marker(root: &Path) -> std::io::Result<Option<Marker>> {
    match std::fs::read(root.join(MARKER_FILE)) {
        Ok(bytes) => serde_json::from_slice(&bytes)
            .map(Some)
            .map_err(|e| std::io::Error::other(format!("the marker {MARKER_FILE} is unreadable ({e})"))),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(e),
    }
}

pub fn write_marker(root: &Path, marker: &Marker) -> std::io::Result<()> {
    let json = serde_json::to_vec_pretty(marker).map_err(std::io::Error::other)?;
    fsutil::write_file_durably(&root.join(MARKER_FILE), &json, 0o644)
}

/// What to do given the marker, the database's id and how many stored files the database
/// references. Pure, so every case is unit-tested.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    Matched(String),
    /// Empty storage and empty database: make a new id and record it in both.
    InitialiseBoth,
    /// The database has an id and references nothing; the marker can safely be (re)written.
    WriteMarker(String),
    Refuse(Refusal),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    MarkerMissing { db_id: Option<String>, referenced: i64 },
    Mismatch { marker_id: String, db_id: String },
    UnclaimedStorage { marker_id: String },
}

impl Refusal {
    pub fn code(&self) -> &'static str {
        match self {
            Refusal::MarkerMissing { .. } => "storage_marker_missing",
            Refusal::Mismatch { .. } => "storage_id_mismatch",
            Refusal::UnclaimedStorage { .. } => "storage_not_claimed_by_database",
        }
    }

    pub fn message(&self, root: &Path) -> String {
        let root = root.display();
        match self {
            Refusal::MarkerMissing { referenced, .. } => format!(
                "the media root {root} has no storage marker ({MARKER_FILE}) but the database references \
                 {referenced} stored file(s): the storage was wiped, is not mounted, or MEDIA_ROOT points at \
                 the wrong place. Mount the right volume or fix MEDIA_ROOT; if the files really moved here \
                 on purpose, run `atm-maint storage adopt`"
            ),
            Refusal::Mismatch { marker_id, db_id } => format!(
                "the media root {root} belongs to storage {marker_id} but the database expects storage \
                 {db_id}: a different volume or bucket is attached. Attach the right one, or run \
                 `atm-maint storage adopt` if this swap is deliberate"
            ),
            Refusal::UnclaimedStorage { marker_id } => format!(
                "the media root {root} holds storage {marker_id} but the database has no storage id: the \
                 database was reset or DATABASE_URL points at another database. Fix DATABASE_URL, or run \
                 `atm-maint storage adopt` to attach this storage to this database"
            ),
        }
    }
}

pub fn decide(marker: Option<&str>, db: Option<&str>, referenced: i64) -> Decision {
    match (marker, db) {
        (Some(m), Some(d)) if m == d => Decision::Matched(m.to_string()),
        (Some(m), Some(d)) => {
            Decision::Refuse(Refusal::Mismatch { marker_id: m.to_string(), db_id: d.to_string() })
        }
        (Some(m), None) => Decision::Refuse(Refusal::UnclaimedStorage { marker_id: m.to_string() }),
        (None, _) if referenced > 0 => {
            Decision::Refuse(Refusal::MarkerMissing { db_id: db.map(str::to_string), referenced })
        }
        (None, Some(d)) => Decision::WriteMarker(d.to_string()),
        (None, None) => Decision::InitialiseBoth,
    }
}

pub fn hostname() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|s| s.trim().to_string())
        .unwrap_or_else(|_| "unknown".to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_first_start_with_empty_storage_and_database_initialises_both() {
        assert_eq!(decide(None, None, 0), Decision::InitialiseBoth);
    }

    #[test]
    fn matching_ids_pass() {
        assert_eq!(decide(Some("a"), Some("a"), 5), Decision::Matched("a".into()));
    }

    #[test]
    fn a_missing_marker_with_referenced_files_is_refused() {
        let d = decide(None, Some("a"), 3);
        assert!(matches!(d, Decision::Refuse(Refusal::MarkerMissing { referenced: 3, .. })));
    }

    #[test]
    fn a_missing_marker_with_nothing_referenced_is_rewritten() {
        assert_eq!(decide(None, Some("a"), 0), Decision::WriteMarker("a".into()));
    }

    #[test]
    fn different_ids_are_refused_and_the_message_names_both_and_the_fix() {
        let Decision::Refuse(r) = decide(Some("a"), Some("b"), 0) else { panic!() };
        let msg = r.message(Path::new("/var/data/media"));
        assert!(msg.contains("storage a") && msg.contains("storage b") && msg.contains("adopt"), "{msg}");
    }

    #[test]
    fn storage_with_a_marker_and_a_database_without_an_id_is_refused() {
        assert!(matches!(decide(Some("a"), None, 0), Decision::Refuse(Refusal::UnclaimedStorage { .. })));
    }

    #[test]
    fn the_marker_round_trips_through_the_disk() {
        let dir = tempfile::tempdir().unwrap();
        assert!(read_marker(dir.path()).unwrap().is_none());
        write_marker(dir.path(), &Marker::new("xyz")).unwrap();
        assert_eq!(read_marker(dir.path()).unwrap().unwrap().storage_id, "xyz");
    }
}
