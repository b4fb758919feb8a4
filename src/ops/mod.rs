//! Operations: integrity checks, backups, metrics, and moving between stores.

pub mod backup;
pub mod cleanup;
pub mod fsck;
pub mod metrics;
pub mod migrate;
pub mod scrub;
