//! Who may do what: an authorization matrix generated from a table (every endpoint × anonymous,
//! host, technician A, technician B, supervisor, own and someone else's data), signed media
//! links, tokens, login limits and CORS.

use crate::common::api::*;
use crate::common::*;
use reqwest::Method;
use serde_json::{Value, json};

struct World {
    api: Api,
    tokens: Vec<(&'static str, Option<String>)>,
    tech_a: i64,
    sub_a: i64,
    sub_b: i64,
    photo_a: String,
}

async fn world(backend: Backend, dir: &std::path::Path, extra_env: &[(&str, &str)]) -> World {
    let mut d = Deployment::new(backend, dir).await.without("ATM_TEST_ROUTES");
    for (k, v) in extra_env {
        d = d.with(k, v);
    }
    seed_staff(&d);
    let api = Api::new(d.start().unwrap());
    let host = api.login("host1", PASSWORD).await;
    let sup = api.login("sup1", PASSWORD).await;
    let tech_a = api.create_technician(&host, "tech_a", "Riyadh").await;
    let tech_b = api.create_technician(&host, "tech_b", "Jeddah").await;
    assert_eq!(
        api.upload_excel(&host, tech_a, "Cleaning1", &[["GFM-A", "1", "Cleaning", "", "Riyadh"]])
            .await
            .status,
        201
    );
    assert_eq!(
        api.upload_excel(&host, tech_b, "Cleaning2", &[["GFM-B", "2", "Cleaning", "", "Jeddah"]])
            .await
            .status,
        201
    );
    let ta = api.login("tech_a", PASSWORD).await;
    let tb = api.login("tech_b", PASSWORD).await;
    let (form, _) = report(api.device_id(&ta, "GFM-A").await, &today(), false, 1);
    let ra = api.post_form(Some(&ta), "/api/technician/submit", form).await;
    assert_eq!(ra.status, 201, "{}", ra.body);
    let (form, _) = report(api.device_id(&tb, "GFM-B").await, &today(), false, 2);
    let rb = api.post_form(Some(&tb), "/api/technician/submit", form).await;
    assert_eq!(rb.status, 201, "{}", rb.body);
    World {
        tokens: vec![
            ("anonymous", None),
            ("host", Some(host)),
            ("tech_a", Some(ta)),
            ("tech_b", Some(tb)),
            ("supervisor", Some(sup)),
        ],
        tech_a,
        sub_a: ra.body["submission"]["id"].as_i64().unwrap(),
        sub_b: rb.body["submission"]["id"].as_i64().unwrap(),
        photo_a: ra.body["submission"]["photos"][0]["file_url"].as_str().unwrap().to_string(),
        api,
    }
}

on_each_database!(the_authorization_matrix_holds_for_every_endpoint_and_actor);
async fn the_authorization_matrix_holds_for_every_endpoint_and_actor(backend: Backend) {
    let tmp = tempfile::tempdir().unwrap();
    let w = world(backend, tmp.path(), &[]).await;
    let (a, sa, sb) = (w.tech_a, w.sub_a, w.sub_b);
    // (method, path, body, [anonymous, host, tech_a, tech_b, supervisor])
    // Bodies are invalid on purpose where a valid one would change state: an allowed caller
    // gets the validation error (400), a refused one 401/403 before validation.
    let table: Vec<(Method, String, Value, [u16; 5])> = vec![
        (Method::GET, "/api/host/technicians/".into(), Value::Null, [401, 200, 403, 403, 403]),
        (Method::POST, "/api/host/technicians/".into(), json!({}), [401, 400, 403, 403, 403]),
        (Method::DELETE, "/api/host/technicians/999999/".into(), Value::Null, [401, 404, 403, 403, 403]),
        (
            Method::GET,
            format!("/api/host/technicians/{a}/uploaded-types"),
            Value::Null,
            [401, 200, 403, 403, 403],
        ),
        (
            Method::GET,
            format!("/api/host/technicians/{a}/uploaded-files"),
            Value::Null,
            [401, 200, 403, 403, 403],
        ),
        (Method::GET, "/api/host/dashboard-stats".into(), Value::Null, [401, 200, 403, 403, 200]),
        (Method::GET, "/api/technician/my-excel-data".into(), Value::Null, [401, 403, 200, 200, 403]),
        (Method::GET, "/api/technician/excel-data/Cleaning1".into(), Value::Null, [401, 403, 200, 200, 403]),
        (Method::GET, "/api/technician/devices".into(), Value::Null, [401, 403, 200, 200, 403]),
        (Method::GET, "/api/technician/submissions".into(), Value::Null, [401, 403, 200, 200, 403]),
        (Method::GET, format!("/api/technician/submissions/{sa}"), Value::Null, [401, 403, 200, 404, 403]),
        (Method::GET, format!("/api/technician/submissions/{sb}"), Value::Null, [401, 403, 404, 200, 403]),
        (Method::GET, "/api/supervisor/submissions".into(), Value::Null, [401, 403, 403, 403, 200]),
        (Method::GET, format!("/api/supervisor/submissions/{sa}"), Value::Null, [401, 403, 403, 403, 200]),
        (
            Method::PATCH,
            format!("/api/supervisor/submissions/{sa}/reject"),
            json!({"remarks": "x"}),
            [401, 403, 403, 403, 400],
        ),
        (
            Method::PATCH,
            "/api/supervisor/submissions/999999/approve".into(),
            json!({}),
            [401, 403, 403, 403, 404],
        ),
        (Method::GET, "/api/supervisor/dashboard-stats".into(), Value::Null, [401, 403, 403, 403, 200]),
        (Method::GET, "/api/admin/doctor".into(), Value::Null, [401, 200, 403, 403, 200]),
        (Method::GET, "/api/supervisor/technicians".into(), Value::Null, [401, 403, 403, 403, 200]),
        (Method::GET, "/api/technician/drafts/".into(), Value::Null, [401, 403, 200, 200, 403]),
        (Method::POST, "/api/technician/drafts/".into(), json!({}), [401, 403, 400, 400, 403]),
        (Method::GET, "/api/technician/drafts/999999/".into(), Value::Null, [401, 403, 404, 404, 403]),
        (
            Method::PUT,
            "/api/technician/drafts/999999/photos/section1_1".into(),
            json!({}),
            [401, 403, 404, 404, 403],
        ),
        (Method::POST, "/api/technician/drafts/999999/submit/".into(), json!({}), [401, 403, 404, 404, 403]),
        (Method::DELETE, "/api/technician/drafts/999999/".into(), Value::Null, [401, 403, 404, 404, 403]),
    ];
    let mut checked = 0;
    for (method, path, body, expected) in &table {
        for (i, (actor, token)) in w.tokens.iter().enumerate() {
            let mut req = w.api.http.request(method.clone(), w.api.server.url(path));
            if let Some(t) = token {
                req = req.bearer_auth(t);
            }
            if !body.is_null() {
                req = req.json(body);
            }
            let resp = req.send().await.unwrap();
            let status = resp.status().as_u16();
            let text = resp.text().await.unwrap();
            assert_eq!(status, expected[i], "{backend:?} {actor} {method} {path}: {text}");
            if status == 401 || status == 403 {
                assert!(!text.contains("GFM-"), "a refusal leaked data: {text}");
            }
            checked += 1;
        }
    }
    // The upload endpoints take multipart bodies.
    for (path, expected) in [
        ("/api/host/upload-excel", [401, 400, 403, 403, 403]),
        ("/api/technician/submit", [401, 403, 400, 400, 403]),
    ] {
        for (i, (actor, token)) in w.tokens.iter().enumerate() {
            let form = reqwest::multipart::Form::new().text("device_id", "1");
            let mut req = w.api.http.post(w.api.server.url(path)).multipart(form);
            if let Some(t) = token {
                req = req.bearer_auth(t);
            }
            let status = req.send().await.unwrap().status().as_u16();
            assert_eq!(status, expected[i], "{actor} POST {path}");
            checked += 1;
        }
    }
    // Technician B cannot file a report for technician A's device.
    let tb = w.tokens[3].1.clone().unwrap();
    let ta = w.tokens[2].1.clone().unwrap();
    let (form, _) = report(w.api.device_id(&ta, "GFM-A").await, &today(), false, 9);
    let r = w.api.post_form(Some(&tb), "/api/technician/submit", form).await;
    assert_eq!(r.body, json!({"non_field_errors": ["This device is not assigned to you"]}));
    // Media links: the link is the permission; without a valid signature nobody reads.
    for (_, token) in &w.tokens {
        let unsigned = w.photo_a.split('?').next().unwrap().to_string();
        let mut req = w.api.http.get(&unsigned);
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        assert_eq!(req.send().await.unwrap().status(), 403);
    }
    println!("authorization matrix on {backend:?}: {checked} endpoint × actor checks");
}

#[tokio::test(flavor = "multi_thread")]
async fn media_links_are_signed_expiring_and_served_like_files() {
    let tmp = tempfile::tempdir().unwrap();
    let w = world(Backend::Sqlite, tmp.path(), &[("CORS_ALLOWED_ORIGINS", "https://app.example.com")]).await;
    let http = &w.api.http;
    let ok = http.get(&w.photo_a).send().await.unwrap();
    assert_eq!(ok.status(), 200);
    let h = ok.headers().clone();
    assert_eq!(h["content-type"], "image/jpeg");
    assert_eq!(h["x-content-type-options"], "nosniff");
    assert!(h["cache-control"].to_str().unwrap().starts_with("private"));
    let etag = h["etag"].to_str().unwrap().to_string();
    let full = ok.bytes().await.unwrap();

    let part = http.get(&w.photo_a).header("range", "bytes=0-99").send().await.unwrap();
    assert_eq!(part.status(), 206);
    assert_eq!(part.bytes().await.unwrap(), full.slice(0..100));
    let not_modified = http.get(&w.photo_a).header("if-none-match", &etag).send().await.unwrap();
    assert_eq!(not_modified.status(), 304);
    let head = http.head(&w.photo_a).send().await.unwrap();
    assert_eq!(head.status(), 200);
    assert_eq!(head.headers()["content-length"].to_str().unwrap(), full.len().to_string());

    let tampered = w.photo_a.replace("sig=", "sig=0");
    assert_eq!(http.get(&tampered).send().await.unwrap().status(), 403);
    let (path, query) = w.photo_a.split_once('?').unwrap();
    let other_key = format!("{}x?{query}", path.trim_end_matches(".jpg").trim_end_matches(".png"));
    assert_eq!(http.get(&other_key).send().await.unwrap().status(), 403);
    let expired = regex_replace_exp(&w.photo_a, 1000);
    assert_eq!(http.get(&expired).send().await.unwrap().status(), 403);
    for traversal in [
        "/media/../../etc/passwd",
        "/media/..%2f..%2fetc%2fpasswd?exp=9999999999&sig=00",
        "/media/photos/%2e%2e/secret_key",
    ] {
        let r = http.get(w.api.server.url(traversal)).send().await.unwrap();
        let status = r.status().as_u16();
        let body = r.text().await.unwrap();
        assert!(status == 403 || status == 404, "{traversal}: {status}");
        assert!(!body.contains("root:") && body.len() < 300, "{traversal} read something: {body}");
    }

    // CORS: a listed origin may call with Authorization; an unlisted one gets no grant.
    let pre = http
        .request(Method::OPTIONS, w.api.server.url("/api/supervisor/submissions"))
        .header("origin", "https://app.example.com")
        .header("access-control-request-method", "GET")
        .header("access-control-request-headers", "authorization")
        .send()
        .await
        .unwrap();
    assert_eq!(pre.headers()["access-control-allow-origin"], "https://app.example.com");
    assert!(
        pre.headers()["access-control-allow-headers"]
            .to_str()
            .unwrap()
            .to_lowercase()
            .contains("authorization")
    );
    let evil = http
        .get(w.api.server.url("/api/host/dashboard-stats"))
        .header("origin", "https://evil.example.org")
        .send()
        .await
        .unwrap();
    assert!(evil.headers().get("access-control-allow-origin").is_none());
}

fn regex_replace_exp(url: &str, seconds_ago: i64) -> String {
    let past = chrono::Utc::now().timestamp() - seconds_ago;
    let (base, query) = url.split_once('?').unwrap();
    let rest: Vec<String> = query
        .split('&')
        .map(|kv| if kv.starts_with("exp=") { format!("exp={past}") } else { kv.to_string() })
        .collect();
    format!("{base}?{}", rest.join("&"))
}

#[tokio::test(flavor = "multi_thread")]
async fn tokens_refresh_and_login_limits_behave() {
    let tmp = tempfile::tempdir().unwrap();
    let d = Deployment::new(Backend::Sqlite, tmp.path()).await.without("ATM_TEST_ROUTES");
    seed_staff(&d);
    let api = Api::new(d.start().unwrap());
    let r = api.post_json(None, "/api/auth/login/", json!({"username": "host1", "password": PASSWORD})).await;
    let (access, refresh) =
        (r.body["access"].as_str().unwrap().to_string(), r.body["refresh"].as_str().unwrap().to_string());
    assert_eq!(r.body["user"], json!({"id": 1, "username": "host1", "role": "host", "city": null}));
    let r = api.post_json(None, "/api/auth/refresh", json!({"refresh": refresh})).await;
    assert_eq!(r.status, 200, "without the trailing slash too");
    let new_access = r.body["access"].as_str().unwrap().to_string();
    assert_eq!(api.get(Some(&new_access), "/api/host/technicians").await.status, 200);
    assert_eq!(api.get(Some(&refresh), "/api/host/technicians/").await.status, 401, "refresh used as access");
    assert_eq!(api.post_json(None, "/api/auth/refresh/", json!({"refresh": access})).await.status, 401);
    assert_eq!(api.post_json(None, "/api/auth/refresh/", json!({"refresh": "garbage"})).await.status, 401);
    let r = api.post_json(None, "/api/auth/refresh/", json!({})).await;
    assert_eq!(r.status, 400);
    let r = api.post_json(None, "/api/auth/login/", json!({"username": "host1"})).await;
    assert_eq!(r.body, json!({"password": ["This field is required."]}));
    let r = api
        .http
        .post(api.server.url("/api/auth/login/"))
        .form(&[("username", "host1"), ("password", PASSWORD)])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200, "form-encoded login");

