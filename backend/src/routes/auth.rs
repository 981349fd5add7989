//! `/api/auth/*`: sign-up, email verification, sign-in, session refresh, sign-out and
//! password reset. Answers never reveal whether an account exists.

use actix_web::cookie::{time, Cookie, SameSite};
use actix_web::{post, web, HttpRequest, HttpResponse};
use chrono::{NaiveDateTime, Utc};
use diesel::Connection;
use stratus_shared::api::auth::{
    EmailRequest, LoginRequest, Notice, ResetPasswordRequest, SessionGrant, SignupRequest,
    VerifyEmailRequest, CLIENT_HEADER, REFRESH_COOKIE,
};
use stratus_shared::api::oidc::LINK_COOKIE;
use stratus_shared::email::{EmailAddress, EmailError};
use stratus_shared::password::{NewPassword, PasswordError};
use stratus_shared::{ApiError, ErrorCode};

use crate::auth::email_tokens::{self, Purpose};
use crate::auth::identities;
use crate::auth::sessions::{self, IssuedRefresh, Refresh};
use crate::auth::throttle::{self, Limit};
use crate::db::{AnyConnection, Database, DatabaseError};
use crate::domain::accounts::{self, User};
use crate::error::AppError;
use crate::live::LiveHub;
use crate::mail::Mail;
use crate::state::AppState;

/// Mails about one address: at most this many an hour (sign-up, resend, reset together).
pub(crate) const MAILS_PER_ADDRESS: Limit = Limit {
    bucket: "mail_per_address",
    max: 5,
    window: chrono::Duration::hours(1),
};

const SIGNUP_NOTICE: &str = "Thanks! If this address can be used, a message is on its way to it. \
     Follow the link in it to verify your address.";
const RESEND_NOTICE: &str =
    "If an account with this address is waiting for verification, a new link is on its way.";
const FORGOT_NOTICE: &str =
    "If an account with this address exists, a link to choose a new password is on its way.";

pub(crate) fn now() -> NaiveDateTime {
    Utc::now().naive_utc()
}

/// Reads an email address from a request body.
pub fn parse_email(raw: &str) -> Result<EmailAddress, AppError> {
    EmailAddress::parse(raw).map_err(|error: EmailError| AppError::Validation {
        code: ErrorCode::EmailInvalid,
        message: error.to_string(),
    })
}

/// Checks a new password against the policy.
pub fn parse_new_password(raw: &str, email: &str) -> Result<NewPassword, AppError> {
    NewPassword::parse(raw, email).map_err(|error| AppError::Validation {
        code: match error {
            PasswordError::TooShort => ErrorCode::PasswordTooShort,
            PasswordError::TooLong => ErrorCode::PasswordTooLong,
            PasswordError::SameAsEmail => ErrorCode::PasswordSameAsEmail,
            PasswordError::TooCommon => ErrorCode::PasswordTooCommon,
        },
        message: error.to_string(),
    })
}

/// Runs argon2 (or other CPU-heavy work) on the blocking pool: it takes tens of milliseconds
/// by design.
pub(crate) async fn blocking<T: Send + 'static>(
    work: impl FnOnce() -> T + Send + 'static,
) -> Result<T, AppError> {
    web::block(work)
        .await
        .map_err(|error| AppError::Internal(anyhow::anyhow!("blocking pool: {error}")))
}

fn link(state: &AppState, page: &str, token: &str) -> String {
    // The token rides in the fragment: browsers never send it to the server or a proxy log.
    format!("{}/{page}#token={token}", state.settings.public_url())
}

