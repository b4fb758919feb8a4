//! `atm-maint import django` against the data the original deployment left behind
//! (`tests/fixtures/django-original`, described in its README): from its SQLite database and from
//! the same rows loaded into PostgreSQL, into both of our engines. Counts, the loss report, every
//! photo served byte for byte, the four passwords, reruns, an import killed midway, the dry run.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use sqlx::Row;

use crate::common::api::Api;
use crate::common::{Backend, Deployment, on_each_database, sha256_hex};

/// The fixture, as the original left it.
fn fixture() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/django-original")
}

/// The accounts and passwords the fixture's README gives.
const ACCOUNTS: [(&str, &str, &str); 4] = [
    ("host1", "HostPass123!", "host"),
    ("tech1", "TechPass123!", "technician"),
    ("super1", "SuperPass123!", "supervisor"),
    ("tech2", "JeddahPass123!", "technician"),
];

/// The files deleted from the fixture's media folder, each with the row that names it.
fn deleted() -> BTreeSet<(String, String)> {
    [
        ("missing_photo", "photos/1/section2_1_a09e174f.jpg"),
        ("missing_photo", "photos/6/section4_2_a404abef.jpg"),
        ("missing_photo", "photos/10/section1_1_e2cf86e8.jpg"),
        ("missing_pdf", "pdfs/2/CL1_CCRUN1002.pdf"),
    ]
    .into_iter()
    .map(|(k, p)| (k.to_string(), p.to_string()))
    .collect()
}

/// Where the original's rows come from in a scenario.
#[derive(Clone, Copy, Debug)]
enum From {
    Sqlite,
    Postgres,
}

/// A copy of the original's SQLite database (the fixture stays untouched), or the fixture's
/// `postgres.sql` loaded into a fresh PostgreSQL database with `psql`; its URL.
async fn original_database(from: From, dir: &Path) -> String {
    match from {
        From::Sqlite => {
            let copy = dir.join("original.sqlite3");
            std::fs::copy(fixture().join("db.sqlite3"), &copy).unwrap();
            format!("sqlite://{}", copy.display())
        }
        From::Postgres => {
            let url = crate::common::fresh_database(Backend::Postgres, dir).await;
            let out = std::process::Command::new("psql")
                .args(["-q", "-v", "ON_ERROR_STOP=1", &url, "-f"])
                .arg(fixture().join("postgres.sql"))
                .output()
                .expect("psql runs (PostgreSQL's client is installed with the server)");
            assert!(out.status.success(), "postgres.sql loads: {}", String::from_utf8_lossy(&out.stderr));
            url
        }
    }
}

fn import(d: &Deployment, source: &str, media: &Path, extra: &[&str]) -> std::process::Output {
    let media = media.to_str().unwrap();
    let mut args = vec!["import", "django", "--database-url", source, "--media-root", media];
    args.extend_from_slice(extra);
    d.run(&args)
}

fn report_of(out: &std::process::Output) -> serde_json::Value {
    assert!(
        out.status.success(),
        "import exits 0: {}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("--json prints the report")
}

/// (kind, path) of the report's lost and damaged files.
fn losses(report: &serde_json::Value) -> BTreeSet<(String, String)> {
    report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| {
            let k = f["kind"].as_str().unwrap();
            k.starts_with("missing_") || k.starts_with("damaged_")
        })
        .map(|f| (f["kind"].as_str().unwrap().to_string(), f["path"].as_str().unwrap().to_string()))
        .collect()
}

