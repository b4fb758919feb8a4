//! What a report is filed from: its fields and its photos, each either just stored by the
//! request or already recorded by a draft.

use std::collections::HashSet;

use super::Fields;
use crate::domain::evidence::{PhotoFacts, Position};
use crate::domain::photo::PhotoInfo;
use crate::storage::StoredObject;

/// A photo of the report under its slot's field name: either just stored by this request, or
/// already recorded (a draft's).
pub(crate) struct ReportPhoto<'a> {
    pub field: &'a str,
    pub object: PhotoObject<'a>,
    pub info: PhotoInfo,
    /// A new photo's facts (a recorded one's are in its row).
    pub facts: Option<&'a PhotoFacts>,
    /// Where the phone was when the photo was picked, when the page sent it (a new photo's).
    pub browser: Option<Position>,
}

pub(crate) enum PhotoObject<'a> {
    New(&'a StoredObject),
    Recorded(i64),
}

/// Everything a report is filed from.
pub(crate) struct NewReport<'a> {
    pub technician_id: i64,
    pub fields: Fields,
    /// Slots for which a photo arrived, kept or refused (a refused photo is not a missing one).
    pub arrived: HashSet<&'a str>,
    /// The first photo refused, whose message the sender reads once nothing is missing.
    pub refused: Option<String>,
    pub photos: Vec<ReportPhoto<'a>>,
    /// The draft this report finalizes; it is removed in the same transaction.
    pub draft: Option<i64>,
}
