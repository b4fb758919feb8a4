//! The background scrub: re-hashes a slice of stored originals on a schedule so each is checked
//! at least monthly, records what it finds on the object's row, and reports findings to the
//! logs and metrics (doctor lists them).

use std::time::Duration;

use crate::db::{Db, objects};
use crate::storage::MediaStore;

pub(crate) struct Scrub {
    pub db: Db,
    pub store: MediaStore,
    /// Time between slices.
    pub every: Duration,
    /// Slices needed to cover every object once (30 daily slices = monthly).
    pub slices_per_cycle: i64,
}

impl Scrub {
    pub(crate) fn spawn(self) -> tokio::task::JoinHandle<()> {
        tokio::spawn(async move {
            loop {
                tokio::time::sleep(self.every).await;
                match self.slice().await {
                    Ok((checked, bad)) => tracing::info!(checked, findings = bad, "scrub slice done"),
                    Err(e) => tracing::warn!(error = %e, "scrub slice failed"),
                }
            }
        })
    }

    /// Re-hashes the next slice; returns (checked, findings).
    pub(crate) async fn slice(&self) -> anyhow::Result<(usize, usize)> {
        let (total, _) = objects::count(&self.db).await?;
        let size = (total + self.slices_per_cycle - 1) / self.slices_per_cycle.max(1);
        let mut bad = 0;
        let due = objects::due_for_scrub(&self.db, size.max(1)).await?;
        for o in &due {
            let (key, sha) = (&o.key, &o.sha256);
            let problem = match self.store.hash_listed(key.as_str()).await {
                Ok(h) if &h == sha => None,
                Ok(h) => Some(format!("SHA-256 is {h}, recorded {sha}")),
                Err(e) => Some(format!("unreadable: {e}")),
            };
            if let Some(p) = &problem {
                bad += 1;
                tracing::error!(key = %key, problem = p, "scrub found a damaged or missing file");
            }
            metrics::counter!("atm_scrub_checked_total").increment(1);
            if problem.is_some() {
                metrics::counter!("atm_scrub_findings_total").increment(1);
            }
            objects::record_scrub(&self.db, o.id, problem.as_deref()).await?;
        }
        Ok((due.len(), bad))
    }
}
