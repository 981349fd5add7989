//! Wraps pages that need a signed-in user: others are sent to `/login` and brought back after.

use leptos::prelude::*;
use leptos_router::hooks::{use_location, use_navigate};
use leptos_router::NavigateOptions;

use crate::session::use_session;

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
                &format!("/login?next={}", js_sys::encode_uri_component(&next)),
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
