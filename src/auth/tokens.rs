//! Access and refresh JWTs in the original's shape (HS256 over SECRET_KEY; claims `token_type`,
//! `exp`, `iat`, `jti`, `user_id`). Only HS256 is accepted, so `alg: none` and algorithm swaps
//! fail; a refresh token is never accepted as an access token.

use hmac::{Hmac, KeyInit, Mac};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};
use sha2::Sha256;

use crate::config::Secret;

pub const ACCESS_SECONDS: i64 = 3600;
pub const REFRESH_SECONDS: i64 = 7 * 24 * 3600;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenKind {
    Access,
    Refresh,
}

impl TokenKind {
    fn name(self) -> &'static str {
        match self {
            TokenKind::Access => "access",
            TokenKind::Refresh => "refresh",
        }
    }
}

#[derive(Debug, Serialize, Deserialize)]
pub struct Claims {
    pub token_type: String,
    pub exp: i64,
    pub iat: i64,
    pub jti: String,
    pub user_id: i64,
    /// The user's token version when it was issued (tokens from before versions count as 0).
    #[serde(default)]
    pub ver: i64,
}

/// Who a verified token speaks for, and with which token version.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TokenUser {
    pub user_id: i64,
    pub version: i64,
}

#[derive(Clone)]
pub struct TokenKeys {
    encoding: EncodingKey,
    decoding: DecodingKey,
    csrf: Vec<u8>,
}

impl std::fmt::Debug for TokenKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("TokenKeys(***)")
    }
}

impl TokenKeys {
    pub fn new(secret: &Secret) -> TokenKeys {
        let key = secret.expose().as_bytes();
        // A key of its own for CSRF tokens, so a CSRF token is never a token signature.
        let mut mac = Hmac::<Sha256>::new_from_slice(key).expect("any key length");
        mac.update(b"atm-maint csrf v1");
        TokenKeys {
            encoding: EncodingKey::from_secret(key),
            decoding: DecodingKey::from_secret(key),
            csrf: mac.finalize().into_bytes().to_vec(),
        }
    }

    /// The CSRF token bound to a session cookie's secret: pages send it back in `X-CSRF-Token` on every
    /// change. Another site can make a browser send the cookie, never read this value.
    pub fn csrf_for(&self, session: &str) -> String {
        let mut mac = Hmac::<Sha256>::new_from_slice(&self.csrf).expect("any key length");
        mac.update(session.as_bytes());
        hex::encode(mac.finalize().into_bytes())
    }

    pub fn csrf_matches(&self, session: &str, given: &str) -> bool {
        let Ok(given) = hex::decode(given) else { return false };
        let mut mac = Hmac::<Sha256>::new_from_slice(&self.csrf).expect("any key length");
        mac.update(session.as_bytes());
        mac.verify_slice(&given).is_ok()
    }

    pub fn issue(&self, user_id: i64, version: i64, kind: TokenKind) -> anyhow::Result<String> {
        let now = chrono::Utc::now().timestamp();
        let life = match kind {
            TokenKind::Access => ACCESS_SECONDS,
            TokenKind::Refresh => REFRESH_SECONDS,
        };
        let claims = Claims {
            token_type: kind.name().into(),
            exp: now + life,
            iat: now,
            jti: uuid::Uuid::new_v4().simple().to_string(),
            user_id,
            ver: version,
        };
        Ok(jsonwebtoken::encode(&Header::new(Algorithm::HS256), &claims, &self.encoding)?)
    }

    /// The user id of a valid, unexpired token of `kind`.
    pub fn verify(&self, token: &str, kind: TokenKind) -> Option<TokenUser> {
        let mut validation = Validation::new(Algorithm::HS256);
        validation.leeway = 0;
        let data = jsonwebtoken::decode::<Claims>(token, &self.decoding, &validation).ok()?;
        (data.claims.token_type == kind.name())
            .then_some(TokenUser { user_id: data.claims.user_id, version: data.claims.ver })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use base64::Engine;

    fn b64(bytes: &[u8]) -> String {
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
    }

    fn keys() -> TokenKeys {
        TokenKeys::new(&Secret::new("k".repeat(40)))
    }

    #[test]
    fn an_access_token_verifies_as_access_only() {
        let k = keys();
        let access = k.issue(7, 0, TokenKind::Access).unwrap();
        let refresh = k.issue(7, 0, TokenKind::Refresh).unwrap();
        assert_eq!(k.verify(&access, TokenKind::Access), Some(TokenUser { user_id: 7, version: 0 }));
        assert_eq!(k.verify(&refresh, TokenKind::Access), None);
        assert_eq!(k.verify(&refresh, TokenKind::Refresh), Some(TokenUser { user_id: 7, version: 0 }));
    }

    #[test]
    fn a_csrf_token_matches_only_its_own_session() {
        let k = keys();
        let (a, b) = (crate::auth::session::new_secret(), crate::auth::session::new_secret());
        let token = k.csrf_for(&a);
        assert!(k.csrf_matches(&a, &token));
        assert!(!k.csrf_matches(&b, &token));
        assert!(!k.csrf_matches(&a, "zz"));
        assert!(!k.csrf_matches(&a, ""));
    }

    #[test]
    fn a_token_carries_the_version_it_was_issued_with() {
        let k = keys();
        let t = k.issue(7, 3, TokenKind::Refresh).unwrap();
        assert_eq!(k.verify(&t, TokenKind::Refresh), Some(TokenUser { user_id: 7, version: 3 }));
    }

    #[test]
    fn unsigned_expired_and_foreign_tokens_are_refused() {
        let k = keys();
        let now = chrono::Utc::now().timestamp();
        let body = serde_json::json!({"token_type": "access", "exp": now + 100, "iat": now, "jti": "x", "user_id": 1});
        let none = format!("{}.{}.", b64(br#"{"alg":"none","typ":"JWT"}"#), b64(body.to_string().as_bytes()));
        assert_eq!(k.verify(&none, TokenKind::Access), None);
        let expired = Claims {
            token_type: "access".into(),
            exp: now - 10,
            iat: now - 100,
            jti: "y".into(),
            user_id: 1,
            ver: 0,
        };
        let t = jsonwebtoken::encode(&Header::new(Algorithm::HS256), &expired, &k.encoding).unwrap();
        assert_eq!(k.verify(&t, TokenKind::Access), None);
        let other = TokenKeys::new(&Secret::new("z".repeat(40))).issue(1, 0, TokenKind::Access).unwrap();
        assert_eq!(k.verify(&other, TokenKind::Access), None);
        assert_eq!(k.verify("not.a.jwt", TokenKind::Access), None);
    }
}
