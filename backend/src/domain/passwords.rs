//! Choosing a password again: through a mailed link when it is forgotten, or with the current
//! one. Either way the account's other sessions end.

use chrono::NaiveDateTime;
use diesel::QueryResult;
use stratus_shared::email::EmailAddress;
use stratus_shared::password::NewPassword;

use crate::auth::browser::Client;
use crate::auth::email_tokens::{self, Purpose};
use crate::auth::password::Passwords;
use crate::auth::sessions;
use crate::db::{self, AnyConnection, Database};
use crate::domain::password_guesses::{Guess, GuessLimits};
use crate::domain::{accounts, mail_allowance, memberships};
use crate::error::AppError;
use crate::mail::{templates, Mail};

/// The mail with a link to choose a new password, when `email` has an account (and has not
/// had its share of mails this hour).
pub fn request_reset(
    conn: &mut AnyConnection,
    email: &EmailAddress,
    public_url: &str,
    now: NaiveDateTime,
) -> QueryResult<Option<Mail>> {
    if !mail_allowance::take(conn, email.as_str(), now)? {
        return Ok(None);
    }
    let Some(user) = accounts::find_by_email(conn, email)? else {
        return Ok(None);
    };
    let token = email_tokens::issue(conn, &user.id, Purpose::ResetPassword, now)?;
    Ok(Some(templates::reset_password(
        email.as_str(),
        public_url,
        &token,
    )))
}

/// Sets the password chosen with a mailed link, which also proves control of the address;
/// every session of the account ends and its sign-in lock (counted wrong passwords) lifts.
/// Returns the account's id and the sessions that ended.
pub async fn reset(
    database: &Database,
    passwords: &Passwords,
    limits: GuessLimits,
    token: String,
    password: String,
) -> Result<(String, Vec<String>), AppError> {
    let peek_token = token.clone();
    let user = database
        .run_app(move |conn| {
            let now = db::now().naive_utc();
            match email_tokens::peek(conn, &peek_token, Purpose::ResetPassword, now)? {
                Some(user_id) => Ok(accounts::find_by_id(conn, &user_id)?),
                None => Ok(None),
            }
        })
        .await?
        .ok_or(AppError::LinkInvalid)?;
    let password = NewPassword::parse(&password, &user.email)?;
    let password_hash = passwords.hash_off_executor(password).await?;
    database
        .run_write(move |conn| {
            let now = db::now().naive_utc();
            email_tokens::consume(conn, &token, Purpose::ResetPassword, now)?
                .ok_or(AppError::LinkInvalid)?;
            accounts::set_password_hash(conn, &user.id, &password_hash)?;
            memberships::address_verified(conn, &user, now)?;
            let ended = sessions::revoke_all(conn, &user.id, None, now)?;
            limits.unlock_account(conn, &user.email)?;
            Ok((user.id, ended))
        })
        .await
}

/// Changes the password of a signed-in account, given the current one; its sessions other
/// than `keep_session` end (their ids are returned). The current password is a guess like one at the sign-in form:
/// it counts against the same limits (a stolen access token must not become an unthrottled
/// oracle for the password).
#[allow(clippy::too_many_arguments)]
pub async fn change(
    database: &Database,
    passwords: &Passwords,
    limits: GuessLimits,
    client: &Client,
    user_id: String,
    keep_session: Option<String>,
    current: String,
    new: String,
) -> Result<Vec<String>, AppError> {
    let address = client.address.clone();
    let (guess, account) = database
        .run_write(move |conn| {
            // A valid token for an account that no longer exists.
            let account = accounts::find_by_id(conn, &user_id)?.ok_or(AppError::Unauthorized)?;
            // Rules of the new password first: a typo there should not cost a guess.
            let new = NewPassword::parse(&new, &account.email)?;
            let guess =
                Guess::new(limits, &account.email, &address).take(conn, db::now().naive_utc())?;
            Ok(((guess, new), account))
        })
        .await?;
    let (guess, new) = guess;
    let stored = account.password_hash.clone();
    let right = passwords.verify_off_executor(current, stored).await?;
    let settle = guess.clone();
    database
        .run_write(move |conn| Ok(settle.settle(conn, right)?))
        .await?;
    if !right {
        return Err(AppError::CurrentPasswordWrong);
    }
    let new_hash = passwords.hash_off_executor(new).await?;
    database
        .run_write(move |conn| {
            let now = db::now().naive_utc();
            accounts::set_password_hash(conn, &account.id, &new_hash)?;
            Ok(sessions::revoke_all(
                conn,
                &account.id,
                keep_session.as_deref(),
                now,
            )?)
        })
        .await
}
