//! DMS tokens: JWTs (HS256, the gateway key) a DMS's gateway presents on `/api/gateway/ws`.
//!
//! They carry the DMS id, its organization and the DMS's token generation; every use also
//! checks the DMS still exists with that generation, so removing a DMS or re-keying it with a
//! new connect code cuts its tokens off at once.

use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};

use super::jwt::Hs256;
use crate::secrets::SecretKey;

/// How long a DMS token is valid.
pub const DMS_TOKEN_TTL: Duration = Duration::days(7);
/// How long a refresh key is valid; longer than a token so a gateway that was off for a while
/// can still renew.
pub const REFRESH_KEY_TTL: Duration = Duration::days(30);
/// The audience of DMS tokens: never accepted where a person's token is expected, nor back.
pub const DMS_TOKEN_AUDIENCE: &str = "stratus-gateway";

/// The claims of a DMS token.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct DmsClaims {
    pub iss: String,
    pub aud: String,
    /// The DMS's id (`systems.id`).
    pub sub: String,
    /// The DMS's organization.
    pub org: String,
    /// `systems.token_generation` when issued.
    pub gen: i32,
    pub exp: i64,
    pub iat: i64,
    pub jti: String,
}

/// Issues and verifies DMS tokens with the gateway key.
#[derive(Clone)]
pub struct DmsTokens {
    signer: Hs256,
}

impl DmsTokens {
    /// Uses `key` (the gateway key) to sign and `issuer` (the public URL) as `iss`.
    pub fn new(key: &SecretKey, issuer: &str) -> Self {
        Self {
            signer: Hs256::new(key, issuer, DMS_TOKEN_AUDIENCE),
        }
    }

    /// A new token for a DMS, valid from `now` for [`DMS_TOKEN_TTL`].
    pub fn issue(
        &self,
        system_id: &str,
        organization_id: &str,
        generation: i32,
        now: DateTime<Utc>,
    ) -> (String, DateTime<Utc>) {
        let expires_at = now + DMS_TOKEN_TTL;
        let claims = DmsClaims {
            iss: self.signer.issuer().to_owned(),
            aud: DMS_TOKEN_AUDIENCE.to_owned(),
            sub: system_id.to_owned(),
            org: organization_id.to_owned(),
            gen: generation,
            exp: expires_at.timestamp(),
            iat: now.timestamp(),
            jti: uuid::Uuid::new_v4().to_string(),
        };
        (self.signer.sign(&claims), expires_at)
    }

    /// Checks signature, algorithm, issuer, audience and expiry (not yet the database).
    pub fn verify(&self, token: &str) -> Result<DmsClaims, jsonwebtoken::errors::Error> {
        self.signer.verify(token)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::auth::AccessTokens;

    #[test]
    fn dms_and_access_tokens_never_pass_as_each_other() {
        let dir = tempfile::tempdir().unwrap();
        let secrets = crate::secrets::Secrets::load_or_generate(dir.path(), None, None).unwrap();
        let dms = DmsTokens::new(&secrets.gateway_key, "http://s.test");
        let people = AccessTokens::new(&secrets.session_key, "http://s.test");
        let (dms_token, expires_at) = dms.issue("sys", "org", 3, Utc::now());
        let claims = dms.verify(&dms_token).unwrap();
        assert_eq!(
            (claims.sub.as_str(), claims.org.as_str(), claims.gen),
            ("sys", "org", 3)
        );
        assert!(expires_at > Utc::now() + Duration::days(6));
        assert!(people.verify(&dms_token).is_err());
        let (person_token, _) = people.issue("user", Utc::now());
        assert!(dms.verify(&person_token).is_err());
        // Even with the same key, the audience keeps them apart.
        let same_key = DmsTokens::new(&secrets.session_key, "http://s.test");
        assert!(same_key.verify(&person_token).is_err());
    }

    #[test]
    fn expired_dms_tokens_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let secrets = crate::secrets::Secrets::load_or_generate(dir.path(), None, None).unwrap();
        let dms = DmsTokens::new(&secrets.gateway_key, "http://s.test");
        let (token, _) = dms.issue("sys", "org", 0, Utc::now() - Duration::days(8));
        assert!(dms.verify(&token).is_err());
    }
}