/// Create an account with email and password. The answer is the same whether or not the
/// address already has an account; its owner gets a mail either way.
#[utoipa::path(
    tag = "auth",
    request_body = SignupRequest,
    responses(
        (status = 202, description = "A mail is on its way (or the owner was told)", body = Notice),
        (status = 400, description = "Unreadable body", body = ApiError),
        (status = 422, description = "Email or password breaks a rule: email_invalid, password_too_short, password_too_long, password_same_as_email, password_too_common", body = ApiError),
    )
)]
#[post("/auth/signup")]
pub async fn signup(
    state: web::Data<AppState>,
    database: web::Data<Database>,
    body: web::Json<SignupRequest>,
) -> Result<HttpResponse, AppError> {
    let email = EmailAddress::parse(&body.email)?;
    let password = parse_new_password(&body.password, email.as_str())?;
    let passwords = state.passwords.clone();
    let password_hash = blocking(move || passwords.hash(&password)).await??;

    let state_for_db = state.clone();
    let mail = database
        .run(move |conn| {
            let now = now();
            if !take_mail_allowance(conn, &email, now)? {
                return Ok(None);
            }
            let mail = match accounts::find_by_email(conn, &email)? {
                None => {
                    let user_id = accounts::create(conn, &email, &password_hash, now)?;
                    verification_mail(conn, &state_for_db, &user_id, &email, now)?
                }
                Some(user) if !user.is_verified() => {
                    // The newest sign-up's password wins; the mailed link still needs it.
                    accounts::set_password_hash(conn, &user.id, &password_hash)?;
                    verification_mail(conn, &state_for_db, &user.id, &email, now)?
                }
                Some(_) => Mail {
                    to: email.to_string(),
                    subject: "You already have a Stratus account".into(),
                    body: format!(
                        "Someone (probably you) tried to create a Stratus account with this address, \
                         but it already has one.\n\nSign in at {}/login. If you forgot your password, \
                         choose a new one at {}/forgot-password.\n\nIf this was not you, you can ignore this mail.",
                        state_for_db.settings.public_url(),
                        state_for_db.settings.public_url()
                    ),
                },
            };
            Ok(Some(mail))
        })
        .await?;
    Ok(mail_accepted(&state, mail, SIGNUP_NOTICE))
}

/// Counts one mail about `email`; false when the address has had its share this hour (the
/// answer to the caller stays the same, only the mail is skipped).
fn take_mail_allowance(
    conn: &mut AnyConnection,
    email: &EmailAddress,
    now: NaiveDateTime,
) -> Result<bool, DatabaseError> {
    if throttle::retry_after(conn, MAILS_PER_ADDRESS, email.as_str(), now)?.is_some() {
        tracing::info!("mail suppressed by the per-address limit");
        return Ok(false);
    }
    throttle::record(conn, MAILS_PER_ADDRESS, email.as_str(), now)?;
    Ok(true)
}

/// Sends the mail (if one is due) in the background and answers 202 with the same notice
/// either way.
fn mail_accepted(state: &AppState, mail: Option<Mail>, notice: &str) -> HttpResponse {
    if let Some(mail) = mail {
        state.mailer.send_in_background(mail);
    }
    HttpResponse::Accepted().json(Notice {
        message: notice.into(),
    })
}

fn verification_mail(
    conn: &mut AnyConnection,
    state: &AppState,
    user_id: &str,
    email: &EmailAddress,
    now: NaiveDateTime,
) -> Result<Mail, DatabaseError> {
    let token = email_tokens::issue(conn, user_id, Purpose::VerifyEmail, now)?;
    Ok(Mail {
        to: email.to_string(),
        subject: "Verify your email address for Stratus".into(),
        body: format!(
            "Welcome to Stratus!\n\nTo finish creating your account, open this link and confirm with \
             your password:\n\n{}\n\nThe link works once and for 24 hours. If you did not create an \
             account, you can ignore this mail.",
            link(state, "verify-email", &token)
        ),
    })
}

