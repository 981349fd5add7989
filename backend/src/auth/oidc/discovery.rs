//! The provider's discovery document and keys, fetched once and reused for an hour; an
//! unknown key id reads the keys again (at most every 30 seconds).

use std::sync::Arc;
use std::time::{Duration, Instant};

use openidconnect::core::{CoreJsonWebKeySet, CoreProviderMetadata};
use openidconnect::IssuerUrl;

use super::{FlowError, IdentityProviders, Provider};
use crate::config::OidcProviderSettings;

/// How long discovered endpoints and keys are reused before being read again.
const DISCOVERY_TTL: Duration = Duration::from_secs(60 * 60);
/// An unknown `kid` refreshes the keys at most this often (nobody can make us hammer the
/// provider by sending tokens with made-up key ids).
const JWKS_REFRESH_MIN_INTERVAL: Duration = Duration::from_secs(30);

pub(super) struct Discovered {
    pub(super) metadata: CoreProviderMetadata,
    fetched_at: Instant,
    jwks_fetched_at: Instant,
}

impl IdentityProviders {
    pub(super) async fn discovered(
        &self,
        provider: &Provider,
    ) -> Result<Arc<Discovered>, FlowError> {
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

    pub(super) async fn refresh_jwks(
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
