//! What signing in exchanges with the browser: the session grant and its refresh cookie, the
//! cookies of a provider sign-in, and who is asking (user agent, address).

use std::future::{ready, Ready};

use actix_web::cookie::{time, Cookie, SameSite};
use actix_web::dev::Payload;
use actix_web::{FromRequest, HttpRequest, HttpResponse};
use chrono::Duration;
use stratus_shared::api::auth::{Account, SessionGrant, CLIENT_HEADER, REFRESH_COOKIE};
use stratus_shared::api::oidc::{LINK_COOKIE, LOGIN_COOKIE};

use crate::auth::identities::{LOGIN_LIFETIME, PENDING_LINK_LIFETIME};
use crate::auth::sessions::IssuedRefresh;
use crate::error::AppError;
use crate::state::AppState;

/// The refresh cookie and the pending-link cookie live under this path.
const AUTH_PATH: &str = "/api/auth";
/// The provider sign-in cookie comes back only to the provider endpoints.
const LOGIN_COOKIE_PATH: &str = "/api/auth/oidc";

/// The sign-in answer: access token in the body, refresh token in the cookie.
pub fn session_granted(
    state: &AppState,
    session: &IssuedRefresh,
    account: Account,
) -> HttpResponse {
    let (access_token, expires_at) = state.access_tokens.issue_for_session(
        &session.user_id,
        Some(&session.session_id),
        crate::db::now(),
    );
    HttpResponse::Ok()
        .cookie(refresh_cookie(state, session))
        .insert_header(("Cache-Control", "no-store"))
        .json(SessionGrant {
            access_token,
            expires_at,
            account,
        })
}

/// 401 `session_expired`, removing the refresh cookie.
pub fn session_expired(state: &AppState) -> HttpResponse {
    HttpResponse::Unauthorized()
        .cookie(refresh_cookie_removal(state))
        .json(AppError::SessionExpired.body())
}

/// The refresh cookie of a session just started or refreshed.
pub fn refresh_cookie(state: &AppState, session: &IssuedRefresh) -> Cookie<'static> {
    let lifetime = session.session_expires_at - crate::db::now().naive_utc();
    strict(
        state,
        REFRESH_COOKIE,
        session.refresh_token.clone(),
        lifetime,
    )
}

/// Removes the refresh cookie.
pub fn refresh_cookie_removal(state: &AppState) -> Cookie<'static> {
    let mut cookie = Cookie::build(REFRESH_COOKIE, "")
        .path(AUTH_PATH)
        .http_only(true)
        .secure(is_https(state))
        .same_site(SameSite::Strict)
        .finish();
    cookie.make_removal();
    cookie
}

/// The refresh token, only on requests that also carry the web app's client header.
pub fn presented_refresh_token(request: &HttpRequest) -> Result<String, AppError> {
    if !request.headers().contains_key(CLIENT_HEADER) {
        return Err(AppError::SessionExpired);
    }
    cookie_value(request, REFRESH_COOKIE).ok_or(AppError::SessionExpired)
}

/// The cookie binding a provider sign-in in flight to this browser. Lax, not Strict: it must
/// come back on the provider's cross-site redirect.
pub fn login_cookie(state: &AppState, value: String) -> Cookie<'static> {
    Cookie::build(LOGIN_COOKIE, value)
        .path(LOGIN_COOKIE_PATH)
        .http_only(true)
        .secure(is_https(state))
        .same_site(SameSite::Lax)
        .max_age(time::Duration::seconds(LOGIN_LIFETIME.num_seconds()))
        .finish()
}

/// The provider sign-in in flight in this browser, if any.
pub fn presented_login(request: &HttpRequest) -> Option<String> {
    cookie_value(request, LOGIN_COOKIE)
}

/// The cookie of a provider identity waiting in this browser for the owner's proof.
pub fn pending_link_cookie(state: &AppState, value: String) -> Cookie<'static> {
    strict(state, LINK_COOKIE, value, PENDING_LINK_LIFETIME)
}

/// The provider identity waiting in this browser, if any (an empty cookie counts: its answer
/// removes it).
pub fn presented_pending_link(request: &HttpRequest) -> Option<String> {
    request
        .cookie(LINK_COOKIE)
        .map(|cookie| cookie.value().to_owned())
}

/// Adds the removal of the pending-link cookie to an answer.
pub fn remove_pending_link(response: &mut HttpResponse) -> Result<(), AppError> {
    let mut removal = Cookie::build(LINK_COOKIE, "").path(AUTH_PATH).finish();
    removal.make_removal();
    response
        .add_cookie(&removal)
        .map_err(|error| AppError::Internal(error.into()))
}

fn strict(
    state: &AppState,
    name: &'static str,
    value: String,
    lifetime: Duration,
) -> Cookie<'static> {
    Cookie::build(name, value)
        .path(AUTH_PATH)
        .http_only(true)
        .secure(is_https(state))
        .same_site(SameSite::Strict)
        .max_age(time::Duration::seconds(lifetime.num_seconds().max(0)))
        .finish()
}

fn is_https(state: &AppState) -> bool {
    state.settings.public_url().starts_with("https://")
}

fn cookie_value(request: &HttpRequest, name: &str) -> Option<String> {
    request
        .cookie(name)
        .map(|cookie| cookie.value().to_owned())
        .filter(|value| !value.is_empty())
}

/// The client's address of a request, with the server's trusted proxies (the peer's alone
/// where the application state is not at hand).
pub fn client_ip(request: &HttpRequest) -> Option<std::net::IpAddr> {
    match request.app_data::<actix_web::web::Data<crate::state::AppState>>() {
        Some(state) => state.trusted_proxies.client_of_request(request),
        None => request
            .peer_addr()
            .map(|address| crate::auth::client_address::canonical(address.ip())),
    }
}

/// Who is signing in: what a session records, and what guessing limits count.
#[derive(Debug, Clone)]
pub struct Client {
    /// The client's address: the peer's, or what trusted reverse proxies say
    /// ([`TrustedProxies`](crate::auth::client_address::TrustedProxies)); a forwarding
    /// header from anyone else is ignored, or it would dodge the per-address limits.
    pub address: String,
    pub user_agent: Option<String>,
}

impl FromRequest for Client {
    type Error = AppError;
    type Future = Ready<Result<Self, AppError>>;

    fn from_request(request: &HttpRequest, _payload: &mut Payload) -> Self::Future {
        let address = client_ip(request);
        ready(Ok(Client {
            address: address.map_or_else(|| "unknown".into(), |address| address.to_string()),
            user_agent: request
                .headers()
                .get(actix_web::http::header::USER_AGENT)
                .and_then(|value| value.to_str().ok())
                .map(str::to_owned),
        }))
    }
}