/// Send a new verification link. Same answer whether or not such an account is waiting.
#[utoipa::path(
    tag = "auth",
    request_body = EmailRequest,
    responses(
        (status = 202, description = "A new link is on its way if it applies", body = Notice),
        (status = 422, description = "email_invalid", body = ApiError),
    )
)]
#[post("/auth/resend-verification")]
pub async fn resend_verification(
    state: web::Data<AppState>,
    database: web::Data<Database>,
    body: web::Json<EmailRequest>,
) -> Result<HttpResponse, AppError> {
    let email = EmailAddress::parse(&body.email)?;
    let state_for_db = state.clone();
    let mail = database
        .run(move |conn| {
            let now = now();
            if !take_mail_allowance(conn, &email, now)? {
                return Ok(None);
            }
            match accounts::find_by_email(conn, &email)? {
                Some(user) if !user.is_verified() => Ok(Some(verification_mail(
                    conn,
                    &state_for_db,
                    &user.id,
                    &email,
                    now,
                )?)),
                _ => Ok(None),
            }
        })
        .await?;
    Ok(mail_accepted(&state, mail, RESEND_NOTICE))
}

/// Finish a sign-up: the mailed token plus the account's password. Verifies the address and
/// signs in.
#[utoipa::path(
    tag = "auth",
    request_body = VerifyEmailRequest,
    responses(
        (status = 200, description = "Verified and signed in; sets the refresh cookie", body = SessionGrant),
        (status = 400, description = "link_invalid: unknown, used or expired link", body = ApiError),
        (status = 401, description = "invalid_credentials: wrong password", body = ApiError),
        (status = 429, description = "too_many_requests", body = ApiError),
    )
)]
#[post("/auth/verify-email")]
pub async fn verify_email(
    request: HttpRequest,
    state: web::Data<AppState>,
    database: web::Data<Database>,
    hub: web::Data<LiveHub>,
    body: web::Json<VerifyEmailRequest>,
) -> Result<HttpResponse, AppError> {
    let VerifyEmailRequest { token, password } = body.into_inner();
    let peek_token = token.clone();
    let user = database
        .run(move |conn| {
            let Some(user_id) = email_tokens::peek(conn, &peek_token, Purpose::VerifyEmail, now())?
            else {
                return Ok(None);
            };
            Ok(accounts::find_by_id(conn, &user_id)?)
        })
        .await?
        .ok_or(AppError::LinkInvalid)?;
    let email = EmailAddress::parse(&user.email)?;
    check_password(
        &request,
        &state,
        &database,
        &email,
        &password,
        Some(user.clone()),
    )
    .await?;

    let user_agent = user_agent(&request);
    let issued = database
        .run(move |conn| {
            let now = now();
            conn.transaction::<_, DatabaseError, _>(|conn| {
                crate::db::begin_write(conn)?;
                if email_tokens::consume(conn, &token, Purpose::VerifyEmail, now)?.is_none() {
                    return Ok(None);
                }
                accounts::mark_verified(conn, &user, now)?;
                Ok(Some(sessions::start(
                    conn,
                    &user.id,
                    user_agent.as_deref(),
                    now,
                )?))
            })
        })
        .await?
        .ok_or(AppError::LinkInvalid)?;
    // Invitations may have made the person a member: open streams pick that up.
    hub.membership_changed(&issued.user_id);
    grant_session(&state, &database, issued).await
}

/// Checks a password for `email` with throttling per account and per client address.
/// `user` is the account when the caller already loaded it.
async fn check_password(
    request: &HttpRequest,
    state: &AppState,
    database: &Database,
    email: &EmailAddress,
    password: &str,
    user: Option<User>,
) -> Result<User, AppError> {
    let account_limit = Limit {
        bucket: "login_per_account",
        max: state.settings.login_attempts_per_account,
        window: chrono::Duration::minutes(i64::from(state.settings.login_window_minutes)),
    };
    let address_limit = Limit {
        bucket: "login_per_address",
        max: state.settings.login_attempts_per_address,
        ..account_limit
    };
    let address = client_address(request);

    let (email_for_db, address_for_db) = (email.clone(), address.clone());
    let user = database
        .run(move |conn| {
            let now = now();
            for (limit, subject) in [
                (account_limit, email_for_db.as_str()),
                (address_limit, address_for_db.as_str()),
            ] {
                if let Some(wait) = throttle::retry_after(conn, limit, subject, now)? {
                    return Ok(Err(wait.num_seconds()));
                }
            }
            Ok(Ok(match user {
                Some(user) => Some(user),
                None => accounts::find_by_email(conn, &email_for_db)?,
            }))
        })
        .await?
        .map_err(|retry_after_seconds| AppError::TooManyRequests {
            retry_after_seconds,
        })?;

    let passwords = state.passwords.clone();
    let stored = user.as_ref().and_then(|user| user.password_hash.clone());
    let candidate = password.to_owned();
    let matches = blocking(move || passwords.verify(&candidate, stored.as_deref())).await?;

    let email_for_db = email.clone();
    match (matches, user) {
        (true, Some(user)) => {
            database
                .run(move |conn| Ok(throttle::clear(conn, account_limit, email_for_db.as_str())?))
                .await?;
            Ok(user)
        }
        _ => {
            database
                .run(move |conn| {
                    let now = now();
                    throttle::record(conn, account_limit, email_for_db.as_str(), now)?;
                    throttle::record(conn, address_limit, &address, now)?;
                    Ok(())
                })
                .await?;
            Err(AppError::InvalidCredentials)
        }
    }
}

