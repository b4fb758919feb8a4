//! Operations: integrity checks of database against store.

pub mod fsck;
