//! Staff console › organizations: link an account (or an address with no account yet) to an
//! organization, and create an organization with its first Owner.

use leptos::ev::SubmitEvent;
use leptos::prelude::*;
use stratus_shared::api::organizations::Role;
use stratus_shared::api::staff::{Linked, StaffOrganization};

use crate::api;
use crate::changes::Changes;
use crate::components::feedback::notice;
use crate::components::role_options::role_options;
use crate::session::use_session;

/// A picker of every organization (re-read after each change).
#[component]
fn OrganizationPicker(
    id: &'static str,
    selected: RwSignal<String>,
    console: Changes,
) -> impl IntoView {
    let session = use_session();
    let organizations = LocalResource::new(move || {
        console.version.track();
        async move { api::staff::organizations(&session.token()?).await }
    });
    view! {
        <Suspense fallback=|| view! { <span class="muted">"Loading organizations…"</span> }>
            {move || Suspend::new(async move {
                match organizations.await {
                    Ok(found) => {
                        view! {
                            <select id=id bind:value=selected required=true>
                                <option value="">"Choose an organization"</option>
                                {found.organizations.into_iter().map(organization_option).collect_view()}
                            </select>
                        }
                            .into_any()
                    }
                    Err(failure) => {
                        view! { <span class="form-error">{failure.to_string()}</span> }.into_any()
                    }
                }
            })}
        </Suspense>
    }
}

fn organization_option(organization: StaffOrganization) -> impl IntoView {
    let members = match organization.member_count {
        1 => "1 member".to_owned(),
        n => format!("{n} members"),
    };
    let text = format!("{} ({}, {members})", organization.name, organization.slug);
    view! { <option value=organization.id>{text}</option> }
}

/// What staff read after linking someone.
fn linked_notice(linked: Linked) -> String {
    match linked {
        Linked::Member { email, link, .. } => format!(
            "{email} now belongs to {} as {}.",
            link.organization_name,
            link.role.label()
        ),
        Linked::Pending { link } => format!(
            "{} has no verified account yet: linked to {} as {} once the address is verified.",
            link.email,
            link.organization_name,
            link.role.label()
        ),
    }
}

#[component]
pub fn LinkForm(console: Changes) -> impl IntoView {
    let email = RwSignal::new(String::new());
    let organization = RwSignal::new(String::new());
    let role = RwSignal::new(Role::Member.as_str().to_owned());
    let link = console.action(
        |token, (address, organization_id, role): (String, String, Role)| async move {
            api::staff::link(&token, address, organization_id, role).await
        },
        move |linked| {
            email.set(String::new());
            notice(linked_notice(linked))
        },
    );
    let submit = move |event: SubmitEvent| {
        event.prevent_default();
        let chosen = Role::parse(&role.get_untracked()).unwrap_or(Role::Member);
        link.dispatch((email.get_untracked(), organization.get_untracked(), chosen));
    };
    view! {
        <section aria-labelledby="staff-link-title">
            <h2 id="staff-link-title">"Link to an organization"</h2>
            <form class="inline-form" on:submit=submit data-testid="staff-link-form">
                <label for="staff-link-email">"Email"</label>
                <input id="staff-link-email" type="email" bind:value=email required=true />
                <label for="staff-link-organization" class="visually-hidden">"Organization"</label>
                <OrganizationPicker id="staff-link-organization" selected=organization console />
                <label for="staff-link-role" class="visually-hidden">"Role"</label>
                <select id="staff-link-role" bind:value=role>
                    {role_options(None)}
                </select>
                <button type="submit" class="button">"Link"</button>
            </form>
        </section>
    }
}

#[component]
pub fn CreateOrganizationForm(console: Changes) -> impl IntoView {
    let name = RwSignal::new(String::new());
    let owner_email = RwSignal::new(String::new());
    let create = console.action(
        |token, (name, owner): (String, String)| async move {
            api::staff::create_organization(&token, name, owner).await
        },
        move |created| {
            name.set(String::new());
            owner_email.set(String::new());
            let owner = match created.owner {
                Linked::Member { email, .. } => format!("{email} is its Owner."),
                Linked::Pending { link } => format!(
                    "{} becomes its Owner once the address is verified.",
                    link.email
                ),
            };
            notice(format!("Created {}. {owner}", created.organization.name))
        },
    );
    let submit = move |event: SubmitEvent| {
        event.prevent_default();
        create.dispatch((name.get_untracked(), owner_email.get_untracked()));
    };
    view! {
        <section aria-labelledby="staff-create-title">
            <h2 id="staff-create-title">"Create an organization"</h2>
            <form class="inline-form" on:submit=submit>
                <label for="staff-organization-name">"Name"</label>
                <input id="staff-organization-name" type="text" bind:value=name required=true maxlength="100" />
                <label for="staff-organization-owner">"First Owner's email"</label>
                <input id="staff-organization-owner" type="email" bind:value=owner_email required=true />
                <button type="submit" class="button">"Create"</button>
            </form>
        </section>
    }
}
