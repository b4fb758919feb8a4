//! Filing the report itself: the period rules, the photo plan, and every row written in one
//! transaction — a new report, the resubmission of a rejected one, or a draft's finalize.

use super::input::{NewReport, PhotoObject, ReportPhoto};
use super::{Fields, FilingError};
use crate::db::{Db, devices, drafts, evidence, objects, submissions};
use crate::domain::evidence::{Finding, Other, Rules};
use crate::domain::{Period, PhotoPlan, SubmissionStatus};
use crate::storage::{Area, MediaKey, MediaStore};

/// The period rules: the device must be the technician's, one active report per half-month,
/// and a rejected one is resubmitted under its own visit date. Returns the rejected report to
/// reopen.
pub(crate) async fn check_visit(
    db: &Db,
    technician_id: i64,
    device_id: i64,
    visit_date: chrono::NaiveDate,
) -> Result<Option<i64>, FilingError> {
    if !devices::is_assigned(db, technician_id, device_id).await? {
        return Err(FilingError::Rule("This device is not assigned to you".into()));
    }
    let p = Period::of(visit_date);
    let existing = submissions::in_period(db, technician_id, device_id, p).await?;
    let visit = visit_date.to_string();
    match existing.iter().find(|s| s.status != SubmissionStatus::Rejected) {
        Some(_) => Err(FilingError::Duplicate(p)),
        None => match existing.first() {
            Some(s) if s.visit_date != visit => Err(FilingError::Rule(
                "Your previous submission for this device was rejected. Please resubmit using the same visit date."
                    .into(),
            )),
            Some(s) => Ok(Some(s.id)),
            None => Ok(None),
        },
    }
}

/// Files the report: the period rules, every slot of the photo plan present, then the rows in
/// one transaction. Photos this request stored outside the plan are deleted; so are the photos
/// of a resubmitted report that the new ones replace. Returns the submission's id.
///
/// On an error nothing was recorded; the caller deletes the photos it stored.
pub(crate) async fn file_report(
    db: &Db,
    store: &MediaStore,
    rules: &Rules,
    report: NewReport<'_>,
) -> Result<i64, FilingError> {
    let f = &report.fields;
    let reuse = check_visit(db, report.technician_id, f.device.id, f.visit_date).await?;
    let plan = PhotoPlan::for_device(&f.device.device_type, &f.device.gfm_problem_type);
    let missing: Vec<&str> = plan
        .slots()
        .filter(|s| !report.arrived.contains(s.field.as_str()))
        .map(|s| s.field.as_str())
        .collect();
    if !missing.is_empty() {
        return Err(FilingError::Photos(format!("Missing required photos: {}", missing.join(", "))));
    }
    if let Some(message) = report.refused {
        return Err(FilingError::Photos(message));
    }
    // Parts outside the plan are not part of the report: drop them now.
    let (rows, extra): (Vec<_>, Vec<_>) = report.photos.iter().partition(|p| plan.slot(p.field).is_some());
    let extra: Vec<MediaKey> = extra
        .iter()
        .filter_map(|p| match p.object {
            PhotoObject::New(stored) => Some(stored.key.clone()),
            PhotoObject::Recorded(_) => None,
        })
        .collect();
    store.delete_all(&extra).await;

    let visit = f.visit_date.to_string();
    let new = submissions::NewSubmission {
        technician_id: report.technician_id,
        device_id: f.device.id,
        submission_type: &f.device.device_type,
        visit_date: &visit,
        period: Period::of(f.visit_date),
        job_description: &f.job_description,
        job_status: &f.job_status,
        remarks: f.remarks.as_deref(),
    };
    // Findings inform the reviewer and never block filing; they are computed and written with
    // the rows, in the same transaction.
    let subjects = super::evidence::subjects(db, f, &rows).await?;
    let judge = Judge { rules, subjects: &subjects, technician_id: report.technician_id, fields: f };
    let (id, replaced) = write_rows(db, reuse, &new, &plan, &rows, &judge, report.draft).await?;
    store.delete_all(&replaced).await;
    Ok(id)
}

/// What the findings are computed with, inside the transaction.
struct Judge<'a> {
    rules: &'a Rules,
    subjects: &'a super::evidence::Subjects,
    technician_id: i64,
    fields: &'a Fields,
}

