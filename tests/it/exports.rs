//! Exports: the supervisor list as CSV and XLSX parsed back equal to the API's list for the
//! same filters; 100,000 rows exported with the server's memory bounded; one report as a ZIP
//! whose manifest's hashes are the stored files'.

use std::collections::HashMap;
use std::io::Read;
use std::path::Path;

use calamine::Reader;
use serde_json::Value;

use crate::common::api::Api;
use crate::common::{Backend, Deployment, on_each_database, sha256_hex};

const FIXTURE: &str = "tests/fixtures/django-original";

/// A deployment holding the original's fixture, imported, and the server started on it.
async fn imported(backend: Backend, dir: &Path) -> (Deployment, Api) {
    let fixture = Path::new(env!("CARGO_MANIFEST_DIR")).join(FIXTURE);
    let copy = dir.join("original.sqlite3");
    std::fs::copy(fixture.join("db.sqlite3"), &copy).unwrap();
    let d = Deployment::new(backend, dir).await;
    let source = format!("sqlite://{}", copy.display());
    let media = fixture.join("media");
    let out =
        d.run(&["import", "django", "--database-url", &source, "--media-root", media.to_str().unwrap()]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let api = Api::new(d.start().unwrap());
    (d, api)
}

async fn download(api: &Api, token: &str, path: &str) -> (u16, HashMap<String, String>, Vec<u8>) {
    let resp = api.req(reqwest::Method::GET, Some(token), path).send().await.unwrap();
    let status = resp.status().as_u16();
    let headers = resp
        .headers()
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_str().unwrap_or_default().to_string()))
        .collect();
    (status, headers, resp.bytes().await.unwrap().to_vec())
}

/// (device, technician, visit date, status, remarks) of each row of the API's list, in order.
fn api_rows(list: &Value) -> Vec<[String; 5]> {
    list["submissions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            let text = |v: &Value| v.as_str().unwrap_or_default().to_string();
            [
                text(&s["device_info"]["interaction_id"]),
                text(&s["technician_name"]),
                text(&s["visit_date"]),
                text(&s["status"]),
                text(&s["remarks"]),
            ]
        })
        .collect()
}

fn pick(row: &[String]) -> [String; 5] {
    [row[0].clone(), row[4].clone(), row[5].clone(), row[7].clone(), row[10].clone()]
}

fn csv_rows(bytes: &[u8]) -> (Vec<String>, Vec<Vec<String>>) {
    let text = std::str::from_utf8(bytes).unwrap().trim_start_matches('\u{feff}');
    let mut reader = csv::Reader::from_reader(text.as_bytes());
    let header = reader.headers().unwrap().iter().map(String::from).collect();
    let rows = reader.records().map(|r| r.unwrap().iter().map(String::from).collect()).collect();
    (header, rows)
}

fn xlsx_rows(bytes: Vec<u8>) -> (Vec<String>, Vec<Vec<String>>) {
    let mut book =
        calamine::open_workbook_from_rs::<calamine::Xlsx<_>, _>(std::io::Cursor::new(bytes)).unwrap();
    let range = book.worksheet_range("Submissions").unwrap();
    let mut rows = range.rows().map(|r| r.iter().map(|c| c.to_string()).collect::<Vec<String>>());
    let header = rows.next().unwrap();
    (header, rows.collect())
}

