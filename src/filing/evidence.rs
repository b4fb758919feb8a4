//! The evidence side of filing: the facts of a photo read once it is stored (under the decode
//! gate, from the stored bytes), and the findings of a report computed before its rows are
//! written, from indexed candidate searches.

use std::collections::HashMap;

use chrono::Utc;

use super::report::{PhotoObject, ReportPhoto};
use super::{Fields, FilingError};
use crate::db::{Db, evidence as rows};
use crate::domain::PhotoPlan;
use crate::domain::evidence::{self, Finding, PhotoFacts, Report, Rules, Subject};
use crate::limits::Gate;
use crate::storage::{MediaKey, MediaStore};

/// Reads the facts of a photo just stored: its bytes read back whole (at most 10 MiB, one of a
/// few decodes at a time), EXIF parsed and the perceptual hash computed on a blocking thread. A
/// photo the decoder cannot hash (or that panics it) gets no hash, never a refusal: it already
/// passed the upload checks.
pub(crate) async fn read_facts(
    store: &MediaStore,
    gate: &Gate,
    key: &MediaKey,
) -> Result<PhotoFacts, FilingError> {
    let _turn = gate.enter_patiently().await;
    let bytes = store.read(key).await?;
    let read = tokio::task::spawn_blocking(move || evidence::read_facts(&bytes)).await;
    Ok(read.unwrap_or_else(|e| {
        tracing::warn!(key = %key, error = %e, "photo facts could not be read");
        PhotoFacts::default()
    }))
}

/// The findings of a report about to be filed, each naming its photo by index in `photos`.
pub(super) async fn assess(
    db: &Db,
    rules: &Rules,
    technician_id: i64,
    fields: &Fields,
    reopened: Option<i64>,
    photos: &[&ReportPhoto<'_>],
) -> Result<Vec<Finding>, FilingError> {
    let recorded: Vec<i64> = photos
        .iter()
        .filter_map(|p| match p.object {
            PhotoObject::Recorded(id) => Some(id),
            PhotoObject::New(_) => None,
        })
        .collect();
    let stored: HashMap<i64, rows::FactsRow> = rows::facts_of(db, &recorded).await?;
    let plan = PhotoPlan::for_device(&fields.device.device_type, &fields.device.gfm_problem_type);
    let mut facts: Vec<(String, String, PhotoFacts, Option<evidence::Position>)> =
        Vec::with_capacity(photos.len());
    for p in photos {
        let label = plan.slot(p.field).map_or_else(|| p.field.to_string(), |s| s.label.clone());
        match &p.object {
            PhotoObject::New(new) => {
                facts.push((label, new.sha256.clone(), p.facts.cloned().unwrap_or_default(), p.browser))
            }
            PhotoObject::Recorded(id) => {
                let row = stored.get(id).cloned().unwrap_or_default();
                facts.push((label, row.sha256.clone(), row.facts(), row.browser_position()));
            }
        }
    }
    let subjects: Vec<Subject<'_>> = facts
        .iter()
        .map(|(label, sha256, facts, browser)| Subject { label, sha256, facts, browser_position: *browser })
        .collect();
    let hashes: Vec<&str> = subjects.iter().map(|s| s.sha256).collect();
    let same_bytes = rows::same_bytes(db, &hashes, reopened).await?;
    let nearby = rows::nearby(db, fields.device.id, technician_id, reopened).await?;
    let device_position = rows::device_position(db, fields.device.id).await?.map(|(p, _)| p);
    Ok(evidence::assess(
        rules,
        &Report {
            visit_date: fields.visit_date,
            filed_at: Utc::now(),
            photos: &subjects,
            same_bytes: &same_bytes,
            nearby: &nearby,
            device_position,
        },
    ))
}
