//! Builds the PDF of one submission from its stored originals. Image work and layout run on
//! the blocking pool, one report at a time per process, so reports never stall requests and
//! several 19-photo reports cannot exhaust memory together.

use anyhow::Context;

use super::pdf::{self, PhotoEvidence, ReportInput, ReportPhoto};
use super::photos;
use crate::config::Settings;
use crate::db::evidence::{self, FactsRow, FindingRow};
use crate::db::{Db, submissions};
use crate::domain::evidence::{Kind, Position};
use crate::domain::period;
use crate::domain::photo_plan::{self, PhotoPlan};
use crate::limits::Gate;
use crate::storage::MediaStore;

pub(crate) struct Built {
    pub pdf: Vec<u8>,
    pub file_name: String,
}

/// The original's file names, with the cost center made safe for a file name.
pub(crate) fn file_name(submission_type: &str, cost_center: &str, today: chrono::NaiveDate) -> String {
    let safe: String = cost_center
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() || c == '-' || c == '_' { c } else { '_' })
        .take(60)
        .collect();
    let safe = if safe.is_empty() { "unknown".to_string() } else { safe };
    match submission_type {
        "Cleaning1" => format!("CL1_{safe}.pdf"),
        "Cleaning2" => format!("CL2_{safe}.pdf"),
        "Electrical" => format!("Electro_{safe}.pdf"),
        _ => format!("ATM_Report_{safe}_{}.pdf", today.format("%Y%m%d")),
    }
}

pub(crate) async fn build(
    db: &Db,
    store: &MediaStore,
    settings: &Settings,
    submission_id: i64,
    decoding: &Gate,
) -> anyhow::Result<Built> {
    let record = submissions::get(db, submission_id).await?.context("the submission no longer exists")?;
    let stored =
        submissions::photos_of(db, &[submission_id]).await?.remove(&submission_id).unwrap_or_default();
    let electrical = photo_plan::is_electrical(&record.device_type, &record.gfm_problem_type);
    let plan = PhotoPlan::for_device(&record.device_type, &record.gfm_problem_type);
    let objects: Vec<i64> = stored.iter().map(|p| p.object_id).collect();
    let facts = evidence::facts_of(db, &objects).await?;
    let findings =
        evidence::findings_of(db, &[submission_id]).await?.remove(&submission_id).unwrap_or_default();
    // Two photos at a time: the machine has two cores and a decoded 12 MP photo is ~36 MB.
    let mut tasks = Vec::new();
    for p in stored {
        let (store, decoding) = (store.clone(), decoding.clone());
        let label = plan
            .slot(&format!("section{}_{}", p.section, p.order_index))
            .map(|s| s.label.clone())
            .unwrap_or_else(|| format!("Slot {}", p.order_index));
        let mine: Vec<&FindingRow> = findings.iter().filter(|f| f.photo_id == p.id).collect();
        let evidence = photo_evidence(facts.get(&p.object_id), &mine, &label);
        tasks.push(tokio::spawn(async move {
            // A decode turn shared with the previews, taken before the original is read: at most
            // IMAGE_DECODE_CONCURRENCY originals and decodes are in memory at once, process-wide.
            let _turn = decoding.enter_patiently().await;
            let original =
                store.read(&p.key).await.with_context(|| format!("reading stored photo {}", p.key))?;
            let made = tokio::task::spawn_blocking(move || photos::prepare(&original)).await;
            // A photo that cannot be decoded (or panics its decoder) will not decode on a retry
            // either: the report is made with a placeholder for it rather than failing for ever.
            let print = match made.map_err(anyhow::Error::from).and_then(|r| r) {
                Ok(print) => Some(print),
                Err(e) => {
                    tracing::warn!(
                        submission_id,
                        key = %p.key,
                        error = format!("{e:#}"),
                        "photo could not be rendered; placeholder drawn"
                    );
                    None
                }
            };
            Ok::<_, anyhow::Error>(ReportPhoto {
                section: p.section as u8,
                order: p.order_index as u8,
                label,
                sha256: p.sha256,
                key: p.key.to_string(),
                print,
                evidence,
            })
        }));
    }
    let mut photos = Vec::new();
    for t in tasks {
        photos.push(t.await??);
    }
    let logo = match &settings.report.logo {
        Some(path) => Some(
            tokio::fs::read(path).await.with_context(|| format!("REPORT_LOGO_PATH {}", path.display()))?,
        ),
        None => None,
    };
    let visit_date = period::parse_date(&record.visit_date).context("stored visit date is malformed")?;
    let input = ReportInput {
        electrical,
        cost_center: record.gfm_cost_center.clone(),
        interaction_id: record.interaction_id.clone(),
        city: record.device_city.clone(),
        region: settings.report.region.clone(),
        visit_date,
        job_status: record.job_status.clone(),
        remarks: record.remarks.clone(),
        technician: record.technician_name.clone(),
        supervisor: record.reviewed_by.clone(),
        brand: settings.report.brand_name.clone(),
        project_manager: settings.report.project_manager.clone(),
        logo,
        photos,
        generated_at: chrono::Utc::now(),
    };
    let pdf = tokio::task::spawn_blocking(move || pdf::render(&input)).await??;
    let file_name =
        file_name(&record.submission_type, &record.gfm_cost_center, chrono::Utc::now().date_naive());
    Ok(Built { pdf, file_name })
}

