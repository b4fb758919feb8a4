//! The promises under attack: hostile Excel files and photos refused in bounded memory; races fired at once on
//! both databases; bursts, slow clients, revoked tokens and proxies.

mod hostile_excel;
mod hostile_photos;
mod limits;
mod races;
mod world;