/// Every row the import writes, as text, with stored objects by key (their ids are the
/// database's to choose): equal snapshots mean the same result.
const SNAPSHOT: [&str; 8] = [
    "SELECT CAST(id AS TEXT), username, role, COALESCE(city, '-'), CAST(is_active AS TEXT), created_at FROM users ORDER BY id",
    "SELECT CAST(id AS TEXT), interaction_id, gfm_cost_center, city, type, created_at FROM devices ORDER BY id",
    "SELECT CAST(technician_id AS TEXT), CAST(device_id AS TEXT), device_type FROM technician_devices ORDER BY technician_id, device_id",
    "SELECT CAST(e.id AS TEXT), CAST(e.technician_id AS TEXT), e.device_type, CAST(e.row_count AS TEXT), COALESCE(o.object_key, '-'), e.parsed_data
     FROM excel_uploads e LEFT JOIN stored_object o ON o.id = e.object_id ORDER BY e.id",
    "SELECT CAST(s.id AS TEXT), s.status, s.visit_date, CAST(s.half_month AS TEXT), CAST(s.period_month AS TEXT), s.job_status,
        COALESCE(s.remarks, '-'), COALESCE(s.review_remarks, '-'), COALESCE(o.object_key, '-'), s.created_at
     FROM submissions s LEFT JOIN stored_object o ON o.id = s.pdf_object_id ORDER BY s.id",
    "SELECT CAST(p.id AS TEXT), CAST(p.submission_id AS TEXT), CAST(p.section AS TEXT), CAST(p.order_index AS TEXT), o.object_key, o.sha256
     FROM photos p JOIN stored_object o ON o.id = p.object_id ORDER BY p.id",
    "SELECT object_key, area, CAST(size_bytes AS TEXT), sha256 FROM stored_object ORDER BY object_key",
    "SELECT kind, source_ref, COALESCE(CAST(submission_id AS TEXT), '-'), COALESCE(path, '-') FROM import_findings ORDER BY kind, source_ref",
];

async fn snapshot(url: &str) -> Vec<Vec<String>> {
    let db = crate::common::any_pool(url).await;
    let mut out = Vec::new();
    for q in SNAPSHOT {
        let rows = sqlx::query(q).fetch_all(&db).await.unwrap();
        out.push(
            rows.iter()
                .map(|r| (0..r.len()).map(|i| r.get::<String, _>(i)).collect::<Vec<_>>().join("|"))
                .collect(),
        );
    }
    db.close().await;
    out
}

/// Every file under a folder with its SHA-256, by relative path.
fn tree(root: &Path) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    let mut todo = vec![root.to_path_buf()];
    while let Some(dir) = todo.pop() {
        let Ok(entries) = std::fs::read_dir(&dir) else { continue };
        for e in entries {
            let p = e.unwrap().path();
            if p.is_dir() {
                todo.push(p);
            } else {
                let rel = p.strip_prefix(root).unwrap().to_string_lossy().into_owned();
                out.insert(rel, sha256_hex(&std::fs::read(&p).unwrap()));
            }
        }
    }
    out
}

/// The original's photo rows: id → path under its media folder.
async fn original_photos() -> BTreeMap<i64, String> {
    let url = format!("sqlite://{}?mode=ro", fixture().join("db.sqlite3").display());
    let db = crate::common::any_pool(&url).await;
    let rows: Vec<(i64, String)> =
        sqlx::query_as("SELECT id, file_url FROM photo").fetch_all(&db).await.unwrap();
    db.close().await;
    rows.into_iter().collect()
}

async fn count(url: &str, table: &str) -> i64 {
    let db = crate::common::any_pool(url).await;
    let n: i64 = sqlx::query_scalar(sqlx::AssertSqlSafe(format!("SELECT COUNT(*) FROM {table}")))
        .fetch_one(&db)
        .await
        .unwrap();
    db.close().await;
    n
}

