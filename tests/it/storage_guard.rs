//! The storage guard against real files, real mounts and the real binary.

use crate::common::*;

fn doctor_json(d: &Deployment) -> (i32, serde_json::Value) {
    let out = d.run(&["doctor", "--json"]);
    let v = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("doctor printed no JSON ({e}): {}", String::from_utf8_lossy(&out.stdout)));
    (out.status.code().unwrap_or(-1), v)
}

fn problem_codes(v: &serde_json::Value) -> Vec<String> {
    v["storage"]["problems"]
        .as_array()
        .map(|a| a.iter().map(|p| p["code"].as_str().unwrap().to_string()).collect())
        .unwrap_or_default()
}

async fn store_one(server: &Server, bytes: Vec<u8>) -> serde_json::Value {
    let r = client().post(server.url("/api/_test/objects")).body(bytes).send().await.unwrap();
    assert_eq!(r.status(), 201);
    r.json().await.unwrap()
}

on_each_database!(a_good_setup_is_accepted_and_doctor_says_healthy);
async fn a_good_setup_is_accepted_and_doctor_says_healthy(backend: Backend) {
    let tmp = tempfile::tempdir().unwrap();
    let d = Deployment::new(backend, tmp.path()).await;
    let server = d.start().unwrap_or_else(|r| panic!("{backend:?} refused: {r:?}"));
    let ready = client().get(server.url("/readyz")).send().await.unwrap();
    assert_eq!(ready.status(), 200);
    let logs = server.logs();
    for fact in ["media root", "media mount", "media free space", "\"database\"", "storage identity"] {
        assert!(logs.contains(fact), "start-up report lacks {fact}: {logs}");
    }
    for area in ["photos", "pdfs", "excel_uploads"] {
        assert!(d.media_root.join(area).is_dir(), "{area} not created");
    }
    assert!(d.media_root.join(".atm-storage-id").is_file());
    drop(server);
    let (code, v) = doctor_json(&d);
    assert_eq!(code, 0, "{backend:?}: {v:#}");
    assert_eq!(v["healthy"], true);
    assert_eq!(v["storage"]["identity"], "matched");
    assert!(v["config"]["SECRET_KEY"].as_str().unwrap().starts_with("set"));
    assert!(!v.to_string().contains(&std::fs::read_to_string(d.data_dir.join("secret_key")).unwrap()));
}

#[tokio::test(flavor = "multi_thread")]
#[ignore = "needs root (mounts tmpfs and loop ext4 filesystems) and e2fsprogs"]
async fn production_on_a_separate_persistent_disk_is_accepted() {
    let tmp = tempfile::tempdir().unwrap();
    let _disk = mount_ext4(&tmp.path().join("disk"), &tmp.path().join("disk.img"), 32);
    let d = Deployment::new(Backend::Sqlite, tmp.path()).await.production();
    let d = Deployment {
        media_root: tmp.path().join("disk/media"),
        database_url: format!("sqlite://{}/disk/atm.db", tmp.path().display()),
        ..d
    };
    std::fs::create_dir(&d.media_root).unwrap();
    let server = d.start().unwrap_or_else(|r| panic!("refused: {r:?}"));
    assert_eq!(client().get(server.url("/readyz")).send().await.unwrap().status(), 200);
    drop(server);
    let (code, v) = doctor_json(&d);
    assert_eq!(code, 0, "{v:#}");
    assert_eq!(v["storage"]["persistent"], true);
    assert!(v["verdict"].as_str().unwrap().contains("persistent"));
}

