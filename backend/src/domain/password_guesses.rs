//! The limits on guessing a password, wherever one is checked: the sign-in form, the mailed
//! verification link, and changing the password of a signed-in account all count against the
//! same two limits, per account and per client address.
//!
//! An attempt is counted as a failure *before* argon2 runs, in the same step that checks the
//! limits (`throttle::take`), and given back when the password was right. Parallel guesses
//! therefore see each other: with a limit of 5, the sixth of sixty parallel wrong passwords is
//! refused whatever the timing.

use chrono::NaiveDateTime;
use diesel::QueryResult;

use crate::auth::throttle::{self, Limit};
use crate::config::Settings;
use crate::db::AnyConnection;
use crate::error::AppError;

/// How many wrong passwords are allowed, per account and per client address.
#[derive(Debug, Clone, Copy)]
pub struct GuessLimits {
    pub per_account: Limit,
    pub per_address: Limit,
}

impl GuessLimits {
    pub fn from_settings(settings: &Settings) -> Self {
        let per_account = Limit {
            bucket: "login_per_account",
            max: settings.login_attempts_per_account,
            window: chrono::Duration::minutes(i64::from(settings.login_window_minutes)),
        };
        Self {
            per_account,
            per_address: Limit {
                bucket: "login_per_address",
                max: settings.login_attempts_per_address,
                ..per_account
            },
        }
    }

    /// Lifts the account's lock (its counted failures), e.g. after its password was reset
    /// through a mailed link, which proves control of the address.
    pub fn unlock_account(&self, conn: &mut AnyConnection, email: &str) -> QueryResult<()> {
        throttle::clear(conn, self.per_account, email)
    }
}

/// One password attempt for an account (its email) from a client address, counted up front.
#[derive(Debug, Clone)]
pub struct Guess {
    limits: GuessLimits,
    account: String,
    address: String,
    counted: Vec<String>,
}

impl Guess {
    pub fn new(limits: GuessLimits, account: &str, address: &str) -> Self {
        Self {
            limits,
            account: account.to_owned(),
            address: address.to_owned(),
            counted: Vec::new(),
        }
    }

    /// Checks both limits and counts the attempt against both, in one step; 429 (nothing
    /// counted) while either is reached, even for the right password. Run inside a write
    /// transaction, before the password is checked.
    pub fn take(mut self, conn: &mut AnyConnection, now: NaiveDateTime) -> Result<Self, AppError> {
        for (limit, subject) in [
            (self.limits.per_account, self.account.clone()),
            (self.limits.per_address, self.address.clone()),
        ] {
            match throttle::take(conn, limit, &subject, now)? {
                Ok(event) => self.counted.push(event),
                Err(wait) => {
                    // The first limit's event was counted: give it back, so a refused
                    // attempt costs nothing.
                    for event in &self.counted {
                        throttle::forget(conn, event)?;
                    }
                    return Err(AppError::TooManyRequests {
                        retry_after_seconds: wait.num_seconds(),
                    });
                }
            }
        }
        Ok(self)
    }

    /// After the check: a right password gives back this attempt and forgets the account's
    /// earlier failures; a wrong one stays counted.
    pub fn settle(&self, conn: &mut AnyConnection, right: bool) -> QueryResult<()> {
        if right {
            for event in &self.counted {
                throttle::forget(conn, event)?;
            }
            throttle::clear(conn, self.limits.per_account, &self.account)?;
        }
        Ok(())
    }
}