/// The whole move, from `from` into `target`: dry run, import, report, counts, photos, passwords, rerun.
async fn moves_over(from: From, target: Backend) {
    let dir = tempfile::tempdir().unwrap();
    let source = original_database(from, dir.path()).await;
    let media = fixture().join("media");
    let before = tree(&media);
    let d = Deployment::new(target, dir.path()).await;

    // The dry run prints the same report and writes nothing: no database, no media folder.
    let dry = report_of(&import(&d, &source, &media, &["--dry-run", "--json"]));
    assert_eq!(dry["dry_run"], true);
    assert_eq!(losses(&dry), deleted(), "the dry run names exactly the deleted files");
    assert!(!d.media_root.exists(), "a dry run creates no media folder");
    match target {
        Backend::Sqlite => assert!(!d.data_dir.join("atm-test.db").exists(), "a dry run creates no database"),
        Backend::Postgres => {
            let db = crate::common::any_pool(&d.database_url).await;
            let tables: i64 = sqlx::query_scalar(
                "SELECT COUNT(*) FROM information_schema.tables WHERE table_schema = 'public'",
            )
            .fetch_one(&db)
            .await
            .unwrap();
            assert_eq!(tables, 0, "a dry run creates no tables");
        }
    }

    let report = report_of(&import(&d, &source, &media, &["--json"]));
    assert_eq!(report["dry_run"], false);
    assert_eq!(losses(&report), deleted(), "the loss report names exactly the deleted files");
    let kinds = |kind: &str| -> Vec<String> {
        report["findings"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|f| f["kind"] == kind)
            .map(|f| f["source_ref"].as_str().unwrap().to_string())
            .collect()
    };
    assert_eq!(kinds("ghost_submission"), ["submission:12"], "the ghost submission is named");
    assert_eq!(kinds("excel_mismatch"), ["excel_upload:1"], "the overwritten Excel copy is flagged");
    let unreferenced: BTreeSet<String> =
        kinds("unreferenced_file").into_iter().map(|r| r[5..].to_string()).collect();
    let expected: BTreeSet<String> = [
        "excel_uploads/tech1_20261201_214131.xlsx",
        "pdfs/4/CL1_CCRUN1004.pdf",
        "pdfs/7/Electro_CERUN1002.pdf",
    ]
    .into_iter()
    .map(String::from)
    .collect();
    assert!(unreferenced.is_superset(&expected), "{unreferenced:?}");
    assert_eq!(unreferenced.iter().filter(|p| p.starts_with("photos/12/")).count(), 3, "{unreferenced:?}");
    assert_eq!(unreferenced.len(), 6, "{unreferenced:?}");
    let loss = report["findings"].as_array().unwrap().iter().find(|f| f["source_ref"] == "photo:4").unwrap();
    assert_eq!(
        (loss["original_submission_id"].as_i64(), loss["device"].as_str(), loss["technician"].as_str()),
        (Some(1), Some("RUN1-C001"), Some("tech1")),
        "a loss names its report, device and technician"
    );

    for (table, n) in [
        ("users", 4),
        ("devices", 25),
        ("technician_devices", 24),
        ("excel_uploads", 3),
        ("submissions", 12),
        ("photos", 118),
        ("stored_object", 118 + 4 + 3),
    ] {
        assert_eq!(count(&d.database_url, table).await, n, "{table}");
    }
    let db = crate::common::any_pool(&d.database_url).await;
    let users: Vec<(i64, String, String, Option<String>, i64)> =
        sqlx::query_as("SELECT id, username, role, city, is_active FROM users ORDER BY id")
            .fetch_all(&db)
            .await
            .unwrap();
    db.close().await;
    let city = |c: &str| Some(c.to_string());
    assert_eq!(
        users,
        [
            (1, "host1".into(), "host".into(), None, 1),
            (2, "tech1".into(), "technician".into(), city("Riyadh"), 1),
            (3, "super1".into(), "supervisor".into(), None, 1),
            (5, "tech2".into(), "technician".into(), city("Jeddah"), 1),
        ],
        "accounts keep their ids, roles, cities and state"
    );
    let counts = &report["counts"];
    assert_eq!(counts["photos"]["in_original"], 121);
    assert_eq!(counts["photos"]["imported"], 118);
    assert_eq!(counts["photos"]["not_imported"], 3);
    assert_eq!(tree(&media), before, "the original's folder is never modified");

    // A rerun changes nothing, and says everything is already here.
    let first = snapshot(&d.database_url).await;
    let stored = tree(&d.media_root);
    let again = report_of(&import(&d, &source, &media, &["--json"]));
    assert_eq!(again["counts"]["submissions"]["already"], 12);
    assert_eq!(again["counts"]["photos"]["imported"], 0);
    assert_eq!(losses(&again), deleted(), "a rerun reports the same losses");
    assert_eq!(snapshot(&d.database_url).await, first, "a rerun changes no row");
    assert_eq!(tree(&d.media_root), stored, "a rerun changes no file");

    let server = d.start().unwrap();
    let api = Api::new(server);
    // Every imported photo is served byte for byte as the original stored it.
    let supervisor = api.login("super1", "SuperPass123!").await;
    let paths = original_photos().await;
    let mut served = 0;
    for id in 1..=12 {
        let r = api.get(Some(&supervisor), &format!("/api/supervisor/submissions/{id}")).await;
        assert_eq!(r.status, 200, "report {id}: {}", r.body);
        let s = &r.body["submission"];
        for p in s["photos"].as_array().unwrap() {
            let original = std::fs::read(media.join(&paths[&p["id"].as_i64().unwrap()])).unwrap();
            let url = p["file_url"].as_str().unwrap();
            let bytes = api.http.get(url).send().await.unwrap().bytes().await.unwrap();
            assert_eq!(sha256_hex(&bytes), sha256_hex(&original), "photo {} of report {id}", p["id"]);
            served += 1;
        }
        let lost: Vec<&serde_json::Value> = s["lost_before_move"].as_array().unwrap().iter().collect();
        match id {
            1 => assert!(
                lost.iter()
                    .any(|l| l["kind"] == "missing_photo" && l["section"] == 2 && l["order_index"] == 1),
                "{lost:?}"
            ),
            2 => assert!(lost.iter().any(|l| l["kind"] == "missing_pdf"), "{lost:?}"),
            12 => assert!(lost.iter().any(|l| l["kind"] == "ghost_submission"), "{lost:?}"),
            3 | 4 | 5 | 7 | 8 | 9 | 11 => assert!(lost.is_empty(), "report {id}: {lost:?}"),
            _ => {}
        }
    }
    assert_eq!(served, 118);
    // The original's React build reads these answers: on the imported history they keep the
    // shapes recorded against the original itself.
    let recorded: Vec<serde_json::Value> =
        serde_json::from_str(include_str!("../fixtures/api-contract-observed.json")).unwrap();
    let shape = |name: &str| recorded.iter().find(|c| c["name"] == name).unwrap()["shape"].clone();
    let tech1 = api.login("tech1", "TechPass123!").await;
    for (name, token, path) in [
        // The newest report is the ghost with no photos; the recording's first had photos.
        ("GET /api/supervisor/submissions", &supervisor, "/api/supervisor/submissions?status=Approved"),
        ("GET /api/supervisor/submissions/<id>", &supervisor, "/api/supervisor/submissions/6"),
        ("GET /api/supervisor/dashboard-stats", &supervisor, "/api/supervisor/dashboard-stats"),
        ("GET /api/technician/devices (after submits)", &tech1, "/api/technician/devices"),
        ("GET /api/technician/my-excel-data", &tech1, "/api/technician/my-excel-data"),
    ] {
        let got = api.get(Some(token), path).await;
        assert_eq!(got.status, 200, "{name}: {}", got.body);
        let mismatch = crate::api_contract::shape_mismatch(&shape(name), &got.body, "$");
        assert_eq!(mismatch, None, "{name} on the imported history");
    }
    let stats = api.get(Some(&supervisor), "/api/supervisor/dashboard-stats").await.body;
    assert_eq!(
        (
            &stats["total_submissions"],
            &stats["pending_submissions"],
            &stats["approved_submissions"],
            &stats["rejected_submissions"]
        ),
        (&serde_json::json!(12), &serde_json::json!(5), &serde_json::json!(5), &serde_json::json!(2)),
        "{stats}"
    );
    // The remarks the reviewer wrote are the review's; a pending report's are the technician's.
    let r = api.get(Some(&supervisor), "/api/supervisor/submissions/10").await.body;
    assert_eq!(r["submission"]["status"], "Rejected");
    assert_eq!(
        r["submission"]["review_remarks"],
        "Section 2 photos do not show the ATM screen; please retake them."
    );
    assert_eq!(r["submission"]["half_month"], 2);
    let r = api.get(Some(&supervisor), "/api/supervisor/submissions/11").await.body;
    assert_eq!(
        (r["submission"]["technician_remarks"].as_str(), r["submission"]["job_status"].as_str()),
        (Some("Door lock stiff"), Some("Not Ok"))
    );

    // The four accounts sign in with their old passwords, which are Argon2id afterwards.
    for (user, password, role) in ACCOUNTS {
        let r = api
            .post_json(None, "/api/auth/login/", serde_json::json!({"username": user, "password": password}))
            .await;
        assert_eq!(r.status, 200, "{user}: {}", r.body);
        assert_eq!(r.body["user"]["role"], role, "{user}");
        let wrong = api
            .post_json(
                None,
                "/api/auth/login/",
                serde_json::json!({"username": user, "password": "Wrong-123!"}),
            )
            .await;
        assert_eq!(wrong.status, 400, "{user} with a wrong password");
    }
    let db = crate::common::any_pool(&d.database_url).await;
    let hashes: Vec<(String, String)> =
        sqlx::query_as("SELECT username, password_hash FROM users ORDER BY id").fetch_all(&db).await.unwrap();
    for (user, hash) in &hashes {
        assert!(hash.starts_with("$argon2id$"), "{user}: {hash}");
    }
    db.close().await;
    for (user, password, _) in ACCOUNTS {
        api.login(user, password).await;
    }
    // The technician sees their imported history; doctor shows what was lost.
    let tech2 = api.login("tech2", "JeddahPass123!").await;
    let mine = api.get(Some(&tech2), "/api/technician/submissions/").await;
    assert_eq!(mine.status, 200, "{}", mine.body);
    let text = mine.body.to_string();
    for device in ["JED-C001", "JED-C002", "JED-C003", "JED-C004"] {
        assert!(text.contains(device), "tech2's list shows {device}");
    }
    drop(api);
    let doctor = d.run(&["doctor"]);
    let out = String::from_utf8_lossy(&doctor.stdout);
    assert!(
        out.contains("moved from the original") && out.contains("photos/6/section4_2_a404abef.jpg"),
        "{out}"
    );
}

