//! The report worker inside the service: claims approval jobs, makes the PDF, stores it, then
//! sends the e-mail — with retries and backoff, a lease renewed while it works, and resumption
//! after a crash (the PDF step is not redone once recorded, the e-mail is sent once).

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::Notify;

use super::build;
use super::email::{Mailer, ReportMail};
use crate::config::Settings;
use crate::db::{Db, jobs, objects, submissions};
use crate::domain::SubmissionStatus;
use crate::storage::{Area, MediaKey, MediaStore};

#[derive(Clone)]
pub struct Reports {
    pub wake: Arc<Notify>,
    pub mailer: Option<Arc<Mailer>>,
}

impl Reports {
    pub fn new(settings: &Settings) -> anyhow::Result<Reports> {
        Ok(Reports { wake: Arc::new(Notify::new()), mailer: Mailer::from_settings(settings)?.map(Arc::new) })
    }

    pub fn email_configured(&self) -> bool {
        self.mailer.is_some()
    }
}

pub struct Worker {
    pub db: Db,
    pub store: MediaStore,
    pub settings: Arc<Settings>,
    pub reports: Reports,
    /// Shared with the preview endpoint: PDF builds at once, whoever asks.
    pub pdf_gate: crate::limits::Gate,
    /// Shared with the previews: photo decodes at once.
    pub decode_gate: crate::limits::Gate,
    pub id: String,
}

impl Worker {
    pub fn spawn(self) -> tokio::task::JoinHandle<()> {
        tokio::spawn(async move { self.run().await })
    }

    async fn run(self) {
        tracing::info!(worker = self.id, email = self.reports.email_configured(), "report worker started");
        loop {
            match jobs::claim(&self.db, &self.id, self.settings.report.job_lease_seconds).await {
                Ok(Some(job)) => self.work(job).await,
                Ok(None) => {
                    tokio::select! {
                        _ = self.reports.wake.notified() => {}
                        _ = tokio::time::sleep(Duration::from_secs(1)) => {}
                    }
                }
                Err(e) => {
                    tracing::warn!(error = %e, "report queue unreadable; retrying");
                    tokio::time::sleep(Duration::from_secs(2)).await;
                }
            }
        }
    }

    async fn work(&self, mut job: jobs::Job) {
        let lease = self.settings.report.job_lease_seconds;
        let heartbeat = {
            let (db, id, worker) = (self.db.clone(), job.id, self.id.clone());
            tokio::spawn(async move {
                loop {
                    tokio::time::sleep(Duration::from_millis((lease as u64 * 1000) / 3)).await;
                    if !matches!(jobs::renew(&db, id, &worker, lease).await, Ok(true)) {
                        break;
                    }
                }
            })
        };
        let started = std::time::Instant::now();
        let result = self.steps(&mut job).await;
        heartbeat.abort();
        match result {
            Ok(Outcome::Cancelled(reason)) => {
                tracing::info!(job = job.id, submission = job.submission_id, reason, "report job cancelled");
                if let Err(e) = jobs::cancel(&self.db, job.id, reason).await {
                    tracing::warn!(job = job.id, error = %e, "could not mark the report job cancelled");
                }
            }
            Ok(Outcome::Done) => {
                if let Err(e) = jobs::finish(&self.db, job.id).await {
                    tracing::warn!(job = job.id, error = %e, "could not mark the report job done");
                }
                tracing::info!(
                    job = job.id,
                    submission = job.submission_id,
                    ms = started.elapsed().as_millis() as u64,
                    "report job done"
                );
            }
            Err(e) => {
                let message = format!("{e:#}");
                let retry = (job.attempts < self.settings.report.max_attempts).then(|| {
                    let base = self.settings.report.retry_base_seconds;
                    (base << (job.attempts - 1).clamp(0, 10)).min(900)
                });
                tracing::warn!(job = job.id, submission = job.submission_id, attempt = job.attempts, retry_in = ?retry, error = message, "report job failed");
                if let Err(e) = jobs::attempt_failed(&self.db, &job, &message, retry).await {
                    tracing::warn!(job = job.id, error = %e, "could not record the failure");
                }
            }
        }
    }

