//! Backup → wipe → restore gives identical hashes and a working service; the backup is an
//! independent copy of the store; verify, backup and restore name damaged objects by key.

use crate::common::*;

on_each_database!(backup_wipe_restore_gives_identical_files_and_a_working_service);
async fn backup_wipe_restore_gives_identical_files_and_a_working_service(backend: Backend) {
    let tmp = tempfile::tempdir().unwrap();
    let d = Deployment::new(backend, tmp.path()).await;
    let server = d.start().unwrap();
    let stored = server.store_payloads(25, 3000).await;
    // The backup is taken while the service runs.
    let dir = tmp.path().join("backup-1");
    let out = d.run(&["backup", dir.to_str().unwrap()]);
    assert!(out.status.success(), "{backend:?}: {}", String::from_utf8_lossy(&out.stderr));
    assert!(String::from_utf8_lossy(&out.stdout).contains("25 objects"));
    drop(server);
    let out = d.run(&["backup", "verify", dir.to_str().unwrap()]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stdout));

    // Wipe everything: media, and the database (a fresh database for PostgreSQL).
    std::fs::remove_dir_all(&d.data_dir).unwrap();
    let restored = match backend {
        Backend::Sqlite => d.clone(),
        Backend::Postgres => {
            Deployment { database_url: fresh_database(backend, tmp.path()).await, ..d.clone() }
        }
    };
    let out = restored.run(&["restore", dir.to_str().unwrap()]);
    assert!(
        out.status.success(),
        "{backend:?}: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    let server = restored.start().unwrap_or_else(|r| panic!("{backend:?}: restored service refused: {r:?}"));
    server.assert_objects(&stored).await;
    drop(server);
    assert!(restored.run(&["fsck"]).status.success());
    // Restoring over existing data is refused.
    assert!(!restored.run(&["restore", dir.to_str().unwrap()]).status.success());
    // A damaged backup fails verification.
    let manifest: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.join("manifest.json")).unwrap()).unwrap();
    let victim = dir.join("media").join(manifest["objects"][0]["key"].as_str().unwrap());
    flip_byte(&victim, 0);
    let out = d.run(&["backup", "verify", dir.to_str().unwrap(), "--sample", "100"]);
    assert_eq!(out.status.code(), Some(1), "{}", String::from_utf8_lossy(&out.stdout));
}

/// Flips one byte of a file in place, as a failing disk or a stray write would: same inode.
fn flip_byte(path: &std::path::Path, at: u64) {
    use std::io::{Read, Seek, SeekFrom, Write};
    let mut f = std::fs::OpenOptions::new().read(true).write(true).open(path).unwrap();
    let mut b = [0u8];
    f.seek(SeekFrom::Start(at)).unwrap();
    f.read_exact(&mut b).unwrap();
    f.seek(SeekFrom::Start(at)).unwrap();
    f.write_all(&[b[0] ^ 0x5A]).unwrap();
    f.sync_all().unwrap();
}

fn manifest(dir: &std::path::Path) -> serde_json::Value {
    serde_json::from_slice(&std::fs::read(dir.join("manifest.json")).unwrap()).unwrap()
}

/// The manifest's key of a stored object, found by its hash.
fn key_of(dir: &std::path::Path, sha: &str) -> String {
    let m = manifest(dir);
    let e =
        m["objects"].as_array().unwrap().iter().find(|e| e["sha256"] == sha).expect("object in the manifest");
    e["key"].as_str().unwrap().to_string()
}

/// The same deployment with its data dir wiped and, on PostgreSQL, a fresh empty database.
async fn wiped(d: &Deployment, backend: Backend, tmp: &std::path::Path) -> Deployment {
    let _ = std::fs::remove_dir_all(&d.data_dir);
    std::fs::create_dir_all(&d.data_dir).unwrap();
    match backend {
        Backend::Sqlite => d.clone(),
        Backend::Postgres => Deployment { database_url: fresh_database(backend, tmp).await, ..d.clone() },
    }
}

fn text(out: &std::process::Output) -> String {
    format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr))
}

on_each_database!(
    a_byte_flipped_in_the_store_after_a_backup_leaves_the_backup_intact_and_restore_brings_back_the_original
);
async fn a_byte_flipped_in_the_store_after_a_backup_leaves_the_backup_intact_and_restore_brings_back_the_original(
    backend: Backend,
) {
    use std::os::unix::fs::MetadataExt;
    let tmp = tempfile::tempdir().unwrap();
    let d = Deployment::new(backend, tmp.path()).await;
    let server = d.start().unwrap();
    let stored = server.store_payloads(4, 2500).await;
    drop(server);
    let dir = tmp.path().join("backup");
    let out = d.run(&["backup", dir.to_str().unwrap()]);
    assert!(out.status.success(), "{backend:?}: {}", text(&out));

    for (i, (_, sha)) in stored.iter().enumerate() {
        let key = key_of(&dir, sha);
        let live = d.media_root.join(&key);
        let copy = dir.join("media").join(&key);
        assert_ne!(std::fs::metadata(&live).unwrap().ino(), std::fs::metadata(&copy).unwrap().ino(), "{key}");
        flip_byte(&live, (i * 37) as u64 % 2000);
        assert_ne!(&sha256_hex(&std::fs::read(&live).unwrap()), sha, "{key} not damaged in the store");
        assert_eq!(
            &sha256_hex(&std::fs::read(&copy).unwrap()),
            sha,
            "{backend:?}: the backup of {key} changed"
        );
    }
    let out = d.run(&["backup", "verify", dir.to_str().unwrap(), "--sample", "100"]);
    assert!(out.status.success(), "{backend:?}: {}", text(&out));

    let restored = wiped(&d, backend, tmp.path()).await;
    let out = restored.run(&["restore", dir.to_str().unwrap()]);
    assert!(out.status.success(), "{backend:?}: {}", text(&out));
    let server = restored.start().unwrap_or_else(|r| panic!("{backend:?}: restored service refused: {r:?}"));
    server.assert_objects(&stored).await;
    drop(server);
    assert!(restored.run(&["fsck"]).status.success());
}

