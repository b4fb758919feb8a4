//! Expiry of abandoned drafts: a draft nobody touched for `DRAFT_EXPIRY_SECONDS` is removed with
//! its photos, in the serving process, on a schedule.

use std::time::Duration;

use crate::db::{Db, drafts};
use crate::storage::MediaStore;

/// Removes drafts untouched for `max_age`; returns (drafts, photos) removed.
pub(crate) async fn expire(db: &Db, store: &MediaStore, max_age: Duration) -> anyhow::Result<(usize, usize)> {
    let before = Db::at(-i64::try_from(max_age.as_secs())?);
    let (count, keys) = drafts::expire(db, &before).await?;
    store.delete_all(&keys).await;
    if count > 0 {
        tracing::info!(drafts = count, photos = keys.len(), "abandoned drafts expired");
    }
    Ok((count, keys.len()))
}

/// Runs `expire` every tenth of the expiry time (at most hourly, at most each second).
pub(crate) fn spawn(db: Db, store: MediaStore, max_age: Duration) -> tokio::task::JoinHandle<()> {
    let every = (max_age / 10).clamp(Duration::from_secs(1), Duration::from_secs(3600));
    tokio::spawn(async move {
        loop {
            tokio::time::sleep(every).await;
            if let Err(e) = expire(&db, &store, max_age).await {
                tracing::warn!(error = %e, "draft expiry failed");
            }
        }
    })
}