async fn moves_over_from_sqlite(target: Backend) {
    moves_over(From::Sqlite, target).await
}
on_each_database!(moves_over_from_sqlite);

async fn moves_over_from_postgresql(target: Backend) {
    moves_over(From::Postgres, target).await
}
on_each_database!(
    moves_over_from_postgresql,
    needs = "needs PostgreSQL: ATM_TEST_POSTGRES_URL (scripts/test starts one as root)"
);

/// Killed right after storing a file and before recording it — at the first, in the middle,
/// at the last — and rerun: the same rows and files as an import that was never interrupted,
/// and nothing left that no row names.
async fn an_import_killed_midway_and_rerun_ends_with_the_same_result(target: Backend) {
    let dir = tempfile::tempdir().unwrap();
    let source = original_database(From::Sqlite, dir.path()).await;
    let media = fixture().join("media");
    let clean = Deployment::new(target, &dir.path().join("clean")).await;
    report_of(&import(&clean, &source, &media, &["--json"]));
    let expected = snapshot(&clean.database_url).await;
    let expected_files = tree(&clean.media_root);
    let keys = |t: &BTreeMap<String, String>| {
        t.keys().filter(|k| k.contains("django/")).cloned().collect::<Vec<_>>()
    };
    for n in ["1", "60", "125"] {
        let d = Deployment::new(target, &dir.path().join(format!("killed-{n}"))).await;
        let killed = d.clone().with("ATM_TEST_IMPORT_ABORT_AFTER_FILES", n);
        let out = import(&killed, &source, &media, &["--json"]);
        assert!(!out.status.success(), "the import was killed after {n} file(s)");
        let rerun = report_of(&import(&d, &source, &media, &["--json"]));
        assert_eq!(losses(&rerun), deleted());
        assert_eq!(snapshot(&d.database_url).await, expected, "killed after {n} file(s), then rerun");
        assert_eq!(keys(&tree(&d.media_root)), keys(&expected_files), "killed after {n}: the same files");
        let fsck = d.run(&["fsck", "--recent-seconds", "0"]);
        assert!(fsck.status.success(), "fsck is clean: {}", String::from_utf8_lossy(&fsck.stdout));
    }
}
on_each_database!(an_import_killed_midway_and_rerun_ends_with_the_same_result);

