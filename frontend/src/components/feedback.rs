//! What pages say back: the outcome of an action (an error or a notice), why data could not be
//! loaded, and that it is still loading. One look everywhere, one place to change it.

use leptos::prelude::*;

use crate::api::ApiFailure;
use crate::components::require_sign_in::SignInPrompt;

/// The outcome of the last action shown to the user: `(is an error, text)`; `None` shows nothing.
pub type Outcome = Option<(bool, String)>;

/// A notice for a status line.
pub fn notice(text: impl Into<String>) -> Outcome {
    Some((false, text.into()))
}

/// Why something did not work, for a status line.
pub fn failed(failure: &ApiFailure) -> Outcome {
    Some((true, failure.to_string()))
}

/// What a status line shows for the latest run of `action`: `success` when it went through
/// (nothing when `None`), or why it did not.
pub fn outcome<I: 'static, T: 'static>(
    action: Action<I, Result<T, ApiFailure>>,
    success: Option<&'static str>,
) -> Signal<Outcome> {
    Signal::derive(move || {
        action.value().with(|latest| match latest {
            Some(Ok(_)) => success.map(notice).unwrap_or_default(),
            Some(Err(failure)) => failed(failure),
            None => None,
        })
    })
}

/// Says why the latest run of `action` failed, if it did.
#[component]
pub fn ActionError<I: 'static, T: 'static>(
    action: Action<I, Result<T, ApiFailure>>,
) -> impl IntoView {
    move || {
        action.value().with(|latest| match latest {
            Some(Err(failure)) => {
                Some(view! { <p class="form-message form-error">{failure.to_string()}</p> })
            }
            _ => None,
        })
    }
}

/// Shows `message` (an error or a notice) in a status line tagged with `test_id`, so browser
/// tests can tell one page's line from another's.
#[component]
pub fn StatusLine(
    #[prop(into)] message: Signal<Outcome>,
    /// The `data-testid` of the line.
    test_id: &'static str,
) -> impl IntoView {
    move || {
        message.get().map(|(is_error, text)| {
            let class = if is_error {
                "form-message form-error"
            } else {
                "form-message form-notice"
            };
            view! {
                <p class=class role="status" data-testid=test_id>
                    {text}
                </p>
            }
        })
    }
}

/// Says why data could not be loaded; a signed-out visitor gets a way to sign in again.
#[component]
pub fn LoadFailure(failure: ApiFailure) -> impl IntoView {
    match failure {
        ApiFailure::SignedOut => view! { <SignInPrompt /> }.into_any(),
        failure => {
            view! { <p class="form-message form-error">{failure.to_string()}</p> }.into_any()
        }
    }
}

/// What a `<Suspense>` shows while its data loads: `<Suspense fallback=Loading>`.
#[component]
pub fn Loading() -> impl IntoView {
    view! { <p class="muted">"Loading…"</p> }
}

/// What a `<Suspense>` shows once its data is in: `show` the data, or say why it could not be
/// loaded.
pub fn loaded<T, V: IntoView + 'static>(
    result: Result<T, ApiFailure>,
    show: impl FnOnce(T) -> V,
) -> AnyView {
    match result {
        Ok(data) => show(data).into_any(),
        Err(failure) => view! { <LoadFailure failure /> }.into_any(),
    }
}

/// The empty state of a page that has nothing to show yet, with why.
#[component]
pub fn EmptyState(
    /// The `data-testid` of the box.
    test_id: &'static str,
    text: &'static str,
) -> impl IntoView {
    view! {
        <div class="empty-state" data-testid=test_id>
            <p>{text}</p>
        </div>
    }
}
