//! The signing both token kinds share: HS256 with one key, a fixed issuer and audience, the
//! algorithm never read from the token (so `alg: none` or an RS/HS confusion cannot get
//! through), `nbf` honoured when present, and five seconds of leeway for clocks.

use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::de::DeserializeOwned;
use serde::Serialize;

use crate::secrets::SecretKey;

/// Signs and verifies one kind of token.
#[derive(Clone)]
pub struct Hs256 {
    encoding: EncodingKey,
    decoding: DecodingKey,
    validation: Validation,
    issuer: String,
}

impl Hs256 {
    /// Tokens signed with `key`, issued by `issuer` for `audience`.
    pub fn new(key: &SecretKey, issuer: &str, audience: &str) -> Self {
        let mut validation = Validation::new(Algorithm::HS256);
        validation.set_issuer(&[issuer]);
        validation.set_audience(&[audience]);
        validation.set_required_spec_claims(&["exp", "iat", "iss", "aud", "sub"]);
        validation.leeway = 5;
        // jsonwebtoken skips `nbf` by default; RFC 7519 says a token must not be accepted
        // before it, so one minted to start later cannot be used early.
        validation.validate_nbf = true;
        Self {
            encoding: EncodingKey::from_secret(key.expose()),
            decoding: DecodingKey::from_secret(key.expose()),
            validation,
            issuer: issuer.to_owned(),
        }
    }

    /// The `iss` these tokens carry.
    pub fn issuer(&self) -> &str {
        &self.issuer
    }

    /// Signs `claims`.
    pub fn sign(&self, claims: &impl Serialize) -> String {
        jsonwebtoken::encode(&Header::new(Algorithm::HS256), claims, &self.encoding)
            // HS256 with an in-memory key over plain claims cannot fail to encode.
            .expect("encoding HS256 claims")
    }

    /// Checks signature, algorithm, issuer, audience and expiry, and returns the claims.
    pub fn verify<C: DeserializeOwned>(
        &self,
        token: &str,
    ) -> Result<C, jsonwebtoken::errors::Error> {
        Ok(jsonwebtoken::decode::<C>(token, &self.decoding, &self.validation)?.claims)
    }
}
