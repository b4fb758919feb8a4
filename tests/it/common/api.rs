//! API test helpers: seeded accounts, a logged-in client per role, fixtures (real JPEGs and
//! PNGs, real .xlsx workbooks).

use std::io::Cursor;

use reqwest::multipart::{Form, Part};
use serde_json::{Value, json};

use super::{Deployment, Server, client};

pub const PASSWORD: &str = "Field-Visit-2026";

/// Creates host1, sup1 through the CLI (as an operator would) before the server starts.
pub fn seed_staff(d: &Deployment) {
    for (role, name) in [("host", "host1"), ("supervisor", "sup1")] {
        let out = d
            .command(&["user", "create", "--role", role, "--username", name])
            .env("ATM_PASSWORD", PASSWORD)
            .output()
            .unwrap();
        assert!(out.status.success(), "user create {name}: {}", String::from_utf8_lossy(&out.stderr));
    }
}

/// A started API-only deployment (no test routes) with host1 and sup1, and host1's token.
pub async fn started(backend: super::Backend, dir: &std::path::Path) -> (Deployment, Api, String) {
    let d = Deployment::new(backend, dir).await.without("ATM_TEST_ROUTES");
    seed_staff(&d);
    let api = Api::new(d.start().unwrap());
    let host = api.login("host1", PASSWORD).await;
    (d, api, host)
}

pub struct Api {
    pub server: Server,
    pub http: reqwest::Client,
}

pub struct Reply {
    pub status: u16,
    pub body: Value,
}

impl Api {
    pub fn new(server: Server) -> Api {
        Api { server, http: client() }
    }

    pub async fn login(&self, username: &str, password: &str) -> String {
        let r = self
            .post_json(None, "/api/auth/login/", json!({"username": username, "password": password}))
            .await;
        assert_eq!(r.status, 200, "login {username}: {}", r.body);
        r.body["access"].as_str().unwrap().to_string()
    }

    async fn reply(resp: reqwest::Response) -> Reply {
        let status = resp.status().as_u16();
        let text = resp.text().await.unwrap();
        let body = serde_json::from_str(&text).unwrap_or(Value::String(text));
        Reply { status, body }
    }

    pub fn req(&self, method: reqwest::Method, token: Option<&str>, path: &str) -> reqwest::RequestBuilder {
        let mut b = self.http.request(method, self.server.url(path));
        if let Some(t) = token {
            b = b.bearer_auth(t);
        }
        b
    }

    pub async fn send(&self, request: reqwest::RequestBuilder) -> Reply {
        Self::reply(request.send().await.unwrap()).await
    }

    pub async fn put_bytes(&self, token: Option<&str>, path: &str, bytes: Vec<u8>) -> Reply {
        self.send(self.req(reqwest::Method::PUT, token, path).body(bytes)).await
    }

    pub async fn get(&self, token: Option<&str>, path: &str) -> Reply {
        Self::reply(self.req(reqwest::Method::GET, token, path).send().await.unwrap()).await
    }

    pub async fn delete(&self, token: Option<&str>, path: &str) -> Reply {
        Self::reply(self.req(reqwest::Method::DELETE, token, path).send().await.unwrap()).await
    }

    pub async fn post_json(&self, token: Option<&str>, path: &str, body: Value) -> Reply {
        Self::reply(self.req(reqwest::Method::POST, token, path).json(&body).send().await.unwrap()).await
    }

    pub async fn patch_json(&self, token: Option<&str>, path: &str, body: Value) -> Reply {
        Self::reply(self.req(reqwest::Method::PATCH, token, path).json(&body).send().await.unwrap()).await
    }

    pub async fn post_form(&self, token: Option<&str>, path: &str, form: Form) -> Reply {
        Self::reply(self.req(reqwest::Method::POST, token, path).multipart(form).send().await.unwrap()).await
    }

    pub async fn create_technician(&self, host: &str, username: &str, city: &str) -> i64 {
        let r = self
            .post_json(
                Some(host),
                "/api/host/technicians/",
                json!({"username": username, "password": PASSWORD, "city": city}),
            )
            .await;
        assert_eq!(r.status, 201, "{}", r.body);
        r.body["id"].as_i64().unwrap()
    }

    pub async fn upload_excel(
        &self,
        host: &str,
        technician: i64,
        device_type: &str,
        rows: &[[&str; 5]],
    ) -> Reply {
        let form = Form::new()
            .text("technician_id", technician.to_string())
            .text("device_type", device_type.to_string())
            .part("file", Part::bytes(xlsx(rows)).file_name("devices.xlsx"));
        self.post_form(Some(host), "/api/host/upload-excel", form).await
    }

