//! Replays the calls recorded against the original (tests/fixtures/api-contract-observed.json)
//! in the same order against a fresh server, and checks that each gets the same status and the
//! same JSON shape (ids, tokens and timestamps differ; extra fields of ours are allowed).

use std::collections::HashMap;

use crate::common::api::*;
use crate::common::*;
use reqwest::multipart::{Form, Part};
use serde_json::{Value, json};

/// Where we answer differently on purpose, with the reason.
const DELIBERATE: &[(&str, &str)] = &[(
    "GET photo with Range",
    "we honour Range with 206 Partial Content; the original ignored it and sent 200",
)];

/// One replayed call: its name, status and body.
type Got = (String, u16, Value);

struct Recorder {
    got: Vec<Got>,
}

impl Recorder {
    fn note(&mut self, name: &str, status: u16, body: Value) {
        self.got.push((name.to_string(), status, body));
    }
}

pub(crate) fn shape_mismatch(expected: &Value, got: &Value, path: &str) -> Option<String> {
    match expected {
        Value::String(t) => {
            let ok = match t.as_str() {
                // The original had null here (an unset city, remark or link); ours may have
                // filled it, but with a plain value, never an object or a list.
                "null" => !got.is_object() && !got.is_array(),
                "str" => got.is_string(),
                "int" => got.is_i64() || got.is_u64(),
                "float" => got.is_number(),
                "bool" => got.is_boolean(),
                other => return Some(format!("{path}: the recording has an unknown shape tag {other:?}")),
            };
            (!ok).then(|| format!("{path}: expected {t}, got {got}"))
        }
        Value::Object(map) => {
            let Value::Object(g) = got else { return Some(format!("{path}: expected an object, got {got}")) };
            map.iter().find_map(|(k, v)| match g.get(k) {
                None => Some(format!("{path}.{k}: missing")),
                Some(gv) => shape_mismatch(v, gv, &format!("{path}.{k}")),
            })
        }
        Value::Array(items) => {
            let Value::Array(g) = got else { return Some(format!("{path}: expected a list, got {got}")) };
            match (items.first(), g.first()) {
                (Some(e), Some(first)) => shape_mismatch(e, first, &format!("{path}[0]")),
                (Some(_), None) => Some(format!("{path}: expected a non-empty list")),
                (None, Some(_)) => Some(format!("{path}: expected an empty list, got {got}")),
                (None, None) => None,
            }
        }
        // A literal number, boolean or null in the recording: only its kind is compared.
        Value::Number(_) => (!got.is_number()).then(|| format!("{path}: expected a number, got {got}")),
        Value::Bool(_) => (!got.is_boolean()).then(|| format!("{path}: expected a boolean, got {got}")),
        Value::Null => None,
    }
}

fn workbook(rows: &[[&str; 6]]) -> Vec<u8> {
    let header =
        ["Interaction ID", "GFM Cost Center", "GFM Problem Type", "GFM Problem Date", "City", "Status"];
    sheet_of(&header, rows)
}

fn excel_form(technician: &str, device_type: &str, name: &str, bytes: Vec<u8>) -> Form {
    Form::new()
        .text("technician_id", technician.to_string())
        .text("device_type", device_type.to_string())
        .part("file", Part::bytes(bytes).file_name(name.to_string()))
}

