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

// An action can outlive the view that started it: signing in navigates away, registering the
// first DMS swaps the empty overview for the list. Its last change then reaches the old view's
// readers once more, after that view's signals are gone. So the readers below take the
// action's state once, up front, and read it with `try_`: a signal that is gone reads as nothing.

/// Whether `action` is running, e.g. for a button's `disabled`.
pub fn running<I: 'static, O: 'static>(action: Action<I, O>) -> impl Fn() -> bool + Copy {
    let pending = action.pending();
    move || pending.try_get().unwrap_or(false)
}

/// The latest answer of `action` as `read` sees it; `None` before the first answer.
pub fn latest<I: 'static, O: 'static, U>(
    action: Action<I, O>,
    read: impl Fn(&O) -> Option<U> + Copy,
) -> impl Fn() -> Option<U> + Copy {
    let value = action.value();
    move || {
        value
            .try_with(|latest| latest.as_ref().and_then(read))
            .flatten()
    }
}

/// What a status line shows for the latest run of `action`: `success` when it went through
/// (nothing when `None`), or why it did not.
pub fn outcome<I: 'static, T: 'static>(
    action: Action<I, Result<T, ApiFailure>>,
    success: Option<&'static str>,
) -> Signal<Outcome> {
    let latest = latest(action, move |result| match result {
        Ok(_) => success.and_then(notice),
        Err(failure) => failed(failure),
    });
    Signal::derive(latest)
}

/// Says why the latest run of `action` failed, if it did.
#[component]
pub fn ActionError<I: 'static, T: 'static>(
    action: Action<I, Result<T, ApiFailure>>,
) -> impl IntoView {
    let failure = latest(action, |result| {
        result.as_ref().err().map(ToString::to_string)
    });
    move || failure().map(|text| view! { <p class="form-message form-error">{text}</p> })
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
        // `try_get`: the line may be read once more after its page is gone (see `running`).
        message.try_get().flatten().map(|(is_error, text)| {
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
