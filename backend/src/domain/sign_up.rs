//! Creating an account with email and password, and mailing its verification link again.
//! The answer is the same whether or not the address has an account: only the mail differs,
//! and no address gets more than its allowance of mails.

use chrono::NaiveDateTime;
use diesel::QueryResult;
use stratus_shared::email::EmailAddress;

use crate::auth::email_tokens::{self, Purpose};
use crate::db::AnyConnection;
use crate::domain::{accounts, mail_allowance};
use crate::mail::{templates, Mail};

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
