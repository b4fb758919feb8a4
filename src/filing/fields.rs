//! The report's own fields, validated in the original's order with its messages.

use std::collections::HashMap;

use super::FilingError;
use crate::db::{Db, devices};
use crate::domain::accounts::FieldErrors;
use crate::domain::period;

const REQUIRED: &str = "This field is required.";

/// The report's fields, validated.
pub(crate) struct Fields {
    pub device: devices::Device,
    pub visit_date: chrono::NaiveDate,
    pub job_description: String,
    pub job_status: String,
    pub remarks: Option<String>,
}

fn required(errors: &mut FieldErrors, key: &'static str, raw: Option<String>) -> Option<String> {
    match raw {
        None => {
            errors.push((key, REQUIRED.into()));
            None
        }
        Some(v) if v.is_empty() => {
            errors.push((key, REQUIRED.into()));
            None
        }
        Some(v) => Some(v),
    }
}

fn at_most(errors: &mut FieldErrors, key: &'static str, value: Option<&str>, max: usize) {
    if value.is_some_and(|v| v.chars().count() > max) {
        errors.push((key, format!("Ensure this field has no more than {max} characters.")));
    }
}

/// Validates the text fields of a report (`device_id`, `visit_date`, `job_description`,
/// `job_status`, `remarks`) and looks the device up.
pub(crate) async fn validate(db: &Db, text: &HashMap<String, String>) -> Result<Fields, FilingError> {
    let mut errors = FieldErrors::new();
    let text = |k: &str| text.get(k).map(|s| s.trim().to_string());
    let device_id = required(&mut errors, "device_id", text("device_id")).and_then(|raw| {
        raw.parse::<i64>().map_err(|_| errors.push(("device_id", "A valid integer is required.".into()))).ok()
    });
    let visit_date = required(&mut errors, "visit_date", text("visit_date"))
        .and_then(|raw| check_date(&raw).map_err(|m| errors.push(("visit_date", m.into()))).ok());
    let job_description = text("job_description");
    if job_description.is_none() {
        errors.push(("job_description", REQUIRED.into()));
    }
    at_most(&mut errors, "job_description", job_description.as_deref(), 200);
    let job_status = text("job_status");
    match job_status.as_deref() {
        Some("Ok" | "Not Ok") => {}
        None => errors.push(("job_status", REQUIRED.into())),
        Some(other) => errors.push(("job_status", format!("\"{other}\" is not a valid choice."))),
    }
    let remarks = text("remarks").filter(|r| !r.is_empty());
    at_most(&mut errors, "remarks", remarks.as_deref(), 500);
    let device = match device_id {
        Some(id) => {
            let d = devices::by_id(db, id).await?;
            if d.is_none() {
                errors.push(("device_id", format!("Device with ID {id} does not exist")));
            }
            d
        }
        None => None,
    };
    match (device, visit_date, job_status) {
        (Some(device), Some(visit_date), Some(job_status)) if errors.is_empty() => Ok(Fields {
            device,
            visit_date,
            job_description: job_description.unwrap_or_default(),
            job_status,
            remarks,
        }),
        _ => Err(FilingError::Invalid(errors)),
    }
}

/// How far back a visit date may lie: a report is filed soon after the visit, and a year covers
/// a late resubmission while refusing typos such as 1900 or year -1.
pub(crate) const MAX_VISIT_AGE_DAYS: u64 = 366;

/// A visit date in the accepted format, not in the future (a day's grace for time zones) and
/// not more than a year back.
pub(crate) fn check_date(raw: &str) -> Result<chrono::NaiveDate, &'static str> {
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