/// The original's odd cases, in a copy of its data: an inactive account stays inactive, the
/// older `media/pdfs/…` path form is accepted, a path out of the folder is refused unread, a cut
/// photo is damaged, a lost file put back is imported by a rerun.
#[tokio::test(flavor = "multi_thread")]
async fn odd_rows_and_files_are_mapped_deliberately() {
    let dir = tempfile::tempdir().unwrap();
    let source = original_database(From::Sqlite, dir.path()).await;
    let media = dir.path().join("media");
    copy_tree(&fixture().join("media"), &media);
    std::fs::write(dir.path().join("secret.txt"), b"not a photo").unwrap();
    let paths = original_photos().await;
    let cut = media.join(&paths[&2]);
    let bytes = std::fs::read(&cut).unwrap();
    std::fs::write(&cut, &bytes[..bytes.len() / 2]).unwrap();
    {
        let db = crate::common::any_pool(&source).await;
        for q in [
            "UPDATE \"user\" SET is_active = 0 WHERE username = 'tech2'",
            "UPDATE submission SET pdf_url = 'media/' || pdf_url WHERE id = 9",
            "UPDATE photo SET file_url = '../secret.txt' WHERE id = 3",
        ] {
            sqlx::query(q).execute(&db).await.unwrap();
        }
        db.close().await;
    }
    let d = Deployment::new(Backend::Sqlite, dir.path()).await;
    let report = report_of(&import(&d, &source, &media, &["--json"]));
    let kinds: BTreeMap<String, String> = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| (f["source_ref"].as_str().unwrap().to_string(), f["kind"].as_str().unwrap().to_string()))
        .collect();
    assert_eq!(kinds.get("photo:2").map(String::as_str), Some("damaged_photo"), "{kinds:?}");
    assert_eq!(kinds.get("photo:3").map(String::as_str), Some("damaged_photo"), "{kinds:?}");
    assert_eq!(kinds.get("pdf:9"), None, "the media/pdfs/… form is found: {kinds:?}");
    let server = d.start().unwrap();
    let api = Api::new(server);
    let r = api
        .post_json(
            None,
            "/api/auth/login/",
            serde_json::json!({"username": "tech2", "password": "JeddahPass123!"}),
        )
        .await;
    assert_eq!(r.status, 400, "an inactive account stays inactive: {}", r.body);
    let supervisor = api.login("super1", "SuperPass123!").await;
    let s9 = api.get(Some(&supervisor), "/api/supervisor/submissions/9").await.body;
    assert!(s9["submission"]["pdf_url"].is_string(), "{s9}");
    drop(api);
    // The lost photo turns up again: a rerun imports it and the report no longer lists it.
    std::fs::copy(fixture().join("media").join(&paths[&5]), media.join("photos/1/section2_1_a09e174f.jpg"))
        .unwrap();
    let rerun = report_of(&import(&d, &source, &media, &["--json"]));
    assert_eq!(rerun["counts"]["photos"]["imported"], 1, "{}", rerun["counts"]);
    assert!(!losses(&rerun).iter().any(|(_, p)| p == "photos/1/section2_1_a09e174f.jpg"));
    assert_eq!(count(&d.database_url, "photos").await, 117);
    let kept = count(&d.database_url, "import_findings WHERE source_ref = 'photo:4'").await;
    assert_eq!(kept, 0, "the kept report follows the rerun");
}

