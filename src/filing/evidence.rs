//! The evidence side of filing: the facts of a photo read once it is stored (under the decode
//! gate, from the stored bytes), and the findings of a report computed before its rows are
//! written, from indexed candidate searches.

use std::collections::HashMap;

use chrono::Utc;

use super::input::{PhotoObject, ReportPhoto};
use super::{Fields, FilingError};
use sqlx::AnyConnection;

use crate::db::{Backend, Db, evidence as rows};
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

/// What a report's findings are computed from that is read before its transaction: each
/// photo's label, SHA-256, facts and phone position, and the device's known position.
pub(super) struct Subjects {
    photos: Vec<(String, String, PhotoFacts, Option<evidence::Position>)>,
    device_position: Option<evidence::Position>,
}

/// Reads the facts of the recorded photos (a draft's) beside the new ones' in memory.
pub(super) async fn subjects(
    db: &Db,
    fields: &Fields,
    photos: &[&ReportPhoto<'_>],
) -> Result<Subjects, FilingError> {
    let recorded: Vec<i64> = photos
        .iter()
        .filter_map(|p| match p.object {
            PhotoObject::Recorded(id) => Some(id),
            PhotoObject::New(_) => None,
        })
        .collect();
    let stored: HashMap<i64, rows::FactsRow> = rows::facts_of(db, &recorded).await?;
    let plan = PhotoPlan::for_device(&fields.device.device_type, &fields.device.gfm_problem_type);
    let mut out = Vec::with_capacity(photos.len());
    for p in photos {
        let label = plan.slot(p.field).map_or_else(|| p.field.to_string(), |s| s.label.clone());
        match &p.object {
            PhotoObject::New(new) => {
                out.push((label, new.sha256.clone(), p.facts.cloned().unwrap_or_default(), p.browser))
            }
            PhotoObject::Recorded(id) => {
                let row = stored.get(id).cloned().unwrap_or_default();
                out.push((label, row.sha256.clone(), row.facts(), row.browser_position()));
            }
        }
    }
    let device_position = rows::device_position(db, fields.device.id).await?.map(|(p, _)| p);
    Ok(Subjects { photos: out, device_position })
}

/// The findings of report `id`, read inside its write transaction after the comparison lock:
/// the candidates are every other report committed before it.
pub(super) async fn findings(
    conn: &mut AnyConnection,
    backend: Backend,
    rules: &Rules,
    s: &Subjects,
    report: (i64, i64, &Fields),
) -> Result<Vec<Finding>, FilingError> {
    let (id, technician_id, fields) = report;
    rows::lock_for_comparison(&mut *conn, backend).await?;
    let subjects: Vec<Subject<'_>> = s
        .photos
        .iter()
        .map(|(label, sha256, facts, browser)| Subject { label, sha256, facts, browser_position: *browser })
        .collect();
    let hashes: Vec<&str> = subjects.iter().map(|s| s.sha256).collect();
    let same_bytes = rows::same_bytes(&mut *conn, &hashes, id).await?;
    let nearby =
        rows::nearby(&mut *conn, fields.device.id, technician_id, id, rules.technician_reports).await?;
    Ok(evidence::assess(
        rules,
        &Report {
            visit_date: fields.visit_date,
            filed_at: Utc::now(),
            photos: &subjects,
            same_bytes: &same_bytes,
            nearby: &nearby,
            device_position: s.device_position,
        },
    ))
}
