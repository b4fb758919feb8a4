//! Password hashes brought over from the original Django deployment, so nobody has to choose a
//! new password when they move. Django's default `pbkdf2_sha256$<iterations>$<salt>$<base64 key>`
//! is kept as it was imported and verified at the first sign-in (any iteration count, the keys
//! compared in constant time); the caller then replaces it with our Argon2id hash. Django's own
//! Argon2 hashes are PHC strings behind an `argon2` prefix and become ours at import.

use base64::Engine;
use subtle::ConstantTimeEq;

/// The prefix of Django's PBKDF2-SHA256 hashes.
const PBKDF2_SHA256: &str = "pbkdf2_sha256$";

/// Iterations beyond this are refused: Django's default is 1,200,000 today, and a hash asking
/// for far more would hold a hashing slot for seconds at every sign-in attempt, wrong ones
/// included (100,000,000 held both slots for 40 s in a debug build).
const MAX_ITERATIONS: u32 = 10_000_000;

/// A parsed `pbkdf2_sha256$…` hash.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct Pbkdf2 {
    iterations: u32,
    salt: String,
    key: Vec<u8>,
}

impl Pbkdf2 {
    /// `None` unless `encoded` is a well-formed Django PBKDF2-SHA256 hash.
    pub(crate) fn parse(encoded: &str) -> Option<Pbkdf2> {
        let rest = encoded.strip_prefix(PBKDF2_SHA256)?;
        let mut parts = rest.splitn(3, '$');
        let iterations: u32 = parts.next()?.parse().ok()?;
        let salt = parts.next()?;
        let key = base64::engine::general_purpose::STANDARD.decode(parts.next()?).ok()?;
        let sane = (1..=MAX_ITERATIONS).contains(&iterations)
            && !salt.is_empty()
            && !salt.contains('$')
            && (16..=64).contains(&key.len());
        sane.then(|| Pbkdf2 { iterations, salt: salt.to_string(), key })
    }

    /// Derives the key from `password` and compares it in constant time. Blocking: a million
    /// iterations take a good part of a second.
    pub(crate) fn verify(&self, password: &str) -> bool {
        let mut derived = vec![0u8; self.key.len()];
        pbkdf2::pbkdf2_hmac::<sha2::Sha256>(
            password.as_bytes(),
            self.salt.as_bytes(),
            self.iterations,
            &mut derived,
        );
        derived.ct_eq(&self.key).into()
    }
}

/// What an imported hash becomes in our `users.password_hash`.
#[derive(Debug, PartialEq, Eq)]
pub enum Imported {
    /// Kept as it is and verified at the first sign-in (PBKDF2), or already ours (Argon2).
    Usable(String),
    /// A hash we cannot verify (another Django hasher, an unusable `!` password, garbage): the
    /// account comes over, but its owner needs a new password set by the host.
    Unusable { stored: String, why: &'static str },
}

/// Maps a Django `user.password` value to what we store.
pub fn import_hash(encoded: &str) -> Imported {
    if Pbkdf2::parse(encoded).is_some() {
        return Imported::Usable(encoded.to_string());
    }
    // Django's Argon2PasswordHasher writes "argon2" followed by the PHC string.
    if let Some(phc) = encoded.strip_prefix("argon2").filter(|p| p.starts_with("$argon2"))
        && argon2::PasswordHash::new(phc).is_ok()
    {
        return Imported::Usable(phc.to_string());
    }
    let why = if encoded.is_empty() || encoded.starts_with('!') {
        "the original marked this account's password unusable"
    } else if encoded.starts_with(PBKDF2_SHA256) {
        "the PBKDF2 hash is malformed or asks for more than 10,000,000 iterations"
    } else {
        "the password was hashed by a Django hasher this service does not verify"
    };
    // Stored with a `!` in front so no verifier can ever accept it.
    let stored = if encoded.starts_with('!') { encoded.to_string() } else { format!("!{encoded}") };
    Imported::Unusable { stored, why }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// host1's hash from the original's fixture, and the password its README gives.
    const HOST1: &str =
        "pbkdf2_sha256$1000000$5uVAw3wtnKQBDNCUFkUn5X$wIwO5XL2H+6oDwIRgnmuc8F+8TdrStNa4aD3t1tAFO0=";

    fn made(password: &str, salt: &str, iterations: u32) -> String {
        let mut key = [0u8; 32];
        pbkdf2::pbkdf2_hmac::<sha2::Sha256>(password.as_bytes(), salt.as_bytes(), iterations, &mut key);
        format!("pbkdf2_sha256${iterations}${salt}${}", base64::engine::general_purpose::STANDARD.encode(key))
    }

    #[test]
    fn the_originals_hash_verifies_its_password_and_nothing_else() {
        let h = Pbkdf2::parse(HOST1).expect("parses");
        assert!(h.verify("HostPass123!"));
        assert!(!h.verify("HostPass123"));
        assert!(!h.verify("hostpass123!"));
    }

    #[test]
    fn any_iteration_count_verifies() {
        for n in [1, 2, 1000, 260_000, 1_200_000] {
            let h = Pbkdf2::parse(&made("Secret-9", "abcSALT123", n)).expect("parses");
            assert!(h.verify("Secret-9"), "{n}");
            assert!(!h.verify("Secret-8"), "{n}");
        }
    }

    #[test]
    fn malformed_hashes_are_not_usable() {
        for bad in [
            "",
            "!unusable",
            "pbkdf2_sha256$",
            "pbkdf2_sha256$0$salt$wIwO5XL2H+6oDwIRgnmuc8F+8TdrStNa4aD3t1tAFO0=",
            "pbkdf2_sha256$10000001$salt$wIwO5XL2H+6oDwIRgnmuc8F+8TdrStNa4aD3t1tAFO0=",
            "pbkdf2_sha256$4000000000$salt$wIwO5XL2H+6oDwIRgnmuc8F+8TdrStNa4aD3t1tAFO0=",
            "pbkdf2_sha256$1000$$wIwO5XL2H+6oDwIRgnmuc8F+8TdrStNa4aD3t1tAFO0=",
            "pbkdf2_sha256$1000$salt$not base64!",
            "pbkdf2_sha256$1000$salt$AAAA",
            "md5$salt$5f4dcc3b5aa765d61d8327deb882cf99",
            "bcrypt_sha256$$2b$12$abc",
        ] {
            assert!(matches!(import_hash(bad), Imported::Unusable { .. }), "{bad:?}");
            if let Imported::Unusable { stored, .. } = import_hash(bad) {
                assert!(stored.starts_with('!'), "{stored}");
            }
        }
    }

    #[test]
    fn django_argon2_hashes_become_phc_strings_argon2_verifies() {
        use argon2::password_hash::{PasswordHasher, PasswordVerifier};
        let phc = argon2::Argon2::default().hash_password(b"Field-Work-7").unwrap().to_string();
        let Imported::Usable(stored) = import_hash(&format!("argon2{phc}")) else { panic!("usable") };
        assert_eq!(stored, phc);
        assert!(argon2::Argon2::default().verify_password(b"Field-Work-7", stored.as_str()).is_ok());
        assert_eq!(import_hash(HOST1), Imported::Usable(HOST1.to_string()));
    }
}
