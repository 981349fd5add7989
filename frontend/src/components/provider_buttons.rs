//! The identity providers' sign-in buttons (`/api/auth/oidc/<id>/start`), under the sign-in form.

use leptos::prelude::*;

use crate::api;

/// Buttons for every configured provider; nothing when none is configured.
#[component]
pub fn ProviderButtons() -> impl IntoView {
    let providers = LocalResource::new(api::auth::providers);
    view! {
        <Suspense fallback=|| ()>
            {move || Suspend::new(async move {
                let providers = providers.await.unwrap_or_default();
                (!providers.is_empty())
                    .then(|| {
                        view! {
                            <div class="providers" data-testid="providers">
                                <p class="muted">"Or sign in with"</p>
                                {providers
                                    .into_iter()
                                    .map(|provider| {
                                        let href = format!("/api/auth/oidc/{}/start", provider.id);
                                        let id = format!("provider-{}", provider.id);
                                        // rel=external: a full navigation to the server, not a route.
                                        view! {
                                            <a class="button button-quiet" id=id href=href rel="external">
                                                {provider.name}
                                            </a>
                                        }
                                    })
                                    .collect_view()}
                            </div>
                        }
                    })
            })}
        </Suspense>
    }
}
