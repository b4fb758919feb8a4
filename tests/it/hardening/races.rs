//! Conflicting requests fired at once, many times, on SQLite and PostgreSQL: exactly one winner,
//! no 500, every acknowledged photo still served, no file left over; a queued report job of a
//! submission that is no longer approved makes nothing.

use std::time::Duration;

use super::world::*;
use crate::common::api::*;
use crate::common::*;
use serde_json::{Value, json};

on_each_database!(overlapping_resubmissions_have_one_winner_whose_photos_survive);
async fn overlapping_resubmissions_have_one_winner_whose_photos_survive(backend: Backend) {
    let tmp = tempfile::tempdir().unwrap();
    let w = world(backend, tmp.path(), &[]).await;
    let (id, _) = w.submit(w.device, 1).await;
    for round in 0..ROUNDS {
        reject(&w, id).await;
        let (fa, sent_a) = report(w.device, &today(), false, 10 + 2 * round as u8);
        let (fb, sent_b) = report(w.device, &today(), false, 11 + 2 * round as u8);
        let (a, b) = tokio::join!(
            w.api.post_form(Some(&w.tech), "/api/technician/submit", fa),
            w.api.post_form(Some(&w.tech), "/api/technician/submit", fb),
        );
        let what = format!("{backend:?} round {round}");
        no_server_error(&[a.status, b.status], &what);
        let winners: Vec<_> =
            [(&a, &sent_a), (&b, &sent_b)].into_iter().filter(|(r, _)| r.status == 201).collect();
        assert_eq!(winners.len(), 1, "{what}: exactly one resubmission wins: {} / {}", a.body, b.body);
        let loser = if a.status == 201 { &b } else { &a };
        assert_eq!(loser.status, 400, "{what}: {}", loser.body);
        assert!(
            loser.body["non_field_errors"][0].as_str().unwrap_or("").contains("already submitted"),
            "{what}: the loser reads the duplicate message: {}",
            loser.body
        );
        assert_photos_served(&w.api, &w.sup, id, winners[0].1, &what).await;
        assert_eq!(photo_files(&w.d.media_root), 8, "{what}: no file of the loser or the past is left");
    }
}

