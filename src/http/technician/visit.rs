//! What both ways of filing a visit report share — the one-shot multipart submit and the
//! draft that receives one photo per request: streaming a photo into the store with content
//! checks, validating the report's fields in the original's order and messages, the period
//! rules, and writing every row in one transaction.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use bytes::Bytes;
use futures_util::{Stream, StreamExt};
use serde_json::{Value, json};

use crate::app::AppState;
use crate::db::{devices, drafts, objects, submissions};
use crate::domain::photo::{self, HeadTail, PhotoInfo};
use crate::domain::{Period, period};
use crate::error::ApiError;
use crate::http::extract::AuthUser;
use crate::storage::{Area, MediaKey, StoreError, StoredObject};

pub fn interrupted() -> ApiError {
    ApiError::message(
        "The upload was interrupted before it finished; nothing was stored. Please send it again.",
    )
}

/// Streams one photo into the store. The outer error aborts the request (storage failure,
/// client gone); the inner one is a photo the user must replace (nothing is kept for it).
pub async fn store_photo<S, E>(
    state: &AppState,
    body: S,
) -> Result<Result<(StoredObject, PhotoInfo), String>, ApiError>
where
    S: Stream<Item = Result<Bytes, E>> + Send + Unpin,
    E: std::fmt::Display + Send,
{
    let mut body = body;
    let mut first = Bytes::new();
    while first.is_empty() {
        match body.next().await {
            Some(Ok(c)) => first = c,
            Some(Err(_)) => return Err(interrupted()),
            None => return Ok(Err(format!("Failed to save photo: {}", photo::PhotoError::Empty))),
        }
    }
    let Some(format) = photo::sniff(&first) else {
        while let Some(chunk) = body.next().await {
            chunk.map_err(|_| interrupted())?;
        }
        return Ok(Err(format!("Failed to save photo: {}", photo::PhotoError::NotAnImage)));
    };
    let key = MediaKey::generate(Area::Photos, format.extension());
    let seen = Arc::new(Mutex::new(HeadTail::default()));
    let watch = seen.clone();
    let stream = futures_util::stream::once(async move { Ok(first) }).chain(body).map(move |r| {
        if let Ok(b) = &r {
            watch.lock().unwrap_or_else(|p| p.into_inner()).push(b);
        }
        r
    });
    match state.store.put_stream(&key, stream, photo::MAX_BYTES).await {
        Ok(stored) => {
            let checked = seen.lock().unwrap_or_else(|p| p.into_inner()).inspect();
            match checked {
                Ok(info) => Ok(Ok((stored, info))),
                Err(e) => {
                    let _ = state.store.delete(&key).await;
                    Ok(Err(format!("Failed to save photo: {e}")))
                }
            }
        }
        Err(StoreError::TooLarge { .. }) => {
            // The store stopped at the limit; the caller drops the rest of the body.
            let size = seen.lock().unwrap_or_else(|p| p.into_inner()).size;
            Ok(Err(format!("Failed to save photo: {}", photo::PhotoError::TooLarge(size as f64 / 1048576.0))))
        }
        Err(StoreError::Body(_)) => Err(interrupted()),
        Err(e) => Err(e.into()),
    }
}

/// The report's own fields, validated.
pub struct Fields {
    pub device: devices::Device,
    pub visit_date: chrono::NaiveDate,
    pub job_description: String,
    pub job_status: String,
    pub remarks: Option<String>,
}

fn required(errors: &mut serde_json::Map<String, Value>, key: &str, raw: Option<&str>) -> Option<String> {
    match raw {
        None | Some("") => {
            errors.insert(key.into(), json!(["This field is required."]));
            None
        }
        Some(v) => Some(v.to_string()),
    }
}

/// Validates the fields in the original's order with its messages.
pub async fn fields(state: &AppState, text: &HashMap<String, String>) -> Result<Fields, ApiError> {
    let mut errors = serde_json::Map::new();
    let text = |k: &str| text.get(k).map(|s| s.trim().to_string());
    let device_id = required(&mut errors, "device_id", text("device_id").as_deref()).and_then(|raw| {
        raw.parse::<i64>()
            .map_err(|_| errors.insert("device_id".into(), json!(["A valid integer is required."])))
            .ok()
    });
    let visit_date = required(&mut errors, "visit_date", text("visit_date").as_deref())
        .and_then(|raw| check_date(&raw).map_err(|m| errors.insert("visit_date".into(), json!([m]))).ok());
    let job_description = text("job_description");
    match &job_description {
        None => {
            errors.insert("job_description".into(), json!(["This field is required."]));
        }
        Some(d) if d.chars().count() > 200 => {
            errors.insert(
                "job_description".into(),
                json!(["Ensure this field has no more than 200 characters."]),
            );
        }
        Some(_) => {}
    }
    let job_status = text("job_status");
    match job_status.as_deref() {
        Some("Ok" | "Not Ok") => {}
        None => {
            errors.insert("job_status".into(), json!(["This field is required."]));
        }
        Some(other) => {
            errors.insert("job_status".into(), json!([format!("\"{other}\" is not a valid choice.")]));
        }
    }
    let remarks = text("remarks").filter(|r| !r.is_empty());
    if remarks.as_ref().is_some_and(|r| r.chars().count() > 500) {
        errors.insert("remarks".into(), json!(["Ensure this field has no more than 500 characters."]));
    }
    let device = match device_id {
        Some(id) => {
            let d = devices::by_id(&state.db, id).await?;
            if d.is_none() {
                errors.insert("device_id".into(), json!([format!("Device with ID {id} does not exist")]));
            }
            d
        }
        None => None,
    };
    match (device, visit_date, job_status, errors.is_empty()) {
        (Some(device), Some(visit_date), Some(job_status), true) => Ok(Fields {
            device,
            visit_date,
            job_description: job_description.unwrap_or_default(),
            job_status,
            remarks,
        }),
        _ => Err(ApiError::BadRequest(Value::Object(errors))),
    }
}

