//! Sign-in through identity providers, on the `openidconnect` crate: discovery (cached), the
//! authorization request (code flow, PKCE S256, `state`, `nonce`), the code exchange and the ID
//! token's verification (signature against the provider's JWKS, refreshed on an unknown key;
//! `iss`, `aud`, `exp`, `nonce`). OAuth 2.0 providers with a profile endpoint (Login with
//! Amazon) take the same path without an ID token.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use openidconnect::core::{
    CoreAuthenticationFlow, CoreClient, CoreGenderClaim, CoreJsonWebKeySet,
    CoreJweContentEncryptionAlgorithm, CoreJwsSigningAlgorithm, CoreProviderMetadata,
};
use openidconnect::{
    AdditionalClaims, AuthType, AuthUrl, AuthorizationCode, ClaimsVerificationError, ClientId,
    ClientSecret, CsrfToken, IdToken, IdTokenVerifier, IssuerUrl, Nonce, OAuth2TokenResponse,
    PkceCodeChallenge, PkceCodeVerifier, RedirectUrl, RequestTokenError, Scope,
    SignatureVerificationError, TokenResponse, TokenUrl,
};
use serde::{Deserialize, Serialize};
use stratus_shared::api::oidc::{is_provider_id, ProviderSummary};
use stratus_shared::email::EmailAddress;

use crate::config::{OidcProviderSettings, Settings};

/// How long discovered endpoints and keys are reused before being read again.
const DISCOVERY_TTL: Duration = Duration::from_secs(60 * 60);
/// An unknown `kid` refreshes the keys at most this often (nobody can make us hammer the
/// provider by sending tokens with made-up key ids).
const JWKS_REFRESH_MIN_INTERVAL: Duration = Duration::from_secs(30);
/// Microsoft's tenant of personal accounts: their addresses are verified by Microsoft.
const MICROSOFT_PERSONAL_TENANT: &str = "9188040d-6c67-4c5b-b112-36a304b66dad";
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

/// Who the provider says signed in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProviderIdentity {
    pub subject: String,
    pub email: EmailAddress,
}

/// Why a provider sign-in failed, before it is mapped to a page.
#[derive(Debug, thiserror::Error)]
pub enum FlowError {
    /// The provider cannot be reached, or answered something unreadable.
    #[error("provider unavailable: {0}")]
    Unavailable(String),
    /// The provider refused (e.g. `invalid_grant` for a used or foreign code).
    #[error("provider refused: {0}")]
    Refused(String),
    /// The ID token failed verification.
    #[error("token invalid: {0}")]
    TokenInvalid(String),
    /// The provider does not vouch for the email address.
    #[error("email not verified by the provider")]
    EmailUnverified,
}

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

/// A started sign-in: where to send the browser and what to remember for the answer.
pub struct Started {
    pub authorization_url: String,
    pub state: String,
    pub nonce: String,
    pub pkce_verifier: String,
}

struct Discovered {
    metadata: CoreProviderMetadata,
    fetched_at: Instant,
    jwks_fetched_at: Instant,
}

/// One configured provider and its cached discovery.
pub struct Provider {
    pub settings: OidcProviderSettings,
    cache: Mutex<Option<Arc<Discovered>>>,
}

/// The providers people can sign in with.
#[derive(Clone)]
pub struct IdentityProviders {
    providers: Arc<Vec<Arc<Provider>>>,
    http: openidconnect::reqwest::Client,
    public_url: String,
}

impl IdentityProviders {
    /// The providers with credentials in `settings`.
    pub fn from_settings(settings: &Settings) -> anyhow::Result<Self> {
        let mut providers = Vec::new();
        for provider in settings.identity_providers() {
            anyhow::ensure!(
                is_provider_id(&provider.id),
                "identity provider id {:?}: use 1–32 lower-case letters, digits, - or _",
                provider.id
            );
            anyhow::ensure!(
                !provider.issuer.trim().is_empty() || provider.is_oauth2_profile(),
                "identity provider {}: set issuer, or authorization_url, token_url and profile_url",
                provider.id
            );
            providers.push(Arc::new(Provider {
                settings: provider,
                cache: Mutex::new(None),
            }));
        }
        let http = openidconnect::reqwest::Client::builder()
            // Following redirects would let a provider's answer steer our requests (SSRF).
            .redirect(openidconnect::reqwest::redirect::Policy::none())
            .timeout(Duration::from_secs(10))
            .build()?;
        Ok(Self {
            providers: Arc::new(providers),
            http,
            public_url: settings.public_url(),
        })
    }