/// Sign in with email and password.
#[utoipa::path(
    tag = "auth",
    request_body = LoginRequest,
    responses(
        (status = 200, description = "Signed in; sets the refresh cookie", body = SessionGrant),
        (status = 401, description = "invalid_credentials (same for unknown email and wrong password)", body = ApiError),
        (status = 403, description = "email_not_verified", body = ApiError),
        (status = 422, description = "email_invalid", body = ApiError),
        (status = 429, description = "too_many_requests, with Retry-After", body = ApiError),
    )
)]
#[post("/auth/login")]
pub async fn login(
    request: HttpRequest,
    state: web::Data<AppState>,
    database: web::Data<Database>,
    body: web::Json<LoginRequest>,
) -> Result<HttpResponse, AppError> {
    let email = EmailAddress::parse(&body.email)?;
    let user = check_password(&request, &state, &database, &email, &body.password, None).await?;
    if !user.is_verified() {
        return Err(AppError::EmailNotVerified);
    }
    let user_agent = user_agent(&request);
    // A provider identity waiting in this browser for this account's owner to prove control.
    let pending_link = request
        .cookie(LINK_COOKIE)
        .map(|cookie| cookie.value().to_owned());
    let has_pending_link = pending_link.is_some();
    let issued = database
        .run(move |conn| {
            let now = now();
            if let Some(cookie) = pending_link {
                if let Some(provider) =
                    identities::complete_pending_link(conn, &cookie, &user.id, now)?
                {
                    tracing::info!(user_id = %user.id, %provider, "identity linked after password sign-in");
                }
            }
            Ok(sessions::start(
                conn,
                &user.id,
                user_agent.as_deref(),
                now,
            )?)
        })
        .await?;
    let mut response = grant_session(&state, &database, issued).await?;
    if has_pending_link {
        let mut removal = Cookie::build(LINK_COOKIE, "").path("/api/auth").finish();
        removal.make_removal();
        response
            .add_cookie(&removal)
            .map_err(|error| AppError::Internal(error.into()))?;
    }
    Ok(response)
}

/// Exchange the refresh cookie for a new access token and a new refresh cookie. A refresh
/// token presented twice ends its session.
#[utoipa::path(
    tag = "auth",
    params(("x-stratus-client" = String, Header, description = "Any value; guards against cross-site requests")),
    responses(
        (status = 200, description = "A new access token; the refresh cookie is replaced", body = SessionGrant),
        (status = 401, description = "session_expired: no, unknown, expired, revoked or reused refresh token", body = ApiError),
    )
)]
#[post("/auth/refresh")]
pub async fn refresh(
    request: HttpRequest,
    state: web::Data<AppState>,
    database: web::Data<Database>,
) -> Result<HttpResponse, AppError> {
    let presented = refresh_cookie(&request)?;
    let outcome = database
        .run(move |conn| Ok(sessions::rotate(conn, &presented, now())?))
        .await?;
    match outcome {
        Refresh::Rotated(issued) => grant_session(&state, &database, issued).await,
        Refresh::Reused | Refresh::Invalid => Ok(session_expired(&state)),
    }
}

