//! Wraps pages that need a signed-in user: others are sent to `/login` and brought back after.

use leptos::prelude::*;
use leptos_router::components::A;
use leptos_router::hooks::{use_location, use_navigate};
use leptos_router::NavigateOptions;

use crate::session::use_session;

/// The sign-in page, set to bring the visitor back to `next` (a path of this site) after.
pub fn sign_in_path(next: &str) -> String {
    format!("/login?next={}", js_sys::encode_uri_component(next))
}

/// Shows `children` only to a signed-in user.
#[component]
pub fn RequireSignIn(children: ChildrenFn) -> impl IntoView {
    let session = use_session();
    let location = use_location();
    let navigate = use_navigate();
    Effect::new(move |_| {
        if !session.is_restoring() && session.account().is_none() {
            let next = location.pathname.get_untracked();
            navigate(
                &sign_in_path(&next),
                NavigateOptions {
                    replace: true,
                    ..Default::default()
                },
            );
        }
    });
    // Only signing in or out re-renders the page: a refreshed grant or a re-read account must
    // not reset what the page shows (open tabs, typed text).
    let signed_in = Memo::new(move |_| session.account().is_some());
    move || {
        if signed_in.get() {
            children().into_any()
        } else {
            view! { <p class="muted">"Checking your session…"</p> }.into_any()
        }
    }
}

/// What a page shows where its data would be when the session ended under it: a way back in
/// that returns here (`RequireSignIn` also navigates there by itself).
#[component]
pub fn SignInPrompt() -> impl IntoView {
    let location = use_location();
    let href = move || sign_in_path(&location.pathname.get());
    view! {
        <p class="form-message form-error" data-testid="signed-out">
            "You are signed out. " <A href=href>"Sign in"</A> " to go on."
        </p>
    }
}
