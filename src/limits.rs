//! Permits for the work a client can trigger that costs a core and tens of megabytes each time:
//! password hashes (Argon2id, 19 MiB), image decodes for previews, PDF builds. Without a bound,
//! 64 logins at once took 1.9 GB. A request waits its turn for a bounded time, then gets a 503
//! with Retry-After instead of piling up memory.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use crate::config::Limits;

/// One kind of bounded work.
#[derive(Clone, Debug)]
pub struct Gate {
    permits: Arc<Semaphore>,
    wait: Duration,
    what: &'static str,
}

/// No turn came within the wait: the service is busy with this kind of work.
#[derive(Debug, thiserror::Error)]
#[error("The service is busy {what}; try again in a few seconds.")]
pub struct Busy {
    pub what: &'static str,
}

impl Gate {
    pub fn new(permits: usize, wait: Duration, what: &'static str) -> Gate {
        Gate { permits: Arc::new(Semaphore::new(permits.max(1))), wait, what }
    }

    /// Waits for a turn for at most the configured time.
    pub async fn enter(&self) -> Result<OwnedSemaphorePermit, Busy> {
        match tokio::time::timeout(self.wait, self.permits.clone().acquire_owned()).await {
            Ok(Ok(permit)) => Ok(permit),
            _ => {
                metrics::counter!("atm_busy_refusals_total", "work" => self.what).increment(1);
                tracing::warn!(work = self.what, "no turn within the queue wait; answered 503");
                Err(Busy { what: self.what })
            }
        }
    }

    /// Waits as long as it takes: for background work (the report worker), which has no client
    /// to answer and must not fail for being patient.
    pub async fn enter_patiently(&self) -> OwnedSemaphorePermit {
        match self.permits.clone().acquire_owned().await {
            Ok(p) => p,
            // The semaphore is never closed; a closed one would mean no limit is left to keep.
            Err(_) => unreachable!("gate semaphores are never closed"),
        }
    }
}

/// Every gate of the process, made once from the settings.
#[derive(Clone, Debug)]
pub struct Gates {
    pub hashing: Gate,
    pub decoding: Gate,
    pub pdf: Gate,
    /// XLSX and ZIP exports: each fills a temporary file and takes a core while it does.
    pub exports: Gate,
}

impl Gates {
    pub fn new(limits: &Limits) -> Gates {
        let wait = Duration::from_secs(limits.queue_wait_seconds);
        Gates {
            hashing: Gate::new(limits.password_hash_concurrency, wait, "checking passwords"),
            decoding: Gate::new(limits.image_decode_concurrency, wait, "making photo previews"),
            pdf: Gate::new(limits.pdf_build_concurrency, wait, "building PDF reports"),
            exports: Gate::new(2, wait, "building exports"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_full_gate_answers_busy_after_its_wait_and_frees_with_the_permit() {
        let gate = Gate::new(1, Duration::from_millis(50), "testing");
        let held = gate.enter().await.expect("the first turn is free");
        assert!(gate.enter().await.is_err(), "a second caller must not get in while one holds it");
        drop(held);
        assert!(gate.enter().await.is_ok(), "the permit comes back when the holder is done");
    }
}
