//! Notifications (issue 17): devices newly assigned by an Excel import, a report rejected (with
//! its reason and flagged photos) or approved, each kept on the server for its user only until
//! marked read; an approval and a rejection fired at once leave exactly the winner's
//! notification. On both databases.

use serde_json::{Value, json};

use crate::common::api::{Api, PASSWORD, report, started};
use crate::common::{Backend, on_each_database};

async fn notifications(api: &Api, token: &str, query: &str) -> Value {
    let r = api.get(Some(token), &format!("/api/notifications/{query}")).await;
    assert_eq!(r.status, 200, "{}", r.body);
    r.body
}

fn kinds(list: &Value) -> Vec<String> {
    list["notifications"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["kind"].as_str().unwrap().to_string())
        .collect()
}

fn rows(ids: &[&str]) -> Vec<[String; 5]> {
    ids.iter()
        .map(|id| [id.to_string(), "C1".into(), "Cleaning".into(), "2026-11-01".into(), "Riyadh".into()])
        .collect()
}

async fn import(api: &Api, host: &str, technician: i64, ids: &[&str]) {
    let owned = rows(ids);
    let refs: Vec<[&str; 5]> = owned.iter().map(|r| std::array::from_fn(|i| r[i].as_str())).collect();
    let r = api.upload_excel(host, technician, "Cleaning1", &refs).await;
    assert_eq!(r.status, 201, "{}", r.body);
}

async fn file(api: &Api, tech: &str, device: i64, visit: &str, seed: u8) -> i64 {
    let (form, _) = report(device, visit, false, seed);
    let r = api.post_form(Some(tech), "/api/technician/submit", form).await;
    assert_eq!(r.status, 201, "{}", r.body);
    r.body["submission"]["id"].as_i64().unwrap()
}

