//! Sign-in through identity providers (OpenID Connect): the providers shown on the sign-in
//! page, the reasons a provider sign-in can fail, and the identities linked to an account.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// `GET /api/auth/providers`: one identity provider people can sign in with.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ProviderSummary {
    /// Stable id, part of the sign-in URL: `/api/auth/oidc/{id}/start`.
    pub id: String,
    /// What the button says, e.g. "Microsoft".
    pub name: String,
    /// Microsoft only: where an organization's administrator approves Stratus for everyone.
    pub admin_consent_url: Option<String>,
}

/// An identity-provider account linked to a Stratus account (`GET /api/me/identities`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct LinkedIdentity {
    pub id: String,
    pub provider_id: String,
    /// The provider's display name (the id when the provider is no longer configured).
    pub provider_name: String,
    /// The address the provider reported when the identity was linked.
    pub email: String,
    pub created_at: DateTime<Utc>,
    pub last_used_at: DateTime<Utc>,
}

/// `POST /api/auth/link-identity`: the token from the mailed link (in the browser that signed
/// in at the provider).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct LinkIdentityRequest {
    pub token: String,
}

/// Why a provider sign-in ended on the error page (`/login/error?reason=<code>`).
///
/// Only this code travels in the URL; never a token or the provider's own text.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SignInFailure {
    /// The person cancelled at the provider (`access_denied`).
    Cancelled,
    /// The organization's administrator must approve Stratus first (Microsoft AADSTS65001,
    /// `consent_required`).
    AdminConsentRequired,
    /// The provider answered with another error.
    ProviderError,
    /// The provider cannot be reached or answered nonsense.
    ProviderUnavailable,
    /// The sign-in took too long, or this browser did not start it (no or used state).
    StateExpired,
    /// The answer does not belong to the sign-in this browser started (tampered `state`).
    StateMismatch,
    /// The provider's ID token failed verification (signature, issuer, audience, expiry, nonce).
    TokenInvalid,
    /// The provider did not confirm that it verified the email address.
    EmailUnverified,
    /// No such provider is configured.
    UnknownProvider,
}

impl SignInFailure {
    /// Every failure, for exhaustive tests and pages.
    pub const ALL: [SignInFailure; 9] = [
        SignInFailure::Cancelled,
        SignInFailure::AdminConsentRequired,
        SignInFailure::ProviderError,
        SignInFailure::ProviderUnavailable,
        SignInFailure::StateExpired,
        SignInFailure::StateMismatch,
        SignInFailure::TokenInvalid,
        SignInFailure::EmailUnverified,
        SignInFailure::UnknownProvider,
    ];

    /// The code in `/login/error?reason=<code>`.
    pub fn as_str(self) -> &'static str {
        match self {
            SignInFailure::Cancelled => "cancelled",
            SignInFailure::AdminConsentRequired => "admin_consent_required",
            SignInFailure::ProviderError => "provider_error",
            SignInFailure::ProviderUnavailable => "provider_unavailable",
            SignInFailure::StateExpired => "state_expired",
            SignInFailure::StateMismatch => "state_mismatch",
            SignInFailure::TokenInvalid => "token_invalid",
            SignInFailure::EmailUnverified => "email_unverified",
            SignInFailure::UnknownProvider => "unknown_provider",
        }
    }

    /// Reads a code back (unknown codes are `None`).
    pub fn parse(code: &str) -> Option<Self> {
        Self::ALL
            .into_iter()
            .find(|failure| failure.as_str() == code)
    }

    /// What happened, in plain words, for the error page.
    pub fn message(self) -> &'static str {
        match self {
            SignInFailure::Cancelled => {
                "You cancelled the sign-in at your identity provider. Nothing was changed."
            }
            SignInFailure::AdminConsentRequired => {
                "Your organization's administrator has to approve Stratus before anyone in it can \
                 sign in with their work account."
            }
            SignInFailure::ProviderError => {
                "Your identity provider refused the sign-in. Please try again, or sign in another way."
            }
            SignInFailure::ProviderUnavailable => {
                "We could not reach your identity provider. It may be down; please try again in a few minutes."
            }
            SignInFailure::StateExpired => {
                "This sign-in took too long or was already used. Please start again."
            }
            SignInFailure::StateMismatch => {
                "This sign-in answer does not belong to the sign-in started in this browser, so we \
                 ignored it. Please start again."
            }
            SignInFailure::TokenInvalid => {
                "We could not verify the answer of your identity provider, so you were not signed in."
            }
            SignInFailure::EmailUnverified => {
                "Your identity provider does not confirm that your email address is verified. \
                 Verify it there first, or sign up with your email address and a password."
            }
            SignInFailure::UnknownProvider => "This way of signing in is not available.",
        }
    }
}

/// The path the web app shows a failed provider sign-in on.
pub fn error_page(failure: SignInFailure, provider_id: Option<&str>) -> String {
    match provider_id {
        Some(provider) if is_provider_id(provider) => {
            format!(
                "/login/error?reason={}&provider={provider}",
                failure.as_str()
            )
        }
        _ => format!("/login/error?reason={}", failure.as_str()),
    }
}

/// Provider ids are short lower-case words, safe in URLs and paths.
pub fn is_provider_id(id: &str) -> bool {
    !id.is_empty()
        && id.len() <= 32
        && id
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'_')
}

/// The page a successful provider sign-in lands on; it restores the session via refresh.
pub const COMPLETE_PAGE: &str = "/login/complete";
/// The page asking the owner of an existing account to prove control before linking.
pub const LINK_PAGE: &str = "/login/link";
/// The HttpOnly cookie binding a started sign-in to this browser.
pub const LOGIN_COOKIE: &str = "stratus_oidc";
/// The HttpOnly cookie naming an identity waiting to be linked after a password sign-in.
pub const LINK_COOKIE: &str = "stratus_link";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn failure_codes_round_trip_and_serialize_as_their_codes() {
        for failure in SignInFailure::ALL {
            assert_eq!(SignInFailure::parse(failure.as_str()), Some(failure));
            let json = serde_json::to_string(&failure).unwrap();
            assert_eq!(json, format!("\"{}\"", failure.as_str()));
            assert!(!failure.message().is_empty());
        }
        assert_eq!(SignInFailure::parse("nope"), None);
    }

    #[test]
    fn error_pages_carry_only_codes() {
        assert_eq!(
            error_page(SignInFailure::Cancelled, Some("google")),
            "/login/error?reason=cancelled&provider=google"
        );
        assert_eq!(
            error_page(SignInFailure::UnknownProvider, Some("<script>")),
            "/login/error?reason=unknown_provider"
        );
    }
}