    /// The provider with this id, if configured.
    pub fn get(&self, id: &str) -> Option<Arc<Provider>> {
        self.providers
            .iter()
            .find(|provider| provider.settings.id == id)
            .cloned()
    }

    /// The display name of a provider id (the id itself when no longer configured).
    pub fn name_of(&self, id: &str) -> String {
        self.get(id)
            .map(|provider| provider.settings.name.clone())
            .unwrap_or_else(|| id.to_owned())
    }

    /// What the sign-in page lists.
    pub fn summaries(&self) -> Vec<ProviderSummary> {
        self.providers
            .iter()
            .map(|provider| ProviderSummary {
                id: provider.settings.id.clone(),
                name: provider.settings.name.clone(),
                admin_consent_url: provider.admin_consent_url(),
            })
            .collect()
    }

    /// The exact redirect URI registered at the provider.
    pub fn redirect_uri(&self, provider: &Provider) -> String {
        format!(
            "{}/api/auth/oidc/{}/callback",
            self.public_url, provider.settings.id
        )
    }

    /// Builds the authorization request.
    pub async fn start(&self, provider: &Provider) -> Result<Started, FlowError> {
        let redirect = RedirectUrl::new(self.redirect_uri(provider))
            .map_err(|error| FlowError::Unavailable(format!("redirect URI: {error}")))?;
        let (pkce_challenge, pkce_verifier) = PkceCodeChallenge::new_random_sha256();
        let settings = &provider.settings;
        if settings.is_oauth2_profile() {
            let client = oauth2_client(settings)?.set_redirect_uri(redirect);
            let mut request = client.authorize_url(CsrfToken::new_random);
            for scope in &settings.scopes {
                request = request.add_scope(Scope::new(scope.clone()));
            }
            let (url, state) = request.set_pkce_challenge(pkce_challenge).url();
            return Ok(Started {
                authorization_url: url.to_string(),
                state: state.secret().clone(),
                nonce: String::new(),
                pkce_verifier: pkce_verifier.secret().clone(),
            });
        }
        let discovered = self.discovered(provider).await?;
        let client = CoreClient::from_provider_metadata(
            discovered.metadata.clone(),
            ClientId::new(settings.client_id.clone()),
            Some(ClientSecret::new(settings.client_secret.clone())),
        )
        .set_redirect_uri(redirect);
        let mut request = client.authorize_url(
            CoreAuthenticationFlow::AuthorizationCode,
            CsrfToken::new_random,
            Nonce::new_random,
        );
        for scope in settings.scopes.iter().filter(|scope| *scope != "openid") {
            request = request.add_scope(Scope::new(scope.clone()));
        }
        let (url, state, nonce) = request.set_pkce_challenge(pkce_challenge).url();
        Ok(Started {
            authorization_url: url.to_string(),
            state: state.secret().clone(),
            nonce: nonce.secret().clone(),
            pkce_verifier: pkce_verifier.secret().clone(),
        })
    }

