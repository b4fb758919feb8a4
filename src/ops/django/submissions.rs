//! The import's reports: each with its photos and PDF in one transaction, after their files
//! are durable in our store. A report whose files are gone is imported and marked, never
//! dropped; a photo or PDF found later (put back in the original's folder) is added by a rerun.

use super::media::{self, Found};
use super::source::{self, PhotoRow, SubmissionRow};
use super::steps::key_for;
use super::{Run, finding};
use crate::db::imported::{self as db, Finding, Kind, Table};
use crate::db::{Db, is_unique_violation, objects};
use crate::domain::photo::{self, PhotoInfo};
use crate::domain::{Period, SubmissionStatus};
use crate::storage::{Area, StoredObject};

/// Largest PDF read from the original (its reports are about 1 MB).
const MAX_PDF_BYTES: u64 = 256 * 1024 * 1024;

/// A report's columns here, from the original's row.
struct Fields {
    technician_id: i64,
    device_id: i64,
    submission_type: String,
    visit_date: String,
    period: Period,
    job_status: String,
    status: SubmissionStatus,
    remarks: Option<String>,
    review_remarks: Option<String>,
    created_at: String,
}

/// A file checked and ready to store.
struct Ready<T> {
    bytes: Vec<u8>,
    what: T,
}

impl Run<'_> {
    pub(super) async fn submissions(&mut self) -> anyhow::Result<()> {
        let t = self.t;
        {
            let c = self.count("submissions");
            c.in_original = t.submissions.len();
        }
        let photos_in = t.photos.len();
        self.count("photos").in_original = photos_in;
        self.count("pdfs").in_original = t.submissions.iter().filter(|s| s.pdf_url.is_some()).count();
        let reports: std::collections::HashSet<i64> = t.submissions.iter().map(|s| s.id).collect();
        for p in t.photos.iter().filter(|p| !reports.contains(&p.submission_id)) {
            let detail = format!(
                "a photo row of report {}, which is not in the original's tables; not imported",
                p.submission_id
            );
            self.found(
                finding("orphan_photo_row", format!("photo:{}", p.id), Some(p.file_url.clone()), detail),
                None,
            );
            self.count("photos").not_imported += 1;
        }
        for (n, s) in t.submissions.iter().enumerate() {
            self.submission(s).await?;
            if (n + 1) % 500 == 0 {
                (self.progress)(&format!("reports: {} of {} done", n + 1, t.submissions.len()));
            }
        }
        (self.progress)(&format!("reports: {} done", t.submissions.len()));
        Ok(())
    }

    async fn submission(&mut self, s: &SubmissionRow) -> anyhow::Result<()> {
        let t = self.t;
        let photos: Vec<&PhotoRow> = t.photos.iter().filter(|p| p.submission_id == s.id).collect();
        let existing = self.maps.submissions.get(&s.id).copied();
        if existing.is_some() {
            self.count("submissions").already += 1;
        }
        // Imported, then deleted here (with its technician): it stays deleted, nothing is added
        // to it, and the report still says what the original had lost of it.
        let gone = existing.is_some_and(|id| !self.maps.present.contains(&id));
        // Our id when an earlier run brought the report; otherwise known once it is inserted,
        // and the findings below get it then.
        let ours = if gone { None } else { existing };
        let first_finding = self.findings.len();
        let Some(row) = self.fields(s) else {
            self.count("photos").not_imported += photos.len();
            return Ok(());
        };
        if photos.is_empty() {
            let detail = "the original kept this report with no photos (a refused upload left it behind); imported and marked";
            let mut f = finding("ghost_submission", format!("submission:{}", s.id), None, detail.into());
            f.submission_id = ours;
            self.found(f, Some(s.id));
        }
        let mut ready: Vec<Ready<(&PhotoRow, PhotoInfo)>> = Vec::new();
        let mut slots = std::collections::HashSet::new();
        for p in photos {
            if self.maps.photos.contains_key(&p.id) {
                self.count("photos").already += 1;
                slots.insert((p.section, p.order_index));
                continue;
            }
            let Some(r) = self.check_photo(p, ours).await else {
                self.count("photos").not_imported += 1;
                continue;
            };
            // Only a photo that can come over claims its slot: a lost one does not hide a good one.
            if !slots.insert((p.section, p.order_index)) {
                let detail = "a second photo for the same slot of this report; the first sound one is kept";
                let mut f = finding(
                    "duplicate_slot",
                    format!("photo:{}", p.id),
                    Some(p.file_url.clone()),
                    detail.into(),
                );
                (f.submission_id, f.section, f.order_index) = (ours, Some(p.section), Some(p.order_index));
                self.found(f, Some(s.id));
                self.count("photos").not_imported += 1;
                continue;
            }
            ready.push(r);
        }
        let pdf = match &s.pdf_url {
            Some(path) if !self.maps.pdfs.contains_key(&s.id) => self.check_pdf(s, path, ours),
            Some(_) => {
                self.count("pdfs").already += 1;
                None
            }
            None => None,
        };
        let Some(target) = self.target else {
            if existing.is_none() {
                self.count("submissions").imported += 1;
            }
            self.count("photos").imported += ready.len();
            self.count("pdfs").imported += usize::from(pdf.is_some());
            return Ok(());
        };
        if gone || (existing.is_some() && ready.is_empty() && pdf.is_none()) {
            return Ok(());
        }
        // Durable first, recorded second: a crash in between leaves files a rerun recognises.
        let mut stored: Vec<(StoredObject, &PhotoRow, PhotoInfo)> = Vec::new();
        for r in ready {
            let (p, info) = r.what;
            let key = key_for(
                Area::Photos,
                &format!("photo-{}", p.id),
                &format!("photo.{}", info.format.extension()),
            )?;
            stored.push((self.put(&key, r.bytes).await?, p, info));
        }
        let pdf = match pdf {
            Some(r) => {
                let key = key_for(Area::Pdfs, &format!("submission-{}", s.id), r.what)?;
                Some(self.put(&key, r.bytes).await?)
            }
            None => None,
        };
        let keys: Vec<_> =
            stored.iter().map(|(o, ..)| o.key.clone()).chain(pdf.iter().map(|o| o.key.clone())).collect();
        let record = self.record(s, existing, &row, &stored, pdf.as_ref());
        match target.store.keep_if_recorded(&keys, record).await {
            Ok(Some(id)) => {
                self.maps.submissions.insert(s.id, id);
                for l in &mut self.findings[first_finding..] {
                    if l.original_submission_id == Some(s.id) && l.finding.submission_id.is_none() {
                        l.finding.submission_id = Some(id);
                    }
                }
                if existing.is_none() {
                    self.count("submissions").imported += 1;
                }
                self.count("photos").imported += stored.len();
                self.count("pdfs").imported += usize::from(pdf.is_some());
            }
            Ok(None) => {
                // Refused, not failed: the files stored for it go again.
                target.store.delete_all(&keys).await;
                let detail = "this database already holds an active report for this technician, device and \
                              half-month; the original's is left out";
                self.found(
                    finding("submission_conflict", format!("submission:{}", s.id), None, detail.into()),
                    Some(s.id),
                );
                self.count("submissions").not_imported += 1;
            }
            Err(e) => return Err(e),
        }
        Ok(())
    }

    /// Our columns for a report, or `None` (with a finding) when it cannot come over.
    fn fields(&mut self, s: &SubmissionRow) -> Option<Fields> {
        let reference = format!("submission:{}", s.id);
        let status = SubmissionStatus::parse(&s.status);
        let date = crate::domain::period::parse_date(&s.visit_date);
        // A dry run has no map: what the import would map is what the original holds.
        let linked = match self.target {
            None => {
                self.t.users.iter().any(|u| u.id == s.technician_id)
                    && self.t.devices.iter().any(|d| d.id == s.device_id)
            }
            Some(_) => {
                self.maps.users.contains_key(&s.technician_id) && self.maps.devices.contains_key(&s.device_id)
            }
        };
        let why = match (status, date, linked) {
            (None, ..) => format!("its status {:?} is not Pending, Approved or Rejected", s.status),
            (_, None, _) => format!("its visit date {:?} is not a date", s.visit_date),
            (_, _, false) => "its technician or device is not in the original's tables".into(),
            (Some(status), Some(date), true) => {
                let period = Period::of(date);
                if i64::from(period.half) != s.half_month {
                    let detail = format!(
                        "the original recorded half {} of the month; the visit date {} says half {}, which is kept",
                        s.half_month, s.visit_date, period.half
                    );
                    self.found(finding("half_month_mismatch", reference, None, detail), Some(s.id));
                }
                let (remarks, review_remarks) = match status {
                    // The last writer won the one column: a reviewer, once the report was reviewed.
                    SubmissionStatus::Pending => (s.remarks.clone(), None),
                    _ => (None, s.remarks.clone()),
                };
                return Some(Fields {
                    technician_id: self.maps.users.get(&s.technician_id).copied().unwrap_or(0),
                    device_id: self.maps.devices.get(&s.device_id).copied().unwrap_or(0),
                    submission_type: s.submission_type.clone(),
                    visit_date: date.format("%Y-%m-%d").to_string(),
                    period,
                    job_status: s.job_status.clone(),
                    status,
                    remarks,
                    review_remarks,
                    created_at: source::timestamp(&s.created_at).unwrap_or_else(Db::now),
                });
            }
        };
        if !self.maps.submissions.contains_key(&s.id) {
            self.found(
                finding("submission_skipped", reference, None, format!("left out: {why}")),
                Some(s.id),
            );
            self.count("submissions").not_imported += 1;
        }
        None
    }

    /// Reads and checks one photo; `None` (with a finding) when it is lost or damaged.
    async fn check_photo<'p>(
        &mut self,
        p: &'p PhotoRow,
        ours: Option<i64>,
    ) -> Option<Ready<(&'p PhotoRow, PhotoInfo)>> {
        let place = Finding {
            kind: String::new(),
            source_ref: format!("photo:{}", p.id),
            submission_id: ours,
            section: Some(p.section),
            order_index: Some(p.order_index),
            path: Some(p.file_url.clone()),
            detail: String::new(),
        };
        let found = {
            let (root, path) = (self.opts.media_root.clone(), p.file_url.clone());
            tokio::task::spawn_blocking(move || match media::read(&root, &path, photo::MAX_BYTES) {
                Found::Bytes(bytes) => match media::check_photo(&bytes) {
                    Ok(info) => Ok((bytes, info)),
                    Err(why) => Err(Some(why)),
                },
                Found::Missing => Err(None),
                Found::Unusable(why) => Err(Some(why)),
            })
            .await
            .unwrap_or_else(|_| Err(Some("could not be checked".into())))
        };
        match found {
            Ok((bytes, info)) => Some(Ready { bytes, what: (p, info) }),
            Err(None) => {
                let detail =
                    "named by the original's database, missing from its media folder: lost before the move";
                self.found(
                    Finding { kind: "missing_photo".into(), detail: detail.into(), ..place },
                    Some(p.submission_id),
                );
                None
            }
            Err(Some(why)) => {
                let detail = format!("cannot be used ({why}); not imported");
                self.found(Finding { kind: "damaged_photo".into(), detail, ..place }, Some(p.submission_id));
                None
            }
        }
    }

    /// Reads and checks a report's PDF; `None` (with a finding) when it is lost or damaged.
    fn check_pdf<'s>(
        &mut self,
        s: &SubmissionRow,
        path: &'s str,
        ours: Option<i64>,
    ) -> Option<Ready<&'s str>> {
        let mut f = finding("", format!("pdf:{}", s.id), Some(path.to_string()), String::new());
        f.submission_id = ours;
        let why = match media::read(&self.opts.media_root, path, MAX_PDF_BYTES) {
            Found::Bytes(bytes) => match media::check_pdf(&bytes) {
                Ok(()) => return Some(Ready { bytes, what: path }),
                Err(why) => why,
            },
            Found::Missing => {
                f.kind = "missing_pdf".into();
                f.detail =
                    "named by the original's database, missing from its media folder: lost before the move"
                        .into();
                self.found(f, Some(s.id));
                self.count("pdfs").not_imported += 1;
                return None;
            }
            Found::Unusable(why) => why,
        };
        f.kind = "damaged_pdf".into();
        f.detail = format!("cannot be used ({why}); not imported");
        self.found(f, Some(s.id));
        self.count("pdfs").not_imported += 1;
        None
    }

    /// One transaction: the report (unless an earlier run brought it), its new photos and PDF,
    /// and their map lines. `Ok(None)` when an active report of ours holds the same period.
    async fn record(
        &self,
        s: &SubmissionRow,
        existing: Option<i64>,
        row: &Fields,
        photos: &[(StoredObject, &PhotoRow, PhotoInfo)],
        pdf: Option<&StoredObject>,
    ) -> anyhow::Result<Option<i64>> {
        let Some(target) = self.target else { return Ok(None) };
        let mut tx = target.db.begin_write().await?;
        let mut superseded = Vec::new();
        let id = match existing {
            Some(id) => id,
            None => {
                let row = db::NewSubmission {
                    id: db::free_id(&mut tx, Table::Submissions, s.id).await?,
                    technician_id: row.technician_id,
                    device_id: row.device_id,
                    submission_type: &row.submission_type,
                    visit_date: &row.visit_date,
                    period: row.period,
                    job_status: &row.job_status,
                    status: row.status.as_str(),
                    remarks: row.remarks.as_deref(),
                    review_remarks: row.review_remarks.as_deref(),
                    created_at: &row.created_at,
                };
                match db::insert_submission(&mut tx, &row).await {
                    Ok(id) => {
                        db::map(&mut tx, Kind::Submission, s.id, id).await?;
                        id
                    }
                    Err(e) if is_unique_violation(&e) => return Ok(None),
                    Err(e) => return Err(e.into()),
                }
            }
        };
        for (o, p, info) in photos {
            let object = objects::insert(&mut *tx, Area::Photos, o, Some(info.format.content_type())).await?;
            let photo = db::NewPhoto {
                id: db::free_id(&mut tx, Table::Photos, p.id).await?,
                submission_id: id,
                section: p.section,
                order_index: p.order_index,
                object_id: object,
                content_type: info.format.content_type(),
                width: i64::from(info.width),
                height: i64::from(info.height),
            };
            match db::insert_photo(&mut tx, &photo).await? {
                Some(photo_id) => db::map(&mut tx, Kind::Photo, p.id, photo_id).await?,
                // The slot was filled here since (a rejected report resubmitted): ours stays.
                None => {
                    objects::delete_ids(&mut tx, &[object]).await?;
                    superseded.push(o.key.clone());
                }
            }
        }
        if let Some(o) = pdf {
            let object = objects::insert(&mut *tx, Area::Pdfs, o, Some("application/pdf")).await?;
            db::set_pdf(&mut tx, id, object).await?;
            db::map(&mut tx, Kind::Pdf, s.id, object).await?;
        }
        db::advance_sequences(&mut tx, target.db.backend()).await?;
        tx.commit().await?;
        target.store.delete_all(&superseded).await;
        Ok(Some(id))
    }
}
