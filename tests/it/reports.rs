//! Approval reports end to end: the PDF parsed back with poppler's tools, the e-mail captured by
//! a real SMTP server (Python's aiosmtpd) started by the test, and a job that survives SMTP
//! being down and a `kill -9` between the PDF and the e-mail, without a duplicate e-mail.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::common::api::*;
use crate::common::*;
use reqwest::multipart::{Form, Part};
use serde_json::{Value, json};

struct Smtp {
    child: Child,
    pub dir: PathBuf,
}

impl Drop for Smtp {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// These tests are ignored unless asked for; asked for without their tools, they fail so.
fn missing(what: &str) -> ! {
    panic!("this test needs {what} (.ci/run installs it)")
}

/// Python's aiosmtpd, the SMTP server the reports are sent to.
fn require_smtp() {
    let ok = Command::new("python3")
        .args(["-c", "import aiosmtpd"])
        .status()
        .map(|s| s.success())
        .unwrap_or(false);
    if !ok {
        missing("python3 with aiosmtpd")
    }
}

fn start_smtp(port: u16, dir: &Path) -> Smtp {
    require_smtp();
    let maildir = dir.to_path_buf();
    Command::new("python3")
        .args(["-c", &format!("import mailbox; mailbox.Maildir('{}', create=True)", maildir.display())])
        .status()
        .unwrap();
    let child = Command::new("python3")
        .args(["-m", "aiosmtpd", "-n", "-l", &format!("127.0.0.1:{port}"), "-c", "aiosmtpd.handlers.Mailbox"])
        .arg(&maildir)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(20);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(Instant::now() < deadline, "aiosmtpd did not start");
        std::thread::sleep(Duration::from_millis(100));
    }
    Smtp { child, dir: maildir }
}

fn messages(maildir: &Path) -> Vec<String> {
    let mut out = Vec::new();
    for sub in ["new", "cur"] {
        for e in std::fs::read_dir(maildir.join(sub)).into_iter().flatten().flatten() {
            out.push(std::fs::read_to_string(e.path()).unwrap());
        }
    }
    out
}

/// A small PNG logo written next to the deployment, for REPORT_LOGO_PATH.
fn logo(dir: &Path) -> String {
    let path = dir.join("logo.png");
    image::RgbImage::from_fn(120, 40, |x, _| image::Rgb([0, (x * 2) as u8, 90])).save(&path).unwrap();
    path.display().to_string()
}

fn noisy_jpeg(seed: u64, w: u32, h: u32) -> Vec<u8> {
    let img = image::RgbImage::from_fn(w, h, |x, y| {
        // Smooth like a photo, with a little texture so it is not trivially compressible.
        let v = ((x / 6 + y / 9) as u64 + seed * 13 + (x as u64 * y as u64 % 7)) % 256;
        image::Rgb([v as u8, ((x / 7) % 256) as u8, ((y / 5) % 256) as u8])
    });
    let mut out = std::io::Cursor::new(Vec::new());
    img.write_to(&mut out, image::ImageFormat::Jpeg).unwrap();
    out.into_inner()
}

fn report_form(device: i64, electrical: bool) -> Form {
    let mut form = Form::new()
        .text("device_id", device.to_string())
        .text("visit_date", "2026-11-02")
        .text("job_description", "Routine maintenance visit")
        .text("job_status", "Ok")
        .text("remarks", "Pylon light replaced");
    for (i, slot) in slots(electrical).into_iter().enumerate() {
        form = form.part(slot, Part::bytes(noisy_jpeg(i as u64, 1600, 1000)).file_name("p.jpg"));
    }
    form
}

struct Setup {
    d: Deployment,
    api: Api,
    sup: String,
    cleaning: i64,
    electrical: i64,
}

async fn setup(backend: Backend, dir: &Path, smtp_port: u16, _maildir_exists: bool) -> Setup {
    setup_with(backend, dir, smtp_port, &[]).await
}

