//! The promises under attack, in one test binary (each extra binary links the whole dependency
//! graph again): hostile Excel files and photos refused in bounded memory; races fired at once on
//! both databases; bursts, slow clients, revoked tokens and proxies.

#[path = "../common/mod.rs"]
mod common;

mod hostile_excel;
mod hostile_photos;
mod limits;
mod races;
mod world;
