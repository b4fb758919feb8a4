//! Operations: integrity checks, the doctor report, backups, metrics, and moving between stores.
//! Library code the CLI and the HTTP handlers both call.

pub(crate) mod audit;
pub(crate) mod backup;
pub(crate) mod cleanup;
pub(crate) mod django;
pub(crate) mod doctor;
pub(crate) mod drafts;
pub(crate) mod export;
pub(crate) mod fsck;
pub(crate) mod metrics;
pub(crate) mod migrate;
pub(crate) mod scrub;
