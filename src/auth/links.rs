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
    /// The MAC with its key already absorbed: each link clones it instead of keying anew.
    keyed: HmacSha256,
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
        let key = mac.finalize().into_bytes();
        LinkSigner { keyed: HmacSha256::new_from_slice(&key).expect("any key length"), ttl_seconds }
    }

    fn mac(&self, key: &str, exp: i64) -> HmacSha256 {
        let mut mac = self.keyed.clone();
        mac.update(key.as_bytes());
        mac.update(b"\n");
        mac.update(exp.to_string().as_bytes());
        mac
    }

    /// The signature of a key's links: the object's own link and its previews' share it
    /// (whoever may see a photo may see its previews).
    pub fn signature(&self, key: &MediaKey) -> Signature {
        // Expiry rounded up to a 5-minute step, so repeated pages reuse the same URLs (and caches).
        let now = chrono::Utc::now().timestamp();
        let exp = (now + self.ttl_seconds + 299) / 300 * 300;
        let sig = hex::encode(&self.mac(key.as_str(), exp).finalize().into_bytes()[..16]);
        Signature { exp, sig }
    }

    /// The path and query of a link valid for the configured time.
    pub fn sign(&self, key: &MediaKey) -> String {
        self.signature(key).media(key)
    }

    /// The path and query of a link to a server-made preview of a photo (`edge` px).
    pub fn sign_preview(&self, key: &MediaKey, edge: u32) -> String {
        self.signature(key).preview(key, edge)
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

/// A key's expiry and signature, for the links that carry them.
pub struct Signature {
    exp: i64,
    sig: String,
}

impl Signature {
    pub fn media(&self, key: &MediaKey) -> String {
        format!("/media/{key}?exp={}&sig={}", self.exp, self.sig)
    }

    pub fn preview(&self, key: &MediaKey, edge: u32) -> String {
        format!("/previews/{edge}/{key}?exp={}&sig={}", self.exp, self.sig)
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
