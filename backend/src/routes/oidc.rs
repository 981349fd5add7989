//! Sign-in through identity providers: `/api/auth/providers`, `/api/auth/oidc/{provider}/start`
//! and `/callback` (browser redirects, not fetches), and the account's linked identities under
//! `/api/me/identities`.
//!
//! The callback answers with redirects to pages of the web app: on success the refresh cookie
//! is set and `/login/complete` restores the session through `POST /api/auth/refresh`; on
//! failure `/login/error?reason=<code>` says what happened. No token ever goes into a URL.

use actix_web::cookie::{time, Cookie, SameSite};
use actix_web::{delete, get, post, web, HttpRequest, HttpResponse};
use diesel::Connection;
use serde::Deserialize;
use stratus_shared::api::auth::SessionGrant;
use stratus_shared::api::oidc::{
    error_page, LinkIdentityRequest, LinkedIdentity, ProviderSummary, SignInFailure, COMPLETE_PAGE,
    LINK_COOKIE, LINK_PAGE, LOGIN_COOKIE,
};
use stratus_shared::ApiError;

use crate::auth::identities::{self, Unlink, LOGIN_LIFETIME, PENDING_LINK_LIFETIME};
use crate::auth::oidc::{FlowError, IdentityProviders, ProviderIdentity};
use crate::auth::sessions::{self, IssuedRefresh};
use crate::auth::throttle;
use crate::auth::{one_time, CurrentUser};
use crate::db::{Database, DatabaseError};
use crate::domain::accounts;
use crate::error::AppError;
use crate::mail::Mail;
use crate::routes::auth::{grant_session, now, session_cookie, user_agent, MAILS_PER_ADDRESS};
use crate::state::AppState;

const LOGIN_COOKIE_PATH: &str = "/api/auth/oidc";

/// The identity providers people can sign in with (only those configured with credentials).
#[utoipa::path(
    tag = "auth",
    responses((status = 200, description = "Providers for the sign-in page", body = Vec<ProviderSummary>))
)]
#[get("/auth/providers")]
pub async fn list_providers(providers: web::Data<IdentityProviders>) -> HttpResponse {
    HttpResponse::Ok().json(providers.summaries())
}

/// Start signing in with a provider: a browser navigation that ends at the provider.
/// Binds `state`, `nonce` and the PKCE verifier to this browser (HttpOnly cookie, 10 minutes,
/// single use).
#[utoipa::path(
    tag = "auth",
    params(("provider" = String, Path, description = "Provider id from /api/auth/providers")),
    responses((status = 303, description = "To the provider, or to /login/error?reason=<code>"))
)]
#[get("/auth/oidc/{provider}/start")]
pub async fn start(
    state: web::Data<AppState>,
    database: web::Data<Database>,
    providers: web::Data<IdentityProviders>,
    path: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    let provider_id = path.into_inner();
    let Some(provider) = providers.get(&provider_id) else {
        return Ok(to_error_page(&state, SignInFailure::UnknownProvider, None));
    };
    let started = match providers.start(&provider).await {
        Ok(started) => started,
        Err(error) => {
            tracing::warn!(provider = %provider_id, %error, "provider sign-in could not start");
            return Ok(to_error_page(
                &state,
                failure_of(&error),
                Some(&provider_id),
            ));
        }
    };
    let id = provider_id.clone();
    let cookie = database
        .run(move |conn| {
            Ok(identities::record_login(
                conn,
                &id,
                &started.state,
                &started.nonce,
                &started.pkce_verifier,
                now(),
            )?)
        })
        .await?;
    Ok(HttpResponse::SeeOther()
        .cookie(login_cookie(&state, cookie))
        .insert_header(("Location", started.authorization_url))
        .insert_header(("Cache-Control", "no-store"))
        .finish())
}

/// What the provider sends back.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
pub struct CallbackQuery {
    code: Option<String>,
    state: Option<String>,
    error: Option<String>,
    error_description: Option<String>,
    /// RFC 9207: the issuer that answered, against mix-up attacks.
    iss: Option<String>,
}

