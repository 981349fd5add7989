//! `/api/auth/*`: sign-up, email verification, sign-in, session refresh, sign-out and
//! password reset. Answers never reveal whether an account exists.

use actix_web::{post, web, HttpRequest, HttpResponse};
use stratus_shared::api::auth::{
    EmailRequest, LoginRequest, Notice, ResetPasswordRequest, SessionGrant, SignupRequest,
    VerifyEmailRequest, CLIENT_HEADER,
};
use stratus_shared::email::EmailAddress;
use stratus_shared::password::NewPassword;
use stratus_shared::ApiError;

use crate::auth::browser::{self, Client};
use crate::auth::sessions;
use crate::db::{self, Database};
use crate::domain::sign_in::{self, Continued, GuessLimits, SignInLimits};
use crate::domain::{passwords, sign_up};
use crate::error::AppError;
use crate::json_body::JsonObject;
use crate::live::LiveHub;
use crate::mail::Mail;
use crate::state::AppState;

const SIGNUP_NOTICE: &str = "Thanks! If this address can be used, a message is on its way to it. \
     Follow the link in it to verify your address.";
const RESEND_NOTICE: &str =
    "If an account with this address is waiting for verification, a new link is on its way.";
const FORGOT_NOTICE: &str =
    "If an account with this address exists, a link to choose a new password is on its way.";
const RESET_NOTICE: &str = "Your password has been changed and every session signed out. \
     Sign in with your new password.";