on_each_database!(every_recorded_call_gets_the_same_status_and_shape);
async fn every_recorded_call_gets_the_same_status_and_shape(backend: Backend) {
    let recorded: Vec<Value> =
        serde_json::from_str(include_str!("../fixtures/api-contract-observed.json")).unwrap();
    let tmp = tempfile::tempdir().unwrap();
    let d = Deployment::new(backend, tmp.path()).await.without("ATM_TEST_ROUTES");
    seed_staff(&d);
    let api = Api::new(d.start().unwrap());
    let mut rec = Recorder { got: Vec::new() };
    run_scenario(&api, &mut rec).await;

    let mut by_name: HashMap<&str, Vec<&Got>> = HashMap::new();
    for g in &rec.got {
        by_name.entry(g.0.as_str()).or_default().push(g);
    }
    let mut seen: HashMap<&str, usize> = HashMap::new();
    let mut compared = 0;
    let mut failures = Vec::new();
    for e in &recorded {
        let name = e["name"].as_str().unwrap();
        let n = seen.entry(name).or_insert(0);
        let Some(got) = by_name.get(name).and_then(|v| v.get(*n)) else {
            failures.push(format!("{name}: not replayed"));
            continue;
        };
        *n += 1;
        if DELIBERATE.iter().any(|(d, _)| *d == name) {
            continue;
        }
        compared += 1;
        let status = e["status"].as_u64().unwrap() as u16;
        if got.1 != status {
            failures.push(format!("{name}: status {} instead of {status}: {}", got.1, got.2));
            continue;
        }
        if let Some(shape) = e.get("shape")
            && let Some(m) = shape_mismatch(shape, &got.2, "$")
        {
            failures.push(format!("{name}: {m}"));
        }
    }
    assert!(
        failures.is_empty(),
        "{backend:?}: {} of {} calls differ:\n{}",
        failures.len(),
        recorded.len(),
        failures.join("\n")
    );
    println!(
        "contract on {backend:?}: {compared} recorded calls matched, {} deliberate differences",
        DELIBERATE.len()
    );
}

