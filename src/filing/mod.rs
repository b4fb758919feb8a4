//! Filing a visit report, without HTTP: streaming a photo into the store with its content
//! checks, validating the report's fields in the original's order and messages, the period
//! rules, and writing every row in one transaction — the same for a one-shot submit, a
//! resubmission and a draft's finalize. Handlers extract, call these, and render.

mod error;
mod fields;
mod photo;
mod report;

pub use error::FilingError;
pub use fields::{Fields, MAX_VISIT_AGE_DAYS, check_date, validate};
pub use photo::{Photo, store_photo};
pub use report::{NewReport, PhotoObject, ReportPhoto, check_visit, file_report};