/// Create an account with email and password. The answer is the same whether or not the
/// address already has an account; its owner gets a mail either way.
#[utoipa::path(
    tag = "auth",
    request_body = SignupRequest,
    responses(
        (status = 202, description = "A mail is on its way (or the owner was told)", body = Notice),
        (status = 400, description = "Unreadable body", body = ApiError),
        (status = 422, description = "Email or password breaks a rule: email_invalid, password_too_short, password_too_long, password_same_as_email, password_too_common", body = ApiError),
        (status = 429, description = "too_many_requests: too many sign-ups from this address this hour, or password hashing saturated; with Retry-After", body = ApiError),
    )
)]
#[post("/auth/signup")]
pub async fn signup(
    client: Client,
    state: web::Data<AppState>,
    database: web::Data<Database>,
    body: JsonObject<SignupRequest>,
) -> Result<HttpResponse, AppError> {
    let email = EmailAddress::parse(&body.email)?;
    let password = NewPassword::parse(&body.password, email.as_str())?;
    let limit = sign_up::limit_per_address(&state.settings);
    database
        .run_write(move |conn| {
            sign_up::take_turn(conn, limit, &client.address, db::now().naive_utc())
        })
        .await?;
    let password_hash = state.passwords.hash_off_executor(password).await?;
    let public_url = state.settings.public_url();
    let mail = database
        .run_write(move |conn| {
            let now = db::now().naive_utc();
            Ok(sign_up::sign_up(
                conn,
                &email,
                &password_hash,
                &public_url,
                now,
            )?)
        })
        .await?;
    Ok(mail_accepted(&state, mail, SIGNUP_NOTICE))
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
    body: JsonObject<EmailRequest>,
) -> Result<HttpResponse, AppError> {
    let email = EmailAddress::parse(&body.email)?;
    let public_url = state.settings.public_url();
    let mail = database
        .run_write(move |conn| {
            let now = db::now().naive_utc();
            Ok(sign_up::resend_verification(
                conn,
                &email,
                &public_url,
                now,
            )?)
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
    client: Client,
    state: web::Data<AppState>,
    database: web::Data<Database>,
    hub: web::Data<LiveHub>,
    body: JsonObject<VerifyEmailRequest>,
) -> Result<HttpResponse, AppError> {
    let VerifyEmailRequest { token, password } = body.into_inner();
    let signed_in = sign_in::with_verification_link(
        &database,
        &state.passwords,
        SignInLimits::from_settings(&state.settings),
        token,
        password,
        client,
    )
    .await?;
    // Invitations may have made the person a member: open streams pick that up.
    hub.membership_changed(&signed_in.session.user_id);
    hub.sessions_ended(signed_in.session.displaced.clone());
    Ok(browser::session_granted(
        &state,
        &signed_in.session,
        signed_in.account,
    ))
}

/// Sign in with email and password.
#[utoipa::path(
    tag = "auth",
    request_body = LoginRequest,
    responses(
        (status = 200, description = "Signed in; sets the refresh cookie", body = SessionGrant),
        (status = 401, description = "invalid_credentials (the same for an unknown email, a wrong password and an address not verified yet)", body = ApiError),
        (status = 422, description = "email_invalid", body = ApiError),
        (status = 429, description = "too_many_requests, with Retry-After", body = ApiError),
    )
)]
#[post("/auth/login")]
pub async fn login(
    request: HttpRequest,
    client: Client,
    state: web::Data<AppState>,
    database: web::Data<Database>,
    hub: web::Data<LiveHub>,
    body: JsonObject<LoginRequest>,
) -> Result<HttpResponse, AppError> {
    let LoginRequest { email, password } = body.into_inner();
    let email = EmailAddress::parse(&email)?;
    // A provider identity waiting in this browser for this account's owner to prove control.
    let pending_link = browser::presented_pending_link(&request);
    let has_pending_link = pending_link.is_some();
    let signed_in = sign_in::with_password(
        &database,
        &state.passwords,
        SignInLimits::from_settings(&state.settings),
        email,
        password,
        client,
        pending_link,
    )
    .await?;
    hub.sessions_ended(signed_in.session.displaced.clone());
    let mut response = browser::session_granted(&state, &signed_in.session, signed_in.account);
    if has_pending_link {
        browser::remove_pending_link(&mut response)?;
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
    hub: web::Data<LiveHub>,
) -> Result<HttpResponse, AppError> {
    let presented = browser::presented_refresh_token(&request)?;
    let continued = database
        .run_write(move |conn| sign_in::continue_session(conn, &presented, db::now().naive_utc()))
        .await?;
    Ok(match continued {
        Continued::SignedIn(signed_in) => {
            browser::session_granted(&state, &signed_in.session, signed_in.account)
        }
        Continued::Ended { revoked } => {
            // A reused refresh token: whoever holds the session's access tokens (perhaps a
            // thief) loses them now.
            hub.sessions_ended(revoked.into_iter().collect());
            browser::session_expired(&state)
        }
    })
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
    hub: web::Data<LiveHub>,
) -> Result<HttpResponse, AppError> {
    if !request.headers().contains_key(CLIENT_HEADER) {
        return Err(AppError::InvalidRequest(format!(
            "Signing out needs the {CLIENT_HEADER} header (a guard against cross-site requests)."
        )));
    }
    if let Ok(presented) = browser::presented_refresh_token(&request) {
        let ended = database
            .run(move |conn| {
                let now = db::now().naive_utc();
                Ok(sessions::revoke_by_token(conn, &presented, now)?)
            })
            .await?;
        hub.sessions_ended(ended.into_iter().collect());
    }
    Ok(HttpResponse::NoContent()
        .cookie(browser::refresh_cookie_removal(&state))
        .finish())
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
    body: JsonObject<EmailRequest>,
) -> Result<HttpResponse, AppError> {
    let email = EmailAddress::parse(&body.email)?;
    let public_url = state.settings.public_url();
    let mail = database
        .run_write(move |conn| {
            let now = db::now().naive_utc();
            Ok(passwords::request_reset(conn, &email, &public_url, now)?)
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
    body: JsonObject<ResetPasswordRequest>,
) -> Result<HttpResponse, AppError> {
    let ResetPasswordRequest { token, password } = body.into_inner();
    let (user_id, ended) = passwords::reset(
        &database,
        &state.passwords,
        GuessLimits::from_settings(&state.settings),
        token,
        password,
    )
    .await?;
    hub.sessions_ended(ended);
    hub.membership_changed(&user_id);
    Ok(HttpResponse::Ok().json(Notice {
        message: RESET_NOTICE.into(),
    }))
}
