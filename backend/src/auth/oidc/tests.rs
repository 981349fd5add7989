//! ID tokens signed for real (RSA keys made for these tests only, in `testdata/`), checked
//! by the same function the callback uses.

use std::sync::Mutex;

use chrono::{Duration as ChronoDuration, Utc};
use openidconnect::core::{CoreJsonWebKeySet, CoreJwsSigningAlgorithm, CoreRsaPrivateSigningKey};
use openidconnect::{
    Audience, EndUserEmail, IdTokenClaims, IssuerUrl, JsonWebKeyId, Nonce, PrivateSigningKey,
    StandardClaims, SubjectIdentifier,
};

use super::verify::{
    profile_identity, verify_id_token, ExtraClaims, ProviderIdToken, TokenCheck,
    MICROSOFT_PERSONAL_TENANT,
};
use super::{FlowError, Provider, ProviderIdentity};
use crate::config::OidcProviderSettings;

const PROVIDER_KEY: &str = include_str!("testdata/provider-key.pem");
const OTHER_KEY: &str = include_str!("testdata/other-key.pem");
const ISSUER: &str = "https://id.example.test";
const CLIENT_ID: &str = "stratus-client";
const NONCE: &str = "the-nonce-of-this-sign-in";

fn key(pem: &str, kid: &str) -> CoreRsaPrivateSigningKey {
    CoreRsaPrivateSigningKey::from_pem(pem, Some(JsonWebKeyId::new(kid.into()))).unwrap()
}

fn provider_jwks() -> CoreJsonWebKeySet {
    CoreJsonWebKeySet::new(vec![key(PROVIDER_KEY, "k1").as_verification_key()])
}

fn settings() -> OidcProviderSettings {
    OidcProviderSettings {
        id: "corp".into(),
        name: "Corp".into(),
        issuer: ISSUER.into(),
        client_id: CLIENT_ID.into(),
        client_secret: "secret".into(),
        ..OidcProviderSettings::default()
    }
}

struct Token {
    issuer: String,
    audiences: Vec<String>,
    nonce: String,
    expires_in: ChronoDuration,
    email_verified: Option<bool>,
    extra: ExtraClaims,
}

impl Default for Token {
    fn default() -> Self {
        Self {
            issuer: ISSUER.into(),
            audiences: vec![CLIENT_ID.into()],
            nonce: NONCE.into(),
            expires_in: ChronoDuration::minutes(5),
            email_verified: Some(true),
            extra: ExtraClaims::default(),
        }
    }
}

impl Token {
    fn signed_by(self, signing_key: &CoreRsaPrivateSigningKey) -> String {
        let now = Utc::now();
        let claims = IdTokenClaims::new(
            IssuerUrl::new(self.issuer).unwrap(),
            self.audiences.into_iter().map(Audience::new).collect(),
            now + self.expires_in,
            now - ChronoDuration::seconds(5),
            StandardClaims::new(SubjectIdentifier::new("subject-123".into()))
                .set_email(Some(EndUserEmail::new("Ana@Corp.example".into())))
                .set_email_verified(self.email_verified),
            self.extra,
        )
        .set_nonce(Some(Nonce::new(self.nonce)));
        ProviderIdToken::new(
            claims,
            signing_key,
            CoreJwsSigningAlgorithm::RsaSsaPkcs1V15Sha256,
            None,
            None,
        )
        .unwrap()
        .to_string()
    }

    fn signed(self) -> String {
        self.signed_by(&key(PROVIDER_KEY, "k1"))
    }
}

fn check(raw: &str) -> Result<ProviderIdentity, TokenCheck> {
    verify_id_token(raw, &settings(), ISSUER, &provider_jwks(), NONCE)
}

fn invalid(result: Result<ProviderIdentity, TokenCheck>) -> bool {
    matches!(result, Err(TokenCheck::Invalid(_)))
}

#[test]
fn a_good_token_gives_the_subject_and_the_normalized_email() {
    let identity = check(&Token::default().signed()).unwrap();
    assert_eq!(identity.subject, "subject-123");
    assert_eq!(identity.email.as_str(), "ana@corp.example");
}

#[test]
fn a_wrong_nonce_is_refused() {
    let raw = Token {
        nonce: "another-sign-in".into(),
        ..Token::default()
    }
    .signed();
    assert!(invalid(check(&raw)));
}

#[test]
fn a_token_for_another_client_is_refused() {
    let raw = Token {
        audiences: vec!["someone-else".into()],
        ..Token::default()
    }
    .signed();
    assert!(invalid(check(&raw)));
    let raw = Token {
        audiences: vec![CLIENT_ID.into(), "someone-else".into()],
        ..Token::default()
    }
    .signed();
    assert!(invalid(check(&raw)), "a token shared with another audience");
}

#[test]
fn another_issuer_is_refused() {
    let raw = Token {
        issuer: "https://evil.example.test".into(),
        ..Token::default()
    }
    .signed();
    assert!(invalid(check(&raw)));
}

#[test]
fn an_expired_token_is_refused() {
    let raw = Token {
        expires_in: ChronoDuration::minutes(-5),
        ..Token::default()
    }
    .signed();
    assert!(invalid(check(&raw)));
}

