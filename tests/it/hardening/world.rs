//! The world the hardening tests act in: a started deployment with a technician, six cleaning
//! devices and everyone's tokens, and the checks every race test makes.

use crate::common::api::*;
use crate::common::*;
use serde_json::json;

/// How many times each race is fired.
pub const ROUNDS: usize = 6;

/// A started deployment with one technician, a cleaning device, and everyone's tokens.
pub struct World {
    pub d: Deployment,
    pub api: Api,
    pub host: String,
    pub sup: String,
    pub tech: String,
    pub tech_id: i64,
    pub device: i64,
    /// `ROUNDS` cleaning devices, `device` the first.
    pub devices: Vec<i64>,
}

pub async fn world(backend: Backend, dir: &std::path::Path, env: &[(&str, &str)]) -> World {
    let mut d = Deployment::new(backend, dir).await.without("ATM_TEST_ROUTES");
    for (k, v) in env {
        d = d.with(k, v);
    }
    seed_staff(&d);
    let api = Api::new(d.start().unwrap());
    let host = api.login("host1", PASSWORD).await;
    let sup = api.login("sup1", PASSWORD).await;
    let tech_id = api.create_technician(&host, "tech_r", "Riyadh").await;
    let names: Vec<String> = (0..ROUNDS).map(|i| format!("RACE-{i}")).collect();
    let rows: Vec<[&str; 5]> = names.iter().map(|n| [n.as_str(), "838", "Cleaning", "", "Riyadh"]).collect();
    let r = api.upload_excel(&host, tech_id, "Cleaning1", &rows).await;
    assert_eq!(r.status, 201, "{}", r.body);
    let tech = api.login("tech_r", PASSWORD).await;
    let mut devices = Vec::new();
    for n in &names {
        devices.push(api.device_id(&tech, n).await);
    }
    World { d, api, host, sup, tech, tech_id, device: devices[0], devices }
}

/// Every photo of a submission answers with exactly the bytes that were sent for its slot.
pub async fn assert_photos_served(api: &Api, sup: &str, id: i64, sent: &[(String, Vec<u8>)], what: &str) {
    let r = api.get(Some(sup), &format!("/api/supervisor/submissions/{id}")).await;
    assert_eq!(r.status, 200, "{what}: {}", r.body);
    let photos = r.body["submission"]["photos"].as_array().unwrap().clone();
    assert_eq!(photos.len(), sent.len(), "{what}: every acknowledged photo is recorded");
    for p in photos {
        let slot = format!("section{}_{}", p["section"], p["order_index"]);
        let resp = api.http.get(p["file_url"].as_str().unwrap()).send().await.unwrap();
        assert_eq!(resp.status(), 200, "{what}: {slot} is served");
        let got = resp.bytes().await.unwrap();
        let want = &sent.iter().find(|(s, _)| *s == slot).unwrap().1;
        assert_eq!(got.as_ref(), want.as_slice(), "{what}: {slot} holds the winner's bytes");
    }
}

pub fn no_server_error(statuses: &[u16], what: &str) {
    assert!(statuses.iter().all(|s| *s < 500), "{what}: a race must never answer 5xx: {statuses:?}");
}

pub async fn reject_with(w: &World, path: &str, remarks: &str) -> Reply {
    w.api.patch_json(Some(&w.sup), &format!("{path}/reject"), json!({ "remarks": remarks })).await
}

pub async fn reject(w: &World, id: i64) {
    let r = reject_with(w, &format!("/api/supervisor/submissions/{id}"), "Photos are blurry, retake").await;
    assert_eq!(r.status, 200, "{}", r.body);
}

impl World {
    /// The technician files a cleaning report for `device` today; returns its id and the photos
    /// sent (slot, bytes).
    pub async fn submit(&self, device: i64, seed: u8) -> (i64, Vec<(String, Vec<u8>)>) {
        let (form, sent) = report(device, &today(), false, seed);
        let r = self.api.post_form(Some(&self.tech), "/api/technician/submit", form).await;
        assert_eq!(r.status, 201, "{}", r.body);
        (r.body["submission"]["id"].as_i64().unwrap(), sent)
    }

    /// The technician's draft for `device` today (made, or the open one).
    pub async fn draft(&self, device: i64) -> i64 {
        let body = json!({"device_id": device, "visit_date": today()});
        let r = self.api.post_json(Some(&self.tech), "/api/technician/drafts/", body).await;
        assert!(r.status == 201 || r.status == 200, "{}", r.body);
        r.body["id"].as_i64().unwrap_or_else(|| panic!("draft id: {}", r.body))
    }
}
