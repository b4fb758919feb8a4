//! Bursts of logins and PDF builds in bounded memory, slow clients cut off within their
//! timeouts, connection limits, tokens revoked by a password change, client addresses behind
//! proxies, and small hostile inputs answered as JSON 4xx.

use std::time::Duration;

use super::world::*;
use crate::common::api::*;
use crate::common::*;
use serde_json::json;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

fn peak_rss_kib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap()
}

fn rss_kib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap()
}

/// The bound this test holds the service to (the debug build; README "Reliability" has the
/// release numbers): 64 logins and 8 PDF previews at once, over the idle process's own size.
const BURST_BOUND_MIB: u64 = 160;

#[tokio::test(flavor = "multi_thread")]
async fn a_burst_of_logins_and_pdf_previews_is_answered_within_bounded_memory() {
    let tmp = tempfile::tempdir().unwrap();
    // Each login comes from its own address (through a trusted proxy), so every one of them
    // reaches the password check instead of the per-address limit.
    let env = [("QUEUE_WAIT_SECONDS", "5"), ("TRUST_PROXY_HEADERS", "true")];
    let w = world(Backend::Sqlite, tmp.path(), &env).await;
    let r = w
        .api
        .upload_excel(
            &w.host,
            w.tech_id,
            "Electrical",
            &[["RACE-E", "9", "Electro Mechanical", "", "Riyadh"]],
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
    let electrical = w.api.device_id(&w.tech, "RACE-E").await;
    let (form, _) = report(electrical, &today(), true, 7);
    let r = w.api.post_form(Some(&w.tech), "/api/technician/submit", form).await;
    assert_eq!(r.status, 201, "{}", r.body);
    let id = r.body["submission"]["id"].as_i64().unwrap();
    let pid = w.api.server.child.id();
    // Warm up once (fonts, first hash), then measure the burst alone.
    let r = w
        .api
        .post_json(Some(&w.sup), &format!("/api/supervisor/submissions/{id}/preview-pdf"), json!({}))
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let before = rss_kib(pid);
    std::fs::write(format!("/proc/{pid}/clear_refs"), "5").unwrap();
    let logins = (0..64).map(|i| {
        let api = &w.api;
        async move {
            // Four real sign-ins among sixty guesses at unknown names: every one runs a hash.
            let (user, password) = if i % 16 == 0 {
                ("sup1".to_string(), PASSWORD.to_string())
            } else {
                (format!("nobody{i}"), format!("wrong-{i}"))
            };
            let body = json!({"username": user, "password": password});
            let req = api.req(reqwest::Method::POST, None, "/api/auth/login/");
            api.send(req.header("x-forwarded-for", format!("198.18.0.{i}")).json(&body)).await.status
        }
    });
    let previews = (0..8).map(|_| {
        let api = &w.api;
        let sup = &w.sup;
        async move {
            api.post_json(Some(sup), &format!("/api/supervisor/submissions/{id}/preview-pdf"), json!({}))
                .await
                .status
        }
    });
    let (logins, previews) =
        tokio::join!(futures_util::future::join_all(logins), futures_util::future::join_all(previews));
    let peak = peak_rss_kib(pid);
    tokio::time::sleep(Duration::from_secs(2)).await;
    let after = rss_kib(pid);
    eprintln!(
        "burst: idle {} MiB, peak {} MiB, 2 s later {} MiB; logins {:?}; previews {:?}",
        before / 1024,
        peak / 1024,
        after / 1024,
        count(&logins),
        count(&previews)
    );
    assert!(logins.iter().all(|s| [200, 400, 429, 503].contains(s)), "{logins:?}");
    assert!(previews.iter().all(|s| [200, 503].contains(s)), "{previews:?}");
    assert!(logins.contains(&200) && previews.contains(&200), "the burst is served, not only refused");
    assert!(
        peak.saturating_sub(before) < BURST_BOUND_MIB * 1024,
        "the burst grew the process by {} MiB (bound {BURST_BOUND_MIB} MiB)",
        (peak - before) / 1024
    );
    // The service is still whole afterwards.
    assert_eq!(w.api.get(None, "/healthz").await.status, 200);
}

fn count(statuses: &[u16]) -> Vec<(u16, usize)> {
    let mut out: Vec<(u16, usize)> = Vec::new();
    for s in statuses {
        match out.iter_mut().find(|(k, _)| k == s) {
            Some((_, n)) => *n += 1,
            None => out.push((*s, 1)),
        }
    }
    out
}

#[tokio::test(flavor = "multi_thread")]
async fn a_client_trickling_its_headers_is_disconnected_after_the_header_timeout() {
    let tmp = tempfile::tempdir().unwrap();
    let w = world(Backend::Sqlite, tmp.path(), &[("HEADER_READ_TIMEOUT_SECONDS", "2")]).await;
    let addr = w.api.server.base.trim_start_matches("http://").to_string();
    let mut tcp = tokio::net::TcpStream::connect(&addr).await.unwrap();
    tcp.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n").await.unwrap();
    // One header byte a second, forever, unless the server hangs up.
    let started = std::time::Instant::now();
    let closed = tokio::time::timeout(Duration::from_secs(30), async {
        let mut buf = [0u8; 256];
        loop {
            if tcp.write_all(b"X").await.is_err() {
                return;
            }
            match tokio::time::timeout(Duration::from_secs(1), tcp.read(&mut buf)).await {
                Ok(Ok(0)) | Ok(Err(_)) => return,
                Ok(Ok(_)) => {} // a 408 may come first; the close follows
                Err(_) => {}
            }
        }
    })
    .await;
    assert!(closed.is_ok(), "the connection stayed open for 30 s with a 2 s header timeout");
    eprintln!("trickled headers: disconnected after {:?}", started.elapsed());
    assert_eq!(w.api.get(None, "/healthz").await.status, 200);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_photo_body_trickled_below_the_minimum_rate_is_cut_and_leaves_nothing() {
    let tmp = tempfile::tempdir().unwrap();
    let w = world(
        Backend::Sqlite,
        tmp.path(),
        &[("UPLOAD_IDLE_TIMEOUT_SECONDS", "2"), ("UPLOAD_MIN_BYTES_PER_SECOND", "1024")],
    )
    .await;
    let draft = w.draft(w.device).await;
    let slot = &slots(false)[0];
    let photo = jpeg(3);
    let addr = w.api.server.base.trim_start_matches("http://").to_string();
    let mut tcp = tokio::net::TcpStream::connect(&addr).await.unwrap();
    let head = format!(
        "PUT /api/technician/drafts/{draft}/photos/{slot} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {}\r\n\
         Content-Type: image/jpeg\r\nContent-Length: {}\r\n\r\n",
        w.tech,
        photo.len()
    );
    tcp.write_all(head.as_bytes()).await.unwrap();
    tcp.write_all(&photo[..64]).await.unwrap();
    let ended = tokio::time::timeout(Duration::from_secs(30), async {
        let mut buf = vec![0u8; 4096];
        let mut answer = Vec::new();
        for b in &photo[64..] {
            if tcp.write_all(std::slice::from_ref(b)).await.is_err() {
                break;
            }
            match tokio::time::timeout(Duration::from_millis(500), tcp.read(&mut buf)).await {
                Ok(Ok(0)) | Ok(Err(_)) => break,
                Ok(Ok(n)) => answer.extend_from_slice(&buf[..n]),
                Err(_) => {}
            }
        }
        answer
    })
    .await;
    let answer = ended.expect("a body at 2 B/s was not cut within 30 s (window 2 s)");
    let text = String::from_utf8_lossy(&answer);
    assert!(
        text.is_empty() || text.starts_with("HTTP/1.1 4"),
        "a cut upload is a 4xx or a closed connection: {text}"
    );
    assert!(temp_files(&w.d.media_root).is_empty(), "the partial file is gone");
    assert_eq!(photo_files(&w.d.media_root), 0, "nothing of the slow photo is stored");
    let r = w.api.get(Some(&w.tech), &format!("/api/technician/drafts/{draft}/")).await;
    assert_eq!(r.status, 200, "the service still answers: {}", r.body);
}

on_each_database!(set_password_revokes_every_access_and_refresh_token_issued_before);
async fn set_password_revokes_every_access_and_refresh_token_issued_before(backend: Backend) {
    let tmp = tempfile::tempdir().unwrap();
    let w = world(backend, tmp.path(), &[]).await;
    let r =
        w.api.post_json(None, "/api/auth/login/", json!({"username": "tech_r", "password": PASSWORD})).await;
    let (access, refresh) =
        (r.body["access"].as_str().unwrap().to_string(), r.body["refresh"].as_str().unwrap().to_string());
    assert_eq!(w.api.get(Some(&access), "/api/technician/devices").await.status, 200);
    let out =
        w.d.command(&["user", "set-password", "--username", "tech_r"])
            .env("ATM_PASSWORD", "A brand new passphrase 2026")
            .output()
            .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let r = w.api.get(Some(&access), "/api/technician/devices").await;
    assert_eq!(r.status, 401, "{backend:?}: the old access token is revoked: {}", r.body);
    assert!(r.body.to_string().contains("revoked"), "{}", r.body);
    let r = w.api.post_json(None, "/api/auth/refresh/", json!({"refresh": refresh})).await;
    assert_eq!(r.status, 401, "{backend:?}: the old refresh token mints nothing: {}", r.body);
    let new = w.api.login("tech_r", "A brand new passphrase 2026").await;
    assert_eq!(w.api.get(Some(&new), "/api/technician/devices").await.status, 200);
}

async fn failed_login(api: &Api, user: &str, xff: &str) -> u16 {
    api.send(
        api.req(reqwest::Method::POST, None, "/api/auth/login/")
            .header("x-forwarded-for", xff)
            .json(&json!({"username": user, "password": "not the password"})),
    )
    .await
    .status
}

#[tokio::test(flavor = "multi_thread")]
async fn behind_proxies_the_address_is_the_one_the_proxy_appended_not_the_forged_one() {
    for hops in ["1", "2"] {
        let tmp = tempfile::tempdir().unwrap();
        let w = world(
            Backend::Sqlite,
            tmp.path(),
            &[("TRUST_PROXY_HEADERS", "true"), ("TRUSTED_PROXY_HOPS", hops)],
        )
        .await;
        let seen_by_proxy = |client: &str, i: usize| match hops {
            "1" => format!("10.9.{}.{}, {client}", i / 200, i % 200),
            _ => format!("10.9.{}.{}, {client}, 172.16.0.1", i / 200, i % 200),
        };
        // 30 failures per address in the window: each with a new forged leftmost entry and a new
        // account, all from one real address.
        let mut statuses = Vec::new();
        for i in 0..31 {
            statuses.push(failed_login(&w.api, &format!("ghost{i}"), &seen_by_proxy("203.0.113.9", i)).await);
        }
        assert_eq!(statuses[..30].iter().filter(|s| **s == 400).count(), 30, "hops {hops}: {statuses:?}");
        assert_eq!(statuses[30], 429, "hops {hops}: forged entries must not escape the per-address limit");
        // Another real client is not limited by the first one's failures.
        assert_eq!(failed_login(&w.api, "ghost-x", &seen_by_proxy("198.51.100.20", 0)).await, 400);
        let logs = w.api.server.logs();
        assert!(logs.contains("203.0.113.9"), "hops {hops}: the log records the real address");
        assert!(!logs.contains("10.9.0.5"), "hops {hops}: the log never records a forged address");
    }
}

on_each_database!(small_hostile_inputs_get_a_clear_json_4xx_and_store_nothing);
async fn small_hostile_inputs_get_a_clear_json_4xx_and_store_nothing(backend: Backend) {
    let tmp = tempfile::tempdir().unwrap();
    let w = world(backend, tmp.path(), &[]).await;
    let json_4xx = |r: &Reply, status: u16, what: &str| {
        assert_eq!(r.status, status, "{backend:?} {what}: {}", r.body);
        assert!(r.body.is_object(), "{backend:?} {what}: the answer is JSON: {}", r.body);
    };
    // Paging past any integer: a 400, not an overflow or a negative OFFSET.
    for page in ["9223372036854775807", "4611686018427387904", "99999999999"] {
        let r =
            w.api.get(Some(&w.sup), &format!("/api/supervisor/submissions?page={page}&page_size=200")).await;
        json_4xx(&r, 400, &format!("page {page}"));
    }
    let r = w.api.get(Some(&w.sup), "/api/supervisor/submissions?page=2&page_size=10").await;
    assert_eq!(r.status, 200, "{}", r.body);
    // A query key given twice is refused in our shape, without axum's wording.
    let r = w.api.get(Some(&w.sup), "/api/supervisor/submissions?status=Pending&status=Approved").await;
    json_4xx(&r, 400, "duplicated query key");
    assert!(!r.body.to_string().contains("deserialize"), "{}", r.body);
    // Visit dates far in the past.
    for date in ["1900-01-01", "-0001-01-01", "1999-01-02"] {
        let (form, _) = report(w.device, date, false, 1);
        let r = w.api.post_form(Some(&w.tech), "/api/technician/submit", form).await;
        json_4xx(&r, 400, date);
        assert!(r.body["visit_date"].is_array(), "{date}: the field is named: {}", r.body);
    }
    // A multipart body whose boundary does not match its header.
    let req = w
        .api
        .req(reqwest::Method::POST, Some(&w.tech), "/api/technician/submit")
        .header("content-type", "multipart/form-data; boundary=nothing-like-this")
        .body("--other\r\nContent-Disposition: form-data; name=\"device_id\"\r\n\r\n1\r\n--other--\r\n");
    let r = w.api.send(req).await;
    assert!((400..500).contains(&r.status), "bad boundary: {} {}", r.status, r.body);
    assert!(r.body.is_object(), "bad boundary: JSON: {}", r.body);
    // A declared 90 TB report is too large (413), whatever the free space.
    let addr = w.api.server.base.trim_start_matches("http://").to_string();
    let mut tcp = tokio::net::TcpStream::connect(&addr).await.unwrap();
    let head = format!(
        "POST /api/technician/submit HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {}\r\n\
         Content-Type: multipart/form-data; boundary=b\r\nContent-Length: 98956046499840\r\n\r\n--b\r\n",
        w.tech
    );
    tcp.write_all(head.as_bytes()).await.unwrap();
    let mut answer = vec![0u8; 2048];
    let n = tokio::time::timeout(Duration::from_secs(20), tcp.read(&mut answer)).await.unwrap().unwrap();
    let text = String::from_utf8_lossy(&answer[..n]);
    assert!(text.starts_with("HTTP/1.1 413"), "a 90 TB declaration: {text}");
    assert!(!text.contains("Insufficient Storage"), "{text}");
    assert_eq!(photo_files(&w.d.media_root), 0, "{backend:?}: nothing was stored");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_cleartext_http2_connection_is_refused_instead_of_holding_a_slot() {
    let tmp = tempfile::tempdir().unwrap();
    let d = Deployment::new(Backend::Sqlite, tmp.path()).await.with("HEADER_READ_TIMEOUT_SECONDS", "2");
    let server = d.start().unwrap();
    let addr = server.base.trim_start_matches("http://").to_string();
    let mut tcp = tokio::net::TcpStream::connect(&addr).await.unwrap();
    // The HTTP/2 preface and an empty SETTINGS frame, as a prior-knowledge client opens with.
    tcp.write_all(b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n\x00\x00\x00\x04\x00\x00\x00\x00\x00").await.unwrap();
    let mut buf = vec![0u8; 1024];
    let closed = tokio::time::timeout(Duration::from_secs(10), async {
        loop {
            match tcp.read(&mut buf).await {
                Ok(0) | Err(_) => return,
                Ok(_) => {} // an HTTP/1 error answer may come first
            }
        }
    })
    .await;
    assert!(closed.is_ok(), "an HTTP/2 connection outlived the 2 s header deadline by far");
}

#[tokio::test(flavor = "multi_thread")]
async fn connections_beyond_the_limit_wait_until_one_is_released() {
    let tmp = tempfile::tempdir().unwrap();
    // No setup requests: a client's idle keep-alive connection would hold a slot of its own.
    let d = Deployment::new(Backend::Sqlite, tmp.path()).await.with("MAX_CONNECTIONS", "3");
    let server = d.start().unwrap();
    let addr = server.base.trim_start_matches("http://").to_string();
    let fresh = || reqwest::Client::builder().pool_max_idle_per_host(0).build().unwrap();
    let mut held = Vec::new();
    for _ in 0..3 {
        let mut tcp = tokio::net::TcpStream::connect(&addr).await.unwrap();
        // A request in progress (headers not finished) keeps its connection and its slot.
        tcp.write_all(b"GET /healthz HTTP/1.1\r\n").await.unwrap();
        held.push(tcp);
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    let url = server.url("/healthz");
    let waiting = tokio::time::timeout(Duration::from_secs(2), fresh().get(&url).send()).await;
    assert!(waiting.is_err(), "a fourth connection was served while three held every slot");
    held.pop();
    let served = tokio::time::timeout(Duration::from_secs(10), fresh().get(&url).send()).await;
    assert_eq!(served.expect("served once a slot is free").unwrap().status(), 200);
}
