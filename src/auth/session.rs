//! The pages' session secrets: 32 random bytes in the cookie, only their SHA-256 in the database.

use sha2::{Digest, Sha256};

/// A browser session lasts one working day.
pub const SESSION_SECONDS: i64 = 12 * 3600;

/// A fresh cookie value.
pub fn new_secret() -> String {
    hex::encode(rand::random::<[u8; 32]>())
}

/// What the database keeps of a cookie value.
pub fn id_of(secret: &str) -> String {
    hex::encode(Sha256::digest(secret.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_are_fresh_and_only_their_hash_is_kept() {
        let (a, b) = (new_secret(), new_secret());
        assert_ne!(a, b);
        assert_eq!(a.len(), 64);
        assert_ne!(id_of(&a), a);
        assert_ne!(id_of(&a), id_of(&b));
        // SHA-256 of "abc" (FIPS 180-2, appendix B.1), in hex.
        assert_eq!(id_of("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    }
}
