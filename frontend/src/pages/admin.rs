//! `/admin`: the Admin app for Owners and Admins of an organization. Organization › Users:
//! add people by email (accounts join at once, other addresses are invited), change roles,
//! remove people, withdraw invitations.

use leptos::ev::SubmitEvent;
use leptos::prelude::*;
use leptos::task::spawn_local;
use stratus_shared::api::members::{Added, Members};
use stratus_shared::api::organizations::{Organization, Role};

use crate::api;
use crate::components::require_sign_in::RequireSignIn;
use crate::session::use_session;

const ROLES: [Role; 3] = [Role::Owner, Role::Admin, Role::Member];

/// The Admin app (signed-in users; its content for Owners and Admins).
#[component]
pub fn AdminPage() -> impl IntoView {
    view! {
        <RequireSignIn>
            <AdminApp />
        </RequireSignIn>
    }
}

#[component]
fn AdminApp() -> impl IntoView {
    let session = use_session();
    let organizations = LocalResource::new(move || async move {
        let token = session.access_token().ok_or(api::ApiFailure::Unreachable)?;
        api::organizations(&token).await
    });
    view! {
        <div class="page">
            <h1>"Admin"</h1>
            <Suspense fallback=|| view! { <p class="muted">"Loading…"</p> }>
                {move || Suspend::new(async move {
                    match organizations.await {
                        Ok(all) => {
                            let managed: Vec<Organization> = all
                                .into_iter()
                                .filter(|o| matches!(o.role, Role::Owner | Role::Admin))
                                .collect();
                            if managed.is_empty() {
                                view! {
                                    <p>
                                        "The Admin app is for the Owners and Admins of an organization. "
                                        "Ask an Owner of yours to make you Admin, or, if your account is not linked to your organization yet, ask them to add you."
                                    </p>
                                }
                                    .into_any()
                            } else {
                                view! { <ManagedOrganizations organizations=managed /> }.into_any()
                            }
                        }
                        Err(failure) => {
                            view! { <p class="form-message form-error">{failure.to_string()}</p> }
                                .into_any()
                        }
                    }
                })}
            </Suspense>
        </div>
    }
}

#[component]
fn ManagedOrganizations(organizations: Vec<Organization>) -> impl IntoView {
    let selected = RwSignal::new(organizations[0].id.clone());
    let several = organizations.len() > 1;
    view! {
        <Show when=move || several>
            <label for="admin-organization">"Organization "</label>
            <select id="admin-organization" bind:value=selected>
                {organizations
                    .iter()
                    .map(|o| view! { <option value=o.id.clone()>{o.name.clone()}</option> })
                    .collect_view()}
            </select>
        </Show>
        <h2>"Users"</h2>
        {move || view! { <OrganizationUsers organization_id=selected.get() /> }}
    }
}

#[component]
fn OrganizationUsers(organization_id: String) -> impl IntoView {
    let session = use_session();
    let organization_id = StoredValue::new(organization_id);
    let version = RwSignal::new(0u32);
    let members = LocalResource::new(move || {
        version.track();
        async move {
            let token = session.access_token().ok_or(api::ApiFailure::Unreachable)?;
            api::members(&token, &organization_id.get_value()).await
        }
    });
    let message = RwSignal::new(None::<(bool, String)>);
    let reload = move || version.update(|v| *v += 1);
    view! {
        <AddUser organization_id message on_added=reload />
        {move || {
            message
                .get()
                .map(|(is_error, text)| {
                    let class = if is_error { "form-message form-error" } else { "form-message form-notice" };
                    view! { <p class=class role="status" data-testid="admin-message">{text}</p> }
                })
        }}
        <Suspense fallback=|| view! { <p class="muted">"Loading…"</p> }>
            {move || Suspend::new(async move {
                match members.await {
                    Ok(members) => view! { <UserTable members organization_id message on_change=reload /> }.into_any(),
                    Err(failure) => view! { <p class="form-message form-error">{failure.to_string()}</p> }.into_any(),
                }
            })}
        </Suspense>
    }
}