async fn run_scenario(api: &Api, rec: &mut Recorder) {
    let post = |path: &'static str, body: Value| async move { api.post_json(None, path, body).await };
    let r = post("/api/auth/login/", json!({"username": "host1", "password": PASSWORD})).await;
    let host = r.body["access"].as_str().unwrap().to_string();
    let refresh = r.body["refresh"].as_str().unwrap().to_string();
    rec.note("login (host)", r.status, r.body);
    let r = post("/api/auth/login/", json!({"username": "host1", "password": "wrong-password"})).await;
    rec.note("login bad password", r.status, r.body);
    let r = post("/api/auth/login/", json!({"username": "host1"})).await;
    rec.note("login missing password", r.status, r.body);
    let resp = api
        .http
        .post(api.server.url("/api/auth/login/"))
        .form(&[("username", "host1"), ("password", PASSWORD)])
        .send()
        .await
        .unwrap();
    rec.note("login form-encoded", resp.status().as_u16(), resp.json().await.unwrap());
    let r = post("/api/auth/refresh/", json!({"refresh": refresh})).await;
    rec.note("token refresh", r.status, r.body);
    let r = post("/api/auth/refresh/", json!({"refresh": "garbage"})).await;
    rec.note("token refresh bad", r.status, r.body);
    let r = api.get(None, "/api/host/technicians/").await;
    rec.note("no token", r.status, r.body);
    let r = api.get(Some("not.a.jwt"), "/api/host/technicians/").await;
    rec.note("bad token", r.status, r.body);

    let tech_id = api.create_technician(&host, "tech1", "Riyadh").await;
    let r = api.get(Some(&host), "/api/host/technicians/").await;
    rec.note("GET /api/host/technicians/", r.status, r.body);
    let r = api
        .post_json(
            Some(&host),
            "/api/host/technicians/",
            json!({"username": "run1_tech2", "password": PASSWORD, "city": "Jeddah"}),
        )
        .await;
    let tech2 = r.body["id"].as_i64().unwrap_or_default();
    rec.note("create technician", r.status, r.body);
    let r = api
        .post_json(
            Some(&host),
            "/api/host/technicians/",
            json!({"username": "tech1", "password": "short", "city": ""}),
        )
        .await;
    rec.note("create technician invalid", r.status, r.body);
    let r = api
        .post_json(
            Some(&host),
            "/api/host/technicians/",
            json!({"username": "bad name!", "password": "password123", "city": "Abha"}),
        )
        .await;
    rec.note("create technician invalid 2", r.status, r.body);

    let cleaning: Vec<[String; 6]> = (1..=16)
        .map(|i| {
            let city = if i > 14 { "Jeddah" } else { "Riyadh" };
            [
                format!("RUN1-C{i:03}"),
                format!("CCRUN1{i:03}"),
                "Cleaning".into(),
                format!("2025-10-{:02}T09:30:00", i),
                city.into(),
                "Open".into(),
            ]
        })
        .collect();
    let rows: Vec<[&str; 6]> =
        cleaning.iter().map(|r| [&*r[0], &*r[1], &*r[2], &*r[3], &*r[4], &*r[5]]).collect();
    let tid = tech_id.to_string();
    let r = api
        .post_form(
            Some(&host),
            "/api/host/upload-excel",
            excel_form(&tid, "Cleaning1", "devices_cleaning.xlsx", workbook(&rows)),
        )
        .await;
    rec.note("upload excel (Cleaning1, 16 rows + header)", r.status, r.body);
    let electrical: Vec<[String; 6]> = (1..=4)
        .map(|i| {
            [
                format!("RUN1-E{i:03}"),
                format!("CERUN1{i:03}"),
                "Electro Mechanical".into(),
                format!("2025-09-{:02}T09:30:00", i),
                "Riyadh".into(),
                "Open".into(),
            ]
        })
        .collect();
    let rows: Vec<[&str; 6]> =
        electrical.iter().map(|r| [&*r[0], &*r[1], &*r[2], &*r[3], &*r[4], &*r[5]]).collect();
    let r = api
        .post_form(
            Some(&host),
            "/api/host/upload-excel",
            excel_form(&tid, "Electrical", "devices_electrical.xlsx", workbook(&rows)),
        )
        .await;
    rec.note("upload excel (Electrical)", r.status, r.body);
    let r = api
        .post_form(
            Some(&host),
            "/api/host/upload-excel",
            excel_form(&tid, "Cleaning1", "garbage.xlsx", b"garbage".to_vec()),
        )
        .await;
    rec.note("upload excel: garbage renamed .xlsx", r.status, r.body);
    let r = api
        .post_form(
            Some(&host),
            "/api/host/upload-excel",
            excel_form(&tid, "Cleaning1", "devices.csv", b"a,b".to_vec()),
        )
        .await;
    rec.note("upload excel: .csv", r.status, r.body);
    let r = api
        .post_form(
            Some(&host),
            "/api/host/upload-excel",
            excel_form("99999", "Bogus", "d.xlsx", workbook(&[])),
        )
        .await;
    rec.note("upload excel: bad technician & type", r.status, r.body);
    let r = api
        .post_form(
            Some(&host),
            "/api/host/upload-excel",
            excel_form(
                &tech2.to_string(),
                "Cleaning2",
                "t2.xlsx",
                workbook(&[["RUN1-T2", "X", "Cleaning", "", "Jeddah", ""]]),
            ),
        )
        .await;
    assert_eq!(r.status, 201);
    let r = api.get(Some(&host), &format!("/api/host/technicians/{tech_id}/uploaded-types")).await;
    rec.note("GET /api/host/technicians/<id>/uploaded-types", r.status, r.body);
    let r = api.get(Some(&host), &format!("/api/host/technicians/{tech_id}/uploaded-files")).await;
    rec.note("GET /api/host/technicians/<id>/uploaded-files", r.status, r.body);
    let r = api.get(Some(&host), "/api/host/dashboard-stats").await;
    rec.note("GET /api/host/dashboard-stats", r.status, r.body);

    let tech = api.login("tech1", PASSWORD).await;
    let r = api.get(Some(&tech), "/api/technician/devices").await;
    rec.note("GET /api/technician/devices", r.status, r.body);
    let r = api.get(Some(&tech), "/api/technician/devices?type=Cleaning1").await;
    rec.note("GET /api/technician/devices?type=Cleaning1", r.status, r.body);
    let r = api.get(Some(&tech), "/api/technician/my-excel-data").await;
    rec.note("GET /api/technician/my-excel-data", r.status, r.body);
    let r = api.get(Some(&tech), "/api/technician/excel-data/Cleaning1").await;
    rec.note("GET /api/technician/excel-data/Cleaning1", r.status, r.body);
    let r = api.get(Some(&tech), "/api/technician/excel-data/Stand%20Alone").await;
    rec.note("GET /api/technician/excel-data/Stand%20Alone", r.status, r.body);
    let r = api.get(Some(&tech), "/api/supervisor/submissions").await;
    rec.note("wrong role (technician -> supervisor list)", r.status, r.body);

    let device = |id: &'static str| {
        let tech = tech.clone();
        async move { api.device_id(&tech, id).await }
    };
    let c1 = device("RUN1-C001").await;
    let mut form = Form::new();
    for (k, v) in [
        ("device_id", c1.to_string()),
        ("visit_date", today()),
        ("job_description", "Routine maintenance visit".into()),
        ("job_status", "Ok".into()),
    ] {
        form = form.text(k, v);
    }
    for s in slots(false).into_iter().filter(|s| s != "section3_2") {
        form = form.part(s, Part::bytes(jpeg(1)).file_name("a.jpg"));
    }
    let r = api.post_form(Some(&tech), "/api/technician/submit", form).await;
    rec.note("submit: missing one photo", r.status, r.body);
    let (form, _) = report(c1, &today(), false, 1);
    let form = form.text("job_status", "Maybe");
    let r = api.post_form(Some(&tech), "/api/technician/submit", form).await;
    rec.note("submit: bad job_status", r.status, r.body);
    let mut ids = Vec::new();
    for (i, id) in ["RUN1-C001", "RUN1-C002", "RUN1-C003", "RUN1-C004", "RUN1-C005"].iter().enumerate() {
        let (form, _) = report(device(id).await, &today(), false, i as u8);
        let r = api.post_form(Some(&tech), "/api/technician/submit", form).await;
        ids.push(r.body["submission"]["id"].as_i64().unwrap_or_default());
        rec.note("submit (8 photos, Cleaning1)", r.status, r.body);
    }
    for (i, id) in ["RUN1-E001", "RUN1-E002", "RUN1-E003"].iter().enumerate() {
        let (form, _) = report(device(id).await, &today(), true, 40 + i as u8);
        let r = api.post_form(Some(&tech), "/api/technician/submit", form).await;
        ids.push(r.body["submission"]["id"].as_i64().unwrap_or_default());
        rec.note("submit (19 photos, Electrical)", r.status, r.body);
    }
    let (form, _) = report(c1, &today(), false, 9);
    let r = api.post_form(Some(&tech), "/api/technician/submit", form).await;
    rec.note("submit: duplicate same half-month", r.status, r.body);
    let r = api.get(Some(&tech), "/api/technician/devices").await;
    rec.note("GET /api/technician/devices (after submits)", r.status, r.body);

    let sup = api.login("sup1", PASSWORD).await;
    let r = api.get(Some(&sup), "/api/supervisor/submissions").await;
    rec.note("GET /api/supervisor/submissions", r.status, r.body);
    let r = api.get(Some(&sup), "/api/supervisor/submissions?status=Pending").await;
    rec.note("GET /api/supervisor/submissions?status=Pending", r.status, r.body);
    let t = today();
    let r = api
        .get(
            Some(&sup),
            &format!(
                "/api/supervisor/submissions?device_type=Electrical&city=Riyadh&date_from={t}&date_to={t}"
            ),
        )
        .await;
    rec.note(
        "GET /api/supervisor/submissions?device_type=Electrical&city=Riyadh&date_from&date_to",
        r.status,
        r.body,
    );
    let r = api.get(Some(&sup), &format!("/api/supervisor/submissions/{}", ids[0])).await;
    let photo_url = r.body["submission"]["photos"][0]["file_url"].as_str().unwrap().to_string();
    rec.note("GET /api/supervisor/submissions/<id>", r.status, r.body);
    let r = api.get(Some(&sup), "/api/supervisor/submissions/999999").await;
    rec.note("submission detail 404", r.status, r.body);
    let r = api.get(Some(&sup), "/api/supervisor/dashboard-stats").await;
    rec.note("GET /api/supervisor/dashboard-stats", r.status, r.body);
    let r = api.get(Some(&sup), "/api/host/dashboard-stats").await;
    rec.note("GET /api/host/dashboard-stats (as supervisor)", r.status, r.body);

    let resp = api.http.get(&photo_url).send().await.unwrap();
    let last_modified = resp.headers()["last-modified"].to_str().unwrap().to_string();
    assert_eq!(resp.headers()["content-type"], "image/jpeg");
    rec.note("GET photo", resp.status().as_u16(), Value::Null);
    let resp = api.http.get(&photo_url).header("range", "bytes=0-99").send().await.unwrap();
    rec.note("GET photo with Range", resp.status().as_u16(), Value::Null);
    let resp = api.http.head(&photo_url).send().await.unwrap();
    rec.note("HEAD photo", resp.status().as_u16(), Value::Null);
    let resp = api.http.get(&photo_url).header("if-modified-since", last_modified).send().await.unwrap();
    rec.note("GET photo If-Modified-Since", resp.status().as_u16(), Value::Null);

    for (n, name) in [(3, "preview-pdf (Cleaning1, 8 photos)"), (6, "preview-pdf (Electrical, 19 photos)")] {
        let r = api
            .post_json(Some(&sup), &format!("/api/supervisor/submissions/{}/preview-pdf", ids[n]), json!({}))
            .await;
        rec.note(name, r.status, r.body);
    }
    let path = format!("/api/supervisor/submissions/{}", ids[0]);
    let r = api.patch_json(Some(&sup), &format!("{path}/approve"), json!({"remarks": ""})).await;
    rec.note("approve", r.status, r.body);
    let r = wait_for_pdf(api, &sup, &path).await;
    let pdf_url = r.body["submission"]["pdf_url"].as_str().map(str::to_string);
    rec.note("detail after approve", r.status, r.body);
    let r = api.patch_json(Some(&sup), &format!("{path}/approve"), json!({})).await;
    rec.note("approve already approved", r.status, r.body);
    match pdf_url {
        Some(url) => {
            let resp = api.http.get(&url).send().await.unwrap();
            assert_eq!(resp.headers()["content-type"], "application/pdf");
            rec.note("GET pdf", resp.status().as_u16(), Value::Null);
        }
        None => rec.note("GET pdf", 0, json!("no pdf_url after approval")),
    }
    let rpath = format!("/api/supervisor/submissions/{}", ids[4]);
    let r = api.patch_json(Some(&sup), &format!("{rpath}/reject"), json!({"remarks": "short"})).await;
    rec.note("reject: remarks too short", r.status, r.body);
    let r = api
        .patch_json(
            Some(&sup),
            &format!("{rpath}/reject"),
            json!({"remarks": "Photos are blurry, please retake"}),
        )
        .await;
    rec.note("reject", r.status, r.body);
    let c5 = device("RUN1-C005").await;
    let (form, _) = report(c5, &other_day_of_this_half(), false, 77);
    let r = api.post_form(Some(&tech), "/api/technician/submit", form).await;
    rec.note("resubmit rejected with different visit_date", r.status, r.body);
    let (form, _) = report(c5, &today(), false, 78);
    let r = api.post_form(Some(&tech), "/api/technician/submit", form).await;
    rec.note("resubmit rejected (same visit_date)", r.status, r.body);
    let r = api.delete(Some(&host), &format!("/api/host/technicians/{tech2}/")).await;
    rec.note("delete technician", r.status, r.body);
    let r = api.delete(Some(&host), &format!("/api/host/technicians/{tech2}/")).await;
    rec.note("delete technician again", r.status, r.body);
}

/// The PDF is made in the background after approval: poll the detail until it has a link.
async fn wait_for_pdf(api: &Api, token: &str, path: &str) -> Reply {
    for _ in 0..300 {
        let r = api.get(Some(token), path).await;
        if !r.body["submission"]["pdf_url"].is_null() {
            return r;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    api.get(Some(token), path).await
}
