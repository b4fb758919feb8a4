//! Hostile device lists, generated here (the two `.xls` fixtures were written by Python's xlwt):
//! a far cell, too many rows or columns, a sheet whose
//! `<dimension>` lies, deflate bombs (with honest and with lying zip sizes) and a huge
//! shared-strings part. Each is refused with a 400 a person can act on, with and without
//! `dry_run`, while the server's peak memory stays bounded; the server keeps answering and
//! nothing is stored.

use std::io::{Cursor, Write};

use crate::common::api::*;
use crate::common::*;
use reqwest::multipart::{Form, Part};

/// Peak resident memory allowed while one hostile workbook is refused (the server idles at
/// a few tens of MB; the unbounded parser reached 437 MB to 5.8 GB on these).
const PEAK_RSS_MB: u64 = 200;

fn xlsx(fill: impl FnOnce(&mut rust_xlsxwriter::Worksheet)) -> Vec<u8> {
    let mut book = rust_xlsxwriter::Workbook::new();
    let sheet = book.add_worksheet();
    sheet.write_string(0, 0, "Interaction ID").unwrap();
    sheet.write_string(1, 0, "GFM1").unwrap();
    fill(sheet);
    book.save_to_buffer().unwrap()
}

/// A zip part: bytes as given, or `head`, `unit` × `times`, `tail` streamed into the deflater.
enum Body {
    Bytes(Vec<u8>),
    Repeat { head: &'static str, unit: &'static str, times: usize, tail: &'static str },
}

const CONTENT_TYPES: &str = r#"<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Default Extension="xml" ContentType="application/xml"/></Types>"#;
const RELS: &str = r#"<?xml version="1.0"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/></Relationships>"#;
const WORKBOOK: &str = r#"<?xml version="1.0"?><workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"><sheets><sheet name="Devices" sheetId="1" r:id="rId1"/></sheets></workbook>"#;
const WORKBOOK_RELS: &str = r#"<?xml version="1.0"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/></Relationships>"#;
const SHEET_HEAD: &str =
    r#"<?xml version="1.0"?><worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">"#;

/// A hand-made workbook package: the fixed parts plus `parts`, deflated.
fn package(parts: Vec<(&str, Body)>) -> Vec<u8> {
    let mut zip = zip::ZipWriter::new(Cursor::new(Vec::new()));
    let options = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated)
        .large_file(false);
    let fixed = [
        ("[Content_Types].xml", CONTENT_TYPES),
        ("_rels/.rels", RELS),
        ("xl/workbook.xml", WORKBOOK),
        ("xl/_rels/workbook.xml.rels", WORKBOOK_RELS),
    ];
    for (name, text) in fixed {
        zip.start_file(name, options).unwrap();
        zip.write_all(text.as_bytes()).unwrap();
    }
    for (name, body) in parts {
        zip.start_file(name, options).unwrap();
        match body {
            Body::Bytes(b) => zip.write_all(&b).unwrap(),
            Body::Repeat { head, unit, times, tail } => {
                zip.write_all(head.as_bytes()).unwrap();
                let chunk = unit.repeat(64 * 1024 / unit.len());
                let per_chunk = chunk.len() / unit.len();
                for _ in 0..times / per_chunk {
                    zip.write_all(chunk.as_bytes()).unwrap();
                }
                zip.write_all(tail.as_bytes()).unwrap();
            }
        }
    }
    zip.finish().unwrap().into_inner()
}