    // Unknown user and wrong password answer alike; five failures lock the account for a while.
    let unknown =
        api.post_json(None, "/api/auth/login/", json!({"username": "nobody", "password": "x"})).await;
    assert_eq!(unknown.body, json!({"non_field_errors": ["Invalid username or password"]}));
    for _ in 0..5 {
        let r =
            api.post_json(None, "/api/auth/login/", json!({"username": "sup1", "password": "wrong"})).await;
        assert_eq!(r.status, 400);
    }
    let r = api.post_json(None, "/api/auth/login/", json!({"username": "sup1", "password": PASSWORD})).await;
    assert_eq!(r.status, 429, "{}", r.body);
    assert!(r.body["error"].as_str().unwrap().contains("Try again"));

    let r = api.get(None, "/api/does/not/exist").await;
    assert_eq!(r.status, 404);
    assert!(r.body["error"].is_string());
    let r = api.http.put(api.server.url("/api/auth/login/")).send().await.unwrap();
    assert_eq!(r.status(), 405);
}

#[tokio::test(flavor = "multi_thread")]
async fn documented_errors_of_the_supervisor_and_host_endpoints() {
    let tmp = tempfile::tempdir().unwrap();
    let w = world(Backend::Sqlite, tmp.path(), &[]).await;
    let (host, sup) = (w.tokens[1].1.clone().unwrap(), w.tokens[4].1.clone().unwrap());
    for (query, field) in [
        ("date_from=2026-13-01", "date_from"),
        ("date_to=yesterday", "date_to"),
        ("status=Maybe", "status"),
        ("device_type=Bogus", "device_type"),
        ("page=0", "page"),
    ] {
        let r = w.api.get(Some(&sup), &format!("/api/supervisor/submissions?{query}")).await;
        assert_eq!(r.status, 400, "{query}: {}", r.body);
        assert!(r.body[field].is_array(), "{query}: {}", r.body);
    }
    let path = format!("/api/supervisor/submissions/{}", w.sub_a);
    let r = w.api.patch_json(Some(&sup), &format!("{path}/reject"), json!({})).await;
    assert_eq!(r.body, json!({"error": "Remarks are required for rejection"}));
    let r = w
        .api
        .patch_json(
            Some(&sup),
            &format!("{path}/reject"),
            json!({"remarks": "Not the right ATM in the photos"}),
        )
        .await;
    assert_eq!(r.status, 200);
    let r = w
        .api
        .patch_json(
            Some(&sup),
            &format!("{path}/reject"),
            json!({"remarks": "Not the right ATM in the photos"}),
        )
        .await;
    assert_eq!(r.body, json!({"error": "Submission is already rejected"}));
    for bad in ["999999", "abc"] {
        let r = w.api.get(Some(&sup), &format!("/api/supervisor/submissions/{bad}")).await;
        assert_eq!((r.status, r.body.clone()), (404, json!({"error": "Submission not found"})));
    }
    let r = w.api.get(Some(&host), "/api/host/technicians/999999/uploaded-types").await;
    assert_eq!(r.body, json!({"uploaded_types": []}));
    let r = w.api.delete(Some(&host), "/api/host/technicians/1/").await;
    assert_eq!(r.body, json!({"error": "Technician not found"}), "a host account is not a technician");
    let r = w.api.get(Some(&sup), "/api/technician/excel-data/Cleaning1").await;
    assert_eq!(r.status, 403);
    let _ = w.tech_a;
}

