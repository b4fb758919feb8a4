//! The pages' session: an HttpOnly, SameSite cookie, a CSRF token on every change, sign-out;
//! Bearer tokens keep working for API clients and the two never stand in for each other. Also
//! the pages themselves (embedded, with a content security policy) and the Excel preview.

use crate::common::api::*;
use crate::common::*;
use serde_json::json;

async fn sign_in(api: &Api, username: &str) -> (String, String, String) {
    let resp = api
        .http
        .post(api.server.url("/api/auth/session/"))
        .json(&json!({"username": username, "password": PASSWORD}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let set_cookie = resp.headers()["set-cookie"].to_str().unwrap().to_string();
    let body: serde_json::Value = resp.json().await.unwrap();
    let cookie = set_cookie.split(';').next().unwrap().to_string();
    (cookie, body["csrf_token"].as_str().unwrap().to_string(), set_cookie)
}

on_each_database!(pages_sign_in_with_an_http_only_cookie_and_changes_need_the_csrf_token);
async fn pages_sign_in_with_an_http_only_cookie_and_changes_need_the_csrf_token(backend: Backend) {
    session_rules(backend).await;
}

async fn session_rules(backend: Backend) {
    let tmp = tempfile::tempdir().unwrap();
    let (d, api, host_token) = started(backend, tmp.path()).await;
    let (cookie, csrf, set_cookie) = sign_in(&api, "host1").await;
    for attribute in ["HttpOnly", "SameSite=Strict", "Path=/"] {
        assert!(set_cookie.contains(attribute), "{set_cookie}");
    }
    let with_cookie =
        |method: reqwest::Method, path: &str| api.req(method, None, path).header("cookie", cookie.clone());
    let me = api.send(with_cookie(reqwest::Method::GET, "/api/auth/session/")).await;
    assert_eq!(me.status, 200);
    assert_eq!(me.body["user"]["role"], "host");
    assert_eq!(me.body["csrf_token"], csrf.as_str(), "a reload gets the same CSRF token back");
    assert_eq!(api.send(with_cookie(reqwest::Method::GET, "/api/host/dashboard-stats")).await.status, 200);

    let new_tech = json!({"username": "cookie_tech", "password": PASSWORD, "city": "Riyadh"});
    let r = api.send(with_cookie(reqwest::Method::POST, "/api/host/technicians/").json(&new_tech)).await;
    assert_eq!(r.status, 403, "a change without the CSRF token is refused: {}", r.body);
    assert!(r.body.to_string().contains("CSRF"), "{}", r.body);
    let r = api
        .send(
            with_cookie(reqwest::Method::POST, "/api/host/technicians/")
                .header("x-csrf-token", "ab".repeat(32))
                .json(&new_tech),
        )
        .await;
    assert_eq!(r.status, 403);
    let listed = api.get(Some(&host_token), "/api/host/technicians/").await;
    assert_eq!(listed.body.as_array().unwrap().len(), 0, "refused changes changed nothing");
    let r = api
        .send(
            with_cookie(reqwest::Method::POST, "/api/host/technicians/")
                .header("x-csrf-token", &csrf)
                .json(&new_tech),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.body);

    // Neither kind of token stands in for the other.
    let session_value = cookie.split_once('=').unwrap().1;
    assert_eq!(api.get(Some(session_value), "/api/host/dashboard-stats").await.status, 401);
    let as_cookie = api
        .send(
            api.req(reqwest::Method::GET, None, "/api/host/dashboard-stats")
                .header("cookie", format!("atm_session={host_token}")),
        )
        .await;
    assert_eq!(as_cookie.status, 401);

    // Signing out ends the session on the server: a kept copy of the cookie opens nothing.
    let out = api.send(with_cookie(reqwest::Method::DELETE, "/api/auth/session/")).await;
    assert_eq!(out.status, 204);
    assert_eq!(api.send(with_cookie(reqwest::Method::GET, "/api/auth/session/")).await.status, 401);
    assert_eq!(api.send(with_cookie(reqwest::Method::GET, "/api/host/dashboard-stats")).await.status, 401);
    let resp = api.http.delete(api.server.url("/api/auth/session/")).send().await.unwrap();
    assert!(resp.headers()["set-cookie"].to_str().unwrap().contains("Max-Age=0"));

    let form = api
        .send(
            api.req(reqwest::Method::POST, None, "/api/auth/session/")
                .header("content-type", "application/x-www-form-urlencoded")
                .body(format!("username=host1&password={PASSWORD}")),
        )
        .await;
    assert_eq!(form.status, 400, "a cross-site form cannot sign anyone in: {}", form.body);
    let r =
        api.post_json(None, "/api/auth/session/", json!({"username": "host1", "password": "wrong"})).await;
    assert_eq!(r.status, 400);
    assert_eq!(r.body["non_field_errors"][0], "Invalid username or password");

    // A new password signs the person out of every browser.
    let (a, _, _) = sign_in(&api, "host1").await;
    let (b, _, _) = sign_in(&api, "host1").await;
    let out = d
        .command(&["user", "set-password", "--username", "host1"])
        .env("ATM_PASSWORD", "Another-Pass-2027")
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(String::from_utf8_lossy(&out.stdout).contains("2 browser session(s) signed out"));
    for cookie in [a, b] {
        let r = api
            .send(api.req(reqwest::Method::GET, None, "/api/auth/session/").header("cookie", cookie))
            .await;
        assert_eq!(r.status, 401);
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn the_pages_are_served_from_the_binary_with_a_content_security_policy() {
    let tmp = tempfile::tempdir().unwrap();
    let (_d, api, _) = started(Backend::Sqlite, tmp.path()).await;
    for (path, kind) in [
        ("/", "text/html"),
        ("/assets/js/main.js", "text/javascript"),
        ("/assets/js/technician.js", "text/javascript"),
        ("/assets/app.css", "text/css"),
        ("/assets/logo", "image/"),
    ] {
        let resp = api.http.get(api.server.url(path)).send().await.unwrap();
        assert_eq!(resp.status(), 200, "{path}");
        assert!(resp.headers()["content-type"].to_str().unwrap().starts_with(kind), "{path}");
        if path != "/assets/logo" {
            let csp = resp.headers()["content-security-policy"].to_str().unwrap();
            assert!(csp.contains("script-src 'self'") && csp.contains("frame-ancestors 'none'"), "{csp}");
            let etag = resp.headers()["etag"].to_str().unwrap().to_string();
            let again =
                api.http.get(api.server.url(path)).header("if-none-match", &etag).send().await.unwrap();
            assert_eq!(again.status(), 304, "{path}");
        }
    }
    let zipped = api
        .http
        .get(api.server.url("/assets/js/technician.js"))
        .header("accept-encoding", "gzip")
        .send()
        .await
        .unwrap();
    assert_eq!(zipped.headers()["content-encoding"], "gzip", "the app travels compressed");
    let config = api.get(None, "/api/ui/config").await;
    assert_eq!(config.body["cities"].as_array().unwrap().len(), 16);
    assert_eq!(config.body["plans"]["electrical"]["sections"].as_array().unwrap().len(), 5);
}

#[tokio::test(flavor = "multi_thread")]
async fn an_excel_preview_stores_nothing_and_names_the_list_it_would_replace() {
    let tmp = tempfile::tempdir().unwrap();
    let (d, api, host) = started(Backend::Sqlite, tmp.path()).await;
    let id = api.create_technician(&host, "preview_tech", "Riyadh").await;
    let rows = [["GFM-P1", "1", "Cleaning", "", "Riyadh"], ["GFM-P2", "2", "Cleaning", "", "Riyadh"]];
    let preview = |rows: &[[&str; 5]]| {
        reqwest::multipart::Form::new()
            .text("technician_id", id.to_string())
            .text("device_type", "Cleaning1")
            .text("dry_run", "true")
            .part("file", reqwest::multipart::Part::bytes(xlsx(rows)).file_name("devices.xlsx"))
    };
    let r = api.post_form(Some(&host), "/api/host/upload-excel", preview(&rows)).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body["status"], "preview");
    assert_eq!(r.body["total_rows"], 3);
    assert_eq!(r.body["replaces"], serde_json::Value::Null);
    let files = api.get(Some(&host), &format!("/api/host/technicians/{id}/uploaded-files")).await;
    assert_eq!(files.body["files"].as_array().unwrap().len(), 0, "a preview records nothing");
    let excel_dir = d.media_root.join("excel_uploads");
    let stored = files_under(&excel_dir);
    assert_eq!(stored, 0, "a preview stores no file");

    assert_eq!(api.upload_excel(&host, id, "Cleaning1", &rows).await.status, 201);
    let r = api.post_form(Some(&host), "/api/host/upload-excel", preview(&rows[..1])).await;
    assert_eq!(r.body["replaces"]["file_name"], "devices.xlsx", "{}", r.body);
    assert_eq!(r.body["replaces"]["row_count"], 3);
    let tech = api.login("preview_tech", PASSWORD).await;
    assert_eq!(
        api.get(Some(&tech), "/api/technician/devices").await.body["count"],
        2,
        "the preview changed nothing"
    );
}
