//! What every request handler may be handed: the application's shared state.

use std::sync::Arc;

use crate::auth::client_address::TrustedProxies;
use crate::auth::dms_tokens::DmsTokens;
use crate::auth::password::Passwords;
use crate::auth::tokens::AccessTokens;
use crate::config::Settings;
use crate::mail::Mailer;
use crate::secrets::Secrets;

/// Everything a request handler may need, shared by all workers.
#[derive(Clone)]
pub struct AppState {
    pub settings: Arc<Settings>,
    pub secrets: Arc<Secrets>,
    /// Issues and checks people's access tokens.
    pub access_tokens: AccessTokens,
    /// Hashes and checks passwords.
    pub passwords: Passwords,
    /// Sends mail.
    pub mailer: Mailer,
    /// Issues and checks DMS tokens.
    pub dms_tokens: DmsTokens,
    /// The reverse proxies whose forwarding header tells the client's address.
    pub trusted_proxies: TrustedProxies,
}

/// The serialized OpenAPI document, built once at start-up.
#[derive(Clone)]
pub struct OpenApiDocument(pub Arc<str>);
