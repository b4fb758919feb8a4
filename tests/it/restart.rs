//! Restart: files stored by one process are read back, hash-identical, by a fresh process given
//! only the same data dir and database; `disk-test` lists the probe an earlier run left.

use crate::common::*;

on_each_database!(files_and_disk_test_probes_survive_a_restart);
async fn files_and_disk_test_probes_survive_a_restart(backend: Backend) {
    let tmp = tempfile::tempdir().unwrap();
    let d = Deployment::new(backend, tmp.path()).await;
    let server = d.start().unwrap();
    let stored = server.store_payloads(10, 60_000).await;
    let first = d.run(&["disk-test"]);
    assert!(first.status.success());
    assert!(String::from_utf8_lossy(&first.stdout).contains("earlier probes: 0"));
    assert!(server.stop().success(), "graceful stop failed");

    let server = d.start().unwrap_or_else(|r| panic!("restart refused: {r:?}"));
    server.assert_objects(&stored).await;
    let second = d.run(&["disk-test"]);
    let text = String::from_utf8_lossy(&second.stdout);
    assert!(second.status.success(), "{text}");
    assert!(text.contains("earlier probes: 1"), "{text}");
}

#[tokio::test(flavor = "multi_thread")]
async fn disk_test_fails_when_the_media_root_is_missing() {
    let tmp = tempfile::tempdir().unwrap();
    let d = Deployment::new(Backend::Sqlite, tmp.path()).await;
    let out = d.run(&["disk-test"]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("does not exist"));
}

#[tokio::test(flavor = "multi_thread")]
async fn sigterm_lets_an_upload_in_flight_finish() {
    use std::io::{Read, Write};
    let tmp = tempfile::tempdir().unwrap();
    let d = Deployment::new(Backend::Sqlite, tmp.path()).await;
    let server = d.start().unwrap();
    let addr = server.base.trim_start_matches("http://").to_string();
    let body = payload(7, 4 * 1024 * 1024);
    let mut s = std::net::TcpStream::connect(&addr).unwrap();
    write!(
        s,
        "POST /api/_test/objects HTTP/1.1\r\nHost: {addr}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    )
    .unwrap();
    s.write_all(&body[..body.len() / 2]).unwrap();
    std::thread::sleep(std::time::Duration::from_millis(200));
    let pid = rustix::process::Pid::from_raw(server.child.id() as i32).unwrap();
    rustix::process::kill_process(pid, rustix::process::Signal::TERM).unwrap();
    std::thread::sleep(std::time::Duration::from_millis(300));
    s.write_all(&body[body.len() / 2..]).unwrap();
    let mut response = String::new();
    s.read_to_string(&mut response).unwrap();
    assert!(response.starts_with("HTTP/1.1 201"), "{response}");
    assert!(response.contains(&sha256_hex(&body)));
    let mut server = server;
    let status = server.child.wait().unwrap();
    assert!(status.success(), "the server exits cleanly after the in-flight upload: {status:?}");
    // The log reader thread may still be reading the last lines the process wrote.
    let finished = (0..50).any(|_| {
        std::thread::sleep(std::time::Duration::from_millis(20));
        server.logs().contains("in-flight requests finished")
    });
    assert!(finished, "the shutdown is logged: {}", server.logs());
}