on_each_database!(
    a_damaged_backup_object_is_named_by_restore_which_restores_the_rest_and_the_flag_accepts_the_loss
);
async fn a_damaged_backup_object_is_named_by_restore_which_restores_the_rest_and_the_flag_accepts_the_loss(
    backend: Backend,
) {
    let tmp = tempfile::tempdir().unwrap();
    let d = Deployment::new(backend, tmp.path()).await;
    let server = d.start().unwrap();
    let stored = server.store_payloads(5, 3000).await;
    drop(server);
    let dir = tmp.path().join("backup");
    assert!(d.run(&["backup", dir.to_str().unwrap()]).status.success());
    let victim_at = stored.len() / 2;
    let victim = key_of(&dir, &stored[victim_at].1);
    flip_byte(&dir.join("media").join(&victim), 100);
    let (good, lost): (Vec<_>, Vec<_>) =
        stored.iter().cloned().enumerate().partition(|(i, _)| *i != victim_at);
    let good: Vec<(i64, String)> = good.into_iter().map(|(_, o)| o).collect();

    // By default: everything that verifies is restored, the damaged key is named, exit 1,
    // and the service does not start on the incomplete copy.
    let restored = wiped(&d, backend, tmp.path()).await;
    let out = restored.run(&["restore", dir.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1), "{backend:?}: {}", text(&out));
    assert!(text(&out).contains(&victim), "{backend:?}: the damaged key is not named: {}", text(&out));
    assert!(!restored.media_root.join(&victim).exists(), "the damaged object was restored");
    for (_, sha) in &good {
        let key = key_of(&dir, sha);
        let bytes = std::fs::read(restored.media_root.join(&key)).unwrap_or_else(|e| panic!("{key}: {e}"));
        assert_eq!(&sha256_hex(&bytes), sha, "{key}");
    }
    let refused = restored.start().err().expect("serve started on an incomplete restore");
    assert!(refused.logs.contains("--accept-damaged"), "{backend:?}: {}", refused.logs);

    // Accepting the loss on the same target finishes the restore; fsck names the key.
    let out = restored.run(&["restore", "--accept-damaged", dir.to_str().unwrap()]);
    assert!(out.status.success(), "{backend:?}: {}", text(&out));
    assert!(text(&out).contains(&victim));
    let fsck = restored.run(&["fsck"]);
    assert_eq!(fsck.status.code(), Some(1), "{}", text(&fsck));
    assert!(text(&fsck).contains(&format!("MISSING    {victim}")), "{backend:?}: {}", text(&fsck));
    let server =
        restored.start().unwrap_or_else(|r| panic!("{backend:?}: refused after --accept-damaged: {r:?}"));
    server.assert_objects(&good).await;
    let r = client().get(server.url(&format!("/api/_test/objects/{}", lost[0].1.0))).send().await.unwrap();
    assert_ne!(r.status(), 200, "the damaged object is served");
    drop(server);

    // The flag on empty storage does the same in one step.
    let again = wiped(&d, backend, tmp.path()).await;
    let out = again.run(&["restore", "--accept-damaged", dir.to_str().unwrap()]);
    assert!(out.status.success(), "{backend:?}: {}", text(&out));
    let fsck = again.run(&["fsck", "--json"]);
    assert_eq!(fsck.status.code(), Some(1));
    let report: serde_json::Value = serde_json::from_slice(&fsck.stdout).unwrap();
    let missing: Vec<&str> = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["kind"] == "missing")
        .map(|f| f["key"].as_str().unwrap())
        .collect();
    assert_eq!(missing, [victim.as_str()], "{backend:?}: {report:#}");
}

on_each_database!(an_object_already_damaged_in_the_store_is_marked_in_the_backup_which_fails_naming_it);
async fn an_object_already_damaged_in_the_store_is_marked_in_the_backup_which_fails_naming_it(
    backend: Backend,
) {
    let tmp = tempfile::tempdir().unwrap();
    let d = Deployment::new(backend, tmp.path()).await;
    let server = d.start().unwrap();
    let stored = server.store_payloads(3, 2000).await;
    drop(server);
    let probe = tmp.path().join("first");
    assert!(d.run(&["backup", probe.to_str().unwrap()]).status.success());
    let victim = key_of(&probe, &stored[0].1);
    flip_byte(&d.media_root.join(&victim), 10);

    let dir = tmp.path().join("backup");
    let out = d.run(&["backup", dir.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1), "{backend:?}: {}", text(&out));
    assert!(text(&out).contains(&victim), "{}", text(&out));
    let m = manifest(&dir);
    let marked: Vec<&str> = m["objects"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["damaged"].is_string())
        .map(|e| e["key"].as_str().unwrap())
        .collect();
    assert_eq!(marked, [victim.as_str()]);
    let out = d.run(&["backup", "verify", dir.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out).contains(&victim));

    let restored = wiped(&d, backend, tmp.path()).await;
    let out = restored.run(&["restore", dir.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(text(&out).contains(&victim));
    assert!(!restored.media_root.join(&victim).exists(), "a damaged object was restored as good");
}
