//! Operations: integrity checks, the doctor report, backups, metrics, and moving between stores.
//! Library code the CLI and the HTTP handlers both call.

pub mod backup;
pub mod cleanup;
pub mod doctor;
pub mod drafts;
pub mod fsck;
pub mod metrics;
pub mod migrate;
pub mod scrub;