/// The provider's answer (exact redirect URI `{public_url}/api/auth/oidc/{provider}/callback`).
/// Signs in, creates the account, or asks the owner of an existing account to prove control.
#[utoipa::path(
    tag = "auth",
    params(("provider" = String, Path, description = "Provider id"), CallbackQuery),
    responses((status = 303, description = "To /login/complete (refresh cookie set), /login/link, or /login/error?reason=<code>"))
)]
#[get("/auth/oidc/{provider}/callback")]
pub async fn callback(
    request: HttpRequest,
    state: web::Data<AppState>,
    database: web::Data<Database>,
    providers: web::Data<IdentityProviders>,
    path: web::Path<String>,
    query: web::Query<CallbackQuery>,
) -> Result<HttpResponse, AppError> {
    let provider_id = path.into_inner();
    let query = query.into_inner();
    let fail = |failure: SignInFailure| {
        let mut response = to_error_page(&state, failure, Some(&provider_id));
        let _ = response.add_removal_cookie(&login_cookie(&state, String::new()));
        response
    };
    let Some(provider) = providers.get(&provider_id) else {
        return Ok(fail(SignInFailure::UnknownProvider));
    };
    let Some(cookie) = request
        .cookie(LOGIN_COOKIE)
        .map(|cookie| cookie.value().to_owned())
        .filter(|value| !value.is_empty())
    else {
        return Ok(fail(SignInFailure::StateExpired));
    };
    let Some(started) = database
        .run(move |conn| Ok(identities::take_login(conn, &cookie)?))
        .await?
    else {
        return Ok(fail(SignInFailure::StateExpired));
    };
    let state_matches = query
        .state
        .as_deref()
        .is_some_and(|presented| one_time::hash(presented) == started.state_hash);
    if started.provider_id != provider_id || !state_matches {
        tracing::warn!(provider = %provider_id, "provider answer with a state this browser did not start");
        return Ok(fail(SignInFailure::StateMismatch));
    }
    if started.expires_at <= now() {
        return Ok(fail(SignInFailure::StateExpired));
    }
    if let Some(answered_by) = query.iss.as_deref() {
        let settings = &provider.settings;
        let expected = settings.issuer.trim().trim_end_matches('/');
        if !settings.multi_tenant
            && !settings.is_oauth2_profile()
            && answered_by.trim_end_matches('/') != expected
        {
            tracing::warn!(provider = %provider_id, "answer from another issuer (mix-up)");
            return Ok(fail(SignInFailure::StateMismatch));
        }
    }
    if let Some(error) = query.error.as_deref() {
        let failure = provider_error_failure(error, query.error_description.as_deref());
        tracing::info!(provider = %provider_id, %error, ?failure, "the provider answered with an error");
        return Ok(fail(failure));
    }
    let Some(code) = query.code else {
        return Ok(fail(SignInFailure::ProviderError));
    };
    let identity = match providers
        .finish(&provider, code, started.pkce_verifier, &started.nonce)
        .await
    {
        Ok(identity) => identity,
        Err(error) => {
            tracing::warn!(provider = %provider_id, %error, "provider sign-in refused");
            return Ok(fail(failure_of(&error)));
        }
    };

    let user_agent = user_agent(&request);
    let id = provider_id.clone();
    let mail_context = MailContext {
        public_url: state.settings.public_url(),
        provider_name: provider.settings.name.clone(),
    };
    let outcome = database
        .run(move |conn| {
            conn.transaction::<_, DatabaseError, _>(|conn| {
                Ok(sign_in_with(
                    conn,
                    &id,
                    &identity,
                    user_agent.as_deref(),
                    &mail_context,
                )?)
            })
        })
        .await?;
    let mut response = match outcome {
        Outcome::SignedIn(issued) => HttpResponse::SeeOther()
            .cookie(session_cookie(&state, &issued))
            .insert_header(("Location", COMPLETE_PAGE))
            .insert_header(("Cache-Control", "no-store"))
            .finish(),
        Outcome::ProveControl { cookie, mail } => {
            if let Some(mail) = mail {
                state.mailer.send_in_background(mail);
            }
            HttpResponse::SeeOther()
                .cookie(pending_link_cookie(&state, cookie))
                .insert_header(("Location", format!("{LINK_PAGE}?provider={provider_id}")))
                .insert_header(("Cache-Control", "no-store"))
                .finish()
        }
    };
    let _ = response.add_removal_cookie(&login_cookie(&state, String::new()));
    Ok(response)
}

enum Outcome {
    SignedIn(IssuedRefresh),
    /// An account with this address exists: its owner must prove control before linking,
    /// with the password or the mailed link, in this browser (the cookie).
    ProveControl {
        cookie: String,
        mail: Option<Mail>,
    },
}

struct MailContext {
    public_url: String,
    provider_name: String,
}