/// Sign out this browser: its session ends and the cookie is removed.
#[utoipa::path(
    tag = "auth",
    params(("x-stratus-client" = String, Header, description = "Any value; guards against cross-site requests")),
    responses(
        (status = 204, description = "Signed out (also when there was no session)"),
        (status = 400, description = "invalid_request: the x-stratus-client header is missing", body = ApiError),
    )
)]
#[post("/auth/logout")]
pub async fn logout(
    request: HttpRequest,
    state: web::Data<AppState>,
    database: web::Data<Database>,
) -> Result<HttpResponse, AppError> {
    if !request.headers().contains_key(CLIENT_HEADER) {
        return Err(AppError::InvalidRequest(format!(
            "Signing out needs the {CLIENT_HEADER} header (a guard against cross-site requests)."
        )));
    }
    if let Ok(presented) = refresh_cookie(&request) {
        database
            .run(move |conn| Ok(sessions::revoke_by_token(conn, &presented, now())?))
            .await?;
    }
    let mut response = HttpResponse::NoContent();
    response.cookie(removal_cookie(&state));
    Ok(response.finish())
}

/// Ask for a link to choose a new password. Same answer whether or not the account exists.
#[utoipa::path(
    tag = "auth",
    request_body = EmailRequest,
    responses(
        (status = 202, description = "A link is on its way if the account exists", body = Notice),
        (status = 422, description = "email_invalid", body = ApiError),
    )
)]
#[post("/auth/forgot-password")]
pub async fn forgot_password(
    state: web::Data<AppState>,
    database: web::Data<Database>,
    body: web::Json<EmailRequest>,
) -> Result<HttpResponse, AppError> {
    let email = EmailAddress::parse(&body.email)?;
    let state_for_db = state.clone();
    let mail = database
        .run(move |conn| {
            let now = now();
            if !take_mail_allowance(conn, &email, now)? {
                return Ok(None);
            }
            let Some(user) = accounts::find_by_email(conn, &email)? else {
                return Ok(None);
            };
            let token = email_tokens::issue(conn, &user.id, Purpose::ResetPassword, now)?;
            Ok(Some(Mail {
                to: email.to_string(),
                subject: "Choose a new Stratus password".into(),
                body: format!(
                    "Someone (probably you) asked to choose a new password for your Stratus account.\n\n\
                     Open this link to do so:\n\n{}\n\nThe link works once and for one hour. Choosing a \
                     new password signs you out everywhere. If this was not you, ignore this mail: \
                     your password stays as it is.",
                    link(&state_for_db, "reset-password", &token)
                ),
            }))
        })
        .await?;
    Ok(mail_accepted(&state, mail, FORGOT_NOTICE))
}

/// Choose a new password with a mailed link. Every session of the account ends.
#[utoipa::path(
    tag = "auth",
    request_body = ResetPasswordRequest,
    responses(
        (status = 200, description = "Password changed; sign in with it", body = Notice),
        (status = 400, description = "link_invalid", body = ApiError),
        (status = 422, description = "The new password breaks a rule", body = ApiError),
    )
)]
#[post("/auth/reset-password")]
pub async fn reset_password(
    state: web::Data<AppState>,
    database: web::Data<Database>,
    hub: web::Data<LiveHub>,
    body: web::Json<ResetPasswordRequest>,
) -> Result<HttpResponse, AppError> {
    let ResetPasswordRequest { token, password } = body.into_inner();
    let peek_token = token.clone();
    let user = database
        .run(move |conn| {
            let Some(user_id) =
                email_tokens::peek(conn, &peek_token, Purpose::ResetPassword, now())?
            else {
                return Ok(None);
            };
            Ok(accounts::find_by_id(conn, &user_id)?)
        })
        .await?
        .ok_or(AppError::LinkInvalid)?;
    let password = parse_new_password(&password, &user.email)?;
    let user_id = user.id.clone();
    let passwords = state.passwords.clone();
    let password_hash = blocking(move || passwords.hash(&password)).await??;
    let changed = database
        .run(move |conn| {
            let now = now();
            conn.transaction::<_, DatabaseError, _>(|conn| {
                crate::db::begin_write(conn)?;
                if email_tokens::consume(conn, &token, Purpose::ResetPassword, now)?.is_none() {
                    return Ok(false);
                }
                accounts::set_password_hash(conn, &user.id, &password_hash)?;
                // The link proved control of the mailbox.
                accounts::mark_verified(conn, &user, now)?;
                sessions::revoke_all(conn, &user.id, None, now)?;
                Ok(true)
            })
        })
        .await?;
    if !changed {
        return Err(AppError::LinkInvalid);
    }
    hub.membership_changed(&user_id);
    Ok(HttpResponse::Ok().json(Notice {
        message: "Your password has been changed and every session signed out. Sign in with your new password."
            .into(),
    }))
}