#[tokio::test(flavor = "multi_thread")]
async fn failed_logins_are_limited_per_client_address_across_accounts() {
    let tmp = tempfile::tempdir().unwrap();
    // Behind a platform's proxy the client address comes from X-Forwarded-For.
    let d = Deployment::new(Backend::Sqlite, tmp.path()).await.with("TRUST_PROXY_HEADERS", "true");
    seed_staff(&d);
    let api = Api::new(d.start().unwrap());
    let attempt = |user: String, from: &'static str| {
        let req = api
            .http
            .post(api.server.url("/api/auth/login/"))
            .header("x-forwarded-for", from)
            .json(&json!({"username": user, "password": "wrong password"}));
        async move { req.send().await.unwrap().status().as_u16() }
    };
    // 30 failures from one address, each against a different account (no account reaches its own limit).
    for i in 0..30 {
        assert_eq!(attempt(format!("nobody{i}"), "203.0.113.7").await, 400);
    }
    assert_eq!(attempt("host1".into(), "203.0.113.7").await, 429, "the address is limited for every account");
    assert_eq!(attempt("host1".into(), "198.51.100.4").await, 400, "another address is not");
    let ok = api
        .http
        .post(api.server.url("/api/auth/login/"))
        .header("x-forwarded-for", "198.51.100.4")
        .json(&json!({"username": "host1", "password": PASSWORD}))
        .send()
        .await
        .unwrap();
    assert_eq!(ok.status(), 200);
}
