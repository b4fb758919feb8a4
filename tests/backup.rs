//! Backup → wipe → restore gives identical hashes and a working service; verify catches a
//! damaged backup.

mod common;

use common::*;

#[tokio::test(flavor = "multi_thread")]
async fn backup_wipe_restore_gives_identical_files_and_a_working_service() {
    for backend in backends() {
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
        let server =
            restored.start().unwrap_or_else(|r| panic!("{backend:?}: restored service refused: {r:?}"));
        server.assert_objects(&stored).await;
        drop(server);
        assert!(restored.run(&["fsck"]).status.success());
        // Restoring over existing data is refused.
        assert!(!restored.run(&["restore", dir.to_str().unwrap()]).status.success());
        // A damaged backup fails verification.
        let manifest: serde_json::Value =
            serde_json::from_slice(&std::fs::read(dir.join("manifest.json")).unwrap()).unwrap();
        let victim = dir.join("media").join(manifest["objects"][0]["key"].as_str().unwrap());
        // Hard links share the file with the (wiped) store: replace, do not edit in place.
        let mut bytes = std::fs::read(&victim).unwrap();
        bytes[0] ^= 0xFF;
        std::fs::remove_file(&victim).unwrap();
        std::fs::write(&victim, bytes).unwrap();
        let out = d.run(&["backup", "verify", dir.to_str().unwrap(), "--sample", "100"]);
        assert_eq!(out.status.code(), Some(1), "{}", String::from_utf8_lossy(&out.stdout));
    }
}