async fn setup_with(backend: Backend, dir: &Path, smtp_port: u16, extra: &[(&str, &str)]) -> Setup {
    let mut d = Deployment::new(backend, dir)
        .await
        .without("ATM_TEST_ROUTES")
        .with("EMAIL_HOST", "127.0.0.1")
        .with("EMAIL_PORT", &smtp_port.to_string())
        .with("EMAIL_USE_TLS", "false")
        .with("EMAIL_TIMEOUT_SECONDS", "3")
        .with("DEFAULT_FROM_EMAIL", "reports@atm.example")
        .with("APPROVAL_EMAIL_RECIPIENTS", "bank-ops@bank.example, audit@bank.example")
        .with("REPORT_JOB_RETRY_SECONDS", "1")
        .with("REPORT_JOB_LEASE_SECONDS", "3")
        .with("REPORT_PROJECT_MANAGER", "Project Manager Placeholder")
        .with("REPORT_LOGO_PATH", &logo(dir));
    for (k, v) in extra {
        d = d.with(k, v);
    }
    seed_staff(&d);
    let api = Api::new(d.start().unwrap());
    let host = api.login("host1", PASSWORD).await;
    let tech_id = api.create_technician(&host, "tech_a", "Abha").await;
    api.upload_excel(&host, tech_id, "Cleaning1", &[["GFM1190544", "838", "Cleaning", "", "Al Baha"]]).await;
    api.upload_excel(
        &host,
        tech_id,
        "Electrical",
        &[["GFM2000001", "E-77", "Electro Mechanical", "", "Najran"]],
    )
    .await;
    let tech = api.login("tech_a", PASSWORD).await;
    let cleaning = api.device_id(&tech, "GFM1190544").await;
    let electrical = api.device_id(&tech, "GFM2000001").await;
    let c = api.post_form(Some(&tech), "/api/technician/submit", report_form(cleaning, false)).await;
    assert_eq!(c.status, 201, "{}", c.body);
    let e = api.post_form(Some(&tech), "/api/technician/submit", report_form(electrical, true)).await;
    assert_eq!(e.status, 201, "{}", e.body);
    let sup = api.login("sup1", PASSWORD).await;
    Setup {
        d,
        sup,
        cleaning: c.body["submission"]["id"].as_i64().unwrap(),
        electrical: e.body["submission"]["id"].as_i64().unwrap(),
        api,
    }
}

