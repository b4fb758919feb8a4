//! The pages in a real browser: Debian's `chromium` driven by npm's `playwright-core`
//! (tests/browser/flows.mjs). Each test seeds what its flow needs through the API, runs the flow
//! against a real server, then checks the outcome through the API again. Screenshots of every
//! page visited go to `ATM_BROWSER_SHOTS` (default `target/browser-screenshots`), one folder
//! per flow. Ignored unless asked for (`--include-ignored`, as .ci/run does); asked for without
//! node, playwright-core or chromium they fail, naming what is missing.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;

use crate::common;
use crate::common::api::{Api, PASSWORD, started};
use crate::common::{Backend, sha256_hex};

const DEVICE: &str = "GFM-WEB-1";
const ELECTRICAL: &str = "GFM-WEB-E";
const ROWS: [[&str; 5]; 3] = [
    [DEVICE, "901", "Cleaning", "2026-01-05", "Riyadh"],
    ["GFM-WEB-2", "902", "Cleaning", "2026-01-06", "Riyadh"],
    ["GFM-WEB-3", "903", "Cleaning", "2026-01-07", "Jeddah"],
];

fn manifest() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn chromium() -> PathBuf {
    std::env::var_os("CHROMIUM").map(PathBuf::from).unwrap_or_else(|| PathBuf::from("/usr/bin/chromium"))
}

/// The browser tools; these tests are ignored unless asked for, and fail without them.
fn require_tools() {
    let node = Command::new("node").arg("--version").output().is_ok_and(|o| o.status.success());
    let driver = manifest().join("tests/browser/node_modules/playwright-core").is_dir();
    let browser = chromium().is_file();
    assert!(
        node && driver && browser,
        "browser tests need node ({node}), tests/browser/node_modules/playwright-core ({driver}; run \
         `npm ci` in tests/browser) and chromium ({browser}; `apt-get install chromium` or set CHROMIUM)"
    );
}

/// Eight distinct, camera-sized JPEGs and the device list, as a person would pick them.
fn fixtures(dir: &Path) -> Vec<String> {
    std::fs::create_dir_all(dir).unwrap();
    let mut hashes = Vec::new();
    for i in 1..=8u8 {
        let img = image::RgbImage::from_fn(1200, 900, |x, y| {
            image::Rgb([(x / 5) as u8 ^ (i * 29), (y / 4) as u8, i.wrapping_mul(31) ^ ((x + y) / 9) as u8])
        });
        let mut bytes = std::io::Cursor::new(Vec::new());
        img.write_to(&mut bytes, image::ImageFormat::Jpeg).unwrap();
        std::fs::write(dir.join(format!("photo{i}.jpg")), bytes.get_ref()).unwrap();
        hashes.push(sha256_hex(bytes.get_ref()));
    }
    std::fs::write(dir.join("devices.xlsx"), common::api::xlsx(&ROWS)).unwrap();
    hashes
}

