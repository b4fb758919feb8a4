//! The OpenAPI document: it is valid, it lists every route the binary answers (read from the
//! source and probed on the running service), and the service's real answers match it — every
//! status an operation answered is documented, and every JSON body validates against the
//! documented schema.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use crate::common::api::*;
use crate::common::*;
use reqwest::Method;
use reqwest::multipart::{Form, Part};
use serde_json::{Value, json};

const METHODS: [&str; 5] = ["get", "post", "put", "patch", "delete"];

async fn document(api: &Api) -> Value {
    let r = api.get(None, "/api/openapi.json").await;
    assert_eq!(r.status, 200, "{}", r.body);
    r.body
}

/// `{*key}` (axum's catch-all) is `{key}` in the document; a trailing slash is served both ways.
fn normal(path: &str) -> String {
    let p = path.replace("{*", "{");
    match p.strip_suffix('/') {
        Some(bare) if !bare.is_empty() => bare.to_string(),
        _ => p,
    }
}

/// Every `.rs` file under `dir`, with its text up to its `#[cfg(test)]` module.
fn sources(dir: &Path, out: &mut Vec<(String, String)>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            sources(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            let text = std::fs::read_to_string(&path).unwrap();
            let text = text.split("#[cfg(test)]").next().unwrap_or("").to_string();
            out.push((path.display().to_string(), text));
        }
    }
}

/// The string literal right after `needle` (skipping whitespace), for each occurrence.
fn literals_after(text: &str, needle: &str) -> Vec<String> {
    let mut found = Vec::new();
    let mut rest = text;
    while let Some(i) = rest.find(needle) {
        rest = &rest[i + needle.len()..];
        let t = rest.trim_start();
        if let Some(lit) = t.strip_prefix('"') {
            found.push(lit[..lit.find('"').unwrap()].to_string());
        }
    }
    found
}

/// What a route of the source is registered at, outside the handlers' `#[utoipa::path]`: plain
/// `.route("…")` calls, `route_as(…, "…")`, and the embedded files' table.
fn routes_in_source() -> (BTreeSet<String>, BTreeSet<String>) {
    let mut files = Vec::new();
    sources(&Path::new(env!("CARGO_MANIFEST_DIR")).join("src"), &mut files);
    let (mut plain, mut described) = (BTreeSet::new(), BTreeSet::new());
    for (name, text) in &files {
        // Test-only routes, on only with ATM_TEST_ROUTES (never in production).
        if name.ends_with("http/testing.rs") {
            continue;
        }
        for p in literals_after(text, ".route(") {
            plain.insert(p);
        }
        let calls: Vec<&str> = text.split("route_as(").collect();
        for (before, call) in calls.iter().zip(calls.iter().skip(1)) {
            if !before.ends_with("fn ") {
                plain.insert(call.split('"').nth(1).unwrap().to_string());
            }
        }
        for attr in text.split("#[utoipa::path(").skip(1) {
            let attr = &attr[..attr.find(")]").unwrap_or(attr.len())];
            for p in literals_after(attr, "path = ") {
                described.insert(p);
            }
        }
        if name.ends_with("web/mod.rs") {
            // The embedded files' table: `("/path", include_str!(…), "type"),`.
            for line in text.lines().filter(|l| l.trim_start().starts_with("(\"/")) {
                plain.insert(line.split('"').nth(1).unwrap().to_string());
            }
        }
    }
    // The JSON 404 for unknown API paths is a fallback, not a route of its own.
    plain.remove("/api");
    plain.remove("/api/{*rest}");
    (plain, described)
}

/// Concrete values for a documented path's parameters.
fn concrete(template: &str) -> String {
    template
        .replace("{id}", "1")
        .replace("{key}", "photos/2026/01/x.jpg")
        .replace("{edge}", "320")
        .replace("{field}", "section1_1")
        .replace("{device_type}", "Cleaning1")
}

