//! Crash safety: uploads stream through the real HTTP path while the server is SIGKILLed at
//! random moments, again and again. Every acknowledged file must be present with its recorded
//! SHA-256, no row may point at a missing file, and no temporary file may pass for a stored one.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use crate::common::*;
use tokio::sync::Mutex;

const KILLS: usize = 50;

on_each_database!(acknowledged_uploads_survive_fifty_sigkills, worker_threads = 4);
async fn acknowledged_uploads_survive_fifty_sigkills(backend: Backend) {
    let tmp = tempfile::tempdir().unwrap();
    let d = Deployment::new(backend, tmp.path()).await;
    // id -> sha256 of every upload the server acknowledged with 201.
    let acked: Arc<Mutex<HashMap<i64, String>>> = Arc::default();
    let mut failed_or_cut = 0usize;
    let mut seed = 0u64;
    for round in 0..KILLS {
        let server = d.start().unwrap_or_else(|r| panic!("round {round}: restart refused: {r:?}"));
        let mut tasks = Vec::new();
        for client_no in 0..3u64 {
            let url = server.url("/api/_test/objects");
            let acked = acked.clone();
            seed += 1;
            let base = seed * 1000 + client_no;
            tasks.push(tokio::spawn(async move {
                let c = client();
                let mut cut = 0usize;
                for i in 0..1000u64 {
                    // 64 KiB .. 1.5 MiB, so kills land inside bodies as well as between them.
                    let len = 65536 + ((base + i) as usize * 7919) % (1536 * 1024);
                    let body = payload(base * 10_000 + i, len);
                    let sha = sha256_hex(&body);
                    match c.post(&url).body(body).send().await {
                        Ok(r) if r.status() == 201 => {
                            let v: serde_json::Value = match r.json().await {
                                Ok(v) => v,
                                Err(_) => break, // killed between status and body: not acknowledged
                            };
                            assert_eq!(v["object"]["sha256"], sha, "server hashed different bytes");
                            acked.lock().await.insert(v["id"].as_i64().unwrap(), sha);
                        }
                        Ok(r) => panic!("unexpected status {}", r.status()),
                        Err(_) => {
                            cut += 1;
                            break;
                        }
                    }
                }
                cut
            }));
        }
        let wait_ms = 20 + (round as u64 * 37) % 400;
        tokio::time::sleep(Duration::from_millis(wait_ms)).await;
        server.kill();
        for t in tasks {
            failed_or_cut += t.await.unwrap();
        }
    }

    // One more start: the guard must accept the storage after all that.
    let server = d.start().unwrap_or_else(|r| panic!("final start refused: {r:?}"));
    let rows: Vec<serde_json::Value> =
        client().get(server.url("/api/_test/objects")).send().await.unwrap().json().await.unwrap();
    let acked = acked.lock().await;
    let by_id: HashMap<i64, &serde_json::Value> =
        rows.iter().map(|r| (r["id"].as_i64().unwrap(), r)).collect();
    for (id, sha) in acked.iter() {
        let row = by_id.get(id).unwrap_or_else(|| panic!("acknowledged object {id} has no row"));
        assert_eq!(row["sha256"].as_str().unwrap(), sha, "object {id}: recorded hash differs");
    }
    for row in &rows {
        let key = row["key"].as_str().unwrap();
        let path = d.media_root.join(key);
        let bytes =
            std::fs::read(&path).unwrap_or_else(|e| panic!("row {row} points at a missing file: {e}"));
        assert_eq!(bytes.len() as i64, row["size"].as_i64().unwrap(), "{key}: size differs");
        assert_eq!(sha256_hex(&bytes), row["sha256"].as_str().unwrap(), "{key}: content differs");
        assert!(!key.split('/').any(|s| s.starts_with(".tmp-")), "a temporary file is recorded: {key}");
    }
    // Read a sample back through the HTTP path too.
    for row in rows.iter().take(20) {
        let id = row["id"].as_i64().unwrap();
        let body = client()
            .get(server.url(&format!("/api/_test/objects/{id}")))
            .send()
            .await
            .unwrap()
            .bytes()
            .await
            .unwrap();
        assert_eq!(sha256_hex(&body), row["sha256"].as_str().unwrap());
    }
    let temps = temp_files(&d.media_root);
    println!(
        "crash safety on {backend:?}: {KILLS} SIGKILLs, {} uploads acknowledged, {} rows, {} uploads cut by a kill, \
         {} leftover temporary files (named .tmp-*, never served, removed by fsck)",
        acked.len(),
        rows.len(),
        failed_or_cut,
        temps.len()
    );
    assert!(acked.len() >= KILLS, "too few acknowledged uploads ({}) for a meaningful test", acked.len());
    assert!(failed_or_cut > 0, "no upload was ever cut by a kill: the test did not exercise a crash");
}
