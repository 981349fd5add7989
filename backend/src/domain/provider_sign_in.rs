//! Signing in with an identity provider once it has vouched for a subject and an address:
//! sign in (a known identity), create a verified account (a new address), or ask the owner of
//! an existing account to prove control before anything is linked.

use chrono::NaiveDateTime;
use diesel::QueryResult;

use crate::auth::browser::Client;
use crate::auth::identities;
use crate::auth::oidc::ProviderIdentity;
use crate::auth::sessions::{self, IssuedRefresh};
use crate::config::OidcProviderSettings;
use crate::db::AnyConnection;
use crate::domain::sign_in::{self, SignedIn};
use crate::domain::{accounts, mail_allowance, memberships};
use crate::error::AppError;
use crate::mail::{templates, Mail};

/// What came of a provider's answer.
pub enum Outcome {
    SignedIn(IssuedRefresh),
    /// An account with this address exists: its owner must prove control before linking,
    /// with the password or the mailed link, in this browser (the cookie).
    ProveControl {
        cookie: String,
        mail: Option<Mail>,
    },
}

/// Signs in `identity` from `provider` (inside the caller's write transaction).
pub fn sign_in(
    conn: &mut AnyConnection,
    provider: &OidcProviderSettings,
    identity: &ProviderIdentity,
    user_agent: Option<&str>,
    public_url: &str,
    max_sessions: u32,
    now: NaiveDateTime,
) -> QueryResult<Outcome> {
    let (provider_id, subject, address) = (
        provider.id.as_str(),
        identity.subject.as_str(),
        identity.email.as_str(),
    );
    let user_id = match identities::find_user(conn, provider_id, subject)? {
        Some(user_id) => {
            identities::touch(conn, provider_id, subject, now)?;
            user_id
        }
        None => match accounts::find_by_email(conn, &identity.email)? {
            Some(user) if user.is_verified() => {
                return prove_control(conn, &user.id, provider, identity, public_url, now);
            }
            Some(user) => {
                // Signed up but never verified: the provider just proved the mailbox, and the
                // unconfirmed password may be someone else's, so it goes.
                accounts::clear_password(conn, &user.id)?;
                memberships::address_verified(conn, &user, now)?;
                identities::link(conn, &user.id, provider_id, subject, address, now)?;
                user.id
            }
            None => {
                let user_id =
                    accounts::create_verified_without_password(conn, &identity.email, now)?;
                // The provider verified the address: links waiting for it apply now.
                memberships::apply_invitations(conn, &user_id, address, now)?;
                identities::link(conn, &user_id, provider_id, subject, address, now)?;
                tracing::info!(%user_id, provider = %provider_id, "account created through a provider");
                user_id
            }
        },
    };
    sessions::start(conn, &user_id, user_agent, max_sessions, now).map(Outcome::SignedIn)
}

/// Remembers the identity for the owner of the account with its address, who must prove
/// control first: never link silently, or a provider that lets people set any address would
/// hand them someone else's account.
fn prove_control(
    conn: &mut AnyConnection,
    user_id: &str,
    provider: &OidcProviderSettings,
    identity: &ProviderIdentity,
    public_url: &str,
    now: NaiveDateTime,
) -> QueryResult<Outcome> {
    let address = identity.email.as_str();
    let pending = identities::record_pending_link(
        conn,
        user_id,
        &provider.id,
        &identity.subject,
        address,
        now,
    )?;
    // Someone could make a provider send this address again and again.
    let mail = mail_allowance::take(conn, address, now)?.then(|| {
        templates::link_identity(address, &provider.name, public_url, &pending.mail_token)
    });
    Ok(Outcome::ProveControl {
        cookie: pending.cookie,
        mail,
    })
}

/// Links the identity waiting in this browser (`cookie`) with its mailed token, and signs in
/// to the account it was waiting for; `None` when the link is unknown, used, expired or of
/// another browser (what it used up stays used up).
pub fn link_by_mail(
    conn: &mut AnyConnection,
    cookie: &str,
    mail_token: &str,
    client: &Client,
    max_sessions: u32,
    now: NaiveDateTime,
) -> Result<Option<SignedIn>, AppError> {
    let Some(user_id) = identities::complete_pending_link_by_mail(conn, cookie, mail_token, now)?
    else {
        return Ok(None);
    };
    let user = accounts::find_by_id(conn, &user_id)?.ok_or(AppError::SessionExpired)?;
    Ok(Some(sign_in::start(
        conn,
        &user,
        client,
        max_sessions,
        now,
    )?))
}