/// Writes the submission (or reopens the rejected one) and its photos in one transaction, and
/// removes the draft it came from. Returns the id and the keys of replaced photos.
async fn write_rows(
    db: &Db,
    reuse: Option<i64>,
    new: &submissions::NewSubmission<'_>,
    plan: &PhotoPlan,
    photos: &[&ReportPhoto<'_>],
    judge: &Judge<'_>,
    draft: Option<i64>,
) -> Result<(i64, Vec<MediaKey>), FilingError> {
    let in_tx = async {
        let mut tx = db.begin_write().await?;
        let (id, replaced) = match reuse {
            Some(id) => {
                // Another request resubmitted (or the row changed) since the period check:
                // this one lost, and the winner's photos stay untouched.
                let Some(old) = submissions::reopen(&mut tx, id, new).await? else {
                    return Err(FilingError::Duplicate(new.period));
                };
                let ids: Vec<i64> = old.iter().map(|o| o.id).collect();
                objects::delete_ids(&mut tx, &ids).await?;
                (id, old.into_iter().map(|o| o.key).collect())
            }
            None => (submissions::insert(&mut tx, new).await?, Vec::new()),
        };
        if let Some(draft) = draft {
            // Taking the draft row first makes a photo arriving meanwhile wait, then miss it;
            // one that landed just before is caught by the count below.
            let recorded: Vec<i64> = photos
                .iter()
                .filter_map(|p| match p.object {
                    PhotoObject::Recorded(id) => Some(id),
                    PhotoObject::New(_) => None,
                })
                .collect();
            if drafts::remove(&mut tx, draft).await? == 0 {
                return Err(FilingError::DraftGone);
            }
            if objects::count_ids(&mut tx, &recorded).await? != recorded.len() as i64 {
                return Err(FilingError::PhotoReplaced);
            }
        }
        let mut photo_ids = Vec::with_capacity(photos.len());
        for p in photos {
            let Some(slot) = plan.slot(p.field) else {
                photo_ids.push(None);
                continue;
            };
            let content_type = p.info.format.content_type();
            let object_id = match p.object {
                PhotoObject::New(stored) => {
                    let id = objects::insert(&mut *tx, Area::Photos, stored, Some(content_type)).await?;
                    let facts = p.facts.cloned().unwrap_or_default();
                    evidence::insert_facts(&mut *tx, id, &facts, p.browser).await?;
                    id
                }
                PhotoObject::Recorded(id) => id,
            };
            let photo_id = submissions::insert_photo(
                &mut tx,
                &submissions::NewPhoto {
                    submission_id: id,
                    section: i64::from(slot.section),
                    order_index: i64::from(slot.order),
                    object_id,
                    content_type,
                    width: i64::from(p.info.width),
                    height: i64::from(p.info.height),
                },
            )
            .await?;
            photo_ids.push(Some(photo_id));
        }
        let found: Vec<Finding> = super::evidence::findings(
            &mut tx,
            db.backend(),
            judge.rules,
            judge.subjects,
            (id, judge.technician_id, judge.fields),
        )
        .await?;
        let details: Vec<String> = found.iter().map(|f| f.detail.to_string()).collect();
        let findings: Vec<evidence::NewFinding<'_>> = found
            .iter()
            .zip(&details)
            .filter_map(|(f, detail)| {
                let (other_submission_id, other_photo_id) = match f.other {
                    Other::None => (None, None),
                    Other::Earlier { submission_id, photo_id } => (Some(submission_id), Some(photo_id)),
                    Other::InReport(j) => (Some(id), photo_ids.get(j).copied().flatten()),
                };
                Some(evidence::NewFinding {
                    submission_id: id,
                    photo_id: photo_ids.get(f.photo).copied().flatten()?,
                    kind: f.kind.as_str(),
                    other_submission_id,
                    other_photo_id,
                    detail,
                    message: &f.message,
                })
            })
            .collect();
        evidence::replace_findings(&mut tx, id, &findings).await?;
        tx.commit().await?;
        Ok((id, replaced))
    };
    // A refusal inside the transaction rolls it back (the transaction is dropped uncommitted).
    in_tx.await.map_err(|e| match e {
        FilingError::Db(e) => FilingError::from_write(e, new.period),
        other => other,
    })
}