#[test]
fn a_token_signed_by_another_key_is_refused() {
    // Same key id as the provider's key: the signature itself must fail.
    let raw = Token::default().signed_by(&key(OTHER_KEY, "k1"));
    assert!(invalid(check(&raw)));
    // An unknown key id asks for fresh keys; with the same keys it stays refused.
    let raw = Token::default().signed_by(&key(OTHER_KEY, "k2"));
    assert_eq!(check(&raw).unwrap_err(), TokenCheck::UnknownKey);
    // After the provider rotates to that key, the refreshed set accepts it.
    let rotated = CoreJsonWebKeySet::new(vec![key(OTHER_KEY, "k2").as_verification_key()]);
    assert!(verify_id_token(&raw, &settings(), ISSUER, &rotated, NONCE).is_ok());
}

#[test]
fn an_unsigned_or_mangled_token_is_refused() {
    let raw = Token::default().signed();
    let (head, _) = raw.rsplit_once('.').unwrap();
    assert!(invalid(check(&format!("{head}."))));
    assert!(invalid(check(&format!("{head}.AAAA"))));
    assert!(invalid(check("not a token")));
}

#[test]
fn the_email_is_used_only_when_the_provider_vouches_for_it() {
    for email_verified in [Some(false), None] {
        let raw = Token {
            email_verified,
            ..Token::default()
        }
        .signed();
        assert_eq!(check(&raw).unwrap_err(), TokenCheck::EmailUnverified);
    }
}

#[test]
fn a_token_without_email_sends_us_to_userinfo_for_its_subject() {
    let signing_key = key(PROVIDER_KEY, "k1");
    let now = Utc::now();
    let claims = IdTokenClaims::new(
        IssuerUrl::new(ISSUER.into()).unwrap(),
        vec![Audience::new(CLIENT_ID.into())],
        now + ChronoDuration::minutes(5),
        now,
        StandardClaims::new(SubjectIdentifier::new("subject-123".into())),
        ExtraClaims::default(),
    )
    .set_nonce(Some(Nonce::new(NONCE.into())));
    let raw = ProviderIdToken::new(
        claims,
        &signing_key,
        CoreJwsSigningAlgorithm::RsaSsaPkcs1V15Sha256,
        None,
        None,
    )
    .unwrap()
    .to_string();
    assert_eq!(
        check(&raw).unwrap_err(),
        TokenCheck::NoEmail {
            subject: "subject-123".into()
        }
    );
}

#[test]
fn microsoft_tokens_carry_their_tenant_as_issuer() {
    let template = "https://login.microsoftonline.com/{tenantid}/v2.0";
    let settings = OidcProviderSettings {
        multi_tenant: true,
        ..settings()
    };
    let work_tenant = "https://login.microsoftonline.com/72f988bf-86f1-41af-91ab-2d7cd011db47/v2.0";
    // Work account: the email counts only with the domain-owner-verified claim.
    let raw = Token {
        issuer: work_tenant.into(),
        email_verified: None,
        ..Token::default()
    }
    .signed();
    assert_eq!(
        verify_id_token(&raw, &settings, template, &provider_jwks(), NONCE).unwrap_err(),
        TokenCheck::EmailUnverified
    );
    let raw = Token {
        issuer: work_tenant.into(),
        email_verified: None,
        extra: ExtraClaims {
            xms_edov: Some(serde_json::Value::Bool(true)),
        },
        ..Token::default()
    }
    .signed();
    assert!(verify_id_token(&raw, &settings, template, &provider_jwks(), NONCE).is_ok());
    // Personal account: Microsoft verified the address.
    let raw = Token {
        issuer: format!("https://login.microsoftonline.com/{MICROSOFT_PERSONAL_TENANT}/v2.0"),
        email_verified: None,
        ..Token::default()
    }
    .signed();
    assert!(verify_id_token(&raw, &settings, template, &provider_jwks(), NONCE).is_ok());
    // Anything that does not fit the template is refused.
    let raw = Token {
        issuer: "https://login.microsoftonline.com/evil/v2.0".into(),
        ..Token::default()
    }
    .signed();
    assert!(matches!(
        verify_id_token(&raw, &settings, template, &provider_jwks(), NONCE),
        Err(TokenCheck::Invalid(_))
    ));
}

#[test]
fn profiles_count_only_vouched_addresses() {
    let amazon = OidcProviderSettings {
        profile_email_verified: true,
        ..settings()
    };
    let profile = serde_json::json!({"user_id": "amzn1.account.X", "email": "a@b.example"});
    assert_eq!(
        profile_identity(&amazon, &profile).unwrap().subject,
        "amzn1.account.X"
    );
    assert!(matches!(
        profile_identity(&settings(), &profile),
        Err(FlowError::EmailUnverified)
    ));
}

#[test]
fn microsoft_presets_point_admins_to_the_consent_page() {
    let provider = Provider {
        settings: OidcProviderSettings {
            issuer: "https://login.microsoftonline.com/common/v2.0".into(),
            client_id: "app-id".into(),
            ..settings()
        },
        cache: Mutex::new(None),
    };
    assert_eq!(
        provider.admin_consent_url().as_deref(),
        Some("https://login.microsoftonline.com/organizations/adminconsent?client_id=app-id")
    );
}