/// The evidence page's text for one photo. Findings of one kind about other slots of this report
/// are one line; each other finding is its own sentence, with who checked it and their note.
fn photo_evidence(facts: Option<&FactsRow>, findings: &[&FindingRow], label: &str) -> PhotoEvidence {
    let position = |p: Position, source: &str| {
        let acc = p.accuracy_m.map(|a| format!(" ±{a:.0} m")).unwrap_or_default();
        format!("{:.5}, {:.5}{acc} ({source})", p.latitude, p.longitude)
    };
    let mut lines = Vec::new();
    let same: Vec<String> = findings
        .iter()
        .filter(|f| f.kind == Kind::SameInReport.as_str())
        .filter_map(|f| serde_json::from_str::<serde_json::Value>(&f.detail).ok())
        .filter_map(|d| d["other_slot"].as_str().map(str::to_string))
        .collect();
    if !same.is_empty() {
        lines.push(format!("{}: {}.", Kind::SameInReport.label(), same.join(", ")));
    }
    for f in findings.iter().filter(|f| f.kind != Kind::SameInReport.as_str()) {
        let message = f.message.strip_prefix(&format!("{label}: ")).unwrap_or(&f.message);
        let mut chars = message.chars();
        let message: String =
            chars.next().map(|c| c.to_uppercase().chain(chars).collect()).unwrap_or_default();
        let checked = match (&f.checked_at, &f.check_note) {
            (Some(_), note) => format!(
                " Checked by {}: {}",
                f.checked_by.as_deref().unwrap_or("a supervisor"),
                note.as_deref().unwrap_or("")
            ),
            _ => String::new(),
        };
        let line = format!("{message}{checked}");
        if !lines.contains(&line) {
            lines.push(line);
        }
    }
    let Some(r) = facts else { return PhotoEvidence { findings: lines, ..PhotoEvidence::default() } };
    let camera =
        [r.camera_make.as_deref(), r.camera_model.as_deref()].into_iter().flatten().collect::<Vec<_>>();
    PhotoEvidence {
        captured_at: r.captured_at.clone(),
        position: r
            .exif_position()
            .map(|p| position(p, "camera GPS"))
            .or_else(|| r.browser_position().map(|p| position(p, "phone"))),
        camera: (!camera.is_empty()).then(|| camera.join(" ")),
        phash: r.phash.map(|h| format!("{:016x}", h as u64)),
        findings: lines,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_names_follow_the_original_and_are_safe() {
        let d = chrono::NaiveDate::from_ymd_opt(2026, 11, 28).unwrap();
        assert_eq!(file_name("Cleaning1", "838", d), "CL1_838.pdf");
        assert_eq!(file_name("Cleaning2", "CC 9/../x", d), "CL2_CC_9____x.pdf");
        assert_eq!(file_name("Electrical", "E1", d), "Electro_E1.pdf");
        assert_eq!(file_name("Security", "S1", d), "ATM_Report_S1_20261128.pdf");
    }
}
