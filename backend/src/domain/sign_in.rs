//! Signing in with a password, at the sign-in form or when finishing a sign-up from the mailed
//! link, and continuing a session with its refresh token.
//!
//! A password sign-in takes two trips to the database: the first checks the guessing limits
//! and loads the account; argon2 then runs on the blocking pool, holding no connection; the
//! second records the outcome and starts the session in one write transaction, returning the
//! account as the API shows it. An unknown address is checked against a dummy hash, so it
//! takes as long as a wrong password.

use chrono::NaiveDateTime;
use diesel::QueryResult;
use stratus_shared::api::auth::Account;
use stratus_shared::email::EmailAddress;

use crate::auth::browser::Client;
use crate::auth::email_tokens::{self, Purpose};
use crate::auth::identities;
use crate::auth::password::Passwords;
use crate::auth::sessions::{self, IssuedRefresh, Refresh};
use crate::config::Settings;
use crate::db::{self, AnyConnection, Database};
use crate::domain::accounts::{self, User};
use crate::domain::memberships;
use crate::domain::password_guesses::Guess;
pub use crate::domain::password_guesses::GuessLimits;
use crate::error::AppError;

/// A session just started or continued, and whose it is.
#[derive(Debug)]
pub struct SignedIn {
    pub session: IssuedRefresh,
    pub account: Account,
}

/// What a sign-in is bounded by: password guesses, and the sessions the account keeps.
#[derive(Debug, Clone, Copy)]
pub struct SignInLimits {
    pub guesses: GuessLimits,
    /// See [`sessions::start`].
    pub max_sessions: u32,
}

impl SignInLimits {
    pub fn from_settings(settings: &Settings) -> Self {
        Self {
            guesses: GuessLimits::from_settings(settings),
            max_sessions: settings.sessions_per_account,
        }
    }
}

/// Signs in with email and password (`POST /api/auth/login`). A provider identity waiting in
/// this browser (`pending_link`, for this account) is linked on the way.
pub async fn with_password(
    database: &Database,
    passwords: &Passwords,
    limits: SignInLimits,
    email: EmailAddress,
    password: String,
    client: Client,
    pending_link: Option<String>,
) -> Result<SignedIn, AppError> {
    let guess = Guess::new(limits.guesses, email.as_str(), &client.address);
    let (guess, user) = database
        .run_write(move |conn| {
            let guess = guess.take(conn, db::now().naive_utc())?;
            let user = accounts::find_by_email(conn, &email)?;
            Ok((guess, user))
        })
        .await?;
    let stored = user.as_ref().and_then(|user| user.password_hash.clone());
    let matches = passwords.verify_off_executor(password, stored).await?;
    // Refusals are answers, not failures: the transaction commits what they counted.
    database
        .run_write(move |conn| {
            let now = db::now().naive_utc();
            guess.settle(conn, matches && user.is_some())?;
            let Some(user) = user.filter(|_| matches) else {
                return Ok(Err(AppError::InvalidCredentials));
            };
            // The same answer as a wrong password: otherwise signing up with an address and
            // then signing in with the chosen password would tell whether that address
            // already had a verified account (whose password the sign-up did not change).
            if !user.is_verified() {
                return Ok(Err(AppError::InvalidCredentials));
            }
            if let Some(cookie) = pending_link {
                if let Some(provider) =
                    identities::complete_pending_link(conn, &cookie, &user.id, now)?
                {
                    tracing::info!(user_id = %user.id, %provider, "identity linked after password sign-in");
                }
            }
            Ok(Ok(start(conn, &user, &client, limits.max_sessions, now)?))
        })
        .await?
}

/// Finishes a sign-up: the mailed token plus the account's password verify the address and
/// sign in (`POST /api/auth/verify-email`).
pub async fn with_verification_link(
    database: &Database,
    passwords: &Passwords,
    limits: SignInLimits,
    token: String,
    password: String,
    client: Client,
) -> Result<SignedIn, AppError> {
    let (peek_token, address) = (token.clone(), client.address.clone());
    let (guess, user) = database
        .run_write(move |conn| {
            let now = db::now().naive_utc();
            let user = match email_tokens::peek(conn, &peek_token, Purpose::VerifyEmail, now)? {
                Some(user_id) => accounts::find_by_id(conn, &user_id)?,
                None => None,
            }
            .ok_or(AppError::LinkInvalid)?;
            let guess = Guess::new(limits.guesses, &user.email, &address).take(conn, now)?;
            Ok((guess, user))
        })
        .await?;
    let stored = user.password_hash.clone();
    let matches = passwords.verify_off_executor(password, stored).await?;
    database
        .run_write(move |conn| {
            let now = db::now().naive_utc();
            guess.settle(conn, matches)?;
            if !matches {
                return Ok(Err(AppError::InvalidCredentials));
            }
            if email_tokens::consume(conn, &token, Purpose::VerifyEmail, now)?.is_none() {
                return Ok(Err(AppError::LinkInvalid));
            }
            memberships::address_verified(conn, &user, now)?;
            Ok(Ok(start(conn, &user, &client, limits.max_sessions, now)?))
        })
        .await?
}

/// What presenting a refresh token came to.
#[derive(Debug)]
pub enum Continued {
    /// The session goes on with a new refresh token.
    SignedIn(SignedIn),
    /// It cannot continue; `revoked` is the session that a reused token has just ended
    /// (its access tokens must stop working too).
    Ended { revoked: Option<String> },
}