/// Rewrites the declared uncompressed size of `name` in its local header and in the central
/// directory: a zip whose sizes lie.
fn lie_about_size(mut zip: Vec<u8>, name: &str, size: u32) -> Vec<u8> {
    let mut patched = 0;
    for at in 0..zip.len().saturating_sub(46) {
        let (sig, size_at, name_at) = match &zip[at..at + 4] {
            b"PK\x03\x04" => ("local", at + 22, at + 30),
            b"PK\x01\x02" => ("central", at + 24, at + 46),
            _ => continue,
        };
        let len_at = if sig == "local" { at + 26 } else { at + 28 };
        let len = u16::from_le_bytes([zip[len_at], zip[len_at + 1]]) as usize;
        if zip.get(name_at..name_at + len) == Some(name.as_bytes()) {
            zip[size_at..size_at + 4].copy_from_slice(&size.to_le_bytes());
            patched += 1;
        }
    }
    assert_eq!(patched, 2, "both headers of {name} patched");
    zip
}

fn sheet(cells: &str, dimension: &str) -> Body {
    Body::Bytes(
        format!("{SHEET_HEAD}<dimension ref=\"{dimension}\"/><sheetData>{cells}</sheetData></worksheet>")
            .into_bytes(),
    )
}

struct Case {
    name: &'static str,
    /// `.xlsx` unless the case says otherwise.
    xls: bool,
    bytes: Vec<u8>,
    /// Words the refusal must contain.
    message: &'static str,
}