on_each_database!(each_user_is_told_what_happened_until_they_mark_it_read);
async fn each_user_is_told_what_happened_until_they_mark_it_read(backend: Backend) {
    let dir = tempfile::tempdir().unwrap();
    let (_d, api, host) = started(backend, dir.path()).await;
    let a_id = api.create_technician(&host, "nt_a", "Riyadh").await;
    let b_id = api.create_technician(&host, "nt_b", "Riyadh").await;
    let (a, b) = (api.login("nt_a", PASSWORD).await, api.login("nt_b", PASSWORD).await);
    let sup = api.login("sup1", PASSWORD).await;
    assert_eq!(api.get(None, "/api/notifications/").await.status, 401);
    assert_eq!(notifications(&api, &a, "").await, json!({"notifications": [], "unread": 0}));

    // Devices assigned: told once per import that brings new ones, with how many.
    import(&api, &host, a_id, &["NT-1", "NT-2"]).await;
    import(&api, &host, a_id, &["NT-1", "NT-2"]).await;
    import(&api, &host, a_id, &["NT-1", "NT-2", "NT-3"]).await;
    import(&api, &host, b_id, &["NT-9"]).await;
    let list = notifications(&api, &a, "").await;
    assert_eq!(kinds(&list), ["devices_assigned", "devices_assigned"], "{list}");
    assert_eq!(list["notifications"][0]["detail"]["count"], 1, "{list}");
    assert_eq!(list["notifications"][1]["detail"]["count"], 2, "{list}");
    assert_eq!(list["unread"], 2);

    // A rejection: the reason, the report, the device and the photos the evidence flagged.
    let device = api.device_id(&a, "NT-1").await;
    let visit = crate::common::api::today();
    let id = file(&api, &a, device, &visit, 10).await;
    let reason = "Photos are blurred, please retake them";
    let r = api
        .patch_json(
            Some(&sup),
            &format!("/api/supervisor/submissions/{id}/reject/"),
            json!({"remarks": reason}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let list = notifications(&api, &a, "").await;
    let n = &list["notifications"][0];
    assert_eq!(n["kind"], "report_rejected", "{list}");
    assert_eq!((n["submission_id"].as_i64(), n["device_id"].as_i64()), (Some(id), Some(device)));
    assert_eq!(n["detail"]["reason"], reason);
    assert!(n["message"].as_str().unwrap().contains(reason), "{n}");
    assert!(n["read_at"].is_null());
    // The tests' photos carry no EXIF: every photo is flagged for its missing capture time.
    let flagged = n["detail"]["flagged_photos"].as_array().unwrap();
    assert_eq!(flagged.len(), 8, "{n}");
    assert!(
        flagged.iter().all(|p| p["kinds"].as_array().unwrap().contains(&json!("capture_time_missing"))),
        "{n}"
    );
    assert_eq!(list["unread"], 3);

    // Another user neither sees it nor can mark it.
    let theirs = notifications(&api, &b, "").await;
    assert_eq!(kinds(&theirs), ["devices_assigned"], "{theirs}");
    let rejected_id = n["id"].as_i64().unwrap();
    let r = api.post_json(Some(&b), &format!("/api/notifications/{rejected_id}/read"), json!({})).await;
    assert_eq!(r.status, 404, "{}", r.body);
    assert_eq!(api.post_json(Some(&b), "/api/notifications/x/read", json!({})).await.status, 404);
    assert_eq!(api.get(Some(&a), "/api/notifications/?unread=maybe").await.status, 400);

    // Marked read: gone from the unread list, kept in the full one; a second mark changes nothing.
    let r = api.post_json(Some(&a), &format!("/api/notifications/{rejected_id}/read"), json!({})).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body["unread"], 2);
    let read_at = r.body["notification"]["read_at"].clone();
    assert!(read_at.is_string(), "{}", r.body);
    let again = api.post_json(Some(&a), &format!("/api/notifications/{rejected_id}/read/"), json!({})).await;
    assert_eq!((again.status, &again.body["notification"]["read_at"]), (200, &read_at));
    let unread = notifications(&api, &a, "?unread=true").await;
    assert_eq!(kinds(&unread), ["devices_assigned", "devices_assigned"], "{unread}");
    assert_eq!(notifications(&api, &a, "").await["notifications"].as_array().unwrap().len(), 3);

    // Resubmitted and approved: told, with the approval's remarks.
    file(&api, &a, device, &visit, 40).await;
    let r = api
        .patch_json(
            Some(&sup),
            &format!("/api/supervisor/submissions/{id}/approve/"),
            json!({"remarks": "Good now"}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let list = notifications(&api, &a, "?unread=true").await;
    assert_eq!(list["notifications"][0]["kind"], "report_approved", "{list}");
    assert_eq!(list["notifications"][0]["detail"]["remarks"], "Good now");
    assert_eq!(list["notifications"][0]["submission_id"], id);

    // Everything read at once; the other user's stay unread.
    let r = api.post_json(Some(&a), "/api/notifications/read", json!({})).await;
    assert_eq!((r.status, &r.body), (200, &json!({"marked": 3, "unread": 0})));
    assert_eq!(notifications(&api, &a, "?unread=true").await["unread"], 0);
    assert_eq!(notifications(&api, &b, "").await["unread"], 1);
}

on_each_database!(an_approval_and_a_rejection_at_once_leave_only_the_winners_notification);
async fn an_approval_and_a_rejection_at_once_leave_only_the_winners_notification(backend: Backend) {
    let dir = tempfile::tempdir().unwrap();
    let (_d, api, host) = started(backend, dir.path()).await;
    let tech_id = api.create_technician(&host, "nt_race", "Riyadh").await;
    let ids: Vec<String> = (0..8).map(|i| format!("NR-{i}")).collect();
    let refs: Vec<&str> = ids.iter().map(String::as_str).collect();
    import(&api, &host, tech_id, &refs).await;
    let tech = api.login("nt_race", PASSWORD).await;
    let sup = api.login("sup1", PASSWORD).await;
    let visit = crate::common::api::today();
    for (round, gfm) in refs.iter().enumerate() {
        let device = api.device_id(&tech, gfm).await;
        let id = file(&api, &tech, device, &visit, round as u8 * 9).await;
        let (approve_path, reject_path) = (
            format!("/api/supervisor/submissions/{id}/approve/"),
            format!("/api/supervisor/submissions/{id}/reject/"),
        );
        let approve = api.patch_json(Some(&sup), &approve_path, json!({}));
        let reject =
            api.patch_json(Some(&sup), &reject_path, json!({"remarks": "Rejected in the same instant"}));
        let (approved, rejected) = tokio::join!(approve, reject);
        assert_eq!(
            [approved.status, rejected.status].iter().filter(|s| **s == 200).count(),
            1,
            "round {round}: exactly one review wins ({} {}, {} {})",
            approved.status,
            approved.body,
            rejected.status,
            rejected.body
        );
        let winner = if approved.status == 200 { "report_approved" } else { "report_rejected" };
        let list = notifications(&api, &tech, "").await;
        let about: Vec<&Value> =
            list["notifications"].as_array().unwrap().iter().filter(|n| n["submission_id"] == id).collect();
        assert_eq!(about.len(), 1, "round {round}: {list}");
        assert_eq!(about[0]["kind"], winner, "round {round}: {list}");
    }
}
