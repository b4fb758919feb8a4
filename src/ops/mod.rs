//! Operations: integrity checks of database against store, and moving between stores.

pub mod fsck;
pub mod metrics;
pub mod migrate;
