//! fsck finds each planted fault (a deleted file, an extra file, a flipped byte, a truncated
//! file, a leftover temporary file) and repair removes only what nobody references.

use crate::common::*;

on_each_database!(fsck_finds_every_planted_fault_and_repair_keeps_referenced_data);
async fn fsck_finds_every_planted_fault_and_repair_keeps_referenced_data(backend: Backend) {
    let tmp = tempfile::tempdir().unwrap();
    let d = Deployment::new(backend, tmp.path()).await;
    let server = d.start().unwrap();
    let mut keys = Vec::new();
    for i in 0..5u64 {
        let r = client().post(server.url("/api/_test/objects")).body(payload(i, 5000)).send().await.unwrap();
        let v: serde_json::Value = r.json().await.unwrap();
        keys.push(v["object"]["key"].as_str().unwrap().to_string());
    }
    assert!(server.stop().success());
    let clean = d.run(&["fsck"]);
    assert!(clean.status.success(), "{}", String::from_utf8_lossy(&clean.stdout));

    let path = |k: &str| d.media_root.join(k);
    std::fs::remove_file(path(&keys[0])).unwrap();
    let mut flipped = std::fs::read(path(&keys[1])).unwrap();
    flipped[100] ^= 0xFF;
    std::fs::write(path(&keys[1]), flipped).unwrap();
    let full = std::fs::read(path(&keys[2])).unwrap();
    std::fs::write(path(&keys[2]), &full[..1000]).unwrap();
    // Planted an hour ago; a file without a row from the last two minutes is an upload in
    // flight on a running service, counted but not reported.
    let hour_ago = std::time::SystemTime::now() - std::time::Duration::from_secs(3600);
    for (name, bytes) in
        [("photos/stray.jpg", &b"nobody knows me"[..]), ("photos/.tmp-deadbeef", b"half a write")]
    {
        std::fs::write(d.media_root.join(name), bytes).unwrap();
        std::fs::File::options()
            .write(true)
            .open(d.media_root.join(name))
            .unwrap()
            .set_modified(hour_ago)
            .unwrap();
    }
    std::fs::write(d.media_root.join("photos/arriving.jpg"), b"an upload in flight").unwrap();

    let out = d.run(&["fsck", "--json"]);
    assert_eq!(out.status.code(), Some(1));
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let kinds: Vec<(String, String)> = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| (f["kind"].as_str().unwrap().to_string(), f["key"].as_str().unwrap().to_string()))
        .collect();
    for expected in [
        ("missing", keys[0].clone()),
        ("hash_mismatch", keys[1].clone()),
        ("size_mismatch", keys[2].clone()),
        ("orphan", "photos/stray.jpg".to_string()),
        ("temporary", "photos/.tmp-deadbeef".to_string()),
    ] {
        let expected = (expected.0.to_string(), expected.1);
        assert!(kinds.contains(&expected), "{backend:?}: {expected:?} not found in {kinds:?}");
    }
    assert_eq!(kinds.len(), 5, "no false findings: {kinds:?}");
    assert_eq!(report["recent"], 1, "the fresh file is counted, not judged");

    // Within the grace period nothing is removed; with a zero grace only the unreferenced go.
    let out = d.run(&["fsck", "--repair"]);
    assert!(String::from_utf8_lossy(&out.stdout).contains("0 file(s) removed"));
    let out = d.run(&["fsck", "--repair", "--grace-hours", "0", "--json"]);
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["repaired"].as_array().unwrap().len(), 2, "{report}");
    assert!(!d.media_root.join("photos/stray.jpg").exists());
    assert!(!d.media_root.join("photos/.tmp-deadbeef").exists());
    assert!(
        path(&keys[1]).exists() && path(&keys[2]).exists() && path(&keys[3]).exists(),
        "referenced files stay"
    );
    assert_eq!(report["rows"], 5, "rows are never deleted");
}

#[tokio::test(flavor = "multi_thread")]
async fn the_background_scrub_finds_a_damaged_file_and_doctor_reports_it() {
    let tmp = tempfile::tempdir().unwrap();
    let d = Deployment::new(Backend::Sqlite, tmp.path())
        .await
        .with("SCRUB_INTERVAL_SECONDS", "1")
        .with("METRICS_TOKEN", "t");
    let server = d.start().unwrap();
    let mut keys = Vec::new();
    for i in 0..3u64 {
        let r = client().post(server.url("/api/_test/objects")).body(payload(i, 2000)).send().await.unwrap();
        let v: serde_json::Value = r.json().await.unwrap();
        keys.push(v["object"]["key"].as_str().unwrap().to_string());
    }
    let path = d.media_root.join(&keys[1]);
    let mut bytes = std::fs::read(&path).unwrap();
    bytes[10] ^= 0x55;
    std::fs::write(&path, bytes).unwrap();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    loop {
        let text =
            client().get(server.url("/metrics")).bearer_auth("t").send().await.unwrap().text().await.unwrap();
        if text.contains("atm_scrub_findings_total 1") {
            assert!(text.contains("atm_scrub_checked_total"));
            break;
        }
        assert!(std::time::Instant::now() < deadline, "the scrub did not find the damaged file:\n{text}");
        tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    }
    let out = d.run(&["doctor", "--json"]);
    assert_eq!(out.status.code(), Some(1));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["scrub_findings"][0][0], keys[1].as_str(), "{v:#}");
    assert!(v["verdict"].as_str().unwrap().contains("failed the background scrub"));
    assert!(v["days_until_full"].as_f64().is_some(), "an upload rate gives an estimate: {v:#}");
}