    /// Whether the job may go on: its submission still Approved and, once a PDF is made, that
    /// PDF still the submission's own (a resubmission clears it).
    async fn still_current(&self, job: &jobs::Job) -> anyhow::Result<Option<&'static str>> {
        Ok(match submissions::status(&self.db, job.submission_id).await? {
            None => Some("the submission no longer exists"),
            Some(now) if now.status != SubmissionStatus::Approved => {
                Some("the submission is no longer approved")
            }
            Some(now) if job.pdf_status == "done" && now.pdf_object_id != job.pdf_object_id => {
                Some("the submission's report was replaced")
            }
            Some(_) => None,
        })
    }

    async fn steps(&self, job: &mut jobs::Job) -> anyhow::Result<Outcome> {
        if let Some(reason) = self.still_current(job).await? {
            return Ok(Outcome::Cancelled(reason));
        }
        if job.pdf_status != "done" {
            let built = {
                let _turn = self.pdf_gate.enter_patiently().await;
                build::build(&self.db, &self.store, &self.settings, job.submission_id, &self.decode_gate)
                    .await?
            };
            let key = MediaKey::generate_named(Area::Pdfs, &built.file_name);
            let size = built.pdf.len() as u64;
            let bytes = bytes::Bytes::from(built.pdf);
            let stored = self
                .store
                .put_stream(
                    &key,
                    futures_util::stream::once(async move { Ok::<_, std::io::Error>(bytes) }),
                    size,
                )
                .await?;
            let recorded = async {
                let mut tx = self.db.begin_write().await?;
                let object_id =
                    objects::insert(&mut *tx, Area::Pdfs, &stored, Some("application/pdf")).await?;
                if !jobs::pdf_done(&mut tx, job, object_id).await? {
                    return Ok(None);
                }
                tx.commit().await?;
                Ok::<_, sqlx::Error>(Some(object_id))
            }
            .await;
            match recorded {
                Ok(Some(id)) => {
                    job.pdf_status = "done".into();
                    job.pdf_object_id = Some(id);
                }
                Ok(None) => {
                    // Rejected or reopened while the PDF was made: it is nobody's report.
                    let _ = self.store.delete(&key).await;
                    return Ok(Outcome::Cancelled("the submission is no longer approved"));
                }
                Err(e) => {
                    let _ = self.store.delete(&key).await;
                    return Err(e.into());
                }
            }
        }
        if !matches!(job.email_status.as_str(), "pending" | "retrying") {
            return Ok(Outcome::Done);
        }
        let Some(mailer) = &self.reports.mailer else { return Ok(Outcome::Done) };
        if let Some(reason) = self.still_current(job).await? {
            return Ok(Outcome::Cancelled(reason));
        }
        // The attachment is the stored PDF, read back: after a crash between the two steps the
        // same report is sent without being made again.
        let row = match job.pdf_object_id {
            Some(id) => objects::get(&self.db, id).await?,
            None => None,
        }
        .ok_or_else(|| anyhow::anyhow!("the report's PDF is not recorded"))?;
        let pdf = self.store.read(&row.key).await?.to_vec();
        let file_name = row.key.as_str().rsplit('/').next().unwrap_or("report.pdf").to_string();
        let r = submissions::get(&self.db, job.submission_id)
            .await?
            .ok_or_else(|| anyhow::anyhow!("the submission no longer exists"))?;
        let electrical = crate::domain::photo_plan::is_electrical(&r.device_type, &r.gfm_problem_type);
        let visit = crate::domain::period::parse_date(&r.visit_date)
            .map(|d| d.format("%d/%m/%Y").to_string())
            .unwrap_or_default();
        let submitted = chrono::DateTime::parse_from_rfc3339(&r.created_at)
            .map(|d| d.format("%d/%m/%Y %H:%M").to_string())
            .unwrap_or_default();
        let mail = ReportMail {
            job_id: job.id,
            submission_id: job.submission_id,
            submission_type: &r.submission_type,
            electrical,
            interaction_id: &r.interaction_id,
            cost_center: &r.gfm_cost_center,
            city: &r.device_city,
            half_month: r.half_month,
            technician: &r.technician_name,
            technician_city: r.technician_city.as_deref().unwrap_or(""),
            visit_date: &visit,
            submitted_at: &submitted,
            file_name: &file_name,
        };
        mailer.send(&mail, pdf).await.map_err(|e| anyhow::anyhow!("e-mail not sent: {e}"))?;
        // Recorded right after the server accepted it: the window for a duplicate is this one write.
        jobs::email_sent(&self.db, job.id).await?;
        job.email_status = "sent".into();
        tracing::info!(job = job.id, submission = job.submission_id, "report e-mailed");
        Ok(Outcome::Done)
    }
}

/// How a job's steps ended when nothing failed.
enum Outcome {
    Done,
    /// Its submission changed under it; the reason is recorded on the job.
    Cancelled(&'static str),
}