fn copy_tree(from: &Path, to: &Path) {
    for (rel, _) in tree(from) {
        let target = to.join(&rel);
        std::fs::create_dir_all(target.parent().unwrap()).unwrap();
        std::fs::copy(from.join(&rel), &target).unwrap();
    }
}

/// A deployment with media in a bucket: the photos go to the bucket, served byte for byte.
#[tokio::test(flavor = "multi_thread")]
#[ignore = "needs an S3-compatible server: ATM_TEST_S3_ENDPOINT (scripts/test starts moto when installed)"]
async fn photos_move_into_an_s3_bucket() {
    let dir = tempfile::tempdir().unwrap();
    let source = original_database(From::Sqlite, dir.path()).await;
    let media = fixture().join("media");
    let (endpoint, bucket) = crate::common::s3_bucket().await;
    let d = Deployment::new(Backend::Sqlite, dir.path()).await.with_s3(&endpoint, &bucket);
    let report = report_of(&import(&d, &source, &media, &["--json"]));
    assert_eq!(report["counts"]["photos"]["imported"], 118);
    let api = Api::new(d.start().unwrap());
    let supervisor = api.login("super1", "SuperPass123!").await;
    let paths = original_photos().await;
    let s = api.get(Some(&supervisor), "/api/supervisor/submissions/6").await.body;
    let photos = s["submission"]["photos"].as_array().unwrap();
    assert_eq!(photos.len(), 18);
    for p in photos {
        let original = std::fs::read(media.join(&paths[&p["id"].as_i64().unwrap()])).unwrap();
        let bytes =
            api.http.get(p["file_url"].as_str().unwrap()).send().await.unwrap().bytes().await.unwrap();
        assert_eq!(sha256_hex(&bytes), sha256_hex(&original));
    }
}

