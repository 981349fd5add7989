//! Staff console › Accounts: find accounts (and pending links) by email; change an account's
//! role in an organization, unlink it, or remove a pending link, inline.

use leptos::ev::SubmitEvent;
use leptos::prelude::*;
use stratus_shared::api::organizations::Role;
use stratus_shared::api::staff::{
    AccountSearchResult, LinkSource, OrganizationLink, PendingLink, StaffAccount,
};

use crate::api;
use crate::changes::Changes;
use crate::components::feedback::{notice, LoadFailure};
use crate::components::role_options::role_options;
use crate::session::use_session;

#[component]
pub fn AccountSearch(console: Changes) -> impl IntoView {
    let session = use_session();
    let query = RwSignal::new(String::new());
    let searched = RwSignal::new(None::<String>);
    let results = LocalResource::new(move || {
        let q = searched.get();
        console.version.track();
        async move {
            let Some(q) = q else {
                return Ok(None);
            };
            api::staff::accounts(&session.token()?, &q).await.map(Some)
        }
    });
    let submit = move |event: SubmitEvent| {
        event.prevent_default();
        searched.set(Some(query.get_untracked()));
    };
    view! {
        <section aria-labelledby="staff-accounts-title">
            <h2 id="staff-accounts-title">"Accounts"</h2>
            <form class="inline-form" on:submit=submit>
                <label for="staff-search">"Email contains"</label>
                <input id="staff-search" type="search" bind:value=query />
                <button type="submit" class="button">"Search"</button>
            </form>
            <Suspense fallback=|| view! { <p class="muted">"Searching…"</p> }>
                {move || Suspend::new(async move {
                    match results.await {
                        Ok(Some(found)) => view! { <AccountResults found console /> }.into_any(),
                        Ok(None) => ().into_any(),
                        Err(failure) => view! { <LoadFailure failure /> }.into_any(),
                    }
                })}
            </Suspense>
        </section>
    }
}

#[component]
fn AccountResults(found: AccountSearchResult, console: Changes) -> impl IntoView {
    if found.accounts.is_empty() && found.pending.is_empty() {
        return view! { <p class="muted">"No account or pending link matches."</p> }.into_any();
    }
    let truncated = found.truncated;
    view! {
        <table class="users" data-testid="staff-accounts">
            <thead>
                <tr>
                    <th scope="col">"Email"</th>
                    <th scope="col">"Status"</th>
                    <th scope="col">"Organizations"</th>
                </tr>
            </thead>
            <tbody>
                {found
                    .accounts
                    .into_iter()
                    .map(|account| view! { <AccountRow account console /> })
                    .collect_view()}
                {found
                    .pending
                    .into_iter()
                    .map(|link| view! { <PendingRow link console /> })
                    .collect_view()}
            </tbody>
        </table>
        <Show when=move || truncated>
            <p class="muted">"More match than are shown: narrow the search."</p>
        </Show>
    }
    .into_any()
}

#[component]
fn AccountRow(account: StaffAccount, console: Changes) -> impl IntoView {
    let status = match (account.verified, account.is_staff) {
        (true, true) => "Verified, staff",
        (true, false) => "Verified",
        (false, _) => "Not verified",
    };
    let StaffAccount {
        user_id,
        email,
        links,
        ..
    } = account;
    let memberships = if links.is_empty() {
        view! { <span class="muted">"None"</span> }.into_any()
    } else {
        let items = links
            .into_iter()
            .map(|link| {
                let (user_id, email) = (user_id.clone(), email.clone());
                view! { <LinkItem user_id email link console /> }
            })
            .collect_view();
        view! { <ul class="staff-links">{items}</ul> }.into_any()
    };
    view! {
        <tr data-testid="staff-account-row">
            <td>{email.clone()}</td>
            <td>{status}</td>
            <td>{memberships}</td>
        </tr>
    }
}

/// One membership: its role can be changed and it can be removed, inline.
#[component]
fn LinkItem(
    user_id: String,
    email: String,
    link: OrganizationLink,
    console: Changes,
) -> impl IntoView {
    let target = StoredValue::new((link.organization_id.clone(), user_id));
    let label = format!("Role of {email} in {}", link.organization_name);
    let change_role = console.action(
        move |token, role: Role| async move {
            let (organization_id, user_id) = target.get_value();
            api::staff::change_role(&token, &organization_id, &user_id, role).await
        },
        |member| {
            notice(format!(
                "{} is now {} there.",
                member.email,
                member.role.label()
            ))
        },
    );
    let unlink = console.action(
        move |token, ()| async move {
            let (organization_id, user_id) = target.get_value();
            api::staff::unlink(&token, &organization_id, &user_id).await
        },
        |()| notice("Unlinked."),
    );
    let choose = move |event| {
        if let Some(role) = Role::parse(&event_target_value(&event)) {
            change_role.dispatch(role);
        }
    };
    view! {
        <li>
            {link.organization_name.clone()} " "
            <select aria-label=label on:change=choose>
                {role_options(Some(link.role))}
            </select>
            " "
            <button type="button" class="button button-quiet" on:click=move |_| { unlink.dispatch(()); }>
                "Unlink"
            </button>
        </li>
    }
}

fn source_label(source: LinkSource) -> &'static str {
    match source {
        LinkSource::Invitation => "invited",
        LinkSource::Staff => "linked by staff",
        LinkSource::Legacy => "legacy import",
    }
}

/// A link waiting for its address to be verified.
#[component]
fn PendingRow(link: PendingLink, console: Changes) -> impl IntoView {
    let id = StoredValue::new(link.id.clone());
    let remove =
        console.action(
            move |token, ()| async move {
                api::staff::remove_pending_link(&token, &id.get_value()).await
            },
            |()| notice("Pending link removed."),
        );
    view! {
        <tr data-testid="staff-pending-row">
            <td>{link.email.clone()}</td>
            <td>"Pending (" {source_label(link.source)} ")"</td>
            <td>
                {link.organization_name.clone()} " as " {link.role.label()} " "
                <button type="button" class="button button-quiet" on:click=move |_| { remove.dispatch(()); }>
                    "Remove"
                </button>
            </td>
        </tr>
    }
}
