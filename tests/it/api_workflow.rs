//! The whole workflow through the real binary: host → Excel → technician submits 8 and 19
//! photos → supervisor lists, opens, fetches every photo by its URL → rejects → technician
//! resubmits → supervisor approves; then a re-upload keeps history and a deletion cleans up.

use crate::common::api::*;
use crate::common::*;
use serde_json::json;

on_each_database!(the_full_workflow_works_on_every_backend);
async fn the_full_workflow_works_on_every_backend(backend: Backend) {
    let tmp = tempfile::tempdir().unwrap();
    let (d, api, host) = started(backend, tmp.path()).await;
    let sup = api.login("sup1", PASSWORD).await;
    let tech_id = api.create_technician(&host, "tech_a", "Riyadh").await;
    let tech = api.login("tech_a", PASSWORD).await;

    // Host uploads two device lists.
    let r = api
        .upload_excel(
            &host,
            tech_id,
            "Cleaning1",
            &[
                ["GFM100", "838", "Cleaning", "2025-10-13", "Riyadh"],
                ["GFM101", "839", "Cleaning", "2025-10-14", "Riyadh"],
                ["N/A", "0", "Cleaning", "", "Riyadh"],
            ],
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
    assert_eq!(r.body["total_rows"], 4);
    assert_eq!(r.body["devices_created"], 2);
    let r = api
        .upload_excel(&host, tech_id, "Electrical", &[["GFM200", "900", "Electro Mechanical", "", "Riyadh"]])
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
    let r = api.get(Some(&host), &format!("/api/host/technicians/{tech_id}/uploaded-types")).await;
    assert_eq!(r.body["uploaded_types"].as_array().unwrap().len(), 2);

    // Technician sees both lists and submits 8 and 19 photos.
    let cleaning = api.device_id(&tech, "GFM100").await;
    let electrical = api.device_id(&tech, "GFM200").await;
    let (form, sent8) = report(cleaning, &today(), false, 1);
    let r = api.post_form(Some(&tech), "/api/technician/submit", form).await;
    assert_eq!(r.status, 201, "{}", r.body);
    let first_id = r.body["submission"]["id"].as_i64().unwrap();
    assert_eq!(r.body["submission"]["photos"].as_array().unwrap().len(), 8);
    assert_eq!(r.body["submission"]["job_status"], "Ok");
    let (form, sent19) = report(electrical, &today(), true, 50);
    let r = api.post_form(Some(&tech), "/api/technician/submit", form).await;
    assert_eq!(r.status, 201, "{}", r.body);
    assert_eq!(r.body["submission"]["photos"].as_array().unwrap().len(), 19);
    let (form, _) = report(cleaning, &today(), false, 2);
    let r = api.post_form(Some(&tech), "/api/technician/submit", form).await;
    assert_eq!(r.status, 400);
    assert!(
        r.body["non_field_errors"][0]
            .as_str()
            .unwrap()
            .starts_with("You have already submitted for this device in half")
    );
    let row = api.excel_row(&tech, "GFM100").await;
    assert_eq!(row["submission_status"], "Pending");

    // Supervisor lists, filters, opens, and fetches every photo by its URL.
    let r = api.get(Some(&sup), "/api/supervisor/submissions").await;
    assert_eq!(r.body["count"], 2);
    let r = api.get(Some(&sup), "/api/supervisor/submissions?device_type=Electrical&city=Riyadh").await;
    assert_eq!(r.body["count"], 1);
    let r = api.get(Some(&sup), "/api/supervisor/submissions?page=1&page_size=1").await;
    assert_eq!(r.body["submissions"].as_array().unwrap().len(), 1);
    assert_eq!(r.body["count"], 2);
    assert_eq!(r.body["total_pages"], 2);
    for (id, sent) in [(first_id, &sent8), (first_id + 1, &sent19)] {
        let r = api.get(Some(&sup), &format!("/api/supervisor/submissions/{id}")).await;
        assert_eq!(r.status, 200, "{}", r.body);
        for p in r.body["submission"]["photos"].as_array().unwrap() {
            let slot = format!("section{}_{}", p["section"], p["order_index"]);
            let expected = &sent.iter().find(|(s, _)| *s == slot).unwrap().1;
            let url = p["file_url"].as_str().unwrap();
            assert!(url.starts_with("http://"), "{url}");
            let got = api.http.get(url).send().await.unwrap();
            assert_eq!(got.status(), 200);
            assert_eq!(got.bytes().await.unwrap().as_ref(), expected.as_slice(), "{slot} not byte-for-byte");
            assert_eq!(p["sha256"], sha256_hex(expected));
        }
    }

    // Reject, then resubmit with the same visit date.
    let path = format!("/api/supervisor/submissions/{first_id}");
    let r = api.patch_json(Some(&sup), &format!("{path}/reject"), json!({"remarks": "short"})).await;
    assert_eq!(
        (r.status, r.body["error"].as_str()),
        (400, Some("Remarks must be at least 10 characters long"))
    );
    let r = api
        .patch_json(Some(&sup), &format!("{path}/reject"), json!({"remarks": "Photos are blurry, retake"}))
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let row = api.excel_row(&tech, "GFM100").await;
    assert_eq!(row["submission_status"], "Rejected");
    assert_eq!(row["submission_remarks"], "Photos are blurry, retake");
    let files_before = photo_files(&d.media_root);
    let other_day = other_day_of_this_half();
    let (form, _) = report(cleaning, &other_day, false, 3);
    let r = api.post_form(Some(&tech), "/api/technician/submit", form).await;
    assert_eq!(r.status, 400, "{}", r.body);
    assert_eq!(
        r.body["non_field_errors"][0],
        "Your previous submission for this device was rejected. Please resubmit using the same visit date."
    );
    assert_eq!(photo_files(&d.media_root), files_before, "a refused report left files");
    let (form, sent_again) = report(cleaning, &today(), false, 4);
    let r = api.post_form(Some(&tech), "/api/technician/submit", form).await;
    assert_eq!(r.status, 201, "{}", r.body);
    assert_eq!(r.body["submission"]["id"].as_i64(), Some(first_id), "the rejected report is reused");
    assert_eq!(r.body["submission"]["status"], "Pending");
    assert_eq!(photo_files(&d.media_root), files_before, "old photos replaced, not accumulated");
    let p = &r.body["submission"]["photos"][0];
    let slot = format!("section{}_{}", p["section"], p["order_index"]);
    let got = api.http.get(p["file_url"].as_str().unwrap()).send().await.unwrap().bytes().await.unwrap();
    assert_eq!(got.as_ref(), sent_again.iter().find(|(s, _)| *s == slot).unwrap().1.as_slice());

    // Approve keeps the technician's remarks.
    let r = api.patch_json(Some(&sup), &format!("{path}/approve"), json!({"remarks": ""})).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body["submission"]["status"], "Approved");
    assert_eq!(r.body["submission"]["technician_remarks"], "All clean");
    assert_eq!(r.body["submission"]["job_status"], "Ok");
    // The earlier rejection reason is not this approval's remark.
    assert_eq!(r.body["submission"]["review_remarks"], serde_json::Value::Null);
    assert_eq!(r.body["submission"]["remarks"], "All clean");
    let r = api.patch_json(Some(&sup), &format!("{path}/approve"), json!({})).await;
    assert_eq!((r.status, r.body["error"].as_str()), (400, Some("Submission is already approved")));
    let r = api.get(Some(&sup), "/api/supervisor/dashboard-stats").await;
    assert_eq!(
        r.body,
        json!({"total_submissions": 2, "pending_submissions": 1, "approved_submissions": 1, "rejected_submissions": 0})
    );

    // A re-upload without the visited device keeps every submission and photo.
    let r = api.upload_excel(&host, tech_id, "Cleaning1", &[["GFM300", "1", "Cleaning", "", "Riyadh"]]).await;
    assert_eq!(r.status, 201, "{}", r.body);
    let r = api.get(Some(&sup), &path).await;
    assert_eq!(r.status, 200);
    assert_eq!(r.body["submission"]["photos"].as_array().unwrap().len(), 8);
    let url = r.body["submission"]["photos"][0]["file_url"].as_str().unwrap().to_string();
    assert_eq!(api.http.get(&url).send().await.unwrap().status(), 200);
    assert_eq!(api.get(Some(&sup), "/api/supervisor/submissions").await.body["count"], 2);

    // Deleting the technician removes everything they owned, files after the rows.
    let r = api.delete(Some(&host), &format!("/api/host/technicians/{tech_id}/")).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body["deleted_data"]["submissions"], 2);
    assert_eq!(r.body["deleted_data"]["physical_files"]["photos"], 27);
    assert_eq!(r.body["deleted_data"]["excel_uploads"], 2);
    assert_eq!(photo_files(&d.media_root), 0);
    assert_eq!(api.http.get(&url).send().await.unwrap().status(), 404);
    let r = api.delete(Some(&host), &format!("/api/host/technicians/{tech_id}/")).await;
    assert_eq!((r.status, r.body["error"].as_str()), (404, Some("Technician not found")));
    assert_eq!(api.get(Some(&sup), "/api/supervisor/submissions").await.body["count"], 0);
}
