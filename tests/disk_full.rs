//! Disk full: on a small real filesystem an upload that does not fit fails with 507 and a clear
//! message, leaves nothing partial, reads keep working, and the same upload succeeds once space
//! is freed.

mod common;

use common::*;

#[tokio::test(flavor = "multi_thread")]
async fn a_full_disk_answers_507_keeps_reads_working_and_recovers() {
    let tmp = tempfile::tempdir().unwrap();
    let d = Deployment::new(Backend::Sqlite, tmp.path()).await;
    let Some(_m) = mount_tmpfs(&d.media_root, "16m") else {
        return;
    };
    let server = d.start().unwrap_or_else(|r| panic!("{r:?}"));
    let c = client();

    let small = payload(1, 1024 * 1024);
    let r = c.post(server.url("/api/_test/objects")).body(small.clone()).send().await.unwrap();
    assert_eq!(r.status(), 201);
    let first: serde_json::Value = r.json().await.unwrap();

    // Fill most of the disk with something that is not ours to delete.
    let filler = d.media_root.join("filler.bin");
    std::fs::write(&filler, vec![7u8; 11 * 1024 * 1024]).unwrap();

    let big = payload(2, 6 * 1024 * 1024);
    let r = c.post(server.url("/api/_test/objects")).body(big.clone()).send().await.unwrap();
    assert_eq!(r.status(), 507);
    let v: serde_json::Value = r.json().await.unwrap();
    assert!(v["detail"].as_str().unwrap().contains("full"), "{v}");
    assert!(temp_files(&d.media_root).is_empty(), "partial files left: {:?}", temp_files(&d.media_root));
    let rows: Vec<serde_json::Value> =
        c.get(server.url("/api/_test/objects")).send().await.unwrap().json().await.unwrap();
    assert_eq!(rows.len(), 1, "a row was recorded for the failed upload");

    let id = first["id"].as_i64().unwrap();
    let back = c.get(server.url(&format!("/api/_test/objects/{id}"))).send().await.unwrap();
    assert_eq!(back.status(), 200);
    assert_eq!(sha256_hex(&back.bytes().await.unwrap()), sha256_hex(&small));

    std::fs::remove_file(&filler).unwrap();
    let r = c.post(server.url("/api/_test/objects")).body(big.clone()).send().await.unwrap();
    assert_eq!(r.status(), 201, "the same upload after freeing space");
    let v: serde_json::Value = r.json().await.unwrap();
    assert_eq!(v["object"]["sha256"], sha256_hex(&big));
}