on_each_database!(csv_and_xlsx_exports_equal_the_list_for_the_same_filters);
async fn csv_and_xlsx_exports_equal_the_list_for_the_same_filters(backend: Backend) {
    let dir = tempfile::tempdir().unwrap();
    let (_d, api) = imported(backend, dir.path()).await;
    let sup = api.login("super1", "SuperPass123!").await;
    for filter in [
        "",
        "status=Approved",
        "city=Jeddah",
        "device_type=Electrical&status=Pending",
        "date_from=2026-11-01&date_to=2026-11-30",
    ] {
        let list = api.get(Some(&sup), &format!("/api/supervisor/submissions?{filter}")).await;
        assert_eq!(list.status, 200, "{}", list.body);
        let expected = api_rows(&list.body);
        let (status, headers, csv) =
            download(&api, &sup, &format!("/api/supervisor/submissions/export.csv?{filter}")).await;
        assert_eq!(status, 200);
        assert!(headers["content-type"].starts_with("text/csv"), "{headers:?}");
        assert!(headers["content-disposition"].contains("attachment"), "{headers:?}");
        let (header, rows) = csv_rows(&csv);
        assert_eq!(header[0], "Device");
        assert_eq!(header.len(), 12);
        assert_eq!(rows.iter().map(|r| pick(r)).collect::<Vec<_>>(), expected, "CSV for {filter:?}");
        let (status, _, xlsx) =
            download(&api, &sup, &format!("/api/supervisor/submissions/export.xlsx?{filter}")).await;
        assert_eq!(status, 200);
        let (xheader, xrows) = xlsx_rows(xlsx);
        assert_eq!(xheader, header);
        assert_eq!(xrows.iter().map(|r| pick(r)).collect::<Vec<_>>(), expected, "XLSX for {filter:?}");
    }
    // An approved report's row links its PDF; the period is spelled out.
    let (_, _, csv) = download(&api, &sup, "/api/supervisor/submissions/export.csv?status=Approved").await;
    let (_, rows) = csv_rows(&csv);
    let row9 = rows.iter().find(|r| r[0] == "JED-C001").unwrap();
    assert!(row9[11].contains("/media/pdfs/"), "{row9:?}");
    assert_eq!(row9[6], "2026-12 first half");
    let pdf = api.http.get(&row9[11]).send().await.unwrap();
    assert_eq!(pdf.status(), 200, "the link works");
    // Bad filters are a 400, other roles a 403.
    let (status, _, _) = download(&api, &sup, "/api/supervisor/submissions/export.csv?status=bogus").await;
    assert_eq!(status, 400);
    let host = api.login("host1", "HostPass123!").await;
    let (status, _, _) = download(&api, &host, "/api/supervisor/submissions/export.xlsx").await;
    assert_eq!(status, 403);
}

/// A spreadsheet formula in a technician's remarks stays text in the CSV.
#[tokio::test(flavor = "multi_thread")]
async fn a_formula_in_remarks_is_exported_as_text() {
    let dir = tempfile::tempdir().unwrap();
    let (d, api) = imported(Backend::Sqlite, dir.path()).await;
    let db = crate::common::any_pool(&d.database_url).await;
    sqlx::query("UPDATE submissions SET remarks = '=HYPERLINK(\"http://evil\")' WHERE id = 11")
        .execute(&db)
        .await
        .unwrap();
    let sup = api.login("super1", "SuperPass123!").await;
    let (_, _, csv) = download(&api, &sup, "/api/supervisor/submissions/export.csv?status=Pending").await;
    let (_, rows) = csv_rows(&csv);
    let row = rows.iter().find(|r| r[0] == "JED-C003").unwrap();
    assert_eq!(row[10], "'=HYPERLINK(\"http://evil\")");
}