fn sign_in_with(
    conn: &mut crate::db::AnyConnection,
    provider_id: &str,
    identity: &ProviderIdentity,
    user_agent: Option<&str>,
    context: &MailContext,
) -> diesel::QueryResult<Outcome> {
    let now = now();
    let user_id = match identities::find_user(conn, provider_id, &identity.subject)? {
        Some(user_id) => {
            identities::touch(conn, provider_id, &identity.subject, now)?;
            user_id
        }
        None => match accounts::find_by_email(conn, &identity.email)? {
            Some(user) if user.is_verified() => {
                // Never link silently: a provider that lets people set any address would
                // otherwise hand them someone else's account.
                let pending = identities::record_pending_link(
                    conn,
                    &user.id,
                    provider_id,
                    &identity.subject,
                    identity.email.as_str(),
                    now,
                )?;
                let address = identity.email.as_str();
                // Someone could make a provider send this address again and again.
                let mail =
                    if throttle::retry_after(conn, MAILS_PER_ADDRESS, address, now)?.is_some() {
                        None
                    } else {
                        throttle::record(conn, MAILS_PER_ADDRESS, address, now)?;
                        Some(link_mail(context, address, &pending.mail_token))
                    };
                return Ok(Outcome::ProveControl {
                    cookie: pending.cookie,
                    mail,
                });
            }
            Some(user) => {
                // Signed up but never verified: the provider just proved the mailbox, and the
                // unconfirmed password may be someone else's, so it goes.
                accounts::clear_password(conn, &user.id)?;
                accounts::mark_verified(conn, &user, now)?;
                identities::link(
                    conn,
                    &user.id,
                    provider_id,
                    &identity.subject,
                    identity.email.as_str(),
                    now,
                )?;
                user.id
            }
            None => {
                let user_id =
                    accounts::create_verified_without_password(conn, &identity.email, now)?;
                // The provider verified the address: links waiting for it apply now.
                crate::domain::memberships::apply_invitations(
                    conn,
                    &user_id,
                    identity.email.as_str(),
                    now,
                )?;
                identities::link(
                    conn,
                    &user_id,
                    provider_id,
                    &identity.subject,
                    identity.email.as_str(),
                    now,
                )?;
                tracing::info!(%user_id, provider = %provider_id, "account created through a provider");
                user_id
            }
        },
    };
    Ok(Outcome::SignedIn(sessions::start(
        conn, &user_id, user_agent, now,
    )?))
}

fn link_mail(context: &MailContext, address: &str, token: &str) -> Mail {
    Mail {
        to: address.to_owned(),
        subject: format!("Link {} to your Stratus account?", context.provider_name),
        body: format!(
            "Someone (probably you) signed in to Stratus with {provider} using this address, \
             which already has a Stratus account.\n\nTo link {provider} to your account, open \
             this link in the same browser within 30 minutes:\n\n{url}/link-identity#token={token}\n\n\
             Or sign in there with your password. If this was not you, ignore this mail: nothing \
             is linked without you.",
            provider = context.provider_name,
            url = context.public_url,
        ),
    }
}

/// Link a provider identity with the mailed link: only in the browser that signed in at the
/// provider (its `stratus_link` cookie), which then holds a session like after any sign-in.
#[utoipa::path(
    tag = "auth",
    request_body = LinkIdentityRequest,
    responses(
        (status = 200, description = "Linked and signed in; sets the refresh cookie", body = SessionGrant),
        (status = 400, description = "link_invalid: unknown, used or expired link, or another browser", body = ApiError),
    )
)]
#[post("/auth/link-identity")]
pub async fn link_identity(
    request: HttpRequest,
    state: web::Data<AppState>,
    database: web::Data<Database>,
    body: web::Json<LinkIdentityRequest>,
) -> Result<HttpResponse, AppError> {
    let cookie = request
        .cookie(LINK_COOKIE)
        .map(|cookie| cookie.value().to_owned())
        .filter(|value| !value.is_empty())
        .ok_or(AppError::LinkInvalid)?;
    let token = body.into_inner().token;
    let user_agent = user_agent(&request);
    let issued = database
        .run(move |conn| {
            conn.transaction::<_, DatabaseError, _>(|conn| {
                let now = now();
                let Some(user_id) =
                    identities::complete_pending_link_by_mail(conn, &cookie, &token, now)?
                else {
                    return Ok(None);
                };
                Ok(Some(sessions::start(
                    conn,
                    &user_id,
                    user_agent.as_deref(),
                    now,
                )?))
            })
        })
        .await?
        .ok_or(AppError::LinkInvalid)?;
    let mut response = grant_session(&state, &database, issued).await?;
    let mut removal = Cookie::build(LINK_COOKIE, "").path("/api/auth").finish();
    removal.make_removal();
    response
        .add_cookie(&removal)
        .map_err(|error| AppError::Internal(error.into()))?;
    Ok(response)
}

/// Maps the provider's `error` (and Microsoft's AADSTS codes in the description).
pub fn provider_error_failure(error: &str, description: Option<&str>) -> SignInFailure {
    let description = description.unwrap_or_default();
    if error == "consent_required"
        || description.contains("AADSTS65001")
        || description.contains("AADSTS90094")
        || description.to_ascii_lowercase().contains("admin approval")
    {
        SignInFailure::AdminConsentRequired
    } else if error == "access_denied" {
        SignInFailure::Cancelled
    } else if error == "temporarily_unavailable" || error == "server_error" {
        SignInFailure::ProviderUnavailable
    } else {
        SignInFailure::ProviderError
    }
}

