//! Filing a visit report, without HTTP: streaming a photo into the store with its content
//! checks, validating the report's fields in the original's order and messages, the period
//! rules, and writing every row in one transaction — the same for a one-shot submit, a
//! resubmission and a draft's finalize. Handlers extract, call these, and render.

mod error;
mod evidence;
mod fields;
mod input;
mod photo;
mod report;

pub(crate) use error::FilingError;
pub(crate) use fields::{Fields, check_date, validate};
pub(crate) use input::{NewReport, PhotoObject, ReportPhoto};
pub(crate) use photo::{Photo, StoredPhoto, store_photo};
pub(crate) use report::{check_visit, file_report};