fn shots_dir(flow: &str) -> PathBuf {
    let root = std::env::var_os("ATM_BROWSER_SHOTS")
        .map(PathBuf::from)
        .unwrap_or_else(|| manifest().join("target/browser-screenshots"));
    let dir = root.join(flow);
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

/// Runs one flow of flows.mjs against `base`; panics with its output when it fails.
fn run_flow(flow: &str, base: &str, fixtures: &Path, tech: &str) {
    run_flow_with(flow, base, fixtures, tech, &[])
}

fn run_flow_with(flow: &str, base: &str, fixtures: &Path, tech: &str, env: &[(&str, &str)]) {
    let out = Command::new("node")
        .envs(env.iter().copied())
        .env("ELECTRICAL", ELECTRICAL)
        .arg(manifest().join("tests/browser/flows.mjs"))
        .arg(flow)
        .env("BASE_URL", base)
        .env("SHOTS_DIR", shots_dir(flow))
        .env("FIXTURES", fixtures)
        .env("CHROMIUM", chromium())
        .env("TECH", tech)
        .env("PASSWORD", PASSWORD)
        .env("DEVICE", DEVICE)
        .output()
        .expect("run node");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    println!("{stdout}");
    assert!(out.status.success(), "browser flow {flow} failed:\n{stdout}\n{stderr}");
    assert!(stdout.contains(&format!("flow {flow} passed")), "{stdout}");
}

/// A started deployment (host1, sup1) with the fixtures written, or `None` when the browser
/// tools are missing (and allowed to be).
struct Stage {
    _dir: tempfile::TempDir,
    _deployment: common::Deployment,
    fixtures: PathBuf,
    hashes: Vec<String>,
    api: Api,
    host: String,
}

impl Stage {
    async fn new() -> Stage {
        require_tools();
        let dir = tempfile::tempdir().unwrap();
        let fix = dir.path().join("fixtures");
        let hashes = fixtures(&fix);
        let (deployment, api, host) = started(Backend::Sqlite, dir.path()).await;
        Stage { _dir: dir, _deployment: deployment, fixtures: fix, hashes, api, host }
    }

    /// A technician with the Cleaning1 list `ROWS`; returns their id.
    async fn technician(&self, name: &str) -> i64 {
        let id = self.api.create_technician(&self.host, name, "Riyadh").await;
        assert_eq!(self.api.upload_excel(&self.host, id, "Cleaning1", &ROWS).await.status, 201);
        id
    }

    async fn run(&self, flow: &'static str, tech: &'static str) {
        let (base, fix) = (self.api.server.base.clone(), self.fixtures.clone());
        tokio::task::spawn_blocking(move || run_flow(flow, &base, &fix, tech)).await.unwrap();
    }
}

#[tokio::test(flavor = "multi_thread")]
#[ignore = "needs node, tests/browser/node_modules (npm ci) and chromium"]
async fn host_creates_a_technician_and_imports_excel_and_the_technician_sees_the_devices() {
    let stage = Stage::new().await;
    let (api, host) = (&stage.api, &stage.host);
    let doomed = api.create_technician(host, "doomed", "Abha").await;
    assert_eq!(
        api.upload_excel(host, doomed, "Cleaning2", &[["GFM-X", "1", "Cleaning", "", "Abha"]]).await.status,
        201
    );
    stage.run("host", "webtech1").await;
    let techs = api.get(Some(host), "/api/host/technicians/").await;
    let names: BTreeSet<&str> =
        techs.body.as_array().unwrap().iter().map(|t| t["username"].as_str().unwrap()).collect();
    assert_eq!(
        names,
        BTreeSet::from(["webtech1"]),
        "the deleted technician is gone, the created one is there"
    );
    let tech = api.login("webtech1", PASSWORD).await;
    let devices = api.get(Some(&tech), "/api/technician/devices").await;
    // The device list is city-filtered as in the original: the Jeddah row is not a Riyadh job.
    let ids: BTreeSet<&str> = devices.body["devices"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["interaction_id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, BTreeSet::from([DEVICE, "GFM-WEB-2"]), "{}", devices.body);
}

#[tokio::test(flavor = "multi_thread")]
#[ignore = "needs node, tests/browser/node_modules (npm ci) and chromium"]
async fn technician_on_a_phone_fills_eight_slots_recovers_a_cut_off_upload_and_submits_then_nineteen() {
    let stage = Stage::new().await;
    let (api, host) = (&stage.api, &stage.host);
    let hashes: BTreeSet<String> = stage.hashes.iter().cloned().collect();
    let id = stage.technician("webtech2").await;
    let electrical = [[ELECTRICAL, "950", "Electro Mechanical", "", "Riyadh"]];
    assert_eq!(api.upload_excel(host, id, "Electrical", &electrical).await.status, 201);
    stage.run("technician", "webtech2").await;

    let tech = api.login("webtech2", PASSWORD).await;
    let subs = api.get(Some(&tech), "/api/technician/submissions").await;
    assert_eq!(subs.body["count"], 2, "{}", subs.body);
    let all = subs.body["submissions"].as_array().unwrap();
    let s = all.iter().find(|s| s["device_info"]["interaction_id"] == DEVICE).unwrap();
    let e = all.iter().find(|s| s["device_info"]["interaction_id"] == ELECTRICAL).unwrap();
    assert_eq!(e["photos"].as_array().unwrap().len(), 19, "{e}");
    assert_eq!(s["status"], "Pending");
    assert_eq!(s["job_description"], "Cleaned the machine and the pylon");
    let stored: BTreeSet<String> =
        s["photos"].as_array().unwrap().iter().map(|p| p["sha256"].as_str().unwrap().to_string()).collect();
    assert_eq!(stored, hashes, "the server holds exactly the eight photos picked");
    let drafts = api.get(Some(&tech), "/api/technician/drafts/").await;
    assert_eq!(drafts.body["drafts"].as_array().unwrap().len(), 0, "the draft became the report");
}

#[tokio::test(flavor = "multi_thread")]
#[ignore = "needs node, tests/browser/node_modules (npm ci) and chromium"]
async fn supervisor_rejects_with_a_reason_technician_resubmits_and_the_approved_pdf_downloads() {
    let stage = Stage::new().await;
    let api = &stage.api;
    let fix = &stage.fixtures;
    stage.technician("webtech3").await;
    let tech = api.login("webtech3", PASSWORD).await;
    let device = api.device_id(&tech, DEVICE).await;
    // The first report arrives through the original's one-shot API, with camera-sized photos.
    let mut form = reqwest::multipart::Form::new()
        .text("device_id", device.to_string())
        .text("visit_date", common::api::today())
        .text("job_description", "Monthly cleaning")
        .text("job_status", "Ok");
    for (i, slot) in common::api::slots(false).into_iter().enumerate() {
        let bytes = std::fs::read(fix.join(format!("photo{}.jpg", i + 1))).unwrap();
        form = form.part(slot, reqwest::multipart::Part::bytes(bytes).file_name("p.jpg"));
    }
    let r = api.post_form(Some(&tech), "/api/technician/submit", form).await;
    assert_eq!(r.status, 201, "{}", r.body);
    let first = r.body["submission"]["id"].as_i64().unwrap();

    stage.run("review", "webtech3").await;

    let sup = api.login("sup1", PASSWORD).await;
    let s = api.get(Some(&sup), &format!("/api/supervisor/submissions/{first}")).await;
    let s = &s.body["submission"];
    assert_eq!(s["status"], "Approved", "{s}");
    assert_eq!(s["pdf_status"], "done", "{s}");
    assert_eq!(
        s["review_remarks"],
        serde_json::Value::Null,
        "the old rejection reason is not the approval's"
    );
    assert_eq!(
        s["job_description"], "Cleaned the machine and the pylon",
        "the resubmission replaced the report"
    );
}

/// The history imported from the original deployment's fixture, in the pages: its people sign
/// in with their old passwords, the reports are listed, and what was lost before the move is
/// shown where the supervisor reviews.
#[tokio::test(flavor = "multi_thread")]
#[ignore = "needs node, tests/browser/node_modules (npm ci) and chromium"]
async fn imported_history_from_the_original_shows_in_the_pages() {
    require_tools();
    let dir = tempfile::tempdir().unwrap();
    let original = manifest().join("tests/fixtures/django-original");
    let copy = dir.path().join("original.sqlite3");
    std::fs::copy(original.join("db.sqlite3"), &copy).unwrap();
    let d = common::Deployment::new(Backend::Sqlite, dir.path()).await;
    let source = format!("sqlite://{}", copy.display());
    let media = original.join("media");
    let out =
        d.run(&["import", "django", "--database-url", &source, "--media-root", media.to_str().unwrap()]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let api = Api::new(d.start().unwrap());
    let (base, fix) = (api.server.base.clone(), dir.path().to_path_buf());
    tokio::task::spawn_blocking(move || {
        let env = [("SUPER_PASSWORD", "SuperPass123!"), ("TECH_PASSWORD", "JeddahPass123!")];
        run_flow_with("imported", &base, &fix, "tech2", &env)
    })
    .await
    .unwrap();
    // The sign-ins in the browser replaced both imported hashes with ours.
    let listed = api
        .get(Some(&api.login("super1", "SuperPass123!").await), "/api/supervisor/submissions?page_size=50")
        .await;
    assert_eq!(listed.body["count"], 12, "{}", listed.body);
}

#[tokio::test(flavor = "multi_thread")]
#[ignore = "needs node, tests/browser/node_modules (npm ci) and chromium"]
async fn the_api_docs_page_draws_every_operation_with_nothing_from_outside() {
    let stage = Stage::new().await;
    stage.run("docs", "nobody").await;
}

/// Issue 16 in the pages: two reports of one technician, the second reusing a photo of the first
/// byte for byte; none of the photos has EXIF. The supervisor sees the evidence on the review
/// page, checks a finding with a note (recorded, as the API shows), finds the report under the
/// flagged filter; the technician's phone sends its position with a draft photo.
#[tokio::test(flavor = "multi_thread")]
#[ignore = "needs node, tests/browser/node_modules (npm ci) and chromium"]
async fn the_review_page_shows_each_photos_evidence_and_a_finding_can_be_checked() {
    use common::photos::{Shot, jpeg_with, scene};
    let stage = Stage::new().await;
    let api = &stage.api;
    stage.technician("webtech5").await;
    let tech = api.login("webtech5", PASSWORD).await;
    let file = |device: i64, photos: Vec<Vec<u8>>| {
        let mut form = reqwest::multipart::Form::new()
            .text("device_id", device.to_string())
            .text("visit_date", common::api::today())
            .text("job_description", "Monthly cleaning")
            .text("job_status", "Ok");
        for (slot, bytes) in common::api::slots(false).into_iter().zip(photos) {
            form = form.part(slot, reqwest::multipart::Part::bytes(bytes).file_name("p.jpg"));
        }
        let tech = tech.clone();
        async move {
            let r = api.post_form(Some(&tech), "/api/technician/submit", form).await;
            assert_eq!(r.status, 201, "{}", r.body);
            r.body["submission"].clone()
        }
    };
    let first: Vec<Vec<u8>> = (0..8).map(|s| jpeg_with(&scene(s), 85, &Shot::default())).collect();
    let mut second: Vec<Vec<u8>> = (50..58).map(|s| jpeg_with(&scene(s), 85, &Shot::default())).collect();
    second[0] = first[0].clone();
    let r1 = file(api.device_id(&tech, "GFM-WEB-2").await, first).await;
    let r2 = file(api.device_id(&tech, "GFM-WEB-3").await, second).await;
    // Checking what the page must show: the reuse and 8 missing capture times.
    assert_eq!(r2["evidence_summary"]["findings"], 9, "{}", r2["evidence_summary"]);
    let sup = api.login("sup1", PASSWORD).await;
    let clean = api.get(Some(&sup), &format!("/api/supervisor/submissions/{}", r1["id"])).await;
    for f in clean.body["submission"]["photos"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|p| p["evidence"]["findings"].as_array().unwrap().clone())
    {
        // The first report's own findings are checked so that only the second is flagged.
        let url = format!("/api/supervisor/submissions/{}/findings/{}/check", r1["id"], f["id"]);
        assert_eq!(
            api.post_json(Some(&sup), &url, serde_json::json!({"note": "Old phone, no EXIF."})).await.status,
            200
        );
    }
    let note = "Same pole photo as last visit; asked the technician to retake it.";
    let device = api.device_id(&tech, DEVICE).await;
    let (base, fix) = (stage.api.server.base.clone(), stage.fixtures.clone());
    let env = [
        ("REPORT_ID", r2["id"].to_string()),
        ("EARLIER_ID", r1["id"].to_string()),
        ("NOTE", note.to_string()),
        ("DEVICE_ID", device.to_string()),
    ];
    tokio::task::spawn_blocking(move || {
        let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
        run_flow_with("evidence", &base, &fix, "webtech5", &env)
    })
    .await
    .unwrap();
    let after = api.get(Some(&sup), &format!("/api/supervisor/submissions/{}", r2["id"])).await;
    let s = &after.body["submission"];
    assert_eq!(s["evidence_summary"]["open"], 8, "one finding checked in the page");
    let reuse = s["photos"][0]["evidence"]["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["kind"] == "exact_reuse")
        .cloned()
        .unwrap();
    assert_eq!(reuse["checked"]["note"], note);
    assert_eq!(reuse["checked"]["by"], "sup1");
    assert_eq!(reuse["submission_id"], r1["id"]);
    // The draft photo the phone sent carries the phone's position.
    let drafts = api.get(Some(&tech), "/api/technician/drafts/").await;
    let id = drafts.body["drafts"][0]["id"].as_i64().unwrap();
    let draft = api.get(Some(&tech), &format!("/api/technician/drafts/{id}")).await;
    let photo = &draft.body["sections"][0]["slots"][0]["photo"];
    assert_eq!(photo["sha256"], sha256_hex(&std::fs::read(stage.fixtures.join("photo1.jpg")).unwrap()));
    let at = &photo["evidence"]["phone_position"];
    assert_eq!(
        (at["latitude"].as_f64(), at["longitude"].as_f64()),
        (Some(24.7136), Some(46.6753)),
        "{photo}"
    );
    assert_eq!(at["accuracy_m"], 12.0, "{photo}");
}

/// The technician's app installs and opens offline (issue 17): the manifest parses and Chromium
/// finds the app installable; with the context offline a reload opens the app from the service
/// worker and shows the kept device list with its time; a rejection's notification shows with
/// its reason and flagged photos, and marked read it is gone on a second browser context too.
#[tokio::test(flavor = "multi_thread")]
#[ignore = "needs node, tests/browser/node_modules (npm ci) and chromium"]
async fn the_app_installs_opens_offline_and_tells_the_technician_of_a_rejection() {
    let stage = Stage::new().await;
    let api = &stage.api;
    stage.technician("webtech6").await;
    let tech = api.login("webtech6", PASSWORD).await;
    let device = api.device_id(&tech, "GFM-WEB-2").await;
    let (form, _) = common::api::report(device, &common::api::today(), false, 60);
    let r = api.post_form(Some(&tech), "/api/technician/submit", form).await;
    assert_eq!(r.status, 201, "{}", r.body);
    let id = r.body["submission"]["id"].as_i64().unwrap();
    let sup = api.login("sup1", PASSWORD).await;
    let reason = "The cabinet photo is blurred; please retake it.";
    let url = format!("/api/supervisor/submissions/{id}/reject/");
    let r = api.patch_json(Some(&sup), &url, serde_json::json!({ "remarks": reason })).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let (base, fix) = (stage.api.server.base.clone(), stage.fixtures.clone());
    tokio::task::spawn_blocking(move || {
        run_flow_with("offline", &base, &fix, "webtech6", &[("REASON", reason)])
    })
    .await
    .unwrap();
    // The report filled offline arrived whole: the 8 photos picked, byte for byte.
    let subs = api.get(Some(&tech), "/api/technician/submissions").await;
    let first_device = api.device_id(&tech, DEVICE).await;
    let offline = subs.body["submissions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["device"] == first_device)
        .cloned()
        .unwrap_or_else(|| panic!("no report of {DEVICE}: {}", subs.body));
    let mut got: Vec<String> = offline["photos"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["sha256"].as_str().unwrap().to_string())
        .collect();
    let mut want = stage.hashes.clone();
    got.sort();
    want.sort();
    assert_eq!(got, want, "the photos picked offline, byte for byte");
    assert_eq!(offline["job_description"], "Cleaned offline in the basement");
    // Marked read in the page: the server says so.
    let list = api.get(Some(&tech), "/api/notifications/").await;
    let rejected: Vec<&serde_json::Value> = list.body["notifications"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|n| n["kind"] == "report_rejected")
        .collect();
    assert_eq!(rejected.len(), 1, "{}", list.body);
    assert!(rejected[0]["read_at"].is_string(), "{}", list.body);
}
