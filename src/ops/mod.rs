//! Operations: integrity checks, backups, metrics, and moving between stores.

pub mod backup;
pub mod cleanup;
pub mod drafts;
pub mod fsck;
pub mod metrics;
pub mod migrate;
pub mod scrub;
