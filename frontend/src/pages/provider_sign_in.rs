//! Sign-in through identity providers: the landing page that restores the session after the
//! provider's redirect, the page that asks the owner of an existing account to prove control
//! before linking, and the plain-words error page.

use leptos::prelude::*;
use leptos_router::components::A;
use leptos_router::hooks::{use_navigate, use_query_map};
use leptos_router::NavigateOptions;
use stratus_shared::api::oidc::{ProviderSummary, SignInFailure};

use crate::api::{self, ApiFailure};
use crate::components::feedback::{outcome, running};
use crate::components::form::FormMessage;
use crate::pages::forms::take_fragment_token;
use crate::pages::login::Login;
use crate::session::use_session;

/// `/login/complete`: the provider sign-in set the refresh cookie; the session restores from
/// it like after any page load, then the home page opens.
#[component]
pub fn SignInComplete() -> impl IntoView {
    let session = use_session();
    let navigate = use_navigate();
    Effect::new(move |_| {
        if session.account().is_some() {
            navigate(
                "/",
                NavigateOptions {
                    replace: true,
                    ..Default::default()
                },
            );
        }
    });
    view! {
        <div class="page narrow">
            <h1>"Signing you in…"</h1>
            <Show when=move || !session.is_restoring() && session.account().is_none()>
                <p class="form-message form-error" data-testid="sign-in-failed">
                    "The sign-in could not be completed in this browser. Please "
                    <A href="/login">"try again"</A> "."
                </p>
            </Show>
        </div>
    }
}

fn provider_name(providers: &[ProviderSummary], id: &str) -> String {
    providers
        .iter()
        .find(|provider| provider.id == id)
        .map(|provider| provider.name.clone())
        .unwrap_or_else(|| "your identity provider".into())
}

/// `/login/link?provider=<id>`: an account with this address exists; its owner signs in with
/// the password once, in this browser, and the provider is linked.
#[component]
pub fn LinkProvider() -> impl IntoView {
    let query = use_query_map();
    let providers = LocalResource::new(api::auth::providers);
    let provider = move || query.read().get("provider").unwrap_or_default();
    view! {
        <div class="page narrow">
            <p class="form-message form-notice" data-testid="link-notice">
                "You already have a Stratus account with this email address. Sign in with its \
                 password once to link "
                <Suspense fallback=|| "your identity provider">
                    {move || Suspend::new(async move {
                        provider_name(&providers.await.unwrap_or_default(), &provider())
                    })}
                </Suspense>
                " to it, or open the link we mailed to the address in this browser; after that you \
                 can sign in with either."
            </p>
        </div>
        <Login />
    }
}

/// `/login/error?reason=<code>`: what went wrong with a provider sign-in, in plain words.
#[component]
pub fn SignInError() -> impl IntoView {
    let query = use_query_map();
    let failure = move || {
        query
            .read()
            .get("reason")
            .and_then(|code| SignInFailure::parse(&code))
            .unwrap_or(SignInFailure::ProviderError)
    };
    let provider = move || query.read().get("provider").unwrap_or_default();
    let providers = LocalResource::new(api::auth::providers);
    view! {
        <div class="page narrow">
            <h1 data-testid="sign-in-error-title">
                {move || match failure() {
                    SignInFailure::AdminConsentRequired => "Your administrator must approve Stratus",
                    SignInFailure::Cancelled => "Sign-in cancelled",
                    _ => "Sign-in did not work",
                }}
            </h1>
            <p data-testid="sign-in-error" data-reason=move || failure().as_str()>
                {move || failure().message()}
            </p>
            <Show when=move || failure() == SignInFailure::AdminConsentRequired>
                <AdminConsentSteps providers provider=Signal::derive(provider) />
            </Show>
            <p>
                <A href="/login">"Back to sign-in"</A>
            </p>
        </div>
    }
}

#[component]
fn AdminConsentSteps(
    providers: LocalResource<Result<Vec<ProviderSummary>, ApiFailure>>,
    provider: Signal<String>,
) -> impl IntoView {
    view! {
        <ol class="steps">
            <li>"Send this page to your organization's Microsoft Entra ID (Azure AD) administrator."</li>
            <li>
                "They open the approval link below, sign in with an administrator account and \
                 accept the permissions Stratus asks for (sign-in and your email address)."
            </li>
            <li>"Once approved, everyone in your organization can sign in with Microsoft."</li>
        </ol>
        <Suspense fallback=|| ()>
            {move || Suspend::new(async move {
                let list = providers.await.unwrap_or_default();
                list.into_iter()
                    .find(|p| p.id == provider.get_untracked())
                    .and_then(|p| p.admin_consent_url)
                    .map(|url| {
                        view! {
                            <p>
                                "Approval link for administrators: "
                                <a href=url.clone() data-testid="admin-consent-url" rel="external">{url.clone()}</a>
                            </p>
                        }
                    })
            })}
        </Suspense>
    }
}

/// `/link-identity#token=…`: the mailed link that links a provider to an existing account.
/// It works only in the browser that signed in at the provider.
#[component]
pub fn LinkIdentity() -> impl IntoView {
    let session = use_session();
    let navigate = use_navigate();
    let token = StoredValue::new(take_fragment_token());
    let link = Action::new_local(move |token: &String| {
        let token = token.clone();
        let navigate = navigate.clone();
        async move {
            let grant = api::auth::link_identity(token).await?;
            session.set(grant);
            navigate("/account", Default::default());
            Ok::<_, ApiFailure>(())
        }
    });
    let pending = running(link);
    let confirm = move |_| {
        if let Some(token) = token.get_value() {
            link.dispatch(token);
        }
    };
    view! {
        <div class="page narrow">
            <h1>"Link your sign-in provider"</h1>
            <p>
                "Confirm to link the provider you just signed in with to your Stratus account. \
                 This works in the browser where you signed in with the provider."
            </p>
            <FormMessage message=outcome(link, None) />
            <button
                type="button"
                class="button"
                on:click=confirm
                disabled=move || pending() || token.with_value(Option::is_none)
            >
                "Link and sign in"
            </button>
        </div>
    }
}
