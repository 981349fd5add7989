//! Sign-in through identity providers, on the `openidconnect` crate: discovery (cached), the
//! authorization request (code flow, PKCE S256, `state`, `nonce`), the code exchange and the ID
//! token's verification (signature against the provider's JWKS, refreshed on an unknown key;
//! `iss`, `aud`, `exp`, `nonce`). OAuth 2.0 providers with a profile endpoint (Login with
//! Amazon) take the same path without an ID token.

mod discovery;
#[cfg(test)]
mod tests;
mod verify;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use openidconnect::core::{CoreAuthenticationFlow, CoreClient, CoreGenderClaim};
use openidconnect::{
    AuthType, AuthUrl, AuthorizationCode, ClientId, ClientSecret, CsrfToken, Nonce,
    OAuth2TokenResponse, PkceCodeChallenge, PkceCodeVerifier, RedirectUrl, RequestTokenError,
    Scope, TokenResponse, TokenUrl,
};
use stratus_shared::api::oidc::{is_provider_id, ProviderSummary};
use stratus_shared::email::EmailAddress;

use crate::config::{OidcProviderSettings, Settings};
use discovery::Discovered;
use verify::check_error;
pub use verify::{profile_identity, verify_id_token, ExtraClaims, ProviderIdToken, TokenCheck};

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

/// A started sign-in: where to send the browser and what to remember for the answer.
pub struct Started {
    pub authorization_url: String,
    pub state: String,
    pub nonce: String,
    pub pkce_verifier: String,
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
        let code = AuthorizationCode::new(code);
        let pkce_verifier = PkceCodeVerifier::new(pkce_verifier);
        if settings.is_oauth2_profile() {
            return self
                .finish_oauth2(settings, redirect, code, pkce_verifier)
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
            .exchange_code(code)
            .map_err(|error| FlowError::Unavailable(format!("no token endpoint: {error}")))?
            .set_pkce_verifier(pkce_verifier)
            .request_async(&self.http)
            .await
            .map_err(token_error)?;
        let raw = response
            .id_token()
            .ok_or_else(|| FlowError::TokenInvalid("no ID token in the answer".into()))?
            .to_string();
        let subject = match self
            .check_id_token(provider, discovered, &raw, nonce)
            .await?
        {
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

    /// Verifies the ID token against the cached keys, and once more against fresh ones when
    /// it names a key the cache does not hold (the provider may have rotated its keys).
    async fn check_id_token(
        &self,
        provider: &Provider,
        discovered: Arc<Discovered>,
        raw: &str,
        nonce: &str,
    ) -> Result<Result<ProviderIdentity, TokenCheck>, FlowError> {
        let settings = &provider.settings;
        let issuer = discovered.metadata.issuer().as_str().to_owned();
        Ok(
            match verify_id_token(raw, settings, &issuer, discovered.metadata.jwks(), nonce) {
                Err(TokenCheck::UnknownKey) => {
                    let refreshed = self.refresh_jwks(provider, &discovered).await?;
                    verify_id_token(raw, settings, &issuer, refreshed.metadata.jwks(), nonce)
                }
                other => other,
            },
        )
    }

    /// An OAuth 2.0 provider: the code buys an access token, which reads the profile.
    async fn finish_oauth2(
        &self,
        settings: &OidcProviderSettings,
        redirect: RedirectUrl,
        code: AuthorizationCode,
        pkce_verifier: PkceCodeVerifier,
    ) -> Result<ProviderIdentity, FlowError> {
        let response = oauth2_client(settings)?
            .set_redirect_uri(redirect)
            .exchange_code(code)
            .set_pkce_verifier(pkce_verifier)
            .request_async(&self.http)
            .await
            .map_err(token_error)?;
        self.profile(settings, response.access_token().secret())
            .await
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