#[tokio::test(flavor = "multi_thread")]
#[ignore = "needs root (mounts tmpfs and loop ext4 filesystems) and e2fsprogs"]
async fn a_tmpfs_media_root_in_production_is_refused_with_the_fix() {
    let tmp = tempfile::tempdir().unwrap();
    let d = Deployment::new(Backend::Sqlite, tmp.path()).await.production();
    let _m = mount_tmpfs(&d.media_root, "8m");
    let refused = d.start().map(|_| ()).expect_err("production started on tmpfs");
    assert_eq!(refused.code, Some(1));
    assert!(refused.logs.contains(&d.media_root.display().to_string()), "{}", refused.logs);
    assert!(
        refused.logs.contains("tmpfs") && refused.logs.contains("set MEDIA_ROOT under"),
        "{}",
        refused.logs
    );
    let (code, v) = doctor_json(&d);
    assert_eq!(code, 1);
    assert!(problem_codes(&v).contains(&"media_root_ephemeral".to_string()), "{v:#}");
    let out = d.run(&["disk-test"]);
    assert!(out.status.success(), "disk-test itself works on tmpfs: {out:?}");

    // The operator's explicit opt-in turns the refusal into a warning.
    let d = d.with("ATM_ALLOW_EPHEMERAL_MEDIA", "true");
    let (_, v) = doctor_json(&d);
    assert!(!problem_codes(&v).contains(&"media_root_ephemeral".to_string()), "{v:#}");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_missing_media_root_in_production_is_refused_and_not_created() {
    let tmp = tempfile::tempdir().unwrap();
    let d = Deployment::new(Backend::Sqlite, tmp.path()).await.production();
    let d = Deployment { media_root: tmp.path().join("var/data/media"), ..d };
    let refused = d.start().map(|_| ()).expect_err("started without a media root");
    assert!(refused.logs.contains("does not exist"), "{}", refused.logs);
    assert!(!d.media_root.exists(), "production created the missing media root");
    let (code, v) = doctor_json(&d);
    assert_eq!(code, 1);
    assert!(problem_codes(&v).contains(&"media_root_missing".to_string()), "{v:#}");
}

on_each_database!(a_deleted_marker_while_the_database_references_files_is_refused);
async fn a_deleted_marker_while_the_database_references_files_is_refused(backend: Backend) {
    let tmp = tempfile::tempdir().unwrap();
    let d = Deployment::new(backend, tmp.path()).await;
    let server = d.start().unwrap();
    store_one(&server, payload(1, 1000)).await;
    assert!(server.stop().success());
    std::fs::remove_file(d.media_root.join(".atm-storage-id")).unwrap();

    let refused = d.start().map(|_| ()).expect_err("started with the marker gone");
    assert_eq!(refused.code, Some(1));
    assert!(
        refused.logs.contains("no storage marker") && refused.logs.contains("1 stored file"),
        "{}",
        refused.logs
    );
    let (code, v) = doctor_json(&d);
    assert_eq!(code, 1);
    assert!(problem_codes(&v).contains(&"storage_marker_missing".to_string()), "{v:#}");
    assert!(!d.media_root.join(".atm-storage-id").exists(), "doctor must not repair anything");
}

on_each_database!(a_marker_from_other_storage_is_refused_until_adopted);
async fn a_marker_from_other_storage_is_refused_until_adopted(backend: Backend) {
    let tmp = tempfile::tempdir().unwrap();
    let d = Deployment::new(backend, tmp.path()).await;
    d.start().unwrap().stop();
    let marker = d.media_root.join(".atm-storage-id");
    let mut m: serde_json::Value = serde_json::from_slice(&std::fs::read(&marker).unwrap()).unwrap();
    let original = m["storage_id"].as_str().unwrap().to_string();
    m["storage_id"] = "00000000-other-storage".into();
    std::fs::write(&marker, m.to_string()).unwrap();

    let refused = d.start().map(|_| ()).expect_err("started on swapped storage");
    assert!(
        refused.logs.contains("00000000-other-storage") && refused.logs.contains(&original),
        "{}",
        refused.logs
    );
    let (code, v) = doctor_json(&d);
    assert_eq!(code, 1);
    assert!(problem_codes(&v).contains(&"storage_id_mismatch".to_string()));

    let out = d.run(&["storage", "adopt"]);
    assert!(out.status.success(), "{out:?}");
    let server = d.start().unwrap_or_else(|r| panic!("still refused after adopt: {r:?}"));
    assert_eq!(client().get(server.url("/readyz")).send().await.unwrap().status(), 200);
}

#[tokio::test(flavor = "multi_thread")]
#[ignore = "needs root (mounts tmpfs and loop ext4 filesystems) and e2fsprogs"]
async fn an_unwritable_media_root_is_refused_naming_uid_gid_and_mode() {
    let tmp = tempfile::tempdir().unwrap();
    let d = Deployment::new(Backend::Sqlite, tmp.path()).await;
    let m = mount_tmpfs(&d.media_root, "4m");
    remount_read_only(&m);
    let refused = d.start().map(|_| ()).expect_err("started on a read-only root");
    assert_eq!(refused.code, Some(1));
    let uid = rustix::process::getuid().as_raw();
    for needle in [format!("runs as uid {uid}"), "owned by uid".into(), "read-only".into()] {
        assert!(refused.logs.contains(&needle), "missing {needle:?} in {}", refused.logs);
    }
    let (code, v) = doctor_json(&d);
    assert_eq!(code, 1);
    assert!(problem_codes(&v).contains(&"media_root_not_writable".to_string()), "{v:#}");
}

#[tokio::test(flavor = "multi_thread")]
#[ignore = "needs root (mounts tmpfs and loop ext4 filesystems) and e2fsprogs"]
async fn a_platform_variable_applies_production_rules_but_a_plain_container_does_not() {
    let tmp = tempfile::tempdir().unwrap();
    let d = Deployment::new(Backend::Sqlite, tmp.path()).await.without("ATM_TEST_ROUTES");
    let _m = mount_tmpfs(&d.media_root, "4m");
    // Development on tmpfs: allowed, with a warning in the start-up report.
    let server = d.start().unwrap_or_else(|r| panic!("development refused: {r:?}"));
    assert!(server.logs().contains("production would refuse it"));
    drop(server);
    let d = d.with("RENDER", "true").with("SECRET_KEY", "render-secret-key-long-enough-0123456789abcdef");
    let refused = d.start().map(|_| ()).expect_err("Render accepted tmpfs");
    assert!(refused.logs.contains("On Render"), "{}", refused.logs);
}

#[tokio::test(flavor = "multi_thread")]
async fn production_refuses_weak_and_placeholder_secret_keys_in_serve_and_doctor() {
    let tmp = tempfile::tempdir().unwrap();
    let d = Deployment::new(Backend::Sqlite, tmp.path()).await.production();
    let weak = [
        "a".repeat(32),
        "0123456789".repeat(4),
        "xyz".repeat(15),
        "changeme-changeme-changeme-changeme".to_string(),
        "your-secret-key-here-please-change-it-0123456789".to_string(),
        format!("django-insecure-{}", "k".repeat(30)),
    ];
    for key in &weak {
        let d = d.clone().with("SECRET_KEY", key);
        let refused = d.start().err().unwrap_or_else(|| panic!("serve started with SECRET_KEY={key}"));
        assert!(
            refused.logs.contains("SECRET_KEY") && refused.logs.contains("openssl rand"),
            "{}",
            refused.logs
        );
        assert!(!refused.logs.contains(key.as_str()), "the logs repeat the secret: {}", refused.logs);
        let out = d.run(&["doctor"]);
        assert!(!out.status.success(), "doctor accepted SECRET_KEY={key}");
        assert!(String::from_utf8_lossy(&out.stderr).contains("SECRET_KEY"));
    }
}