#[component]
fn AddUser(
    organization_id: StoredValue<String>,
    message: RwSignal<Option<(bool, String)>>,
    on_added: impl Fn() + Copy + 'static,
) -> impl IntoView {
    let session = use_session();
    let email = RwSignal::new(String::new());
    let role = RwSignal::new(Role::Member.as_str().to_owned());
    let submit = move |event: SubmitEvent| {
        event.prevent_default();
        let Some(token) = session.access_token() else {
            return;
        };
        let chosen = Role::parse(&role.get_untracked()).unwrap_or(Role::Member);
        spawn_local(async move {
            match api::add_member(
                &token,
                &organization_id.get_value(),
                email.get_untracked(),
                chosen,
            )
            .await
            {
                Ok(Added::Member { member }) => {
                    message.set(Some((
                        false,
                        format!("{} now belongs to the organization.", member.email),
                    )));
                    email.set(String::new());
                    on_added();
                }
                Ok(Added::Invited { invitation }) => {
                    message.set(Some((false, format!(
                        "{} has no verified account yet: an invitation is on its way, and they join once the address is verified.",
                        invitation.email
                    ))));
                    email.set(String::new());
                    on_added();
                }
                Err(failure) => message.set(Some((true, failure.to_string()))),
            }
        });
    };
    view! {
        <form class="inline-form" on:submit=submit>
            <label for="add-user-email">"Add a user by email"</label>
            <input id="add-user-email" type="email" bind:value=email required=true />
            <label for="add-user-role" class="visually-hidden">"Role"</label>
            <select id="add-user-role" bind:value=role>
                {ROLES.map(|r| view! { <option value=r.as_str()>{r.label()}</option> }).collect_view()}
            </select>
            <button type="submit" class="button">"Add"</button>
        </form>
    }
}

#[component]
fn UserTable(
    members: Members,
    organization_id: StoredValue<String>,
    message: RwSignal<Option<(bool, String)>>,
    on_change: impl Fn() + Copy + 'static,
) -> impl IntoView {
    let session = use_session();
    let change_role = move |user_id: String, role: String| {
        let Some(token) = session.access_token() else {
            return;
        };
        let Some(role) = Role::parse(&role) else {
            return;
        };
        spawn_local(async move {
            match api::change_role(&token, &organization_id.get_value(), &user_id, role).await {
                Ok(_) => on_change(),
                Err(failure) => {
                    message.set(Some((true, failure.to_string())));
                    on_change();
                }
            }
        });
    };
    let remove = move |user_id: String| {
        let Some(token) = session.access_token() else {
            return;
        };
        spawn_local(async move {
            match api::remove_member(&token, &organization_id.get_value(), &user_id).await {
                Ok(()) => on_change(),
                Err(failure) => message.set(Some((true, failure.to_string()))),
            }
        });
    };
    let withdraw = move |invitation_id: String| {
        let Some(token) = session.access_token() else {
            return;
        };
        spawn_local(async move {
            match api::withdraw_invitation(&token, &organization_id.get_value(), &invitation_id)
                .await
            {
                Ok(()) => on_change(),
                Err(failure) => message.set(Some((true, failure.to_string()))),
            }
        });
    };
    view! {
        <table class="users">
            <thead>
                <tr><th scope="col">"Email"</th><th scope="col">"Role"</th><th scope="col"><span class="visually-hidden">"Actions"</span></th></tr>
            </thead>
            <tbody>
                {members.members.into_iter().map(|member| {
                    let id_for_role = member.user_id.clone();
                    let id_for_remove = member.user_id.clone();
                    view! {
                        <tr data-testid="member-row">
                            <td>{member.email.clone()}</td>
                            <td>
                                <select
                                    aria-label=format!("Role of {}", member.email)
                                    on:change=move |event| change_role(id_for_role.clone(), event_target_value(&event))
                                >
                                    {ROLES.map(|r| view! {
                                        <option value=r.as_str() selected=r == member.role>{r.label()}</option>
                                    }).collect_view()}
                                </select>
                            </td>
                            <td>
                                <button type="button" class="button button-quiet" on:click=move |_| remove(id_for_remove.clone())>
                                    "Remove"
                                </button>
                            </td>
                        </tr>
                    }
                }).collect_view()}
                {members.invitations.into_iter().map(|invitation| {
                    let id = invitation.id.clone();
                    view! {
                        <tr data-testid="invitation-row">
                            <td>{invitation.email.clone()} <span class="muted">" (invited)"</span></td>
                            <td>{invitation.role.label()}</td>
                            <td>
                                <button type="button" class="button button-quiet" on:click=move |_| withdraw(id.clone())>
                                    "Withdraw"
                                </button>
                            </td>
                        </tr>
                    }
                }).collect_view()}
            </tbody>
        </table>
    }
}
