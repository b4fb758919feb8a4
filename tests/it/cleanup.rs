//! Cleanup: the dry run deletes nothing; the real run removes exactly what the dry run listed,
//! into the trash; referenced data is untouched; the trash is purged after its grace.

use crate::common::api::*;
use crate::common::*;
use serde_json::json;

fn plan(d: &Deployment, apply: bool) -> Vec<(String, String)> {
    let mut args = vec!["cleanup", "--json"];
    if apply {
        args.push("--apply");
    }
    let out = d.run(&args);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let mut list: Vec<(String, String)> = v["candidates"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| (c["reason"].as_str().unwrap().to_string(), c["key"].as_str().unwrap().to_string()))
        .collect();
    list.sort();
    list
}

on_each_database!(cleanup_dry_run_changes_nothing_and_the_real_run_removes_exactly_its_list);
async fn cleanup_dry_run_changes_nothing_and_the_real_run_removes_exactly_its_list(backend: Backend) {
    let tmp = tempfile::tempdir().unwrap();
    let d = Deployment::new(backend, tmp.path())
        .await
        .without("ATM_TEST_ROUTES")
        .with("CLEANUP_ORPHAN_GRACE_HOURS", "0")
        .with("CLEANUP_EXCEL_DAYS", "0")
        .with("CLEANUP_PREVIEW_DAYS", "0");
    seed_staff(&d);
    let api = Api::new(d.start().unwrap());
    let host = api.login("host1", PASSWORD).await;
    let tech_id = api.create_technician(&host, "tech_c", "Hail").await;
    // Two uploads of one type: the first copy is superseded.
    api.upload_excel(&host, tech_id, "Cleaning1", &[["GFM-C1", "1", "Cleaning", "", "Hail"]]).await;
    api.upload_excel(&host, tech_id, "Cleaning1", &[["GFM-C1", "1", "Cleaning", "", "Hail"]]).await;
    let tech = api.login("tech_c", PASSWORD).await;
    let (form, _) = report(api.device_id(&tech, "GFM-C1").await, &today(), false, 3);
    let id = api.post_form(Some(&tech), "/api/technician/submit", form).await.body["submission"]["id"]
        .as_i64()
        .unwrap();
    let sup = api.login("sup1", PASSWORD).await;
    // A preview is not recorded; an approval's PDF is.
    assert_eq!(
        api.post_json(Some(&sup), &format!("/api/supervisor/submissions/{id}/preview-pdf"), json!({}))
            .await
            .status,
        200
    );
    drop(api);
    std::fs::write(d.media_root.join("photos/stray.bin"), b"nobody's").unwrap();

    let before = plan(&d, false);
    let reasons: Vec<&str> = before.iter().map(|(r, _)| r.as_str()).collect();
    assert_eq!(
        reasons,
        ["file without a row", "superseded Excel copy", "unrecorded preview PDF"],
        "{backend:?}: {before:?}"
    );
    assert_eq!(plan(&d, false), before, "a dry run changes nothing");
    for (_, key) in &before {
        assert!(d.media_root.join(key).exists(), "the dry run removed {key}");
    }

    let applied = plan(&d, true);
    assert_eq!(applied, before, "the real run acts on exactly the dry run's list");
    for (_, key) in &before {
        assert!(!d.media_root.join(key).exists(), "{key} is still in place");
    }
    let fsck = d.run(&["fsck"]);
    assert!(fsck.status.success(), "referenced data is intact: {}", String::from_utf8_lossy(&fsck.stdout));
    let api = Api::new(d.start().unwrap());
    let sup = api.login("sup1", PASSWORD).await;
    let sub = api.get(Some(&sup), &format!("/api/supervisor/submissions/{id}")).await;
    for p in sub.body["submission"]["photos"].as_array().unwrap() {
        assert_eq!(api.http.get(p["file_url"].as_str().unwrap()).send().await.unwrap().status(), 200);
    }
    drop(api);

    // Nothing new to remove; the trash goes once its grace is over.
    assert!(plan(&d, false).is_empty());
    let purge = d.clone().with("CLEANUP_TRASH_DAYS", "0");
    let purged = plan(&purge, true);
    assert_eq!(purged.len(), 3, "{purged:?}");
    assert!(purged.iter().all(|(r, k)| r == "trash past its grace period" && k.starts_with("trash/")));
    assert!(plan(&purge, false).is_empty());
}