/// Builds the sign-in answer: access token in the body, refresh token in the cookie.
pub(crate) async fn grant_session(
    state: &AppState,
    database: &Database,
    issued: IssuedRefresh,
) -> Result<HttpResponse, AppError> {
    let user_id = issued.user_id.clone();
    let account = database
        .run(move |conn| {
            let Some(user) = accounts::find_by_id(conn, &user_id)? else {
                return Ok(None);
            };
            Ok(Some(accounts::view(conn, &user)?))
        })
        .await?
        .ok_or(AppError::SessionExpired)?;
    let (access_token, expires_at) = state.access_tokens.issue_for_session(
        &issued.user_id,
        Some(&issued.session_id),
        Utc::now(),
    );
    Ok(HttpResponse::Ok()
        .cookie(session_cookie(state, &issued))
        .insert_header(("Cache-Control", "no-store"))
        .json(SessionGrant {
            access_token,
            expires_at,
            account,
        }))
}

/// The refresh cookie of a session just started or refreshed.
pub(crate) fn session_cookie(state: &AppState, issued: &IssuedRefresh) -> Cookie<'static> {
    let max_age = (issued.session_expires_at - now()).num_seconds().max(0);
    Cookie::build(REFRESH_COOKIE, issued.refresh_token.clone())
        .path("/api/auth")
        .http_only(true)
        .secure(state.settings.public_url().starts_with("https://"))
        .same_site(SameSite::Strict)
        .max_age(time::Duration::seconds(max_age))
        .finish()
}

fn session_expired(state: &AppState) -> HttpResponse {
    let error = AppError::SessionExpired;
    HttpResponse::Unauthorized()
        .cookie(removal_cookie(state))
        .json(error.body())
}

fn removal_cookie(state: &AppState) -> Cookie<'static> {
    let mut cookie = Cookie::build(REFRESH_COOKIE, "")
        .path("/api/auth")
        .http_only(true)
        .secure(state.settings.public_url().starts_with("https://"))
        .same_site(SameSite::Strict)
        .finish();
    cookie.make_removal();
    cookie
}

/// The refresh cookie, only on requests that also carry the web app's client header.
fn refresh_cookie(request: &HttpRequest) -> Result<String, AppError> {
    if !request.headers().contains_key(CLIENT_HEADER) {
        return Err(AppError::SessionExpired);
    }
    request
        .cookie(REFRESH_COOKIE)
        .map(|cookie| cookie.value().to_owned())
        .filter(|value| !value.is_empty())
        .ok_or(AppError::SessionExpired)
}

pub(crate) fn user_agent(request: &HttpRequest) -> Option<String> {
    request
        .headers()
        .get(actix_web::http::header::USER_AGENT)
        .and_then(|value| value.to_str().ok())
        .map(str::to_owned)
}

/// The client's address as this server sees it. Forwarding headers are not trusted: anyone
/// could set them to dodge the per-address limit.
fn client_address(request: &HttpRequest) -> String {
    request
        .peer_addr()
        .map(|address| address.ip().to_string())
        .unwrap_or_else(|| "unknown".into())
}