/// The original's SQLite file and its PostgreSQL copy hold the same rows; imported, they give
/// the same rows and files here, timestamps to the microsecond included.
#[tokio::test(flavor = "multi_thread")]
#[ignore = "needs PostgreSQL: ATM_TEST_POSTGRES_URL (scripts/test starts one as root)"]
async fn both_of_the_originals_engines_give_the_same_result() {
    let dir = tempfile::tempdir().unwrap();
    let media = fixture().join("media");
    let mut results = Vec::new();
    for from in [From::Sqlite, From::Postgres] {
        let here = dir.path().join(format!("{from:?}"));
        std::fs::create_dir_all(&here).unwrap();
        let source = original_database(from, &here).await;
        let d = Deployment::new(Backend::Sqlite, &here).await;
        report_of(&import(&d, &source, &media, &["--json"]));
        results.push((
            snapshot(&d.database_url).await,
            tree(&d.media_root).into_iter().filter(|(k, _)| k.contains("django/")).collect::<Vec<_>>(),
        ));
    }
    assert_eq!(results[0].0, results[1].0, "the same rows from either engine");
    assert_eq!(results[0].1, results[1].1, "the same files from either engine");
    assert_eq!(results[0].1.len(), 125);
}

/// What an attack on the importer found, each now refused or handled: our database being the
/// original's under another spelling, our media folder inside the original's (before it
/// exists), a rerun after an imported technician was deleted, ids already taken here, a sound
/// photo sharing a slot with a lost one, an absolute path inside the folder.
#[tokio::test(flavor = "multi_thread")]
async fn the_original_is_never_the_target_and_reruns_survive_what_people_do_between() {
    let dir = tempfile::tempdir().unwrap();
    let source = original_database(From::Sqlite, dir.path()).await;
    let media = dir.path().join("media");
    copy_tree(&fixture().join("media"), &media);
    let original_file = source.trim_start_matches("sqlite://").to_string();
    let tables_before = tree(dir.path()).get("original.sqlite3").cloned();
    // The same file under another spelling, and our media folder inside theirs: refused, untouched.
    let d = Deployment::new(Backend::Sqlite, dir.path()).await;
    let spelled = format!("sqlite://{}", original_file.replace("/original.sqlite3", "/./original.sqlite3"));
    let same = d.clone().with("DATABASE_URL", &spelled);
    let mut cmd = same.command(&[
        "import",
        "django",
        "--database-url",
        &source,
        "--media-root",
        media.to_str().unwrap(),
    ]);
    let out = cmd.env("DATABASE_URL", &spelled).output().unwrap();
    assert!(
        !out.status.success() && String::from_utf8_lossy(&out.stderr).contains("original's own database"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let inside = d.clone().with("MEDIA_ROOT", media.join("new_store").to_str().unwrap());
    let mut cmd = inside.command(&[
        "import",
        "django",
        "--database-url",
        &source,
        "--media-root",
        media.to_str().unwrap(),
    ]);
    let out = cmd.env("MEDIA_ROOT", media.join("new_store")).output().unwrap();
    assert!(
        !out.status.success() && String::from_utf8_lossy(&out.stderr).contains("overlap"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(!media.join("new_store").exists());
    assert_eq!(
        tree(dir.path()).get("original.sqlite3").cloned(),
        tables_before,
        "the original's file is untouched"
    );

    // Our own reports 1 to 3 hold the original's ids; a sound photo shares the lost photo 4's
    // slot; photo 5's path is absolute inside the folder.
    let paths = original_photos().await;
    {
        let db = crate::common::any_pool(&source).await;
        let abs = media.join(&paths[&5]);
        sqlx::query("UPDATE photo SET file_url = $1 WHERE id = 5")
            .bind(abs.to_str().unwrap())
            .execute(&db)
            .await
            .unwrap();
        sqlx::query(
            "INSERT INTO photo (id, section, file_url, order_index, submission_id) VALUES (200, 2, $1, 1, 1)",
        )
        .bind(&paths[&6])
        .execute(&db)
        .await
        .unwrap();
        db.close().await;
    }
    let ours = d.clone();
    let mut create = ours.command(&[
        "user",
        "create",
        "--role",
        "technician",
        "--username",
        "ourtech",
        "--city",
        "Riyadh",
    ]);
    assert!(create.env("ATM_PASSWORD", "Our-Own-Tech-9").output().unwrap().status.success());
    let db = crate::common::any_pool(&d.database_url).await;
    sqlx::query("INSERT INTO devices (id, interaction_id, gfm_cost_center, region, gfm_problem_type, city, type, created_at) VALUES (1, 'OUR-1', 'C', '', 'Cleaning', 'Riyadh', 'Cleaning1', '2026-01-01T00:00:00.000000Z')").execute(&db).await.unwrap();
    for (id, day) in [(1, "2026-10-01"), (2, "2026-10-16"), (3, "2026-09-01")] {
        sqlx::query("INSERT INTO submissions (id, technician_id, device_id, type, visit_date, period_year, period_month, half_month, job_description, job_status, status, created_at, updated_at) VALUES ($1, 1, 1, 'Cleaning1', $2, 2026, 10, $3, '', 'Ok', 'Pending', '2026-10-01T00:00:00.000000Z', '2026-10-01T00:00:00.000000Z')")
            .bind(id as i64).bind(day).bind(id as i64).execute(&db).await.unwrap();
    }
    let report = report_of(&import(&d, &source, &media, &["--json"]));
    let findings = report["findings"].as_array().unwrap();
    let lost4 = findings.iter().find(|f| f["source_ref"] == "photo:4").unwrap();
    let moved_to: i64 =
        sqlx::query_scalar("SELECT target_id FROM import_map WHERE kind = 'submission' AND source_id = 1")
            .fetch_one(&db)
            .await
            .unwrap();
    assert_ne!(moved_to, 1, "the original's report 1 got another id here");
    assert_eq!(
        lost4["submission_id"], moved_to,
        "the loss is on the original's report, not on ours: {lost4}"
    );
    let on_ours: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM import_findings WHERE submission_id IN (1, 2, 3)")
            .fetch_one(&db)
            .await
            .unwrap();
    assert_eq!(on_ours, 0, "nothing is said about our own reports 1 to 3");
    assert!(
        !findings.iter().any(|f| f["source_ref"] == "photo:200"),
        "the sound photo in the lost one's slot is imported: {findings:?}"
    );
    let slot: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM photos WHERE submission_id = $1 AND section = 2 AND order_index = 1",
    )
    .bind(moved_to)
    .fetch_one(&db)
    .await
    .unwrap();
    assert_eq!(slot, 1);
    assert!(
        !findings.iter().any(|f| f["source_ref"] == "photo:5"),
        "an absolute path inside the folder is found: {findings:?}"
    );

    // A host deletes an imported technician; the rerun still completes and keeps its report.
    let api = Api::new(d.start().unwrap());
    let host = api.login("host1", "HostPass123!").await;
    let tech2: i64 =
        sqlx::query_scalar("SELECT id FROM users WHERE username = 'tech2'").fetch_one(&db).await.unwrap();
    assert_eq!(api.delete(Some(&host), &format!("/api/host/technicians/{tech2}/")).await.status, 200);
    drop(api);
    db.close().await;
    let rerun = report_of(&import(&d, &source, &media, &["--json"]));
    assert_eq!(losses(&rerun).len(), 4, "{}", rerun["findings"]);
}
