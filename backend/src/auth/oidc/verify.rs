//! Checking what a provider says: the ID token (signature, issuer, audience, expiry, nonce)
//! and whether the provider vouches for the email address, or an OAuth 2.0 profile.

use openidconnect::core::{
    CoreGenderClaim, CoreJsonWebKeySet, CoreJweContentEncryptionAlgorithm, CoreJwsSigningAlgorithm,
};
use openidconnect::{
    AdditionalClaims, ClaimsVerificationError, ClientId, IdToken, IdTokenVerifier, IssuerUrl,
    Nonce, SignatureVerificationError,
};
use serde::{Deserialize, Serialize};
use stratus_shared::email::EmailAddress;

use super::{FlowError, ProviderIdentity};
use crate::config::OidcProviderSettings;

/// Microsoft's tenant of personal accounts: their addresses are verified by Microsoft.
pub(super) const MICROSOFT_PERSONAL_TENANT: &str = "9188040d-6c67-4c5b-b112-36a304b66dad";
/// The placeholder in Microsoft's multi-tenant issuer.
const TENANT_PLACEHOLDER: &str = "{tenantid}";

/// Claims beyond the standard ones that decide whether an email can be trusted.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct ExtraClaims {
    /// Microsoft: the email's domain owner has verified it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub xms_edov: Option<serde_json::Value>,
}

impl AdditionalClaims for ExtraClaims {}

/// An ID token as Stratus reads it.
pub type ProviderIdToken = IdToken<
    ExtraClaims,
    CoreGenderClaim,
    CoreJweContentEncryptionAlgorithm,
    CoreJwsSigningAlgorithm,
>;

/// What the ID token check found.
#[derive(Debug, PartialEq, Eq)]
pub enum TokenCheck {
    /// Signed with a key the cached JWKS does not hold: refresh the keys and try once more.
    UnknownKey,
    Invalid(String),
    EmailUnverified,
    /// A valid token without an email claim (a conformant provider may keep it for the
    /// UserInfo endpoint): ask there, for this subject.
    NoEmail {
        subject: String,
    },
}

pub(super) fn check_error(check: TokenCheck) -> FlowError {
    match check {
        TokenCheck::UnknownKey => FlowError::TokenInvalid("signed with an unknown key".into()),
        TokenCheck::Invalid(reason) => FlowError::TokenInvalid(reason),
        TokenCheck::EmailUnverified | TokenCheck::NoEmail { .. } => FlowError::EmailUnverified,
    }
}

/// Verifies an ID token with the crate's verifier: RS256 signature by a key in `jwks`, `iss`
/// (exact, or Microsoft's tenant template), `aud` (this client; other audiences refused),
/// `exp`, `nonce`. Then the email, only when the provider vouches for it.
pub fn verify_id_token(
    raw: &str,
    settings: &OidcProviderSettings,
    issuer: &str,
    jwks: &CoreJsonWebKeySet,
    nonce: &str,
) -> Result<ProviderIdentity, TokenCheck> {
    let token: ProviderIdToken = raw
        .parse()
        .map_err(|error| TokenCheck::Invalid(format!("unreadable ID token: {error}")))?;
    let issuer_url = IssuerUrl::new(issuer.to_owned())
        .map_err(|error| TokenCheck::Invalid(error.to_string()))?;
    let mut verifier = IdTokenVerifier::new_public_client(
        ClientId::new(settings.client_id.clone()),
        issuer_url,
        jwks.clone(),
    )
    // A token also meant for another client is not for us.
    .set_other_audience_verifier_fn(|_| false);
    if settings.multi_tenant {
        verifier = verifier.require_issuer_match(false);
    }
    let claims = token
        .claims(&verifier, &Nonce::new(nonce.to_owned()))
        .map_err(|error| match error {
            ClaimsVerificationError::SignatureVerification(
                SignatureVerificationError::NoMatchingKey,
            ) => TokenCheck::UnknownKey,
            other => TokenCheck::Invalid(other.to_string()),
        })?;
    let mut personal_microsoft_account = false;
    if settings.multi_tenant {
        let tenant = tenant_of(issuer, claims.issuer().as_str())
            .ok_or_else(|| TokenCheck::Invalid(format!("issuer {}", claims.issuer().as_str())))?;
        personal_microsoft_account = tenant == MICROSOFT_PERSONAL_TENANT;
    }
    let vouched = claims.email_verified() == Some(true)
        || personal_microsoft_account
        || claims
            .additional_claims()
            .xms_edov
            .as_ref()
            .is_some_and(is_true);
    let Some(email) = claims.email().map(|email| email.as_str().to_owned()) else {
        return Err(TokenCheck::NoEmail {
            subject: claims.subject().as_str().to_owned(),
        });
    };
    if !vouched {
        return Err(TokenCheck::EmailUnverified);
    }
    let email = EmailAddress::parse(&email).map_err(|_| TokenCheck::EmailUnverified)?;
    Ok(ProviderIdentity {
        subject: claims.subject().as_str().to_owned(),
        email,
    })
}

/// The tenant in a token issuer that matches Microsoft's `…/{tenantid}/v2.0` template.
fn tenant_of(template: &str, issuer: &str) -> Option<String> {
    let (prefix, suffix) = template.split_once(TENANT_PLACEHOLDER)?;
    let tenant = issuer.strip_prefix(prefix)?.strip_suffix(suffix)?;
    let is_guid = tenant.len() == 36
        && tenant.chars().enumerate().all(|(i, c)| {
            matches!(i, 8 | 13 | 18 | 23) == (c == '-') && (c == '-' || c.is_ascii_hexdigit())
        });
    is_guid.then(|| tenant.to_owned())
}

fn is_true(value: &serde_json::Value) -> bool {
    match value {
        serde_json::Value::Bool(flag) => *flag,
        serde_json::Value::String(text) => text == "true" || text == "1",
        serde_json::Value::Number(number) => number.as_i64() == Some(1),
        _ => false,
    }
}

/// Reads an OAuth 2.0 profile (Amazon: `user_id`, `email`; else `sub`, `email`,
/// `email_verified`).
pub fn profile_identity(
    settings: &OidcProviderSettings,
    profile: &serde_json::Value,
) -> Result<ProviderIdentity, FlowError> {
    let subject = profile
        .get("user_id")
        .or_else(|| profile.get("sub"))
        .and_then(|value| value.as_str())
        .filter(|subject| !subject.is_empty())
        .ok_or_else(|| FlowError::TokenInvalid("profile without a user id".into()))?;
    let vouched =
        settings.profile_email_verified || profile.get("email_verified").is_some_and(is_true);
    let email = profile
        .get("email")
        .and_then(|value| value.as_str())
        .ok_or(FlowError::EmailUnverified)?;
    if !vouched {
        return Err(FlowError::EmailUnverified);
    }
    Ok(ProviderIdentity {
        subject: subject.to_owned(),
        email: EmailAddress::parse(email).map_err(|_| FlowError::EmailUnverified)?,
    })
}
