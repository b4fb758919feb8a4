//! Disk full: on a small real filesystem an upload that does not fit fails with 507 and a clear
//! message, leaves nothing partial, reads keep working, and the same upload succeeds once space
//! is freed.

use crate::common::*;

#[tokio::test(flavor = "multi_thread")]
#[ignore = "needs root (mounts tmpfs and loop ext4 filesystems) and e2fsprogs"]
async fn a_full_disk_answers_507_keeps_reads_working_and_recovers() {
    let tmp = tempfile::tempdir().unwrap();
    let d = Deployment::new(Backend::Sqlite, tmp.path()).await;
    let _m = mount_tmpfs(&d.media_root, "16m");
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
    // Streamed without a Content-Length, so the write itself runs into the full disk.
    let chunks: Vec<Result<Vec<u8>, std::io::Error>> =
        big.chunks(64 * 1024).map(|c| Ok(c.to_vec())).collect();
    let streamed = reqwest::Body::wrap_stream(futures_util::stream::iter(chunks));
    let r = c.post(server.url("/api/_test/objects")).body(streamed).send().await.unwrap();
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

#[tokio::test(flavor = "multi_thread")]
#[ignore = "needs root (mounts tmpfs and loop ext4 filesystems) and e2fsprogs"]
async fn uploads_are_refused_above_the_high_water_mark_before_the_body_is_read() {
    let tmp = tempfile::tempdir().unwrap();
    let d = Deployment::new(Backend::Sqlite, tmp.path())
        .await
        .with("DISK_REFUSE_PERCENT", "90")
        .with("DISK_WARN_PERCENT", "50");
    let _m = mount_tmpfs(&d.media_root, "16m");
    let server = d.start().unwrap_or_else(|r| panic!("{r:?}"));
    let c = client();
    let filler = d.media_root.join("filler.bin");
    std::fs::write(&filler, vec![1u8; 15 * 1024 * 1024]).unwrap();
    let r = c.post(server.url("/api/_test/objects")).body(payload(1, 1000)).send().await.unwrap();
    assert_eq!(r.status(), 507, "a small upload is refused above 90%");
    let out = d.run(&["doctor", "--json"]);
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(v["storage"]["warnings"].to_string().contains("full"), "{v}");
    std::fs::remove_file(&filler).unwrap();
    let r = c.post(server.url("/api/_test/objects")).body(payload(1, 1000)).send().await.unwrap();
    assert_eq!(r.status(), 201, "accepted again once space is freed");
    // A declared size that cannot fit is answered before the body is sent at all.
    use std::io::{Read, Write};
    let addr = server.base.trim_start_matches("http://").to_string();
    let mut s = std::net::TcpStream::connect(&addr).unwrap();
    write!(
        s,
        "POST /api/_test/objects HTTP/1.1\r\nHost: {addr}\r\nContent-Length: {}\r\n\r\n",
        20 * 1024 * 1024
    )
    .unwrap();
    s.set_read_timeout(Some(std::time::Duration::from_secs(10))).unwrap();
    let mut head = [0u8; 64];
    let n = s.read(&mut head).unwrap();
    assert!(
        String::from_utf8_lossy(&head[..n]).starts_with("HTTP/1.1 507"),
        "{}",
        String::from_utf8_lossy(&head[..n])
    );
}
