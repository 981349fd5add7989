//! How many mails one address may get: sign-up, resend, reset and identity-link mails count
//! together, so nobody can make Stratus flood a mailbox.

use chrono::NaiveDateTime;
use diesel::QueryResult;

use crate::auth::throttle::{self, Limit};
use crate::db::AnyConnection;

/// Mails about one address: at most this many an hour.
pub const MAILS_PER_ADDRESS: Limit = Limit {
    bucket: "mail_per_address",
    max: 5,
    window: chrono::Duration::hours(1),
};

/// Counts one mail to `address`; false when the address has had its share this hour (the
/// answer to the caller stays the same, only the mail is skipped).
pub fn take(conn: &mut AnyConnection, address: &str, now: NaiveDateTime) -> QueryResult<bool> {
    if throttle::take(conn, MAILS_PER_ADDRESS, address, now)?.is_err() {
        tracing::info!("mail suppressed by the per-address limit");
        return Ok(false);
    }
    Ok(true)
}