/// How far back a visit date may lie: a report is filed soon after the visit, and a year covers
/// a late resubmission while refusing typos such as 1900 or year -1.
pub const MAX_VISIT_AGE_DAYS: u64 = 366;

/// A visit date in the accepted format, not in the future (a day's grace for time zones) and
/// not more than a year back.
pub fn check_date(raw: &str) -> Result<chrono::NaiveDate, &'static str> {
    let today = chrono::Utc::now().date_naive();
    match period::parse_date(raw) {
        Some(d) if d > today + chrono::Days::new(1) => Err("The visit date cannot be in the future."),
        Some(d) if d < today - chrono::Days::new(MAX_VISIT_AGE_DAYS) => {
            Err("The visit date cannot be more than a year in the past.")
        }
        Some(d) => Ok(d),
        None => Err("Date has wrong format. Use one of these formats instead: YYYY-MM-DD."),
    }
}

/// The period rules: the device must be the caller's, one active report per half-month, and a
/// rejected one is resubmitted under its own visit date. Returns the rejected report to reopen.
pub async fn check_visit(
    state: &AppState,
    user: &AuthUser,
    device_id: i64,
    visit_date: chrono::NaiveDate,
) -> Result<Option<i64>, ApiError> {
    if !devices::is_assigned(&state.db, user.id, device_id).await? {
        return Err(ApiError::non_field("This device is not assigned to you"));
    }
    let p = Period::of(visit_date);
    let existing = submissions::in_period(&state.db, user.id, device_id, p).await?;
    let visit = visit_date.to_string();
    match existing.iter().find(|(_, status, _)| status != "Rejected") {
        Some(_) => Err(duplicate(p)),
        None => match existing.first() {
            Some((_, _, date)) if *date != visit => Err(ApiError::non_field(
                "Your previous submission for this device was rejected. Please resubmit using the same visit date.",
            )),
            Some((id, _, _)) => Ok(Some(*id)),
            None => Ok(None),
        },
    }
}

pub fn duplicate(p: Period) -> ApiError {
    ApiError::non_field(format!(
        "You have already submitted for this device in half {} of {}",
        p.half,
        p.month_label()
    ))
}

/// A photo of the report: either just stored by this request, or already recorded (a draft's).
pub struct PhotoRow<'a> {
    pub section: u8,
    pub order: u8,
    pub object: PhotoObject<'a>,
    pub info: PhotoInfo,
}

pub enum PhotoObject<'a> {
    New(&'a StoredObject),
    Recorded(i64),
}

/// Writes the submission (or reopens the rejected one) and its photos in one transaction, and
/// removes the draft it came from. Returns the id and the keys of replaced photos to delete.
pub async fn write_rows(
    state: &AppState,
    reuse: Option<i64>,
    new: &submissions::NewSubmission<'_>,
    photos: &[PhotoRow<'_>],
    draft: Option<i64>,
) -> Result<(i64, Vec<MediaKey>), ApiError> {
    let written = async {
        let mut tx = state.db.begin_write().await?;
        let (id, replaced) = match reuse {
            Some(id) => {
                // Another request resubmitted (or the row changed) since the period check:
                // this one lost, and the winner's photos stay untouched.
                let Some(old) = submissions::reopen(&mut tx, id, new).await? else {
                    return Ok(Err(duplicate(new.period)));
                };
                let ids: Vec<i64> = old.iter().map(|(id, _)| *id).collect();
                objects::delete_ids(&mut tx, &ids).await?;
                (id, old.into_iter().map(|(_, k)| k).collect())
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
                return Ok(Err(ApiError::NotFound(
                    "This draft was already submitted or has expired.".into(),
                )));
            }
            if objects::count_ids(&mut tx, &recorded).await? != recorded.len() as i64 {
                return Ok(Err(ApiError::Conflict(
                    "A photo of this report was replaced while it was being submitted. Please submit again."
                        .into(),
                )));
            }
        }
        for p in photos {
            let content_type = p.info.format.content_type();
            let object_id = match p.object {
                PhotoObject::New(stored) => {
                    objects::insert(&mut tx, Area::Photos, stored, Some(content_type)).await?
                }
                PhotoObject::Recorded(id) => id,
            };
            submissions::insert_photo(
                &mut tx,
                &submissions::NewPhoto {
                    submission_id: id,
                    section: i64::from(p.section),
                    order_index: i64::from(p.order),
                    object_id,
                    content_type,
                    width: i64::from(p.info.width),
                    height: i64::from(p.info.height),
                },
            )
            .await?;
        }
        tx.commit().await?;
        Ok::<_, sqlx::Error>(Ok((id, replaced)))
    }
    .await;
    // A refusal inside the transaction rolls it back (the transaction is dropped uncommitted).
    let (id, replaced) = written.map_err(|e| {
        if crate::db::is_unique_violation(&e) {
            duplicate(new.period)
        } else if crate::db::is_foreign_key_violation(&e) {
            // The technician or the device was deleted while the photos were arriving.
            ApiError::Conflict(
                "This device or account was removed while the report was being sent; nothing was stored."
                    .into(),
            )
        } else {
            e.into()
        }
    })??;
    let replaced: Vec<MediaKey> = replaced.iter().filter_map(|k| MediaKey::parse(k).ok()).collect();
    state.store.delete_all(&replaced).await;
    Ok((id, replaced))
}
