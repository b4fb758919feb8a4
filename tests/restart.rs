//! Restart: files stored by one process are read back, hash-identical, by a fresh process given
//! only the same data dir and database; `disk-test` lists the probe an earlier run left.

mod common;

use common::*;

#[tokio::test(flavor = "multi_thread")]
async fn files_and_disk_test_probes_survive_a_restart() {
    for backend in backends() {
        let tmp = tempfile::tempdir().unwrap();
        let d = Deployment::new(backend, tmp.path()).await;
        let server = d.start().unwrap();
        let mut stored = Vec::new();
        for i in 0..10u64 {
            let body = payload(i, 10_000 + i as usize * 50_000);
            let r = client().post(server.url("/api/_test/objects")).body(body.clone()).send().await.unwrap();
            assert_eq!(r.status(), 201);
            let v: serde_json::Value = r.json().await.unwrap();
            stored.push((v["id"].as_i64().unwrap(), sha256_hex(&body)));
        }
        let first = d.run(&["disk-test"]);
        assert!(first.status.success());
        assert!(String::from_utf8_lossy(&first.stdout).contains("earlier probes: 0"));
        assert!(server.stop().success(), "graceful stop failed");

        let server = d.start().unwrap_or_else(|r| panic!("restart refused: {r:?}"));
        for (id, sha) in &stored {
            let r = client().get(server.url(&format!("/api/_test/objects/{id}"))).send().await.unwrap();
            assert_eq!(r.status(), 200);
            assert_eq!(&sha256_hex(&r.bytes().await.unwrap()), sha, "object {id} changed across restart");
        }
        let second = d.run(&["disk-test"]);
        let text = String::from_utf8_lossy(&second.stdout);
        assert!(second.status.success(), "{text}");
        assert!(text.contains("earlier probes: 1"), "{text}");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn disk_test_fails_when_the_media_root_is_missing() {
    let tmp = tempfile::tempdir().unwrap();
    let d = Deployment::new(Backend::Sqlite, tmp.path()).await;
    let out = d.run(&["disk-test"]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("does not exist"));
}
