//! Access tokens for people: short-lived JWTs (HS256) carried as `Authorization: Bearer`.
//!
//! They are verified without a database look-up, so they are kept short (15 minutes); the
//! long-lived part of a session is the single-use refresh token, which is stored and revocable.

use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};

use super::jwt::Hs256;
use crate::secrets::SecretKey;

/// How long an access token is valid.
pub const ACCESS_TOKEN_TTL: Duration = Duration::minutes(15);
/// The audience of people's access tokens; DMS tokens carry another, so neither passes as the
/// other even if the keys were ever shared.
pub const ACCESS_TOKEN_AUDIENCE: &str = "stratus-api";

/// The claims of an access token.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct AccessClaims {
    /// Issuer: the portal's public URL.
    pub iss: String,
    /// Audience: [`ACCESS_TOKEN_AUDIENCE`].
    pub aud: String,
    /// The user's id.
    pub sub: String,
    /// Expiry, seconds since the epoch.
    pub exp: i64,
    /// Issued at, seconds since the epoch.
    pub iat: i64,
    /// Unique token id.
    pub jti: String,
    /// The session (sign-in) this token was issued for, when it was.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sid: Option<String>,
}

/// Why a presented token was refused. Deliberately coarse: the client learns only "sign in
/// again", the log learns why.
#[derive(Debug, thiserror::Error)]
#[error("invalid access token: {0}")]
pub struct InvalidToken(#[from] jsonwebtoken::errors::Error);

/// Issues and verifies access tokens with the session key.
#[derive(Clone)]
pub struct AccessTokens {
    signer: Hs256,
}

impl AccessTokens {
    /// Uses `key` to sign and `issuer` (the public URL) as `iss`.
    pub fn new(key: &SecretKey, issuer: &str) -> Self {
        Self {
            signer: Hs256::new(key, issuer, ACCESS_TOKEN_AUDIENCE),
        }
    }

    /// A new token for `user_id`, valid from `now` for [`ACCESS_TOKEN_TTL`], tied to no
    /// session (tests and tools).
    pub fn issue(&self, user_id: &str, now: DateTime<Utc>) -> (String, DateTime<Utc>) {
        self.issue_for_session(user_id, None, now)
    }

    /// A new token for `user_id` within the session `session_id`.
    pub fn issue_for_session(
        &self,
        user_id: &str,
        session_id: Option<&str>,
        now: DateTime<Utc>,
    ) -> (String, DateTime<Utc>) {
        let expires_at = now + ACCESS_TOKEN_TTL;
        let claims = AccessClaims {
            iss: self.signer.issuer().to_owned(),
            aud: ACCESS_TOKEN_AUDIENCE.to_owned(),
            sub: user_id.to_owned(),
            exp: expires_at.timestamp(),
            iat: now.timestamp(),
            jti: uuid::Uuid::new_v4().to_string(),
            sid: session_id.map(str::to_owned),
        };
        (self.signer.sign(&claims), expires_at)
    }

    /// The `iss` this server puts in and expects.
    pub fn issuer(&self) -> &str {
        self.signer.issuer()
    }

    /// Checks signature, algorithm, issuer, audience and expiry.
    pub fn verify(&self, token: &str) -> Result<AccessClaims, InvalidToken> {
        Ok(self.signer.verify(token)?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;
    use base64::Engine;

    fn tokens() -> AccessTokens {
        let dir = tempfile::tempdir().unwrap();
        let secrets = crate::secrets::Secrets::load_or_generate(dir.path(), None, None).unwrap();
        AccessTokens::new(&secrets.session_key, "http://stratus.test")
    }

    #[test]
    fn a_fresh_token_verifies_and_names_its_user() {
        let tokens = tokens();
        let (token, expires_at) = tokens.issue("user-1", Utc::now());
        let claims = tokens.verify(&token).unwrap();
        assert_eq!(claims.sub, "user-1");
        assert_eq!(claims.aud, ACCESS_TOKEN_AUDIENCE);
        assert_eq!(claims.exp, expires_at.timestamp());
    }

    #[test]
    fn expired_tokens_are_refused() {
        let tokens = tokens();
        let (token, _) = tokens.issue("user-1", Utc::now() - Duration::minutes(16));
        assert!(tokens.verify(&token).is_err());
    }

    #[test]
    fn tokens_of_another_key_or_issuer_are_refused() {
        let (token, _) = tokens().issue("user-1", Utc::now());
        assert!(tokens().verify(&token).is_err(), "another key");

        let dir = tempfile::tempdir().unwrap();
        let secrets = crate::secrets::Secrets::load_or_generate(dir.path(), None, None).unwrap();
        let a = AccessTokens::new(&secrets.session_key, "http://a.test");
        let b = AccessTokens::new(&secrets.session_key, "http://b.test");
        let (token, _) = a.issue("user-1", Utc::now());
        assert!(b.verify(&token).is_err(), "another issuer");
    }

    #[test]
    fn alg_none_and_tampered_tokens_are_refused() {
        let tokens = tokens();
        let (token, _) = tokens.issue("user-1", Utc::now());
        let parts: Vec<&str> = token.split('.').collect();

        let none_header = URL_SAFE_NO_PAD.encode(br#"{"alg":"none","typ":"JWT"}"#);
        assert!(tokens
            .verify(&format!("{none_header}.{}.", parts[1]))
            .is_err());

        let mut claims: serde_json::Value =
            serde_json::from_slice(&URL_SAFE_NO_PAD.decode(parts[1]).unwrap()).unwrap();
        claims["sub"] = "someone-else".into();
        let forged = URL_SAFE_NO_PAD.encode(serde_json::to_vec(&claims).unwrap());
        assert!(tokens
            .verify(&format!("{}.{forged}.{}", parts[0], parts[2]))
            .is_err());
    }
}