async fn wait_for(api: &Api, token: &str, id: i64, what: impl Fn(&Value) -> bool) -> Value {
    let deadline = Instant::now() + Duration::from_secs(90);
    loop {
        let r = api.get(Some(token), &format!("/api/supervisor/submissions/{id}")).await;
        if what(&r.body["submission"]) {
            return r.body["submission"].clone();
        }
        assert!(Instant::now() < deadline, "timed out; last: {}", r.body["submission"]["report"]);
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

fn pdf_tool(tool: &str, args: &[&str], file: &Path) -> Option<String> {
    match Command::new(tool).args(args).arg(file).output() {
        Ok(o) if o.status.success() => Some(String::from_utf8_lossy(&o.stdout).into_owned()),
        _ => missing(&format!("{tool} (poppler-utils)")),
    }
}

on_each_database!(
    approved_reports_parse_back_and_are_e_mailed_once,
    needs = "needs poppler-utils (pdftotext, pdfimages) and python3 with aiosmtpd"
);
async fn approved_reports_parse_back_and_are_e_mailed_once(backend: Backend) {
    let tmp = tempfile::tempdir().unwrap();
    let port = free_port();
    let smtp = start_smtp(port, &tmp.path().join("mail"));
    let s = setup(backend, tmp.path(), port, true).await;
    for (id, pages, photos, kind) in [(s.cleaning, 6, 8, "CLEANING"), (s.electrical, 8, 19, "ELECTRO")] {
        let path = format!("/api/supervisor/submissions/{id}/approve");
        let r = s.api.patch_json(Some(&s.sup), &path, json!({"remarks": ""})).await;
        assert_eq!(r.status, 200, "{}", r.body);
        let sub = wait_for(&s.api, &s.sup, id, |v| v["email_status"] == "sent").await;
        assert_eq!(sub["pdf_status"], "done");
        let url = sub["pdf_url"].as_str().unwrap();
        assert!(
            url.split('?').next().unwrap().ends_with(".pdf")
                && url.contains(if kind == "CLEANING" { "CL1_838.pdf" } else { "Electro_E-77.pdf" }),
            "{url}"
        );
        let pdf = s.api.http.get(url).send().await.unwrap().bytes().await.unwrap();
        assert!(pdf.len() < 8 * 1024 * 1024, "{kind}: {} bytes", pdf.len());
        let file = tmp.path().join(format!("{kind}.pdf"));
        if let Ok(keep) = std::env::var("ATM_KEEP_PDF") {
            std::fs::write(format!("{keep}/{kind}.pdf"), &pdf).unwrap();
        }
        std::fs::write(&file, &pdf).unwrap();
        let Some(info) = pdf_tool("pdfinfo", &[], &file) else { return };
        // The evidence table takes one page or more, as the findings run long.
        let count: usize = info
            .lines()
            .find_map(|l| l.strip_prefix("Pages:"))
            .and_then(|n| n.trim().parse().ok())
            .unwrap_or_else(|| panic!("{kind}: {info}"));
        assert!(
            count >= pages && count <= pages + 2,
            "{kind}: {count} pages, {pages} expected and a table\n{info}"
        );
        let text = pdf_tool("pdftotext", &["-layout"], &file).unwrap_or_default();
        let text = std::fs::read_to_string(file.with_extension("txt")).unwrap_or(text);
        let (atm, gfm, city) = if kind == "CLEANING" {
            ("ATM # 838", "GFM1190544", "Al Baha")
        } else {
            ("ATM # E-77", "GFM2000001", "Najran")
        };
        for needle in [
            &format!("PPM {kind} REPORT"),
            "02/November/2026",
            "02.11.2026",
            atm,
            gfm,
            city,
            "tech_a",
            "sup1",
            "Pylon light replaced",
            "Project Manager Placeholder",
            // The evidence page: the tests' photos carry no EXIF.
            "PHOTO EVIDENCE",
            "no capture time",
            "The photo carries no capture time",
        ] {
            assert!(text.contains(needle), "{kind}: {needle:?} missing from the PDF text");
        }
        let images = pdf_tool("pdfimages", &["-list"], &file).unwrap();
        let count = images.lines().skip(2).filter(|l| l.contains("image")).count();
        assert_eq!(
            count,
            photos + 2,
            "{kind}: one embedded image per photo, plus the configured logo twice\n{images}"
        );
        // The e-mail: one message per report, to the configured recipients, with that PDF.
        let mails = messages(&smtp.dir);
        let mail = mails.iter().find(|m| m.contains(gfm)).unwrap_or_else(|| panic!("no e-mail for {gfm}"));
        assert!(mail.contains("bank-ops@bank.example") && mail.contains("audit@bank.example"));
        assert!(
            mail.contains("Subject: ATM ") && mail.contains("Report"),
            "{}",
            &mail[..400.min(mail.len())]
        );
        assert!(mail.contains("SUBMISSION DETAILS") && mail.contains("02/11/2026"));
        let attached = attachment(mail);
        assert_eq!(attached.len(), pdf.len(), "{kind}: the attachment is the stored PDF");
        assert_eq!(sha256_hex(&attached), sha256_hex(&pdf));
    }
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert_eq!(messages(&smtp.dir).len(), 2, "exactly one e-mail per approval");
}

/// The base64 body of the PDF part of a raw message.
fn attachment(mail: &str) -> Vec<u8> {
    use base64::Engine;
    let start = mail.find("Content-Type: application/pdf").expect("a PDF part");
    let part = &mail[start..];
    let body_start =
        part.find("\r\n\r\n").map(|i| i + 4).or_else(|| part.find("\n\n").map(|i| i + 2)).unwrap();
    let body: String =
        part[body_start..].lines().take_while(|l| !l.starts_with("--")).collect::<Vec<_>>().join("");
    base64::engine::general_purpose::STANDARD.decode(body.trim()).unwrap()
}

#[tokio::test(flavor = "multi_thread")]
#[ignore = "needs poppler-utils (pdftotext, pdfimages) and python3 with aiosmtpd"]
async fn a_report_survives_smtp_down_and_kill_9_and_is_delivered_once() {
    let tmp = tempfile::tempdir().unwrap();
    let port = free_port();
    require_smtp();
    let s = setup(Backend::Sqlite, tmp.path(), port, false).await;
    let r = s
        .api
        .patch_json(Some(&s.sup), &format!("/api/supervisor/submissions/{}/approve", s.cleaning), json!({}))
        .await;
    assert_eq!(r.status, 200);
    // SMTP is down: the PDF is made, the e-mail is retried and the error is visible.
    let sub = wait_for(&s.api, &s.sup, s.cleaning, |v| {
        v["pdf_status"] == "done" && v["email_status"] == "retrying"
    })
    .await;
    assert!(sub["report"]["last_error"].as_str().unwrap().contains("e-mail not sent"), "{}", sub["report"]);
    assert!(sub["pdf_url"].is_string());
    // kill -9 between the PDF and the e-mail.
    let Setup { d, api, sup, cleaning, .. } = s;
    api.server.kill();
    let smtp = start_smtp(port, &tmp.path().join("mail"));
    let api = Api::new(d.start().unwrap());
    let sup_token = {
        let _ = sup;
        api.login("sup1", PASSWORD).await
    };
    // "sent" is recorded the moment the server accepts the mail; "done" follows.
    let sub = wait_for(&api, &sup_token, cleaning, |v| {
        v["email_status"] == "sent" && v["report"]["state"] == "done"
    })
    .await;
    assert_eq!(sub["pdf_status"], "done");
    tokio::time::sleep(Duration::from_secs(3)).await;
    assert_eq!(messages(&smtp.dir).len(), 1, "delivered exactly once after the restart");
}

#[tokio::test(flavor = "multi_thread")]
#[ignore = "needs poppler-utils (pdftotext, pdfimages) and python3 with aiosmtpd"]
async fn a_failed_report_job_can_be_retried_by_staff() {
    let tmp = tempfile::tempdir().unwrap();
    let port = free_port();
    require_smtp();
    let dir = tmp.path().join("svc");
    std::fs::create_dir_all(&dir).unwrap();
    let s = setup_with(Backend::Sqlite, &dir, port, &[("REPORT_JOB_MAX_ATTEMPTS", "2")]).await;
    let path = format!("/api/supervisor/submissions/{}", s.electrical);
    assert_eq!(s.api.patch_json(Some(&s.sup), &format!("{path}/approve"), json!({})).await.status, 200);
    let sub = wait_for(&s.api, &s.sup, s.electrical, |v| v["report"]["state"] == "failed").await;
    assert_eq!(sub["email_status"], "failed");
    assert_eq!(sub["pdf_status"], "done", "the PDF is kept; only the e-mail failed");
    let r = s.api.post_json(Some(&s.sup), &format!("{path}/report/retry"), json!({})).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let r = s.api.post_json(Some(&s.sup), &format!("{path}/report/retry"), json!({})).await;
    assert_eq!(r.status, 400, "nothing left to retry while it runs: {}", r.body);
    let smtp = start_smtp(port, &tmp.path().join("mail"));
    // The retried job may need its backoff to pass; a second retry request is refused meanwhile.
    let sub = wait_for(&s.api, &s.sup, s.electrical, |v| {
        v["email_status"] == "sent" || v["report"]["state"] == "failed"
    })
    .await;
    if sub["report"]["state"] == "failed" {
        assert_eq!(
            s.api.post_json(Some(&s.sup), &format!("{path}/report/retry"), json!({})).await.status,
            200
        );
        wait_for(&s.api, &s.sup, s.electrical, |v| v["email_status"] == "sent").await;
    }
    tokio::time::sleep(Duration::from_secs(1)).await;
    assert_eq!(messages(&smtp.dir).len(), 1);
}