on_each_database!(approve_and_reject_at_once_have_one_winner_and_the_report_follows_it);
async fn approve_and_reject_at_once_have_one_winner_and_the_report_follows_it(backend: Backend) {
    let tmp = tempfile::tempdir().unwrap();
    let w = world(backend, tmp.path(), &[]).await;
    let mut approvals = 0;
    for round in 0..ROUNDS {
        let what = format!("{backend:?} round {round}");
        let (form, _) = report(w.devices[round], &today(), false, 1 + round as u8);
        let r = w.api.post_form(Some(&w.tech), "/api/technician/submit", form).await;
        assert_eq!(r.status, 201, "{what}: {}", r.body);
        let id = r.body["submission"]["id"].as_i64().unwrap();
        let path = format!("/api/supervisor/submissions/{id}");
        let (approve, reject) = (format!("{path}/approve"), format!("{path}/reject"));
        let (ap, rj) = tokio::join!(
            w.api.patch_json(Some(&w.sup), &approve, json!({"remarks": ""})),
            w.api.patch_json(Some(&w.sup), &reject, json!({"remarks": "Wrong device photographed"})),
        );
        no_server_error(&[ap.status, rj.status], &what);
        assert_eq!(
            [ap.status, rj.status].iter().filter(|s| **s == 200).count(),
            1,
            "{what}: exactly one review wins: {} / {}",
            ap.body,
            rj.body
        );
        let detail = w.api.get(Some(&w.sup), &path).await;
        if ap.status == 200 {
            approvals += 1;
            assert_eq!(rj.status, 409, "{what}: an approved report is not rejected: {}", rj.body);
            assert_eq!(detail.body["submission"]["status"], "Approved", "{what}");
            let mut pdf = Value::Null;
            for _ in 0..300 {
                pdf = w.api.get(Some(&w.sup), &path).await.body["submission"]["pdf_url"].clone();
                if !pdf.is_null() {
                    break;
                }
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            assert!(pdf.is_string(), "{what}: the approval's PDF is made");
            let r = reject_with(&w, &path, "Too late to reject this").await;
            assert_eq!(r.status, 409, "{what}: reject after approve is refused: {}", r.body);
            let after = w.api.get(Some(&w.sup), &path).await;
            assert_eq!(after.body["submission"]["status"], "Approved", "{what}");
        } else {
            assert_eq!(detail.body["submission"]["status"], "Rejected", "{what}");
            assert!(detail.body["submission"]["pdf_url"].is_null(), "{what}: no PDF for a rejected visit");
            assert!(ap.status == 409 || ap.status == 400, "{what}: {}", ap.body);
            let (form, _) = report(w.devices[round], &today(), false, 100 + round as u8);
            let r = w.api.post_form(Some(&w.tech), "/api/technician/submit", form).await;
            assert_eq!(r.status, 201, "{what}: resubmission after the rejection: {}", r.body);
            let again = w.api.get(Some(&w.sup), &path).await;
            assert_eq!(again.body["submission"]["status"], "Pending", "{what}");
            assert!(again.body["submission"]["pdf_url"].is_null(), "{what}: a resubmission has no old PDF");
        }
    }
    eprintln!("{backend:?}: approvals won {approvals} of {ROUNDS} races");
}

on_each_database!(draft_finalize_and_one_shot_submit_at_once_have_one_winner);
async fn draft_finalize_and_one_shot_submit_at_once_have_one_winner(backend: Backend) {
    let tmp = tempfile::tempdir().unwrap();
    let w = world(backend, tmp.path(), &[]).await;
    let mut submission: Option<i64> = None;
    for round in 0..ROUNDS {
        let what = format!("{backend:?} round {round}");
        if let Some(id) = submission {
            reject(&w, id).await;
        }
        let draft = w.draft(w.device).await;
        let mut draft_sent = Vec::new();
        for (i, slot) in slots(false).into_iter().enumerate() {
            let bytes = jpeg(100 + (round * 10 + i) as u8);
            let r = w
                .api
                .put_bytes(
                    Some(&w.tech),
                    &format!("/api/technician/drafts/{draft}/photos/{slot}"),
                    bytes.clone(),
                )
                .await;
            assert!(r.status < 300, "{what}: {}", r.body);
            draft_sent.push((slot, bytes));
        }
        let fields = json!({"job_description": "Routine", "job_status": "Ok", "remarks": "All clean"});
        let (one_shot, one_shot_sent) = report(w.device, &today(), false, 200 + round as u8);
        let finalize = format!("/api/technician/drafts/{draft}/submit/");
        let (fin, sub) = tokio::join!(
            w.api.post_json(Some(&w.tech), &finalize, fields),
            w.api.post_form(Some(&w.tech), "/api/technician/submit", one_shot),
        );
        no_server_error(&[fin.status, sub.status], &what);
        let won = [fin.status, sub.status].iter().filter(|s| **s == 201).count();
        assert_eq!(won, 1, "{what}: exactly one filing wins: {} / {}", fin.body, sub.body);
        let (winner, sent) = if fin.status == 201 { (&fin, &draft_sent) } else { (&sub, &one_shot_sent) };
        let id = winner.body["submission"]["id"].as_i64().unwrap();
        assert_photos_served(&w.api, &w.sup, id, sent, &what).await;
        if fin.status != 201 {
            // The losing draft keeps its photos for the technician to discard or resend.
            let r = w.api.delete(Some(&w.tech), &format!("/api/technician/drafts/{draft}/")).await;
            assert!(r.status < 300, "{what}: {}", r.body);
        }
        assert_eq!(photo_files(&w.d.media_root), 8, "{what}: only the winner's photos are stored");
        submission = Some(id);
    }
}

on_each_database!(deleting_a_technician_during_an_upload_leaves_no_row_without_file_nor_file_without_row);
async fn deleting_a_technician_during_an_upload_leaves_no_row_without_file_nor_file_without_row(
    backend: Backend,
) {
    let tmp = tempfile::tempdir().unwrap();
    let w = world(backend, tmp.path(), &[]).await;
    // The first technician's report stays throughout: its photos must never be touched.
    let (kept_id, kept) = w.submit(w.device, 1).await;
    for round in 0..ROUNDS {
        let what = format!("{backend:?} round {round}");
        let name = format!("tech_d{round}");
        let id = w.api.create_technician(&w.host, &name, "Jeddah").await;
        let interaction = format!("DEL-{round}");
        let r = w
            .api
            .upload_excel(&w.host, id, "Cleaning1", &[[&interaction, "1", "Cleaning", "", "Jeddah"]])
            .await;
        assert_eq!(r.status, 201, "{}", r.body);
        let token = w.api.login(&name, PASSWORD).await;
        let device = w.api.device_id(&token, &interaction).await;
        let (form, _) = report(device, &today(), false, 50 + round as u8);
        let delete = format!("/api/host/technicians/{id}/");
        let (up, del) = tokio::join!(
            w.api.post_form(Some(&token), "/api/technician/submit", form),
            w.api.delete(Some(&w.host), &delete),
        );
        no_server_error(&[up.status, del.status], &what);
        assert_eq!(del.status, 200, "{what}: {}", del.body);
        // The upload wins (and the delete removes it with the rest), or it finds the account,
        // its device or its assignment gone.
        assert!(matches!(up.status, 201 | 400 | 401 | 409), "{what}: {} {}", up.status, up.body);
        assert_eq!(photo_files(&w.d.media_root), 8, "{what}: the deleted technician left no photo file");
    }
    assert_photos_served(&w.api, &w.sup, kept_id, &kept, &format!("{backend:?}")).await;
    let r = w.api.get(Some(&w.sup), "/api/supervisor/submissions").await;
    assert_eq!(r.body["count"], 1, "{backend:?}: no row of a deleted technician is left");
    let _ = w.tech_id;
}

on_each_database!(a_queued_report_job_of_a_submission_no_longer_approved_makes_no_pdf_and_is_cancelled);
async fn a_queued_report_job_of_a_submission_no_longer_approved_makes_no_pdf_and_is_cancelled(
    backend: Backend,
) {
    let tmp = tempfile::tempdir().unwrap();
    let w = world(backend, tmp.path(), &[]).await;
    let (id, _) = w.submit(w.device, 1).await;
    reject(&w, id).await;
    // A job left behind by an older version, or queued just before the state changed.
    sqlx::any::install_default_drivers();
    let pool = sqlx::AnyPool::connect(&w.d.database_url).await.unwrap();
    let now = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Micros, true);
    sqlx::query(
        "INSERT INTO report_jobs (submission_id, state, pdf_status, email_status, attempts, next_attempt_at, created_at, updated_at)
         VALUES ($1, 'pending', 'pending', 'not_configured', 0, $2, $2, $2)",
    )
    .bind(id)
    .bind(&now)
    .execute(&pool)
    .await
    .unwrap();
    pool.close().await;
    let path = format!("/api/supervisor/submissions/{id}");
    let mut report = Value::Null;
    for _ in 0..100 {
        report = w.api.get(Some(&w.sup), &path).await.body["submission"]["report"].clone();
        if report["state"] == "cancelled" {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(report["state"], "cancelled", "{backend:?}: {report}");
    assert_eq!(report["pdf_status"], "cancelled", "{backend:?}: {report}");
    let detail = w.api.get(Some(&w.sup), &path).await;
    assert_eq!(detail.body["submission"]["status"], "Rejected");
    assert!(
        detail.body["submission"]["pdf_url"].is_null(),
        "{backend:?}: no approval PDF for a rejected visit"
    );
    assert_eq!(files_under(&w.d.media_root.join("pdfs")), 0, "{backend:?}: no PDF file was made");
}

on_each_database!(identical_photo_sends_at_once_keep_every_acknowledged_link_and_a_late_discard_is_refused);
async fn identical_photo_sends_at_once_keep_every_acknowledged_link_and_a_late_discard_is_refused(
    backend: Backend,
) {
    let tmp = tempfile::tempdir().unwrap();
    let w = world(backend, tmp.path(), &[]).await;
    let draft = w.draft(w.device).await;
    let slot = &slots(false)[0];
    let path = format!("/api/technician/drafts/{draft}/photos/{slot}");
    for round in 0..ROUNDS {
        let what = format!("{backend:?} round {round}");
        let bytes = jpeg(60 + round as u8);
        let sends = (0..4).map(|_| w.api.put_bytes(Some(&w.tech), &path, bytes.clone()));
        let answers = futures_util::future::join_all(sends).await;
        no_server_error(&answers.iter().map(|a| a.status).collect::<Vec<_>>(), &what);
        for a in &answers {
            assert!(a.status == 200 || a.status == 201, "{what}: {}", a.body);
            let url = a.body["url"].as_str().expect("a link to the photo");
            let got = w.api.http.get(url).send().await.unwrap();
            assert_eq!(got.status(), 200, "{what}: an acknowledged link must keep working");
            assert_eq!(got.bytes().await.unwrap().as_ref(), bytes.as_slice(), "{what}");
        }
    }
    // Fill the draft, finalize it, and then discard it: the discard must not claim success.
    for slot in slots(false).iter().skip(1) {
        let r = w
            .api
            .put_bytes(Some(&w.tech), &format!("/api/technician/drafts/{draft}/photos/{slot}"), jpeg(9))
            .await;
        assert!(r.status < 300, "{}", r.body);
    }
    let fields = json!({"job_description": "Routine", "job_status": "Ok"});
    let r = w.api.post_json(Some(&w.tech), &format!("/api/technician/drafts/{draft}/submit/"), fields).await;
    assert_eq!(r.status, 201, "{}", r.body);
    let r = w.api.delete(Some(&w.tech), &format!("/api/technician/drafts/{draft}/")).await;
    assert_eq!(r.status, 404, "{backend:?}: a submitted draft cannot be discarded: {}", r.body);
    assert_eq!(photo_files(&w.d.media_root), 8, "{backend:?}: one file per slot, nothing more");
}
