//! The audit trail: every audited action leaves its row with who, what, on what and from where;
//! `audit verify` passes, then names the first broken row after a row is edited or deleted
//! directly in the database; concurrent writers keep one unbroken chain.

use std::path::Path;

use serde_json::{Value, json};

use crate::common::api::Api;
use crate::common::{Backend, Deployment, on_each_database};

const FIXTURE: &str = "tests/fixtures/django-original";

fn ok(out: std::process::Output) -> String {
    assert!(
        out.status.success(),
        "{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// A deployment holding the original's fixture, imported (so it has reports to review).
async fn imported(backend: Backend, dir: &Path) -> Deployment {
    let fixture = Path::new(env!("CARGO_MANIFEST_DIR")).join(FIXTURE);
    std::fs::create_dir_all(dir).unwrap();
    let copy = dir.join("original.sqlite3");
    std::fs::copy(fixture.join("db.sqlite3"), &copy).unwrap();
    let d = Deployment::new(backend, dir).await.without("ATM_TEST_ROUTES");
    let source = format!("sqlite://{}", copy.display());
    let media = fixture.join("media");
    ok(d.run(&["import", "django", "--database-url", &source, "--media-root", media.to_str().unwrap()]));
    d
}

/// (action, actor, target, client) of every row, oldest first.
async fn trail(url: &str) -> Vec<(String, String, Option<String>, Option<String>)> {
    let db = crate::common::any_pool(url).await;
    let rows = sqlx::query_as("SELECT action, actor, target, client FROM audit_log ORDER BY id")
        .fetch_all(&db)
        .await
        .unwrap();
    db.close().await;
    rows
}

async fn sql(url: &str, statement: &str) {
    let db = crate::common::any_pool(url).await;
    sqlx::query(sqlx::AssertSqlSafe(statement.to_string())).execute(&db).await.unwrap();
    db.close().await;
}

fn verify(d: &Deployment) -> (bool, Value) {
    let out = d.run(&["audit", "verify", "--json"]);
    (out.status.success(), serde_json::from_slice(&out.stdout).expect("verify --json prints its verdict"))
}

on_each_database!(every_audited_action_leaves_its_row_and_an_edit_or_deletion_is_found);
async fn every_audited_action_leaves_its_row_and_an_edit_or_deletion_is_found(backend: Backend) {
    let dir = tempfile::tempdir().unwrap();
    let d = imported(backend, dir.path()).await;
    let mut create = d.command(&["user", "create", "--role", "supervisor", "--username", "auditor1"]);
    ok(create.env("ATM_PASSWORD", "Audit-Trail-2026").output().unwrap());
    let api = Api::new(d.start().unwrap());
    let host = api.login("host1", "HostPass123!").await;
    let wrong = api
        .post_json(None, "/api/auth/login/", json!({"username": "host1", "password": "Nope-Nope-1"}))
        .await;
    assert_eq!(wrong.status, 400);
    // The pages' sign-in and sign-out.
    let r = api
        .http
        .post(api.server.url("/api/auth/session/"))
        .json(&json!({"username": "super1", "password": "SuperPass123!"}));
    let resp = r.send().await.unwrap();
    assert_eq!(resp.status(), 200);
    let cookie = resp.headers()["set-cookie"].to_str().unwrap().split(';').next().unwrap().to_string();
    let out =
        api.http.delete(api.server.url("/api/auth/session/")).header("cookie", &cookie).send().await.unwrap();
    assert_eq!(out.status(), 204);
    let sup = api.login("super1", "SuperPass123!").await;
    assert_eq!(
        api.post_json(Some(&sup), "/api/supervisor/submissions/7/preview-pdf/", json!({})).await.status,
        200
    );
    assert_eq!(
        api.patch_json(Some(&sup), "/api/supervisor/submissions/4/approve/", json!({})).await.status,
        200
    );
    let reject = json!({"remarks": "Section 1 photos are out of focus; retake them."});
    assert_eq!(api.patch_json(Some(&sup), "/api/supervisor/submissions/5/reject/", reject).await.status, 200);
    let tech = api.create_technician(&host, "audited1", "Riyadh").await;
    let rows = [["AUD-1", "701", "Cleaning", "2026-01-05", "Riyadh"]];
    assert_eq!(api.upload_excel(&host, tech, "Cleaning1", &rows).await.status, 201);
    assert_eq!(api.delete(Some(&host), &format!("/api/host/technicians/{tech}/")).await.status, 200);
    drop(api);
    ok(d.command(&["user", "set-password", "--username", "tech1"])
        .env("ATM_PASSWORD", "New-Field-Pass-7")
        .output()
        .unwrap());
    ok(d.run(&["storage", "adopt"]));

    let got = trail(&d.database_url).await;
    let actions: Vec<&str> = got.iter().map(|r| r.0.as_str()).collect();
    assert_eq!(
        actions,
        [
            "import_original",
            "create_user",
            "sign_in",
            "sign_in_failed",
            "sign_in",
            "sign_out",
            "sign_in",
            "preview_pdf",
            "approve",
            "reject",
            "create_technician",
            "excel_import",
            "delete_technician",
            "password_change",
            "storage_adopt",
        ],
        "{got:?}"
    );
    let approve = got.iter().find(|r| r.0 == "approve").unwrap();
    assert_eq!(
        (approve.1.as_str(), approve.2.as_deref(), approve.3.as_deref()),
        ("super1", Some("submission:4"), Some("127.0.0.1"))
    );
    let failed = got.iter().find(|r| r.0 == "sign_in_failed").unwrap();
    assert_eq!(
        (failed.1.as_str(), failed.2.as_deref()),
        ("host1", Some("user:1")),
        "a failure names the account tried"
    );
    assert_eq!(
        got.iter().find(|r| r.0 == "delete_technician").unwrap().2.as_deref(),
        Some(format!("user:{tech}").as_str())
    );
    assert!(got[0].3.as_deref().unwrap().starts_with("command line"), "{:?}", got[0]);

    // The host's page filters the same rows.
    let api = Api::new(d.start().unwrap());
    let host = api.login("host1", "HostPass123!").await;
    let page = api.get(Some(&host), "/api/host/audit?action=reject").await;
    assert_eq!(page.status, 200, "{}", page.body);
    assert_eq!(page.body["count"], 1);
    assert_eq!(
        page.body["entries"][0]["detail"]["remarks"],
        "Section 1 photos are out of focus; retake them."
    );
    let by_actor = api.get(Some(&host), "/api/host/audit?actor=super1").await;
    assert_eq!(by_actor.body["count"], 6, "{}", by_actor.body);
    assert_eq!(api.get(Some(&host), "/api/host/audit?action=drop_table").await.status, 400);
    let sup = api.login("super1", "SuperPass123!").await;
    assert_eq!(api.get(Some(&sup), "/api/host/audit").await.status, 403, "the trail is the host's");
    drop(api);

    // A backup restored elsewhere carries the trail on, with the restore in it.
    let backup = dir.path().join("backup");
    ok(d.run(&["backup", backup.to_str().unwrap()]));
    let restored = Deployment::new(backend, &dir.path().join("restored")).await.without("ATM_TEST_ROUTES");
    ok(restored.run(&["restore", backup.to_str().unwrap()]));
    let after = trail(&restored.database_url).await;
    assert_eq!(after.last().unwrap().0, "restore");
    assert!(verify(&restored).0, "the restored trail verifies");

    let (intact, v) = verify(&d);
    assert!(intact, "{v}");
    let total = v["rows"].as_u64().unwrap();
    assert!(total >= 16, "{v}");
    // Edited in the database: verify names that row.
    sql(&d.database_url, "UPDATE audit_log SET actor = 'someone' WHERE action = 'approve'").await;
    let approve_id = got.iter().position(|r| r.0 == "approve").unwrap() as i64 + 1;
    let (intact, v) = verify(&d);
    assert!(!intact);
    assert_eq!(v["first_broken"]["id"], approve_id, "{v}");
    sql(&d.database_url, "UPDATE audit_log SET actor = 'super1' WHERE action = 'approve'").await;
    assert!(verify(&d).0, "put back, it verifies again");
    // A row deleted in the middle, and the newest one deleted: each is named.
    sql(&d.database_url, "DELETE FROM audit_log WHERE id = 5").await;
    let (intact, v) = verify(&d);
    assert!(!intact);
    assert_eq!(v["first_broken"]["id"], 6, "{v}");
    let human = String::from_utf8_lossy(&d.run(&["audit", "verify"]).stdout).into_owned();
    assert!(human.contains("BROKEN at row 6") && human.contains("missing"), "{human}");
    let d2 = imported(backend, &dir.path().join("other")).await;
    let mut create = d2.command(&["user", "create", "--role", "host", "--username", "second_host"]);
    ok(create.env("ATM_PASSWORD", "Audit-Trail-2026").output().unwrap());
    assert!(verify(&d2).0);
    sql(&d2.database_url, "DELETE FROM audit_log WHERE id = (SELECT MAX(id) FROM audit_log)").await;
    let (intact, v) = verify(&d2);
    assert!(!intact, "deleting the newest row is found too: {v}");
    // The export holds every row as a JSON line, with its hashes.
    let export = ok(d.run(&["audit", "export"]));
    let lines: Vec<Value> = export.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert_eq!(lines.len() as u64, total - 1);
    assert!(lines.iter().all(|l| l["hash"].as_str().is_some_and(|h| h.len() == 64)));
}

on_each_database!(sign_ins_at_once_keep_one_unbroken_chain);
async fn sign_ins_at_once_keep_one_unbroken_chain(backend: Backend) {
    let dir = tempfile::tempdir().unwrap();
    let d = imported(backend, dir.path()).await;
    let api = std::sync::Arc::new(Api::new(d.start().unwrap()));
    let mut expected = 1; // the import
    for round in 0..4 {
        let mut all = Vec::new();
        for i in 0..24 {
            let api = api.clone();
            let (user, pass) = match i % 4 {
                0 => ("host1", "HostPass123!"),
                1 => ("super1", "SuperPass123!"),
                2 => ("tech2", "JeddahPass123!"),
                _ => ("nobody", "Wrong-Pass-99"),
            };
            all.push(tokio::spawn(async move {
                api.post_json(None, "/api/auth/login/", json!({"username": user, "password": pass}))
                    .await
                    .status
            }));
        }
        for h in all {
            let status = h.await.unwrap();
            assert!(matches!(status, 200 | 400 | 429 | 503), "round {round}: {status}");
            if status != 503 {
                expected += 1;
            }
        }
    }
    let (intact, v) = verify(&d);
    assert!(intact, "{v}");
    assert_eq!(v["rows"], expected, "one row per answered sign-in: {v}");
}