fn failure_of(error: &FlowError) -> SignInFailure {
    match error {
        FlowError::Unavailable(_) => SignInFailure::ProviderUnavailable,
        FlowError::Refused(_) => SignInFailure::ProviderError,
        FlowError::TokenInvalid(_) => SignInFailure::TokenInvalid,
        FlowError::EmailUnverified => SignInFailure::EmailUnverified,
    }
}

fn to_error_page(
    _state: &AppState,
    failure: SignInFailure,
    provider_id: Option<&str>,
) -> HttpResponse {
    HttpResponse::SeeOther()
        .insert_header(("Location", error_page(failure, provider_id)))
        .insert_header(("Cache-Control", "no-store"))
        .finish()
}

fn login_cookie(state: &AppState, value: String) -> Cookie<'static> {
    // Lax, not Strict: it must come back on the provider's cross-site redirect.
    Cookie::build(LOGIN_COOKIE, value)
        .path(LOGIN_COOKIE_PATH)
        .http_only(true)
        .secure(state.settings.public_url().starts_with("https://"))
        .same_site(SameSite::Lax)
        .max_age(time::Duration::seconds(LOGIN_LIFETIME.num_seconds()))
        .finish()
}

fn pending_link_cookie(state: &AppState, value: String) -> Cookie<'static> {
    Cookie::build(LINK_COOKIE, value)
        .path("/api/auth")
        .http_only(true)
        .secure(state.settings.public_url().starts_with("https://"))
        .same_site(SameSite::Strict)
        .max_age(time::Duration::seconds(PENDING_LINK_LIFETIME.num_seconds()))
        .finish()
}

/// The providers linked to the signed-in account.
#[utoipa::path(
    tag = "account",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Linked identities, oldest first", body = Vec<LinkedIdentity>),
        (status = 401, description = "unauthorized", body = ApiError),
    )
)]
#[get("/me/identities")]
pub async fn list_identities(
    user: CurrentUser,
    database: web::Data<Database>,
    providers: web::Data<IdentityProviders>,
) -> Result<HttpResponse, AppError> {
    let rows = database
        .run(move |conn| Ok(identities::list(conn, &user.user_id)?))
        .await?;
    let linked: Vec<LinkedIdentity> = rows
        .into_iter()
        .map(|row| LinkedIdentity {
            provider_name: providers.name_of(&row.provider_id),
            id: row.id,
            provider_id: row.provider_id,
            email: row.email,
            created_at: row.created_at.and_utc(),
            last_used_at: row.last_used_at.and_utc(),
        })
        .collect();
    Ok(HttpResponse::Ok()
        .insert_header(("Cache-Control", "no-store"))
        .json(linked))
}

/// Unlink a provider, as long as another way in (a password or another provider) remains.
#[utoipa::path(
    tag = "account",
    security(("bearer" = [])),
    params(("identity_id" = String, Path, description = "The linked identity")),
    responses(
        (status = 204, description = "Unlinked"),
        (status = 401, description = "unauthorized", body = ApiError),
        (status = 404, description = "not_found", body = ApiError),
        (status = 409, description = "last_sign_in_method: no other way in would remain", body = ApiError),
    )
)]
#[delete("/me/identities/{identity_id}")]
pub async fn unlink_identity(
    user: CurrentUser,
    database: web::Data<Database>,
    path: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    let identity_id = path.into_inner();
    let outcome = database
        .run(move |conn| Ok(identities::unlink(conn, &user.user_id, &identity_id)?))
        .await?;
    match outcome {
        Unlink::Done => Ok(HttpResponse::NoContent().finish()),
        Unlink::NotFound => Err(AppError::NotFound(
            "This account has no such linked identity.".into(),
        )),
        Unlink::LastWayIn => Err(AppError::LastSignInMethod),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn microsoft_consent_errors_get_the_admin_page() {
        assert_eq!(
            provider_error_failure(
                "invalid_client",
                Some("AADSTS65001: The user or administrator has not consented")
            ),
            SignInFailure::AdminConsentRequired
        );
        assert_eq!(
            provider_error_failure("consent_required", None),
            SignInFailure::AdminConsentRequired
        );
        assert_eq!(
            provider_error_failure("access_denied", Some("End-User aborted interaction")),
            SignInFailure::Cancelled
        );
        assert_eq!(
            provider_error_failure("invalid_scope", None),
            SignInFailure::ProviderError
        );
    }
}
