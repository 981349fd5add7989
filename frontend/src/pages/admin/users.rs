//! Admin › Users: invite people by email (they join once they accept), change roles, remove
//! people, withdraw invitations.

use leptos::ev::SubmitEvent;
use leptos::prelude::*;
use stratus_shared::api::members::{Invitation, Member, Members};
use stratus_shared::api::organizations::Role;

use crate::api;
use crate::changes::Changes;
use crate::components::feedback::{failed, loaded, notice, Loading, Outcome, StatusLine};
use crate::components::role_options::role_options;
use crate::session::use_session;

/// The organization's people and invitations.
#[component]
pub fn OrganizationUsers(organization_id: String) -> impl IntoView {
    let session = use_session();
    let organization_id = StoredValue::new(organization_id);
    let changes = Changes::new();
    let members = LocalResource::new(move || {
        changes.version.track();
        async move {
            api::organizations::members(&session.token()?, &organization_id.get_value(), None).await
        }
    });
    view! {
        <AddUser organization_id changes />
        <StatusLine message=changes.message test_id="admin-message" />
        <Suspense fallback=Loading>
            {move || Suspend::new(async move {
                loaded(members.await, |members| view! { <UserTable members organization_id changes /> })
            })}
        </Suspense>
    }
}

/// What an Admin reads after inviting someone: the same for every address, since whether it
/// has an account is the person's business.
fn invited_notice(invitation: Invitation) -> String {
    format!(
        "An invitation is on its way to {}. They join once they accept it, signed in with that address.",
        invitation.email
    )
}

#[component]
fn AddUser(organization_id: StoredValue<String>, changes: Changes) -> impl IntoView {
    let email = RwSignal::new(String::new());
    let role = RwSignal::new(Role::Member.as_str().to_owned());
    let add = changes.action(
        move |token, (address, role): (String, Role)| async move {
            api::organizations::add_member(&token, &organization_id.get_value(), address, role)
                .await
        },
        move |added| {
            email.set(String::new());
            notice(invited_notice(added))
        },
    );
    let submit = move |event: SubmitEvent| {
        event.prevent_default();
        let chosen = Role::parse(&role.get_untracked()).unwrap_or(Role::Member);
        add.dispatch((email.get_untracked(), chosen));
    };
    view! {
        <form class="inline-form" on:submit=submit>
            <label for="add-user-email">"Invite a user by email"</label>
            <input id="add-user-email" type="email" bind:value=email required=true />
            <label for="add-user-role" class="visually-hidden">"Role"</label>
            <select id="add-user-role" bind:value=role>
                {role_options(None)}
            </select>
            <button type="submit" class="button">"Invite"</button>
        </form>
    }
}

/// The first page of people as loaded; "Show more people" appends the next page until the
/// list's end. Any change reloads from the first page.
#[component]
fn UserTable(
    members: Members,
    organization_id: StoredValue<String>,
    changes: Changes,
) -> impl IntoView {
    let session = use_session();
    let people = RwSignal::new(members.members);
    let next_after = RwSignal::new(members.next_after);
    let loading = RwSignal::new(false);
    let outcome = RwSignal::new(Outcome::None);
    let show_more = move |_| {
        let Some(after) = next_after.get_untracked() else {
            return;
        };
        let Ok(token) = session.token() else {
            return;
        };
        loading.set(true);
        leptos::task::spawn_local(async move {
            let page =
                api::organizations::members(&token, &organization_id.get_value(), Some(&after))
                    .await;
            // `try_`: the table may be gone (a change reloaded it) by the time this answers.
            match page {
                Ok(page) => {
                    people.try_update(|shown| shown.extend(page.members));
                    next_after.try_set(page.next_after);
                    outcome.try_set(None);
                }
                Err(failure) => {
                    outcome.try_set(failed(&failure));
                }
            }
            loading.try_set(false);
        });
    };
    view! {
        <table class="users">
            <thead>
                <tr><th scope="col">"Email"</th><th scope="col">"Role"</th><th scope="col"><span class="visually-hidden">"Actions"</span></th></tr>
            </thead>
            <tbody>
                <For each=move || people.get() key=|member| member.user_id.clone() let:member>
                    <MemberRow member organization_id changes />
                </For>
                {members
                    .invitations
                    .into_iter()
                    .map(|invitation| view! { <InvitationRow invitation organization_id changes /> })
                    .collect_view()}
            </tbody>
        </table>
        <Show when=move || next_after.with(Option::is_some)>
            <button
                type="button"
                class="secondary"
                data-testid="members-more"
                disabled=move || loading.get()
                on:click=show_more
            >
                "Show more people"
            </button>
        </Show>
        <StatusLine message=outcome test_id="members-message" />
    }
}

/// One person: their role can be changed and they can be removed.
#[component]
fn MemberRow(
    member: Member,
    organization_id: StoredValue<String>,
    changes: Changes,
) -> impl IntoView {
    let user_id = StoredValue::new(member.user_id.clone());
    let change_role = changes.action(
        move |token, role: Role| async move {
            let (organization_id, user_id) = (organization_id.get_value(), user_id.get_value());
            api::organizations::change_role(&token, &organization_id, &user_id, role).await
        },
        |_| None,
    );
    let remove = changes.action(
        move |token, ()| async move {
            let (organization_id, user_id) = (organization_id.get_value(), user_id.get_value());
            api::organizations::remove_member(&token, &organization_id, &user_id).await
        },
        |()| None,
    );
    let choose = move |event| {
        if let Some(role) = Role::parse(&event_target_value(&event)) {
            change_role.dispatch(role);
        }
    };
    view! {
        <tr data-testid="member-row">
            <td>{member.email.clone()}</td>
            <td>
                <select aria-label=format!("Role of {}", member.email) on:change=choose>
                    {role_options(Some(member.role))}
                </select>
            </td>
            <td>
                <button type="button" class="button button-quiet" on:click=move |_| { remove.dispatch(()); }>
                    "Remove"
                </button>
            </td>
        </tr>
    }
}

/// An address invited that has not accepted yet: the invitation can be withdrawn.
#[component]
fn InvitationRow(
    invitation: Invitation,
    organization_id: StoredValue<String>,
    changes: Changes,
) -> impl IntoView {
    let invitation_id = StoredValue::new(invitation.id.clone());
    let withdraw = changes.action(
        move |token, ()| async move {
            let (organization_id, invitation_id) =
                (organization_id.get_value(), invitation_id.get_value());
            api::organizations::withdraw_invitation(&token, &organization_id, &invitation_id).await
        },
        |()| None,
    );
    view! {
        <tr data-testid="invitation-row">
            <td>{invitation.email.clone()} <span class="muted">" (invited)"</span></td>
            <td>{invitation.role.label()}</td>
            <td>
                <button type="button" class="button button-quiet" on:click=move |_| { withdraw.dispatch(()); }>
                    "Withdraw"
                </button>
            </td>
        </tr>
    }
}
