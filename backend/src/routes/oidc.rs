//! Sign-in through identity providers: `/api/auth/providers`, `/api/auth/oidc/{provider}/start`
//! and `/callback` (browser redirects, not fetches), and the account's linked identities under
//! `/api/me/identities`.
//!
//! The callback answers with redirects to pages of the web app: on success the refresh cookie
//! is set and `/login/complete` restores the session through `POST /api/auth/refresh`; on
//! failure `/login/error?reason=<code>` says what happened. No token ever goes into a URL.

use std::sync::Arc;

use actix_web::{delete, get, post, web, HttpRequest, HttpResponse};
use serde::Deserialize;
use stratus_shared::api::auth::SessionGrant;
use stratus_shared::api::oidc::{
    error_page, LinkIdentityRequest, LinkedIdentity, ProviderSummary, SignInFailure, COMPLETE_PAGE,
    LINK_PAGE,
};
use stratus_shared::ApiError;

use crate::auth::browser::{self, Client};
use crate::auth::identities::{self, StartedLogin, Unlink};
use crate::auth::oidc::{FlowError, IdentityProviders, Provider, ProviderIdentity};
use crate::auth::{one_time, CurrentUser};
use crate::db::{self, Database};
use crate::domain::provider_sign_in::{self, Outcome};
use crate::error::AppError;
use crate::json_body::JsonObject;
use crate::live::LiveHub;
use crate::state::AppState;

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
    database: web::Data<Database>,
    state: web::Data<AppState>,
    providers: web::Data<IdentityProviders>,
    path: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    let provider_id = path.into_inner();
    let Some(provider) = providers.get(&provider_id) else {
        return Ok(to_error_page(SignInFailure::UnknownProvider, None));
    };
    let started = match providers.start(&provider).await {
        Ok(started) => started,
        Err(error) => {
            tracing::warn!(provider = %provider_id, %error, "provider sign-in could not start");
            return Ok(to_error_page(failure_of(&error), Some(&provider_id)));
        }
    };
    let cookie = database
        .run(move |conn| {
            Ok(identities::record_login(
                conn,
                &provider_id,
                &started.state,
                &started.nonce,
                &started.pkce_verifier,
                db::now().naive_utc(),
            )?)
        })
        .await?;
    Ok(HttpResponse::SeeOther()
        .cookie(browser::login_cookie(&state, cookie))
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
#[allow(clippy::too_many_arguments)] // actix extractors, one per argument
pub async fn callback(
    request: HttpRequest,
    client: Client,
    state: web::Data<AppState>,
    database: web::Data<Database>,
    providers: web::Data<IdentityProviders>,
    hub: web::Data<LiveHub>,
    path: web::Path<String>,
    query: web::Query<CallbackQuery>,
) -> Result<HttpResponse, AppError> {
    let provider_id = path.into_inner();
    let answered = provider_answer(
        &request,
        &database,
        &providers,
        &provider_id,
        query.into_inner(),
    );
    let (provider, identity) = match answered.await? {
        Ok(verified) => verified,
        Err(failure) => {
            let mut response = to_error_page(failure, Some(&provider_id));
            let _ = response.add_removal_cookie(&browser::login_cookie(&state, String::new()));
            return Ok(response);
        }
    };
    let public_url = state.settings.public_url();
    let max_sessions = state.settings.sessions_per_account;
    let outcome = database
        .run_write(move |conn| {
            let now = db::now().naive_utc();
            let user_agent = client.user_agent.as_deref();
            Ok(provider_sign_in::sign_in(
                conn,
                &provider.settings,
                &identity,
                user_agent,
                &public_url,
                max_sessions,
                now,
            )?)
        })
        .await?;
    if let Outcome::SignedIn(session) = &outcome {
        hub.sessions_ended(session.displaced.clone());
    }
    let mut response = outcome_answer(&state, outcome, &provider_id);
    let _ = response.add_removal_cookie(&browser::login_cookie(&state, String::new()));
    Ok(response)
}

/// Signed in: the refresh cookie and on to `/login/complete`. An existing account: the
/// pending-link cookie (and the mail, if due) and on to `/login/link`.
fn outcome_answer(state: &AppState, outcome: Outcome, provider_id: &str) -> HttpResponse {
    match outcome {
        Outcome::SignedIn(session) => HttpResponse::SeeOther()
            .cookie(browser::refresh_cookie(state, &session))
            .insert_header(("Location", COMPLETE_PAGE))
            .insert_header(("Cache-Control", "no-store"))
            .finish(),
        Outcome::ProveControl { cookie, mail } => {
            if let Some(mail) = mail {
                state.mailer.send_in_background(mail);
            }
            HttpResponse::SeeOther()
                .cookie(browser::pending_link_cookie(state, cookie))
                .insert_header(("Location", format!("{LINK_PAGE}?provider={provider_id}")))
                .insert_header(("Cache-Control", "no-store"))
                .finish()
        }
    }
}

/// The identity in the provider's answer to the sign-in this browser started, or why there is
/// none.
async fn provider_answer(
    request: &HttpRequest,
    database: &Database,
    providers: &IdentityProviders,
    provider_id: &str,
    query: CallbackQuery,
) -> Result<Result<(Arc<Provider>, ProviderIdentity), SignInFailure>, AppError> {
    let Some(provider) = providers.get(provider_id) else {
        return Ok(Err(SignInFailure::UnknownProvider));
    };
    let Some(cookie) = browser::presented_login(request) else {
        return Ok(Err(SignInFailure::StateExpired));
    };
    let Some(started) = database
        .run_write(move |conn| Ok(identities::take_login(conn, &cookie)?))
        .await?
    else {
        return Ok(Err(SignInFailure::StateExpired));
    };
    let code = match check_answer(&provider, provider_id, &started, query) {
        Ok(code) => code,
        Err(failure) => return Ok(Err(failure)),
    };
    match providers
        .finish(&provider, code, started.pkce_verifier, &started.nonce)
        .await
    {
        Ok(identity) => Ok(Ok((provider, identity))),
        Err(error) => {
            tracing::warn!(provider = %provider_id, %error, "provider sign-in refused");
            Ok(Err(failure_of(&error)))
        }
    }
}

/// Checks the provider's answer against the sign-in this browser started (state, expiry,
/// issuer) and returns its authorization code.
fn check_answer(
    provider: &Provider,
    provider_id: &str,
    started: &StartedLogin,
    query: CallbackQuery,
) -> Result<String, SignInFailure> {
    let state_matches = query
        .state
        .as_deref()
        .is_some_and(|presented| one_time::hash(presented) == started.state_hash);
    if started.provider_id != provider_id || !state_matches {
        tracing::warn!(provider = %provider_id, "provider answer with a state this browser did not start");
        return Err(SignInFailure::StateMismatch);
    }
    if started.expires_at <= db::now().naive_utc() {
        return Err(SignInFailure::StateExpired);
    }
    if let Some(answered_by) = query.iss.as_deref() {
        let settings = &provider.settings;
        let expected = settings.issuer.trim().trim_end_matches('/');
        if !settings.multi_tenant
            && !settings.is_oauth2_profile()
            && answered_by.trim_end_matches('/') != expected
        {
            tracing::warn!(provider = %provider_id, "answer from another issuer (mix-up)");
            return Err(SignInFailure::StateMismatch);
        }
    }
    if let Some(error) = query.error.as_deref() {
        let failure = provider_error_failure(error, query.error_description.as_deref());
        tracing::info!(provider = %provider_id, %error, ?failure, "the provider answered with an error");
        return Err(failure);
    }
    query.code.ok_or(SignInFailure::ProviderError)
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
    client: Client,
    state: web::Data<AppState>,
    database: web::Data<Database>,
    hub: web::Data<LiveHub>,
    body: JsonObject<LinkIdentityRequest>,
) -> Result<HttpResponse, AppError> {
    let cookie = browser::presented_pending_link(&request)
        .filter(|value| !value.is_empty())
        .ok_or(AppError::LinkInvalid)?;
    let token = body.into_inner().token;
    let max_sessions = state.settings.sessions_per_account;
    let signed_in = database
        .run_write(move |conn| {
            let now = db::now().naive_utc();
            provider_sign_in::link_by_mail(conn, &cookie, &token, &client, max_sessions, now)
        })
        .await?
        .ok_or(AppError::LinkInvalid)?;
    hub.sessions_ended(signed_in.session.displaced.clone());
    let mut response = browser::session_granted(&state, &signed_in.session, signed_in.account);
    browser::remove_pending_link(&mut response)?;
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

fn to_error_page(failure: SignInFailure, provider_id: Option<&str>) -> HttpResponse {
    HttpResponse::SeeOther()
        .insert_header(("Location", error_page(failure, provider_id)))
        .insert_header(("Cache-Control", "no-store"))
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
        .run_write(move |conn| Ok(identities::unlink(conn, &user.user_id, &identity_id)?))
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
