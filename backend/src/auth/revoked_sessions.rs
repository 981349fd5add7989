//! Sessions ended before their access tokens expire. An access token is a signed, stateless
//! JWT that lives [`ACCESS_TOKEN_TTL`]; when its session ends (sign-out, "sign out
//! everywhere", a revoked session, a password reset or change, a reused refresh token) the
//! token must stop working at once, and so must the live streams it opened. Every backend
//! keeps the ids of sessions ended in the last token lifetime (the only ones whose tokens can
//! still be valid), filled by this backend's own revocations, by the cluster's bus for the
//! others', and from the database at start-up; a request with a token of such a session is
//! refused as unauthenticated.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use chrono::{NaiveDateTime, TimeDelta};
use diesel::prelude::*;
use tokio::sync::broadcast;

use super::tokens::ACCESS_TOKEN_TTL;
use crate::db::schema::sessions;
use crate::db::AnyConnection;

/// The ended sessions whose access tokens may still be unexpired; cheap to clone.
#[derive(Clone)]
pub struct RevokedSessions {
    /// Session id → when its last access token has expired for sure.
    ended: Arc<Mutex<HashMap<String, NaiveDateTime>>>,
    announcements: broadcast::Sender<Arc<str>>,
}

impl Default for RevokedSessions {
    fn default() -> Self {
        Self {
            ended: Arc::default(),
            announcements: broadcast::channel(1024).0,
        }
    }
}

impl RevokedSessions {
    /// Records sessions that ended at `now`, and tells the live streams they opened.
    pub fn add(&self, session_ids: &[String], now: NaiveDateTime) {
        if session_ids.is_empty() {
            return;
        }
        // A token issued up to the moment of revocation lives one lifetime more (a minute
        // more covers clocks of a cluster that differ a little).
        let forget_at = now + ACCESS_TOKEN_TTL + TimeDelta::minutes(1);
        {
            let mut ended = self.lock();
            ended.retain(|_, until| *until > now);
            for id in session_ids {
                ended.insert(id.clone(), forget_at);
            }
        }
        for id in session_ids {
            let _ = self.announcements.send(Arc::from(id.as_str()));
        }
    }

    /// Whether the session has ended (its access tokens are void).
    pub fn contains(&self, session_id: &str) -> bool {
        self.lock().contains_key(session_id)
    }

    /// Ids of sessions as they end, for live streams to close theirs.
    pub fn subscribe(&self) -> broadcast::Receiver<Arc<str>> {
        self.announcements.subscribe()
    }

    /// Sessions ended within the last token lifetime, from the database (at start-up: a
    /// restarted backend must not forget them).
    pub fn load_recent(&self, conn: &mut AnyConnection, now: NaiveDateTime) -> QueryResult<usize> {
        let since = now - ACCESS_TOKEN_TTL - TimeDelta::minutes(1);
        let recent: Vec<(String, Option<NaiveDateTime>)> = sessions::table
            .filter(sessions::revoked_at.gt(since))
            .select((sessions::id, sessions::revoked_at))
            .load(conn)?;
        let count = recent.len();
        let mut ended = self.lock();
        for (id, revoked_at) in recent {
            let revoked_at = revoked_at.unwrap_or(now);
            ended.insert(id, revoked_at + ACCESS_TOKEN_TTL + TimeDelta::minutes(1));
        }
        Ok(count)
    }

    /// How many ended sessions are remembered (bounded by the revocations of one token
    /// lifetime).
    pub fn len(&self) -> usize {
        self.lock().len()
    }

    /// Whether none is remembered.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, NaiveDateTime>> {
        self.ended
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ended_sessions_are_remembered_for_one_token_lifetime() {
        let revoked = RevokedSessions::default();
        let start = chrono::DateTime::from_timestamp(1_800_000_000, 0)
            .unwrap()
            .naive_utc();
        let mut announced = revoked.subscribe();
        revoked.add(&["s1".into(), "s2".into()], start);
        assert!(revoked.contains("s1") && revoked.contains("s2"));
        assert!(!revoked.contains("s3"));
        assert_eq!(&*announced.try_recv().unwrap(), "s1");
        assert_eq!(&*announced.try_recv().unwrap(), "s2");
        // Long after, a new revocation prunes the old ones: the set stays bounded.
        revoked.add(
            &["s3".into()],
            start + ACCESS_TOKEN_TTL + TimeDelta::minutes(2),
        );
        assert!(!revoked.contains("s1"));
        assert!(revoked.contains("s3"));
        assert_eq!(revoked.len(), 1);
    }
}
