//! Why filing a report (or storing one of its photos) did not happen. `crate::error` turns each
//! into the original's status and JSON shape.

use crate::domain::Period;
use crate::domain::accounts::FieldErrors;
use crate::storage::StoreError;

#[derive(Debug, thiserror::Error)]
pub enum FilingError {
    /// Fields the sender must correct, keyed by field name.
    #[error("the report's fields are not valid")]
    Invalid(FieldErrors),
    /// A rule of the period or the assignment (`non_field_errors`).
    #[error("{0}")]
    Rule(String),
    /// The report lacks or refuses photos (`{"error": …}`): a photo to replace, missing slots.
    #[error("{0}")]
    Photos(String),
    /// The body stopped before it ended; nothing was kept.
    #[error("the upload was interrupted")]
    Interrupted,
    /// An active report already exists for this device and half-month (or won a race).
    #[error("already submitted for this half-month")]
    Duplicate(Period),
    /// The draft was finalized, discarded or expired meanwhile.
    #[error("the draft is gone")]
    DraftGone,
    /// A draft photo was replaced while the draft was being finalized.
    #[error("a photo was replaced meanwhile")]
    PhotoReplaced,
    /// The technician or the device was deleted while the photos were arriving.
    #[error("the device or account was removed meanwhile")]
    Removed,
    #[error(transparent)]
    Db(#[from] sqlx::Error),
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl FilingError {
    /// A database error of the write transaction, as the race it may stand for.
    pub(crate) fn from_write(e: sqlx::Error, period: Period) -> Self {
        if crate::db::is_unique_violation(&e) {
            FilingError::Duplicate(period)
        } else if crate::db::is_foreign_key_violation(&e) {
            FilingError::Removed
        } else {
            FilingError::Db(e)
        }
    }
}