fn corpus() -> Vec<Case> {
    let a1 = r#"<row r="1"><c r="A1" t="inlineStr"><is><t>GFM1</t></is></c>"#;
    vec![
        Case {
            xls: true,
            name: "an .xls (Excel 97) with a cell at IV65536",
            bytes: include_bytes!("../../fixtures/far-cell.xls").to_vec(),
            message: "The sheet uses 256 columns; at most 64 are read. Remove the cells beyond column BL.",
        },
        Case {
            xls: false,
            name: "one cell at A1 and one at XFD1048576",
            bytes: xlsx(|s| {
                s.write_string(1_048_575, 16_383, "far").unwrap();
            }),
            message: "The sheet uses 16384 columns; at most 64 are read. Remove the cells beyond column BL.",
        },
        Case {
            xls: false,
            name: "2000 rows with cells in A and XFD",
            bytes: xlsx(|s| {
                for r in 2..2000 {
                    s.write_string(r, 0, "GFM").unwrap();
                    s.write_string(r, 16_383, "x").unwrap();
                }
            }),
            message: "at most 64 are read",
        },
        Case {
            xls: false,
            name: "100001 rows",
            bytes: xlsx(|s| {
                for r in 2..=100_000 {
                    s.write_number(r, 0, f64::from(r)).unwrap();
                }
            }),
            message: "The sheet uses 100001 rows; at most 100000 are read.",
        },
        Case {
            xls: false,
            name: "65 columns",
            bytes: xlsx(|s| {
                for c in 1..65 {
                    s.write_string(0, c, "Header").unwrap();
                }
            }),
            message: "The sheet uses 65 columns",
        },
        Case {
            xls: false,
            name: "a <dimension> of A1 over cells out to XFD",
            bytes: package(vec![(
                "xl/worksheets/sheet1.xml",
                sheet(&format!(r#"{a1}<c r="XFD1" t="inlineStr"><is><t>x</t></is></c></row>"#), "A1"),
            )]),
            message: "The sheet uses 16384 columns",
        },
        Case {
            xls: false,
            name: "a <dimension> of A1:XFD1048576 over two cells",
            bytes: package(vec![(
                "xl/worksheets/sheet1.xml",
                sheet(&format!("{a1}</row>"), "A1:XFD1048576"),
            )]),
            message: "The sheet uses 16384 columns",
        },
        Case {
            xls: false,
            name: "a deflate bomb: 400 MB of sheet XML",
            bytes: package(vec![(
                "xl/worksheets/sheet1.xml",
                Body::Repeat {
                    head: SHEET_HEAD,
                    unit: "<!-- padding -->",
                    times: 25_000_000,
                    tail: "</worksheet>",
                },
            )]),
            message: "unpacks to more than 64 MB",
        },
        Case {
            xls: false,
            name: "a deflate bomb whose zip headers claim 1 KB",
            bytes: lie_about_size(
                package(vec![(
                    "xl/worksheets/sheet1.xml",
                    Body::Repeat {
                        head: SHEET_HEAD,
                        unit: "<!-- padding -->",
                        times: 25_000_000,
                        tail: "</worksheet>",
                    },
                )]),
                "xl/worksheets/sheet1.xml",
                1024,
            ),
            // Inflating stops at the declared size, where the checksum then fails.
            message: "not a readable .xlsx or .xls workbook",
        },
        Case {
            xls: false,
            name: "40 MB of shared strings",
            bytes: package(vec![
                ("xl/worksheets/sheet1.xml", sheet(&format!("{a1}</row>"), "A1")),
                (
                    "xl/sharedStrings.xml",
                    Body::Repeat {
                        head: "<sst>",
                        unit: "<si><t>x</t></si>",
                        times: 2_400_000,
                        tail: "</sst>",
                    },
                ),
            ]),
            message: "shared text",
        },
    ]
}

async fn upload(api: &Api, host: &str, tech: i64, bytes: Vec<u8>, dry_run: bool) -> Reply {
    upload_named(api, host, tech, bytes, dry_run, "devices.xlsx").await
}

async fn upload_named(api: &Api, host: &str, tech: i64, bytes: Vec<u8>, dry_run: bool, name: &str) -> Reply {
    let form = Form::new()
        .text("technician_id", tech.to_string())
        .text("device_type", "Cleaning1")
        .text("dry_run", dry_run.to_string())
        .part("file", Part::bytes(bytes).file_name(name.to_string()));
    api.post_form(Some(host), "/api/host/upload-excel", form).await
}

on_each_database!(every_hostile_workbook_is_refused_with_a_message_in_bounded_memory_and_leaves_nothing);
async fn every_hostile_workbook_is_refused_with_a_message_in_bounded_memory_and_leaves_nothing(
    backend: Backend,
) {
    let tmp = tempfile::tempdir().unwrap();
    let (d, api, host) = started(backend, tmp.path()).await;
    let tech = api.create_technician(&host, "tech_x", "Riyadh").await;
    let files = format!("/api/host/technicians/{tech}/uploaded-files");
    for case in corpus() {
        assert!(case.bytes.len() < 20 * 1024 * 1024, "{}: {} bytes", case.name, case.bytes.len());
        for dry_run in [true, false] {
            api.server.reset_peak_rss();
            let name = if case.xls { "devices.xls" } else { "devices.xlsx" };
            let r = upload_named(&api, &host, tech, case.bytes.clone(), dry_run, name).await;
            let peak = api.server.peak_rss_mb();
            eprintln!(
                "{backend:?} {} (dry_run={dry_run}): {} bytes, peak RSS {peak} MB",
                case.name,
                case.bytes.len()
            );
            assert_eq!(r.status, 400, "{}: {}", case.name, r.body);
            let message = r.body["error"].as_str().unwrap_or_default();
            assert!(message.contains(case.message), "{}: {message:?}", case.name);
            assert!(peak < PEAK_RSS_MB, "{}: peak RSS {peak} MB", case.name);
            // Still serving, and nothing was kept: no upload row, no stored copy.
            let listed = api.get(Some(&host), &files).await;
            assert_eq!(listed.status, 200, "{}: the server stopped answering", case.name);
            assert_eq!(listed.body["files"], serde_json::json!([]), "{}", case.name);
            assert_eq!(files_under(&d.media_root.join("excel_uploads")), 0, "{}", case.name);
        }
    }
    let r = api.upload_excel(&host, tech, "Cleaning1", &[["GFM1", "838", "Cleaning", "", "Riyadh"]]).await;
    assert_eq!(r.status, 201, "an ordinary list still goes through: {}", r.body);
}

#[tokio::test(flavor = "multi_thread")]
async fn the_excel_bounds_follow_their_settings() {
    let tmp = tempfile::tempdir().unwrap();
    let d = Deployment::new(Backend::Sqlite, tmp.path())
        .await
        .without("ATM_TEST_ROUTES")
        .with("EXCEL_MAX_COLUMNS", "6")
        .with("EXCEL_MAX_ROWS", "50");
    seed_staff(&d);
    let api = Api::new(d.start().unwrap());
    let host = api.login("host1", PASSWORD).await;
    let tech = api.create_technician(&host, "tech_s", "Abha").await;
    let six = xlsx(|s| s.write_string(1, 5, "F is fine").map(|_| ()).unwrap());
    assert_eq!(upload(&api, &host, tech, six, false).await.status, 201);
    let seven = xlsx(|s| s.write_string(1, 6, "G is not").map(|_| ()).unwrap());
    let r = upload(&api, &host, tech, seven, false).await;
    assert_eq!(
        r.body["error"],
        "The sheet uses 7 columns; at most 6 are read. Remove the cells beyond column F."
    );
    let long = xlsx(|s| s.write_string(50, 0, "row 51").map(|_| ()).unwrap());
    let r = upload(&api, &host, tech, long, true).await;
    assert_eq!(r.status, 400);
    assert!(r.body["error"].as_str().unwrap().starts_with("The sheet uses 51 rows; at most 50 are read."));
}

#[tokio::test(flavor = "multi_thread")]
async fn a_list_at_the_row_limit_is_read_whole_in_bounded_memory() {
    let tmp = tempfile::tempdir().unwrap();
    let (_d, api, host) = started(Backend::Sqlite, tmp.path()).await;
    let tech = api.create_technician(&host, "tech_big", "Jeddah").await;
    let bytes = xlsx(|s| {
        for r in 2..100_000u32 {
            s.write_string(r, 0, format!("GFM{r:07}")).unwrap();
            s.write_number(r, 1, f64::from(r % 900)).unwrap();
            s.write_string(r, 2, "Cleaning").unwrap();
            s.write_string(r, 3, "2026-11-02").unwrap();
            s.write_string(r, 4, "Jeddah").unwrap();
        }
    });
    api.server.reset_peak_rss();
    let r = upload(&api, &host, tech, bytes.clone(), true).await;
    let peak = api.server.peak_rss_mb();
    eprintln!("100000 rows x 5 columns ({} bytes), dry run: peak RSS {peak} MB", bytes.len());
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body["total_rows"], 100_000);
    assert_eq!(r.body["data"].as_array().unwrap().len(), 20);
    assert!(peak < 2 * PEAK_RSS_MB, "peak RSS {peak} MB");
}

#[tokio::test(flavor = "multi_thread")]
async fn the_largest_shared_strings_part_within_the_bound_is_read_in_bounded_memory() {
    let tmp = tempfile::tempdir().unwrap();
    let (_d, api, host) = started(Backend::Sqlite, tmp.path()).await;
    let tech = api.create_technician(&host, "tech_sst", "Tabuk").await;
    // 15 MB of empty shared strings: the most strings a part under the 16 MB bound can hold.
    let bytes = package(vec![
        ("xl/worksheets/sheet1.xml", sheet(r#"<row r="1"><c r="A1" t="s"><v>0</v></c></row>"#, "A1")),
        (
            "xl/sharedStrings.xml",
            Body::Repeat { head: "<sst>", unit: "<si/>", times: 3_000_000, tail: "</sst>" },
        ),
    ]);
    api.server.reset_peak_rss();
    let r = upload(&api, &host, tech, bytes, true).await;
    let peak = api.server.peak_rss_mb();
    eprintln!("15 MB of empty shared strings, dry run: {} peak RSS {peak} MB", r.status);
    assert_eq!(r.status, 400, "{}", r.body);
    assert_eq!(r.body["error"], "Excel file contains no data rows");
    assert!(peak < 2 * PEAK_RSS_MB, "peak RSS {peak} MB");
}
