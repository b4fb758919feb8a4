//! Who is calling: password hashing, tokens, signed media links and login rate limits.

pub mod links;
pub mod password;
pub mod rate_limit;
pub mod tokens;
