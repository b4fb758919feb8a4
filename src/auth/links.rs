//! Signed, expiring media links: `/media/{key}?exp=…&sig=…` where `sig` is an HMAC-SHA256 over
//! the key and expiry. An `<img>` tag can load one without an Authorization header, yet the
//! link is useless to anyone it was not issued to once it expires.

use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;

use crate::config::Secret;
use crate::storage::MediaKey;

type HmacSha256 = Hmac<Sha256>;

#[derive(Clone)]
pub struct LinkSigner {
    key: Vec<u8>,
    pub ttl_seconds: i64,
}

impl std::fmt::Debug for LinkSigner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "LinkSigner(ttl={})", self.ttl_seconds)
    }
}

impl LinkSigner {
    pub fn new(secret: &Secret, ttl_seconds: i64) -> LinkSigner {
        // A key of its own, derived from SECRET_KEY, so a link signature is never a token signature.
        let mut mac = HmacSha256::new_from_slice(secret.expose().as_bytes()).expect("any key length");
        mac.update(b"atm-maint media links v1");
        LinkSigner { key: mac.finalize().into_bytes().to_vec(), ttl_seconds }
    }

    fn mac(&self, key: &str, exp: i64) -> HmacSha256 {
        let mut mac = HmacSha256::new_from_slice(&self.key).expect("any key length");
        mac.update(key.as_bytes());
        mac.update(b"\n");
        mac.update(exp.to_string().as_bytes());
        mac
    }

    /// The path and query of a link valid for the configured time.
    pub fn sign(&self, key: &MediaKey) -> String {
        // Expiry rounded up to a 5-minute step, so repeated pages reuse the same URLs (and caches).
        let now = chrono::Utc::now().timestamp();
        let exp = (now + self.ttl_seconds + 299) / 300 * 300;
        let sig = hex::encode(&self.mac(key.as_str(), exp).finalize().into_bytes()[..16]);
        format!("/media/{key}?exp={exp}&sig={sig}")
    }

    /// The path and query of a link to a server-made preview of a photo (`edge` px). The same
    /// signature as the photo's own link: whoever may see a photo may see its previews.
    pub fn sign_preview(&self, key: &MediaKey, edge: u32) -> String {
        let link = self.sign(key);
        format!("/previews/{edge}{}", link.trim_start_matches("/media"))
    }

    pub fn verify(&self, key: &str, exp: i64, sig: &str) -> LinkCheck {
        let Ok(bytes) = hex::decode(sig) else {
            return LinkCheck::Invalid;
        };
        if self.mac(key, exp).verify_truncated_left(&bytes).is_err() || bytes.len() != 16 {
            return LinkCheck::Invalid;
        }
        if exp < chrono::Utc::now().timestamp() { LinkCheck::Expired } else { LinkCheck::Valid { exp } }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LinkCheck {
    Valid { exp: i64 },
    Expired,
    Invalid,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parts(url: &str) -> (String, i64, String) {
        let (path, q) = url.split_once('?').unwrap();
        let mut exp = 0;
        let mut sig = String::new();
        for kv in q.split('&') {
            match kv.split_once('=').unwrap() {
                ("exp", v) => exp = v.parse().unwrap(),
                ("sig", v) => sig = v.into(),
                _ => {}
            }
        }
        (path.trim_start_matches("/media/").to_string(), exp, sig)
    }

    #[test]
    fn a_signed_link_verifies_and_a_tampered_one_does_not() {
        let s = LinkSigner::new(&Secret::new("k".repeat(40)), 3600);
        let key = MediaKey::parse("photos/2026/11/abc.jpg").unwrap();
        let (k, exp, sig) = parts(&s.sign(&key));
        assert!(matches!(s.verify(&k, exp, &sig), LinkCheck::Valid { .. }));
        assert_eq!(s.verify("photos/2026/11/abd.jpg", exp, &sig), LinkCheck::Invalid);
        assert_eq!(s.verify(&k, exp + 300, &sig), LinkCheck::Invalid);
        assert_eq!(s.verify(&k, exp, "00"), LinkCheck::Invalid);
        assert_eq!(s.verify(&k, exp, "zz"), LinkCheck::Invalid);
        let other = LinkSigner::new(&Secret::new("o".repeat(40)), 3600);
        assert_eq!(other.verify(&k, exp, &sig), LinkCheck::Invalid);
    }

    #[test]
    fn an_expired_link_is_told_apart() {
        let s = LinkSigner::new(&Secret::new("k".repeat(40)), -1000);
        let key = MediaKey::parse("pdfs/2026/11/r.pdf").unwrap();
        let (k, exp, sig) = parts(&s.sign(&key));
        assert_eq!(s.verify(&k, exp, &sig), LinkCheck::Expired);
    }
}
