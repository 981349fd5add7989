//! The signed-in session: held in memory only (never localStorage), restored after a reload
//! from the HttpOnly refresh cookie, and refreshed silently before the access token expires.

use std::time::Duration;

use leptos::prelude::*;
use leptos::task::spawn_local;
use stratus_shared::api::auth::{Account, SessionGrant};

use crate::api::{self, ApiFailure};

/// Refresh this long before the access token expires.
const REFRESH_MARGIN_MS: i64 = 60_000;

/// The session, shared through context.
#[derive(Clone, Copy)]
pub struct Session {
    grant: RwSignal<Option<SessionGrant>>,
    /// True until the first refresh attempt after page load has answered.
    restoring: RwSignal<bool>,
    /// Bumped on every change so stale refresh timers do nothing.
    generation: StoredValue<u64>,
}

impl Session {
    /// Creates the session, provides it to the app and tries to restore it from the cookie.
    pub fn provide() -> Self {
        let session = Self {
            grant: RwSignal::new(None),
            restoring: RwSignal::new(true),
            generation: StoredValue::new(0),
        };
        provide_context(session);
        spawn_local(async move {
            match api::auth::refresh().await {
                Ok(grant) => session.set(grant),
                Err(_) => session.grant.set(None),
            }
            session.restoring.set(false);
        });
        session
    }

    /// Whether the page is still finding out if someone is signed in.
    pub fn is_restoring(&self) -> bool {
        self.restoring.get()
    }

    /// The signed-in account, if any.
    pub fn account(&self) -> Option<Account> {
        self.grant
            .with(|grant| grant.as_ref().map(|g| g.account.clone()))
    }

    /// The current access token, or `SignedOut` when no one is signed in (any more). Pages
    /// show that failure as a prompt to sign in, and `RequireSignIn` sends the visitor to
    /// `/login` as soon as the session ends, so a call that needs a token never says the
    /// server is unreachable when the truth is that nobody is signed in.
    pub fn token(&self) -> Result<String, ApiFailure> {
        self.grant
            .with_untracked(|grant| grant.as_ref().map(|g| g.access_token.clone()))
            .ok_or(ApiFailure::SignedOut)
    }

    /// Takes a new grant (after sign-in or refresh) and schedules the next silent refresh.
    pub fn set(&self, grant: SessionGrant) {
        let wait_ms =
            (grant.expires_at.timestamp_millis() - js_sys::Date::now() as i64 - REFRESH_MARGIN_MS)
                .max(5_000);
        let generation = self.bump();
        self.grant.set(Some(grant));
        self.restoring.set(false);
        let session = *self;
        set_timeout(
            move || {
                if session.generation.get_value() != generation {
                    return;
                }
                spawn_local(async move {
                    match api::auth::refresh().await {
                        Ok(grant) => session.set(grant),
                        Err(_) => session.clear(),
                    }
                });
            },
            Duration::from_millis(wait_ms as u64),
        );
    }

    /// Reads the account again (after something changed it, e.g. a new organization).
    pub async fn reload_account(&self) {
        let Ok(token) = self.token() else {
            return;
        };
        if let Ok(account) = api::account::me(&token).await {
            self.grant.update(|grant| {
                if let Some(grant) = grant {
                    grant.account = account;
                }
            });
        }
    }

    /// Forgets the session locally (after sign-out or when it ended on the server).
    pub fn clear(&self) {
        self.bump();
        self.grant.set(None);
    }

    /// Signs out on the server, then locally.
    pub async fn sign_out(&self) {
        // Even if the server cannot be reached, this browser forgets the session.
        let _ = api::auth::logout().await;
        self.clear();
    }

    fn bump(&self) -> u64 {
        let next = self.generation.get_value() + 1;
        self.generation.set_value(next);
        next
    }
}

/// The session from context.
pub fn use_session() -> Session {
    expect_context::<Session>()
}