#[tokio::test(flavor = "multi_thread")]
async fn the_document_is_valid_and_lists_every_route() {
    let tmp = tempfile::tempdir().unwrap();
    let (d, api, host) = started(Backend::Sqlite, tmp.path()).await;
    let doc = document(&api).await;
    assert_eq!(doc["openapi"], "3.1.0");
    let served: BTreeSet<String> = doc["paths"].as_object().unwrap().keys().cloned().collect();

    // The command prints the same document the service serves.
    let out = d.run(&["openapi"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let printed: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(printed, doc, "`atm-maint openapi` differs from /api/openapi.json");

    // Every route the source registers is in the document.
    let (plain, described) = routes_in_source();
    assert!(plain.len() >= 10 && described.len() >= 40, "the source scan found too little: {plain:?}");
    let documented: BTreeSet<String> = served.iter().map(|p| normal(p)).collect();
    for p in plain.iter().chain(&described) {
        assert!(documented.contains(&normal(p)), "the route {p} is not in the OpenAPI document");
    }

    // Sound as a document: unique operation ids, every path parameter declared, every $ref resolves.
    let schemas = doc["components"]["schemas"].as_object().unwrap();
    let mut ids = BTreeSet::new();
    let mut operations = 0;
    for (path, item) in doc["paths"].as_object().unwrap() {
        for m in METHODS {
            let Some(op) = item.get(m) else { continue };
            operations += 1;
            let id = op["operationId"].as_str().unwrap_or_else(|| panic!("{m} {path} has no operationId"));
            assert!(ids.insert(id.to_string()), "operationId {id} is used twice");
            assert!(op["responses"].as_object().is_some_and(|r| !r.is_empty()), "{m} {path}: no responses");
            let declared: BTreeSet<&str> = op["parameters"]
                .as_array()
                .map(|ps| {
                    ps.iter().filter(|p| p["in"] == "path").filter_map(|p| p["name"].as_str()).collect()
                })
                .unwrap_or_default();
            for name in path.split('{').skip(1).map(|s| &s[..s.find('}').unwrap()]) {
                assert!(declared.contains(name), "{m} {path}: path parameter {name} is not declared");
            }
        }
    }
    assert!(operations >= 50, "only {operations} operations");
    let text = doc.to_string();
    for r in text.split("\"$ref\":\"#/components/schemas/").skip(1) {
        let name = &r[..r.find('"').unwrap()];
        assert!(schemas.contains_key(name), "$ref to a missing schema {name}");
    }

    // The running service: every documented operation is answered (never 405, never the
    // unrouted 404), and on a documented path every other method is 405, so a method added to a
    // path without its description is caught too.
    for (path, item) in doc["paths"].as_object().unwrap() {
        let url = concrete(path);
        for m in METHODS {
            let method = Method::from_bytes(m.to_uppercase().as_bytes()).unwrap();
            let r =
                api.send(api.req(method, Some(&host), &url).header("content-type", "application/json")).await;
            let unrouted = r.status == 404
                && (r.body == Value::String(String::new())
                    || r.body["detail"].as_str().is_some_and(|d| d.starts_with("There is no API endpoint")));
            if item.get(m).is_some() {
                assert!(
                    r.status != 405 && !unrouted,
                    "{m} {url} is documented but answered {}: {}",
                    r.status,
                    r.body
                );
            } else {
                assert_eq!(r.status, 405, "{m} {url} is served but not documented: {}", r.body);
            }
        }
    }
}

#[tokio::test(flavor = "multi_thread")]
#[ignore = "needs openapi-spec-validator (pip install openapi-spec-validator; .ci/run installs it)"]
async fn openapi_spec_validator_accepts_the_document() {
    let tmp = tempfile::tempdir().unwrap();
    let (_d, api, _host) = started(Backend::Sqlite, tmp.path()).await;
    let doc = document(&api).await;
    let file = tmp.path().join("openapi.json");
    std::fs::write(&file, serde_json::to_vec_pretty(&doc).unwrap()).unwrap();
    let out = std::process::Command::new("python3")
        .args(["-m", "openapi_spec_validator"])
        .arg(&file)
        .output()
        .expect("python3 runs");
    let said = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert!(out.status.success() && said.contains("OK"), "the validator refused the document: {said}");
}

/// Checks answers against the document and remembers which operations were seen.
struct Conformance {
    doc: Value,
    seen: BTreeMap<(String, String), BTreeSet<u16>>,
}

impl Conformance {
    fn check(&mut self, method: &str, template: &str, status: u16, body: &Value) {
        let op = &self.doc["paths"][template][method];
        assert!(op.is_object(), "{method} {template} is not in the document");
        let response = &op["responses"][status.to_string()];
        assert!(
            response.is_object(),
            "{method} {template} answered {status}, which is not documented: {body}"
        );
        self.seen.entry((method.to_string(), template.to_string())).or_default().insert(status);
        let Some(schema) = response["content"]["application/json"].get("schema") else { return };
        let mut root = schema.clone();
        root["components"] = self.doc["components"].clone();
        let validator = jsonschema::draft202012::new(&root).unwrap();
        let errors: Vec<String> =
            validator.iter_errors(body).map(|e| format!("{} at {}", e, e.instance_path())).collect();
        assert!(
            errors.is_empty(),
            "{method} {template} {status}: the answer does not match the document:\n{}\n{body:#}",
            errors.join("\n")
        );
    }

    /// Whether `body` matches the named component schema (for the check that the check bites).
    fn matches(&self, schema: &str, body: &Value) -> bool {
        let mut root = json!({ "$ref": format!("#/components/schemas/{schema}") });
        root["components"] = self.doc["components"].clone();
        jsonschema::draft202012::new(&root).unwrap().is_valid(body)
    }

    async fn call(&mut self, api: &Api, method: &str, template: &str, rb: reqwest::RequestBuilder) -> Reply {
        let r = api.send(rb).await;
        self.check(method, template, r.status, &r.body);
        r
    }

    async fn get(&mut self, api: &Api, token: Option<&str>, template: &str, path: &str) -> Reply {
        self.call(api, "get", template, api.req(Method::GET, token, path)).await
    }

    async fn json(
        &mut self,
        api: &Api,
        method: Method,
        token: Option<&str>,
        template: &str,
        path: &str,
        body: Value,
    ) -> Reply {
        let m = method.as_str().to_lowercase();
        self.call(api, &m, template, api.req(method, token, path).json(&body)).await
    }
}

on_each_database!(every_answer_matches_the_document);
async fn every_answer_matches_the_document(backend: Backend) {
    let tmp = tempfile::tempdir().unwrap();
    let (_d, api, host) = started(backend, tmp.path()).await;
    let mut c = Conformance { doc: document(&api).await, seen: BTreeMap::new() };
    let h = Some(host.as_str());
    // The check bites: a wrong type, a missing field and an unknown field each fail.
    let stats = json!({"total_submissions": 1, "pending_submissions": 1, "approved_submissions": 0, "rejected_submissions": 0});
    assert!(c.matches("SupervisorStats", &stats));
    let mut wrong = stats.clone();
    wrong["total_submissions"] = json!("1");
    assert!(!c.matches("SupervisorStats", &wrong));
    assert!(!c.matches("SupervisorStats", &json!({"total_submissions": 1})));
    let mut extra = stats.clone();
    extra["surprise"] = json!(true);
    assert!(!c.matches("SupervisorStats", &extra));

    // The host: technicians, their lists, counts.
    let r = c
        .json(
            &api,
            Method::POST,
            h,
            "/api/host/technicians/",
            "/api/host/technicians/",
            json!({"username": "docs_tech", "password": PASSWORD, "city": "Riyadh"}),
        )
        .await;
    assert_eq!(r.status, 201);
    let tech_id = r.body["id"].as_i64().unwrap();
    let r = c
        .json(
            &api,
            Method::POST,
            h,
            "/api/host/technicians/",
            "/api/host/technicians/",
            json!({"username": "docs_tech", "password": "x", "city": "Nowhere"}),
        )
        .await;
    assert_eq!(r.status, 400);
    let spare = api.create_technician(&host, "docs_spare", "Jeddah").await;
    c.get(&api, h, "/api/host/technicians/", "/api/host/technicians/").await;
    let rows = [["GFM-DOC-A", "77", "Cleaning", "", "Riyadh"], ["GFM-DOC-B", "78", "Cleaning", "", "Riyadh"]];
    for dry in [true, false] {
        let mut form = Form::new()
            .text("technician_id", tech_id.to_string())
            .text("device_type", "Cleaning1")
            .part("file", Part::bytes(xlsx(&rows)).file_name("devices.xlsx"));
        if dry {
            form = form.text("dry_run", "true");
        }
        let rb = api.req(Method::POST, h, "/api/host/upload-excel").multipart(form);
        let r = c.call(&api, "post", "/api/host/upload-excel", rb).await;
        assert_eq!(r.status, if dry { 200 } else { 201 }, "{}", r.body);
    }
    let r = api
        .upload_excel(
            &host,
            tech_id,
            "Electrical",
            &[["GFM-DOC-E", "900", "Electro Mechanical", "", "Riyadh"]],
        )
        .await;
    assert_eq!(r.status, 201);
    let rb =
        api.req(Method::POST, h, "/api/host/upload-excel").multipart(Form::new().text("device_type", "x"));
    assert_eq!(c.call(&api, "post", "/api/host/upload-excel", rb).await.status, 400);
    let t = "/api/host/technicians/{id}/uploaded-types";
    c.get(&api, h, t, &format!("/api/host/technicians/{tech_id}/uploaded-types")).await;
    let t = "/api/host/technicians/{id}/uploaded-files";
    c.get(&api, h, t, &format!("/api/host/technicians/{tech_id}/uploaded-files")).await;
    c.get(&api, h, "/api/host/dashboard-stats", "/api/host/dashboard-stats").await;
    c.get(&api, h, "/api/host/import-report", "/api/host/import-report").await;

    // Signing in, both ways.
    let creds = json!({"username": "docs_tech", "password": PASSWORD});
    let r = c.json(&api, Method::POST, None, "/api/auth/login/", "/api/auth/login/", creds.clone()).await;
    let tech = r.body["access"].as_str().unwrap().to_string();
    let refresh = r.body["refresh"].as_str().unwrap().to_string();
    let bad = json!({"username": "docs_tech", "password": "wrong-password"});
    assert_eq!(
        c.json(&api, Method::POST, None, "/api/auth/login/", "/api/auth/login/", bad).await.status,
        400
    );
    let r = c
        .json(
            &api,
            Method::POST,
            None,
            "/api/auth/refresh/",
            "/api/auth/refresh/",
            json!({"refresh": refresh}),
        )
        .await;
    assert_eq!(r.status, 200);
    let r = c
        .json(
            &api,
            Method::POST,
            None,
            "/api/auth/refresh/",
            "/api/auth/refresh/",
            json!({"refresh": "nope"}),
        )
        .await;
    assert_eq!(r.status, 401);
    let r = c.json(&api, Method::POST, None, "/api/auth/refresh/", "/api/auth/refresh/", json!({})).await;
    assert_eq!(r.status, 400);
    let resp = api.http.post(api.server.url("/api/auth/session/")).json(&creds).send().await.unwrap();
    let cookie = resp.headers()["set-cookie"].to_str().unwrap().split(';').next().unwrap().to_string();
    let (status, body) = (resp.status().as_u16(), resp.json::<Value>().await.unwrap());
    c.check("post", "/api/auth/session/", status, &body);
    let rb = api.req(Method::GET, None, "/api/auth/session/").header("cookie", &cookie);
    assert_eq!(c.call(&api, "get", "/api/auth/session/", rb).await.status, 200);
    let rb = api.req(Method::DELETE, None, "/api/auth/session/").header("cookie", &cookie);
    assert_eq!(c.call(&api, "delete", "/api/auth/session/", rb).await.status, 204);
    c.get(&api, None, "/api/auth/session/", "/api/auth/session/").await;

    // The technician: lists, devices, a one-shot report, a draft.
    let t = Some(tech.as_str());
    c.get(&api, t, "/api/technician/my-excel-data", "/api/technician/my-excel-data").await;
    let tt = "/api/technician/excel-data/{device_type}";
    c.get(&api, t, tt, "/api/technician/excel-data/Cleaning1").await;
    c.get(&api, t, tt, "/api/technician/excel-data/Security").await;
    let r = c.get(&api, t, "/api/technician/devices", "/api/technician/devices").await;
    assert_eq!(r.body["count"], 3, "{}", r.body);
    c.get(&api, t, "/api/technician/devices", "/api/technician/devices?type=Electrical").await;
    let device_a = api.device_id(&tech, "GFM-DOC-A").await;
    let device_b = api.device_id(&tech, "GFM-DOC-B").await;
    let device_e = api.device_id(&tech, "GFM-DOC-E").await;
    let (form, _) = report(device_a, &today(), false, 40);
    let rb = api.req(Method::POST, t, "/api/technician/submit").multipart(form);
    let r = c.call(&api, "post", "/api/technician/submit", rb).await;
    assert_eq!(r.status, 201, "{}", r.body);
    let first = r.body["submission"]["id"].as_i64().unwrap();
    let (form, _) = report(device_a, &today(), false, 41);
    let rb = api.req(Method::POST, t, "/api/technician/submit").multipart(form);
    assert_eq!(c.call(&api, "post", "/api/technician/submit", rb).await.status, 400);
    c.get(&api, t, "/api/technician/submissions", "/api/technician/submissions").await;
    let ts = "/api/technician/submissions/{id}";
    c.get(&api, t, ts, &format!("/api/technician/submissions/{first}")).await;
    assert_eq!(c.get(&api, t, ts, "/api/technician/submissions/999999").await.status, 404);

    let drafts = "/api/technician/drafts";
    let open = json!({"device_id": device_b, "visit_date": today()});
    let r = c.json(&api, Method::POST, t, drafts, drafts, open.clone()).await;
    assert_eq!(r.status, 201, "{}", r.body);
    let draft = r.body["id"].as_i64().unwrap();
    assert_eq!(c.json(&api, Method::POST, t, drafts, drafts, open).await.status, 200);
    let r = c.json(&api, Method::POST, t, drafts, drafts, json!({"device_id": "x"})).await;
    assert_eq!(r.status, 400);
    let photo_t = "/api/technician/drafts/{id}/photos/{field}";
    for (i, slot) in slots(false).iter().enumerate() {
        let url = format!("/api/technician/drafts/{draft}/photos/{slot}");
        let bytes = jpeg(60 + i as u8);
        let r = c.call(&api, "put", photo_t, api.req(Method::PUT, t, &url).body(bytes.clone())).await;
        assert_eq!(r.status, 201, "{}", r.body);
        if i == 0 {
            let again = c.call(&api, "put", photo_t, api.req(Method::PUT, t, &url).body(bytes)).await;
            assert_eq!(again.status, 200);
            let junk = c.call(&api, "put", photo_t, api.req(Method::PUT, t, &url).body("not a photo")).await;
            assert_eq!(junk.status, 400);
        }
    }
    c.get(&api, t, drafts, drafts).await;
    c.get(&api, t, "/api/technician/drafts/{id}", &format!("/api/technician/drafts/{draft}")).await;
    let fin = "/api/technician/drafts/{id}/submit";
    let body = json!({"job_description": "Cleaned", "job_status": "Ok", "remarks": "fine"});
    let r = c.json(&api, Method::POST, t, fin, &format!("/api/technician/drafts/{draft}/submit"), body).await;
    assert_eq!(r.status, 201, "{}", r.body);
    let second = r.body["submission"]["id"].as_i64().unwrap();
    let r = c
        .json(&api, Method::POST, t, drafts, drafts, json!({"device_id": device_e, "visit_date": today()}))
        .await;
    let gone = r.body["id"].as_i64().unwrap();
    let del = api.req(Method::DELETE, t, &format!("/api/technician/drafts/{gone}"));
    assert_eq!(c.call(&api, "delete", "/api/technician/drafts/{id}", del).await.status, 204);
    let del = api.req(Method::DELETE, t, &format!("/api/technician/drafts/{gone}"));
    assert_eq!(c.call(&api, "delete", "/api/technician/drafts/{id}", del).await.status, 404);

    // Roles: no sign-in is 401, the wrong role 403.
    let list = "/api/supervisor/submissions";
    assert_eq!(c.get(&api, None, list, list).await.status, 401);
    assert_eq!(c.get(&api, t, list, list).await.status, 403);

    // The supervisor: the list, review, exports, the dashboard.
    let sup = api.login("sup1", PASSWORD).await;
    let s = Some(sup.as_str());
    let r = c.get(&api, s, list, list).await;
    assert_eq!(r.body["count"], 2);
    let media = r.body["submissions"][0]["photos"][0].clone();
    c.get(&api, s, list, "/api/supervisor/submissions?page=1&page_size=1&status=Pending").await;
    assert_eq!(c.get(&api, s, list, "/api/supervisor/submissions?date_from=yesterday").await.status, 400);
    let one = "/api/supervisor/submissions/{id}";
    c.get(&api, s, one, &format!("/api/supervisor/submissions/{first}")).await;
    // The tests' photos carry no EXIF: each has a capture_time_missing finding to check.
    let listed = &r.body["submissions"][0];
    let finding =
        listed["photos"][0]["evidence"]["findings"][0]["id"].as_i64().expect("a finding was recorded");
    let check = "/api/supervisor/submissions/{id}/findings/{finding}/check";
    let url = format!("/api/supervisor/submissions/{}/findings/{finding}/check", listed["id"]);
    let note = json!({"note": "The technician's phone strips EXIF; checked with them."});
    assert_eq!(c.json(&api, Method::POST, s, check, &url, note.clone()).await.status, 200);
    assert_eq!(c.json(&api, Method::POST, s, check, &url, note.clone()).await.status, 200);
    assert_eq!(c.json(&api, Method::POST, s, check, &url, json!({"note": " "})).await.status, 400);
    let none = format!("/api/supervisor/submissions/{}/findings/0/check", listed["id"]);
    assert_eq!(c.json(&api, Method::POST, s, check, &none, note).await.status, 404);
    assert_eq!(c.get(&api, s, one, "/api/supervisor/submissions/0").await.status, 404);
    let approve = "/api/supervisor/submissions/{id}/approve";
    let reject = "/api/supervisor/submissions/{id}/reject";
    let (a_url, r_url) = (
        format!("/api/supervisor/submissions/{first}/approve"),
        format!("/api/supervisor/submissions/{second}/reject"),
    );
    assert_eq!(c.json(&api, Method::PATCH, s, approve, &a_url, json!({"remarks": ""})).await.status, 200);
    assert_eq!(c.json(&api, Method::PATCH, s, approve, &a_url, json!({})).await.status, 400);
    assert_eq!(c.json(&api, Method::PATCH, s, reject, &r_url, json!({"remarks": "short"})).await.status, 400);
    let because = json!({"remarks": "The back view photo is blurred; please retake it."});
    assert_eq!(c.json(&api, Method::PATCH, s, reject, &r_url, because.clone()).await.status, 200);
    let a_rej = format!("/api/supervisor/submissions/{first}/reject");
    assert_eq!(c.json(&api, Method::PATCH, s, reject, &a_rej, because).await.status, 409);
    let r_app = format!("/api/supervisor/submissions/{second}/approve");
    assert_eq!(c.json(&api, Method::PATCH, s, approve, &r_app, json!({})).await.status, 409);
    // The technician is told of both reviews.
    let notes = "/api/notifications/";
    let r = c.get(&api, t, notes, notes).await;
    let note = r.body["notifications"][0]["id"].as_i64().unwrap();
    assert_eq!(c.get(&api, t, notes, "/api/notifications/?unread=soon").await.status, 400);
    assert_eq!(c.get(&api, None, notes, notes).await.status, 401);
    let read = "/api/notifications/{id}/read";
    let url = format!("/api/notifications/{note}/read");
    assert_eq!(c.json(&api, Method::POST, t, read, &url, json!({})).await.status, 200);
    assert_eq!(c.json(&api, Method::POST, t, read, "/api/notifications/0/read", json!({})).await.status, 404);
    let all = "/api/notifications/read";
    assert_eq!(c.json(&api, Method::POST, t, all, all, json!({})).await.status, 200);
    let pv = "/api/supervisor/submissions/{id}/preview-pdf";
    let rb = api.req(Method::POST, s, &format!("/api/supervisor/submissions/{first}/preview-pdf"));
    assert_eq!(c.call(&api, "post", pv, rb).await.status, 200);
    let retry = "/api/supervisor/submissions/{id}/report/retry";
    let rb = api.req(Method::POST, s, &format!("/api/supervisor/submissions/{second}/report/retry"));
    assert_eq!(c.call(&api, "post", retry, rb).await.status, 400);
    c.get(&api, s, "/api/supervisor/dashboard-stats", "/api/supervisor/dashboard-stats").await;
    c.get(&api, s, "/api/supervisor/technicians", "/api/supervisor/technicians").await;
    let ins = "/api/supervisor/insights";
    c.get(&api, s, ins, ins).await;
    assert_eq!(c.get(&api, s, ins, "/api/supervisor/insights?period=2026-13-3").await.status, 400);
    for (tpl, url) in [
        (
            "/api/supervisor/submissions/export.csv",
            "/api/supervisor/submissions/export.csv?status=Approved".to_string(),
        ),
        ("/api/supervisor/submissions/export.xlsx", "/api/supervisor/submissions/export.xlsx".to_string()),
        (
            "/api/supervisor/submissions/{id}/export.zip",
            format!("/api/supervisor/submissions/{first}/export.zip"),
        ),
    ] {
        assert_eq!(c.get(&api, s, tpl, &url).await.status, 200, "{url}");
    }
    let file = media["file_url"].as_str().unwrap().replace(&api.server.url(""), "");
    assert_eq!(c.get(&api, None, "/media/{key}", &file).await.status, 200);
    let unsigned = file.split('?').next().unwrap().to_string();
    assert_eq!(c.get(&api, None, "/media/{key}", &unsigned).await.status, 403);
    let thumb = media["thumb_url"].as_str().unwrap().replace(&api.server.url(""), "");
    assert_eq!(c.get(&api, None, "/previews/{edge}/{key}", &thumb).await.status, 200);

    // Operations and the pages' settings.
    c.get(&api, h, "/api/host/audit", "/api/host/audit?page_size=5").await;
    assert_eq!(c.get(&api, h, "/api/host/audit", "/api/host/audit?action=nothing").await.status, 400);
    c.get(&api, h, "/api/admin/doctor", "/api/admin/doctor").await;
    c.get(&api, None, "/healthz", "/healthz").await;
    c.get(&api, None, "/readyz", "/readyz").await;
    c.get(&api, h, "/readyz", "/readyz").await;
    c.get(&api, None, "/metrics", "/metrics").await;
    c.get(&api, None, "/api/ui/config", "/api/ui/config").await;
    c.get(&api, None, "/api/openapi.json", "/api/openapi.json").await;
    let gone = "/api/host/technicians/{id}/";
    assert_eq!(
        c.call(&api, "delete", gone, api.req(Method::DELETE, h, &format!("/api/host/technicians/{spare}/")))
            .await
            .status,
        200
    );
    assert_eq!(
        c.call(&api, "delete", gone, api.req(Method::DELETE, h, &format!("/api/host/technicians/{spare}/")))
            .await
            .status,
        404
    );

    // Every documented JSON operation was seen answering a success and matching its schema.
    // Left out: retrying a report job needs a failed one (its 400 was checked above).
    let left_out = [("post", "/api/supervisor/submissions/{id}/report/retry")];
    for (path, item) in c.doc["paths"].as_object().unwrap() {
        for m in METHODS {
            let Some(op) = item.get(m) else { continue };
            let json_success = op["responses"]
                .as_object()
                .unwrap()
                .iter()
                .any(|(code, r)| code.starts_with('2') && r["content"].get("application/json").is_some());
            if !json_success || left_out.contains(&(m, path.as_str())) || path == "/api/openapi.json" {
                continue;
            }
            let statuses = c.seen.get(&(m.to_string(), path.clone()));
            assert!(
                statuses.is_some_and(|s| s.iter().any(|code| (200..300).contains(code))),
                "{m} {path} was never answered with a success in this test: {statuses:?}"
            );
        }
    }
}