    /// Exchanges the code and returns the verified identity.
    pub async fn finish(
        &self,
        provider: &Provider,
        code: String,
        pkce_verifier: String,
        nonce: &str,
    ) -> Result<ProviderIdentity, FlowError> {
        let redirect = RedirectUrl::new(self.redirect_uri(provider))
            .map_err(|error| FlowError::Unavailable(format!("redirect URI: {error}")))?;
        let settings = &provider.settings;
        if settings.is_oauth2_profile() {
            let client = oauth2_client(settings)?.set_redirect_uri(redirect);
            let response = client
                .exchange_code(AuthorizationCode::new(code))
                .set_pkce_verifier(PkceCodeVerifier::new(pkce_verifier))
                .request_async(&self.http)
                .await
                .map_err(token_error)?;
            return self
                .profile(settings, response.access_token().secret())
                .await;
        }
        let discovered = self.discovered(provider).await?;
        let mut client = CoreClient::from_provider_metadata(
            discovered.metadata.clone(),
            ClientId::new(settings.client_id.clone()),
            Some(ClientSecret::new(settings.client_secret.clone())),
        )
        .set_redirect_uri(redirect);
        if settings.client_secret_post {
            client = client.set_auth_type(AuthType::RequestBody);
        }
        let response = client
            .exchange_code(AuthorizationCode::new(code))
            .map_err(|error| FlowError::Unavailable(format!("no token endpoint: {error}")))?
            .set_pkce_verifier(PkceCodeVerifier::new(pkce_verifier))
            .request_async(&self.http)
            .await
            .map_err(token_error)?;
        let raw = response
            .id_token()
            .ok_or_else(|| FlowError::TokenInvalid("no ID token in the answer".into()))?
            .to_string();
        let issuer = discovered.metadata.issuer().as_str().to_owned();
        let checked =
            match verify_id_token(&raw, settings, &issuer, discovered.metadata.jwks(), nonce) {
                Err(TokenCheck::UnknownKey) => {
                    // The provider may have rotated its keys since we cached them.
                    let refreshed = self.refresh_jwks(provider, &discovered).await?;
                    verify_id_token(&raw, settings, &issuer, refreshed.metadata.jwks(), nonce)
                }
                other => other,
            };
        let subject = match checked {
            Ok(identity) => return Ok(identity),
            Err(TokenCheck::NoEmail { subject }) => subject,
            Err(other) => return Err(check_error(other)),
        };
        // The verified ID token named the subject; the UserInfo answer must be about it.
        let claims: openidconnect::UserInfoClaims<ExtraClaims, CoreGenderClaim> = client
            .user_info(
                response.access_token().clone(),
                Some(openidconnect::SubjectIdentifier::new(subject.clone())),
            )
            .map_err(|_| FlowError::EmailUnverified)?
            .request_async(&self.http)
            .await
            .map_err(|error| match error {
                openidconnect::UserInfoError::ClaimsVerification(error) => {
                    FlowError::TokenInvalid(format!("userinfo: {error}"))
                }
                other => FlowError::Unavailable(format!("userinfo: {other}")),
            })?;
        let email = claims.email().ok_or(FlowError::EmailUnverified)?;
        if claims.email_verified() != Some(true) {
            return Err(FlowError::EmailUnverified);
        }
        Ok(ProviderIdentity {
            subject,
            email: EmailAddress::parse(email.as_str()).map_err(|_| FlowError::EmailUnverified)?,
        })
    }

    async fn profile(
        &self,
        settings: &OidcProviderSettings,
        access_token: &str,
    ) -> Result<ProviderIdentity, FlowError> {
        let response = self
            .http
            .get(&settings.profile_url)
            .bearer_auth(access_token)
            .send()
            .await
            .map_err(|error| FlowError::Unavailable(format!("profile: {error}")))?;
        if !response.status().is_success() {
            return Err(FlowError::Refused(format!(
                "profile endpoint answered {}",
                response.status()
            )));
        }
        let profile: serde_json::Value = response
            .json()
            .await
            .map_err(|error| FlowError::Unavailable(format!("profile: {error}")))?;
        profile_identity(settings, &profile)
    }

    async fn discovered(&self, provider: &Provider) -> Result<Arc<Discovered>, FlowError> {
        if let Some(cached) = provider.cache.lock().expect("cache lock").clone() {
            if cached.fetched_at.elapsed() < DISCOVERY_TTL {
                return Ok(cached);
            }
        }
        let metadata = self.discover(&provider.settings).await?;
        let now = Instant::now();
        let discovered = Arc::new(Discovered {
            metadata,
            fetched_at: now,
            jwks_fetched_at: now,
        });
        *provider.cache.lock().expect("cache lock") = Some(discovered.clone());
        Ok(discovered)
    }

    async fn discover(
        &self,
        settings: &OidcProviderSettings,
    ) -> Result<CoreProviderMetadata, FlowError> {
        let issuer = IssuerUrl::new(settings.issuer.trim().to_owned())
            .map_err(|error| FlowError::Unavailable(format!("issuer: {error}")))?;
        if !settings.multi_tenant {
            // Checks that the document names exactly this issuer, and loads the JWKS.
            return CoreProviderMetadata::discover_async(issuer, &self.http)
                .await
                .map_err(|error| FlowError::Unavailable(format!("discovery: {error}")));
        }
        // Microsoft's multi-tenant document names a template issuer, which the crate's
        // discovery refuses; the ID token's issuer is checked against the template instead.
        let url = format!(
            "{}/.well-known/openid-configuration",
            issuer.as_str().trim_end_matches('/')
        );
        let response = self
            .http
            .get(url)
            .send()
            .await
            .and_then(|response| response.error_for_status())
            .map_err(|error| FlowError::Unavailable(format!("discovery: {error}")))?;
        let metadata: CoreProviderMetadata = response
            .json()
            .await
            .map_err(|error| FlowError::Unavailable(format!("discovery: {error}")))?;
        let jwks = CoreJsonWebKeySet::fetch_async(metadata.jwks_uri(), &self.http)
            .await
            .map_err(|error| FlowError::Unavailable(format!("keys: {error}")))?;
        Ok(metadata.set_jwks(jwks))
    }