on_each_database!(an_export_of_100000_rows_keeps_the_server_memory_bounded);
async fn an_export_of_100000_rows_keeps_the_server_memory_bounded(backend: Backend) {
    let dir = tempfile::tempdir().unwrap();
    let (d, api) = imported(backend, dir.path()).await;
    // 100,000 rejected reports (no one-per-period rule for those) of one technician and device.
    let numbers = match backend {
        Backend::Sqlite => {
            "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 100000) SELECT i FROM n"
        }
        Backend::Postgres => "SELECT i FROM generate_series(1, 100000) AS g(i)",
    };
    let db = crate::common::any_pool(&d.database_url).await;
    let seed = format!(
        "INSERT INTO submissions (technician_id, device_id, type, visit_date, period_year, period_month, half_month,
             job_description, job_status, status, remarks, review_remarks, created_at, updated_at)
         SELECT 2, 65, 'Cleaning1', '2026-10-05', 2026, 10, 1, '', 'Ok', 'Rejected', 'Seeded row number ' || CAST(i AS TEXT),
             'Retake the photos, please', '2026-10-05T08:00:00.000000Z', '2026-10-05T08:00:00.000000Z' FROM ({numbers}) AS t"
    );
    sqlx::query(sqlx::AssertSqlSafe(seed)).execute(&db).await.unwrap();
    db.close().await;
    let sup = api.login("super1", "SuperPass123!").await;
    for (path, kind) in [
        ("/api/supervisor/submissions/export.csv", "csv"),
        ("/api/supervisor/submissions/export.xlsx", "xlsx"),
    ] {
        api.server.reset_peak_rss();
        let before = api.server.peak_rss_mb();
        let (status, _, bytes) = download(&api, &sup, path).await;
        assert_eq!(status, 200);
        let peak = api.server.peak_rss_mb();
        let rows = if kind == "csv" { csv_rows(&bytes).1 } else { xlsx_rows(bytes.clone()).1 };
        assert_eq!(rows.len(), 100_012, "{kind}: every row exported");
        assert_eq!(rows.iter().filter(|r| r[10].starts_with("Retake")).count(), 100_000);
        println!("{kind}: {} bytes, server peak {peak} MB (before {before} MB)", bytes.len());
        assert!(
            peak < before + 100,
            "{kind}: the server's peak grew from {before} to {peak} MB for a {} MB file",
            bytes.len() >> 20
        );
    }
}

/// One report as a ZIP: the PDF, the original photos, and a manifest whose hashes are the files'.
#[tokio::test(flavor = "multi_thread")]
async fn a_report_zip_holds_its_pdf_photos_and_a_manifest_with_their_hashes() {
    let dir = tempfile::tempdir().unwrap();
    let (_d, api) = imported(Backend::Sqlite, dir.path()).await;
    let sup = api.login("super1", "SuperPass123!").await;
    let detail = api.get(Some(&sup), "/api/supervisor/submissions/6").await.body;
    let (status, headers, bytes) = download(&api, &sup, "/api/supervisor/submissions/6/export.zip").await;
    assert_eq!(status, 200);
    assert_eq!(headers["content-type"], "application/zip");
    assert!(headers["content-disposition"].contains("report-6-RUN1-E001.zip"), "{headers:?}");
    let mut zip = zip::ZipArchive::new(std::io::Cursor::new(bytes)).unwrap();
    let mut manifest = String::new();
    zip.by_name("manifest.json").unwrap().read_to_string(&mut manifest).unwrap();
    let manifest: Value = serde_json::from_str(&manifest).unwrap();
    assert_eq!(manifest["submission"]["device"], "RUN1-E001");
    let files = manifest["files"].as_array().unwrap();
    assert_eq!(files.len(), 18 + 1, "18 photos that survived and the PDF");
    let stored: HashMap<String, String> = detail["submission"]["photos"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            (
                format!("photos/section{}_{}.jpg", p["section"], p["order_index"]),
                p["sha256"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    for f in files {
        let name = f["name"].as_str().unwrap();
        let mut bytes = Vec::new();
        zip.by_name(name).unwrap().read_to_end(&mut bytes).unwrap();
        assert_eq!(f["sha256"].as_str().unwrap(), sha256_hex(&bytes), "{name}");
        assert_eq!(f["matches_record"], true, "{name}");
        if let Some(recorded) = stored.get(name) {
            assert_eq!(recorded, &sha256_hex(&bytes), "{name} is the stored photo");
        } else {
            assert_eq!(name, "report.pdf");
            assert!(bytes.starts_with(b"%PDF-"));
        }
    }
    assert_eq!(manifest["lost_before_move"][0]["kind"], "missing_photo", "the lost photo is in the manifest");
    let (status, _, _) = download(&api, &sup, "/api/supervisor/submissions/999/export.zip").await;
    assert_eq!(status, 404);
}
