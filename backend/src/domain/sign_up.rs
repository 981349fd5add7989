//! Creating an account with email and password, and mailing its verification link again.
//! The answer is the same whether or not the address has an account: only the mail differs,
//! and no address gets more than its allowance of mails.

use chrono::NaiveDateTime;
use diesel::QueryResult;
use stratus_shared::email::EmailAddress;

use crate::auth::email_tokens::{self, Purpose};
use crate::auth::throttle::{self, Limit};
use crate::config::Settings;
use crate::db::AnyConnection;
use crate::domain::{accounts, mail_allowance};
use crate::error::AppError;
use crate::mail::{templates, Mail};

/// Sign-ups per client address: each costs an argon2 hash (tens of milliseconds and
/// `argon2_memory_kib` of memory) before anything else can be decided.
pub fn limit_per_address(settings: &Settings) -> Limit {
    Limit {
        bucket: "signup_per_address",
        max: settings.signups_per_address_per_hour,
        window: chrono::Duration::hours(1),
    }
}

/// Counts a sign-up from `address`, before its password is hashed; 429 with the wait once the
/// address has had its share this hour. Run inside a write transaction.
pub fn take_turn(
    conn: &mut AnyConnection,
    limit: Limit,
    address: &str,
    now: NaiveDateTime,
) -> Result<(), AppError> {
    throttle::take(conn, limit, address, now)?.map_err(|wait| AppError::TooManyRequests {
        retry_after_seconds: wait.num_seconds(),
    })?;
    Ok(())
}

/// Signs up `email` with a password (already hashed); returns the mail due to the address.
/// A new address gets an unverified account and its verification link; an unverified one gets
/// a fresh link (the newest sign-up's password wins, and the link still needs it); a verified
/// one is told it already has an account.
pub fn sign_up(
    conn: &mut AnyConnection,
    email: &EmailAddress,
    password_hash: &str,
    public_url: &str,
    now: NaiveDateTime,
) -> QueryResult<Option<Mail>> {
    if !mail_allowance::take(conn, email.as_str(), now)? {
        return Ok(None);
    }
    let mail = match accounts::find_by_email(conn, email)? {
        None => {
            let user_id = accounts::create(conn, email, password_hash, now)?;
            verification_mail(conn, &user_id, email, public_url, now)?
        }
        Some(user) if !user.is_verified() => {
            accounts::set_password_hash(conn, &user.id, password_hash)?;
            verification_mail(conn, &user.id, email, public_url, now)?
        }
        Some(_) => templates::already_have_account(email.as_str(), public_url),
    };
    Ok(Some(mail))
}

/// A new verification link for an account waiting for one, if `email` has such an account.
pub fn resend_verification(
    conn: &mut AnyConnection,
    email: &EmailAddress,
    public_url: &str,
    now: NaiveDateTime,
) -> QueryResult<Option<Mail>> {
    if !mail_allowance::take(conn, email.as_str(), now)? {
        return Ok(None);
    }
    match accounts::find_by_email(conn, email)? {
        Some(user) if !user.is_verified() => {
            verification_mail(conn, &user.id, email, public_url, now).map(Some)
        }
        _ => Ok(None),
    }
}

fn verification_mail(
    conn: &mut AnyConnection,
    user_id: &str,
    email: &EmailAddress,
    public_url: &str,
    now: NaiveDateTime,
) -> QueryResult<Mail> {
    let token = email_tokens::issue(conn, user_id, Purpose::VerifyEmail, now)?;
    Ok(templates::verify_email(email.as_str(), public_url, &token))
}