/// Exchanges a refresh token for the next one (`POST /api/auth/refresh`).
pub fn continue_session(
    conn: &mut AnyConnection,
    presented: &str,
    now: NaiveDateTime,
) -> Result<Continued, AppError> {
    let session = match sessions::rotate(conn, presented, now)? {
        Refresh::Rotated(session) => session,
        Refresh::Reused { session_id } => {
            return Ok(Continued::Ended {
                revoked: Some(session_id),
            })
        }
        Refresh::Invalid => return Ok(Continued::Ended { revoked: None }),
    };
    let account = accounts::view_by_id(conn, &session.user_id)?.ok_or(AppError::SessionExpired)?;
    Ok(Continued::SignedIn(SignedIn { session, account }))
}

/// Starts a session for an account that just proved who it is.
pub fn start(
    conn: &mut AnyConnection,
    user: &User,
    client: &Client,
    max_sessions: u32,
    now: NaiveDateTime,
) -> QueryResult<SignedIn> {
    let session = sessions::start(
        conn,
        &user.id,
        client.user_agent.as_deref(),
        max_sessions,
        now,
    )?;
    let account = accounts::view(conn, user)?;
    Ok(SignedIn { session, account })
}

#[cfg(test)]
mod tests {
    //! Counts the trips to the database (`Database::run*` calls) a sign-in makes.

    use stratus_shared::password::NewPassword;

    use super::*;
    use crate::config::{DatabaseUrl, Settings};

    const PASSWORD: &str = "correct horse battery";

    struct Setup {
        database: Database,
        passwords: Passwords,
        limits: GuessLimits,
        client: Client,
        _dir: tempfile::TempDir,
    }

    async fn setup() -> Setup {
        let dir = tempfile::tempdir().unwrap();
        let url = DatabaseUrl::Sqlite(dir.path().join("stratus.db"));
        Setup {
            database: Database::connect(&url, 2).unwrap(),
            passwords: Passwords::new(1024, 1, 1).unwrap(),
            limits: GuessLimits::from_settings(&Settings::default()),
            client: Client {
                address: "192.0.2.7".into(),
                user_agent: Some("test".into()),
            },
            _dir: dir,
        }
    }

    /// An account with `PASSWORD`; returns the token of its verification link when it is
    /// left unverified.
    async fn account(setup: &Setup, email: &str, verified: bool) -> String {
        let email = EmailAddress::parse(email).unwrap();
        let password = NewPassword::parse(PASSWORD, email.as_str()).unwrap();
        let hash = setup.passwords.hash(&password).unwrap();
        setup
            .database
            .run(move |conn| {
                let now = db::now().naive_utc();
                let user_id = accounts::create(conn, &email, &hash, now)?;
                if verified {
                    let user = accounts::find_by_id(conn, &user_id)?.unwrap();
                    memberships::address_verified(conn, &user, now)?;
                }
                Ok(email_tokens::issue(
                    conn,
                    &user_id,
                    Purpose::VerifyEmail,
                    now,
                )?)
            })
            .await
            .unwrap()
    }

    async fn sign_in(setup: &Setup, email: &str, password: &str) -> Result<SignedIn, AppError> {
        with_password(
            &setup.database,
            &setup.passwords,
            SignInLimits {
                guesses: setup.limits,
                max_sessions: 20,
            },
            EmailAddress::parse(email).unwrap(),
            password.into(),
            setup.client.clone(),
            Some("spl_no-such-pending-link".into()),
        )
        .await
    }

    /// The trips `work` makes.
    async fn trips<T>(setup: &Setup, work: impl std::future::Future<Output = T>) -> (T, usize) {
        let before = setup.database.trips();
        let outcome = work.await;
        (outcome, setup.database.trips() - before)
    }

    #[actix_web::test]
    async fn a_password_sign_in_takes_two_trips_to_the_database() {
        let setup = setup().await;
        account(&setup, "ann@acme.test", true).await;

        let (signed_in, count) = trips(&setup, sign_in(&setup, "ann@acme.test", PASSWORD)).await;
        let signed_in = signed_in.unwrap();
        assert_eq!(count, 2);
        assert_eq!(signed_in.account.email, "ann@acme.test");
        assert_eq!(signed_in.session.user_id, signed_in.account.id);

        // Refusals cost the same: a wrong password, an unknown address.
        for (email, password) in [
            ("ann@acme.test", "not the password"),
            ("nobody@acme.test", PASSWORD),
        ] {
            let (refused, count) = trips(&setup, sign_in(&setup, email, password)).await;
            assert!(
                matches!(refused, Err(AppError::InvalidCredentials)),
                "{email}"
            );
            assert_eq!(count, 2, "{email}");
        }
    }

    #[actix_web::test]
    async fn finishing_a_sign_up_takes_two_trips_to_the_database() {
        let setup = setup().await;
        let token = account(&setup, "bo@globex.test", false).await;

        let work = with_verification_link(
            &setup.database,
            &setup.passwords,
            SignInLimits {
                guesses: setup.limits,
                max_sessions: 20,
            },
            token,
            PASSWORD.into(),
            setup.client.clone(),
        );
        let (signed_in, count) = trips(&setup, work).await;
        assert_eq!(signed_in.unwrap().account.email, "bo@globex.test");
        assert_eq!(count, 2);
    }

    #[actix_web::test]
    async fn refusals_are_counted_and_the_limit_answers_after_one_trip() {
        let setup = setup().await;
        account(&setup, "cy@initech.test", true).await;
        for _ in 0..setup.limits.per_account.max {
            let refused = sign_in(&setup, "cy@initech.test", "guessing wrong").await;
            assert!(matches!(refused, Err(AppError::InvalidCredentials)));
        }
        let (refused, count) = trips(&setup, sign_in(&setup, "cy@initech.test", PASSWORD)).await;
        assert!(matches!(refused, Err(AppError::TooManyRequests { .. })));
        assert_eq!(count, 1);
    }
}
