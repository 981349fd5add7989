//! Which of my organizations the Admin app works on: chosen in the header when I belong to
//! several, remembered in this browser.

use leptos::prelude::*;
use stratus_shared::api::auth::OrganizationMembership;

use crate::session::use_session;

/// Where the choice is remembered (an organization id is no secret).
const STORAGE_KEY: &str = "stratus.organization";

/// The organization chosen in the header, shared by the pages that work on one organization.
#[derive(Clone, Copy)]
pub struct SelectedOrganization(RwSignal<Option<String>>);

impl SelectedOrganization {
    /// Makes the choice available to every page, starting from the remembered one.
    pub fn provide() {
        let remembered = storage().and_then(|storage| storage.get_item(STORAGE_KEY).ok().flatten());
        provide_context(Self(RwSignal::new(remembered)));
    }

    /// Chooses `organization_id` and remembers it.
    pub fn choose(&self, organization_id: String) {
        if let Some(storage) = storage() {
            // Not remembering is harmless: the first organization is chosen next time.
            let _ = storage.set_item(STORAGE_KEY, &organization_id);
        }
        self.0.set(Some(organization_id));
    }

    /// The chosen organization among `mine`, or the first when the choice is not one of them
    /// (none made yet, or I left it).
    pub fn among(&self, mine: &[OrganizationMembership]) -> Option<OrganizationMembership> {
        let chosen = self.0.get();
        mine.iter()
            .find(|organization| Some(&organization.organization_id) == chosen.as_ref())
            .or_else(|| mine.first())
            .cloned()
    }
}

fn storage() -> Option<web_sys::Storage> {
    web_sys::window()?.local_storage().ok().flatten()
}

/// The chosen organization.
pub fn use_selected_organization() -> SelectedOrganization {
    expect_context::<SelectedOrganization>()
}

/// The organization picker of the header; shown only to people in several organizations.
#[component]
pub fn OrganizationSelector() -> impl IntoView {
    let session = use_session();
    let selected = use_selected_organization();
    let organizations = Memo::new(move |_| {
        session
            .account()
            .map(|account| account.organizations)
            .unwrap_or_default()
    });
    move || {
        let mine = organizations.get();
        (mine.len() > 1).then(|| {
            let current = selected.among(&mine).map(|o| o.organization_id);
            view! {
                <label class="organization-selector">
                    <span class="visually-hidden">"Organization"</span>
                    <select
                        data-testid="organization-selector"
                        on:change=move |event| selected.choose(event_target_value(&event))
                    >
                        {mine
                            .into_iter()
                            .map(|organization| {
                                let is_current = Some(&organization.organization_id)
                                    == current.as_ref();
                                view! {
                                    <option value=organization.organization_id selected=is_current>
                                        {organization.name}
                                    </option>
                                }
                            })
                            .collect_view()}
                    </select>
                </label>
            }
        })
    }
}