    /// The technician's Excel row for an interaction id, with its status fields.
    pub async fn excel_row(&self, tech: &str, interaction_id: &str) -> Value {
        let r = self.get(Some(tech), "/api/technician/my-excel-data").await;
        r.body["uploads"]
            .as_array()
            .unwrap()
            .iter()
            .flat_map(|u| u["parsed_data"].as_array().unwrap().clone())
            .find(|row| row["col_1"] == interaction_id)
            .unwrap_or_else(|| panic!("{interaction_id} not in my-excel-data: {}", r.body))
    }

    /// Device id of an interaction id, from the technician's own view.
    pub async fn device_id(&self, tech: &str, interaction_id: &str) -> i64 {
        self.excel_row(tech, interaction_id).await["device_id"].as_i64().unwrap()
    }
}

/// A header row plus the given rows, as a real .xlsx.
pub fn xlsx(rows: &[[&str; 5]]) -> Vec<u8> {
    let header = ["Interaction ID", "GFM Cost Center", "GFM Problem Type", "GFM Problem Date", "City"];
    sheet_of(&header, rows)
}

/// A real .xlsx of one sheet: `header`, then `rows`.
pub fn sheet_of<const N: usize>(header: &[&str; N], rows: &[[&str; N]]) -> Vec<u8> {
    let mut book = rust_xlsxwriter::Workbook::new();
    let sheet = book.add_worksheet();
    for (r, row) in std::iter::once(header).chain(rows).enumerate() {
        for (c, v) in row.iter().enumerate() {
            sheet.write_string(r as u32, c as u16, *v).unwrap();
        }
    }
    book.save_to_buffer().unwrap()
}

/// A small real JPEG, different for each seed.
pub fn jpeg(seed: u8) -> Vec<u8> {
    let img = image::RgbImage::from_fn(48, 32, |x, y| image::Rgb([x as u8 ^ seed, y as u8, seed]));
    let mut out = Cursor::new(Vec::new());
    img.write_to(&mut out, image::ImageFormat::Jpeg).unwrap();
    out.into_inner()
}

pub fn png(seed: u8) -> Vec<u8> {
    let img = image::RgbImage::from_fn(20, 10, |x, y| image::Rgb([x as u8, y as u8 ^ seed, 3]));
    let mut out = Cursor::new(Vec::new());
    img.write_to(&mut out, image::ImageFormat::Png).unwrap();
    out.into_inner()
}

pub fn slots(electrical: bool) -> Vec<String> {
    let counts: &[u8] = if electrical { &[4, 4, 4, 4, 3] } else { &[3, 3, 2] };
    counts
        .iter()
        .enumerate()
        .flat_map(|(s, n)| (1..=*n).map(move |o| format!("section{}_{o}", s + 1)))
        .collect()
}

/// A complete visit report form; returns it with the bytes sent per slot.
pub fn report(
    device_id: i64,
    visit_date: &str,
    electrical: bool,
    seed: u8,
) -> (Form, Vec<(String, Vec<u8>)>) {
    let mut form = Form::new()
        .text("device_id", device_id.to_string())
        .text("visit_date", visit_date.to_string())
        .text("job_description", "Routine maintenance visit")
        .text("job_status", "Ok")
        .text("remarks", "All clean");
    let mut sent = Vec::new();
    for (i, slot) in slots(electrical).into_iter().enumerate() {
        let bytes =
            if i % 3 == 2 { png(seed.wrapping_add(i as u8)) } else { jpeg(seed.wrapping_add(i as u8)) };
        let name = if i % 3 == 2 { "p.png" } else { "p.jpg" };
        form = form.part(slot.clone(), Part::bytes(bytes.clone()).file_name(name));
        sent.push((slot, bytes));
    }
    (form, sent)
}

pub fn today() -> String {
    chrono::Utc::now().date_naive().to_string()
}

/// Another day of today's half-month, valid as a visit date on any day the tests run: the day
/// before, or on the first day of a half (1st, 16th) the day after (within the one day of grace
/// the server gives for time zones). Never a date outside the half, so the period rules apply.
pub fn other_day_of_this_half() -> String {
    use chrono::Datelike;
    let t = chrono::Utc::now().date_naive();
    let d = if t.day() == 1 || t.day() == 16 { t + chrono::Days::new(1) } else { t - chrono::Days::new(1) };
    d.to_string()
}

/// Stored files under the media root's photo folder.
pub fn photo_files(media_root: &std::path::Path) -> usize {
    super::files_under(&media_root.join("photos"))
}
