//! Argon2id with OWASP's parameters (19 MiB, 2 passes, 1 lane — the crate's defaults), run off
//! the async runtime. An unknown user is checked against a dummy hash so both cost the same. A
//! hash imported from the original Django deployment is verified as Django would and replaced
//! by ours at that first sign-in (see [`super::django`]).

use std::sync::OnceLock;

use argon2::Argon2;
use argon2::password_hash::{PasswordHasher, PasswordVerifier};

pub fn hash_blocking(password: &str) -> anyhow::Result<String> {
    Ok(Argon2::default()
        .hash_password(password.as_bytes())
        .map_err(|e| anyhow::anyhow!("password hashing failed: {e}"))?
        .to_string())
}

pub fn verify_blocking(hash: Option<&str>, password: &str) -> bool {
    if let Some(django) = hash.and_then(super::django::Pbkdf2::parse) {
        return django.verify(password);
    }
    static DUMMY: OnceLock<String> = OnceLock::new();
    let dummy = DUMMY.get_or_init(|| hash_blocking("dummy password for timing").unwrap_or_default());
    match hash {
        Some(h) => Argon2::default().verify_password(password.as_bytes(), h).is_ok(),
        None => {
            let _ = Argon2::default().verify_password(password.as_bytes(), dummy.as_str());
            false
        }
    }
}

pub async fn hash(password: String) -> anyhow::Result<String> {
    tokio::task::spawn_blocking(move || hash_blocking(&password)).await?
}

pub async fn verify(hash: Option<String>, password: String) -> bool {
    tokio::task::spawn_blocking(move || verify_blocking(hash.as_deref(), &password)).await.unwrap_or(false)
}

/// The outcome of a sign-in's password check.
pub enum Checked {
    Wrong,
    Right,
    /// Right, and the stored hash was the original's: this Argon2id hash replaces it.
    RightUpgrade(String),
}

/// Verifies `password`; when it matches a hash imported from the original, also hashes it
/// with ours so the caller can replace the old one.
pub async fn check(hash: Option<String>, password: String) -> Checked {
    tokio::task::spawn_blocking(move || {
        let imported = hash.as_deref().is_some_and(|h| super::django::Pbkdf2::parse(h).is_some());
        match (verify_blocking(hash.as_deref(), &password), imported) {
            (false, _) => Checked::Wrong,
            (true, false) => Checked::Right,
            (true, true) => match hash_blocking(&password) {
                Ok(new) => Checked::RightUpgrade(new),
                Err(e) => {
                    tracing::warn!(error = %e, "could not rehash an imported password; kept the old hash");
                    Checked::Right
                }
            },
        }
    })
    .await
    .unwrap_or(Checked::Wrong)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_hash_verifies_its_password_only() {
        let h = hash_blocking("Correct-Horse-42").unwrap();
        assert!(h.starts_with("$argon2id$"));
        assert!(h.contains("m=19456,t=2,p=1"), "{h}");
        assert!(verify_blocking(Some(&h), "Correct-Horse-42"));
        assert!(!verify_blocking(Some(&h), "correct-horse-42"));
        assert!(!verify_blocking(None, "Correct-Horse-42"));
    }
}