    async fn refresh_jwks(
        &self,
        provider: &Provider,
        current: &Arc<Discovered>,
    ) -> Result<Arc<Discovered>, FlowError> {
        if current.jwks_fetched_at.elapsed() < JWKS_REFRESH_MIN_INTERVAL {
            return Ok(current.clone());
        }
        let jwks = CoreJsonWebKeySet::fetch_async(current.metadata.jwks_uri(), &self.http)
            .await
            .map_err(|error| FlowError::Unavailable(format!("keys: {error}")))?;
        let refreshed = Arc::new(Discovered {
            metadata: current.metadata.clone().set_jwks(jwks),
            fetched_at: current.fetched_at,
            jwks_fetched_at: Instant::now(),
        });
        *provider.cache.lock().expect("cache lock") = Some(refreshed.clone());
        Ok(refreshed)
    }
}

impl Provider {
    /// Microsoft: where a tenant's administrator approves Stratus for the whole organization.
    pub fn admin_consent_url(&self) -> Option<String> {
        let settings = &self.settings;
        let rest = settings
            .issuer
            .strip_prefix("https://login.microsoftonline.com/")?;
        let tenant = rest.split('/').next().filter(|tenant| !tenant.is_empty())?;
        // `common` cannot grant for an organization; `organizations` lets the admin's own
        // tenant be picked at sign-in.
        let tenant = if tenant == "common" || tenant == "consumers" {
            "organizations"
        } else {
            tenant
        };
        Some(format!(
            "https://login.microsoftonline.com/{tenant}/adminconsent?client_id={}",
            settings.client_id
        ))
    }
}

fn oauth2_client(
    settings: &OidcProviderSettings,
) -> Result<
    oauth2::basic::BasicClient<
        oauth2::EndpointSet,
        oauth2::EndpointNotSet,
        oauth2::EndpointNotSet,
        oauth2::EndpointNotSet,
        oauth2::EndpointSet,
    >,
    FlowError,
> {
    let auth = AuthUrl::new(settings.authorization_url.clone())
        .map_err(|error| FlowError::Unavailable(format!("authorization_url: {error}")))?;
    let token = TokenUrl::new(settings.token_url.clone())
        .map_err(|error| FlowError::Unavailable(format!("token_url: {error}")))?;
    let client = oauth2::basic::BasicClient::new(ClientId::new(settings.client_id.clone()))
        .set_client_secret(ClientSecret::new(settings.client_secret.clone()))
        .set_auth_uri(auth)
        .set_token_uri(token);
    Ok(if settings.client_secret_post {
        client.set_auth_type(AuthType::RequestBody)
    } else {
        client
    })
}

fn token_error<RE, T>(error: RequestTokenError<RE, T>) -> FlowError
where
    RE: std::error::Error + 'static,
    T: oauth2::ErrorResponse + 'static,
{
    match error {
        RequestTokenError::ServerResponse(response) => FlowError::Refused(format!(
            "token endpoint: {}",
            serde_json::to_string(&response).unwrap_or_default()
        )),
        other => FlowError::Unavailable(format!("token endpoint: {other}")),
    }
}

fn check_error(check: TokenCheck) -> FlowError {
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

#[cfg(test)]
mod tests {
    //! ID tokens signed for real (RSA keys made for these tests only, in `testdata/`), checked
    //! by the same function the callback uses.

    use chrono::{Duration as ChronoDuration, Utc};
    use openidconnect::core::CoreRsaPrivateSigningKey;
    use openidconnect::{
        Audience, EndUserEmail, IdTokenClaims, JsonWebKeyId, PrivateSigningKey, StandardClaims,
        SubjectIdentifier,
    };

    use super::*;

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
        let work_tenant =
            "https://login.microsoftonline.com/72f988bf-86f1-41af-91ab-2d7cd011db47/v2.0";
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
}
