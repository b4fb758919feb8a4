//! Who is calling: password hashing, tokens, the pages' sessions, signed media links and login
//! rate limits.

pub mod django;
pub mod links;
pub mod password;
pub mod rate_limit;
pub mod session;
pub mod tokens;
