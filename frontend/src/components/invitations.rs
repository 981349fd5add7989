//! The invitations waiting for the signed-in person's answer, on the home page: nobody joins
//! an organization without accepting here.

use leptos::prelude::*;
use leptos::task::spawn_local;
use stratus_shared::api::members::PendingInvitation;

use crate::api;
use crate::changes::Changes;
use crate::components::feedback::{notice, StatusLine};
use crate::components::local_time::local_time;
use crate::session::use_session;

/// Lists the invitations with Accept and Decline; shows nothing when there are none.
#[component]
pub fn PendingInvitations() -> impl IntoView {
    let session = use_session();
    let changes = Changes::new();
    let invitations = LocalResource::new(move || {
        changes.version.track();
        async move { api::account::invitations(&session.token()?).await }
    });
    view! {
        <StatusLine message=changes.message test_id="invitation-message" />
        <Suspense>
            {move || Suspend::new(async move {
                // A failure to load them is not worth a message on the home page: the
                // organization can invite again, and the next visit retries.
                let waiting = invitations.await.unwrap_or_default();
                (!waiting.is_empty()).then(|| view! {
                    <section class="invitations" aria-labelledby="invitations-heading">
                        <h2 id="invitations-heading">"Invitations"</h2>
                        <ul class="plain-list">
                            {waiting
                                .into_iter()
                                .map(|invitation| view! { <InvitationItem invitation changes /> })
                                .collect_view()}
                        </ul>
                    </section>
                })
            })}
        </Suspense>
    }
}

/// One invitation: who invites me where, as what, and my answer.
#[component]
fn InvitationItem(invitation: PendingInvitation, changes: Changes) -> impl IntoView {
    let session = use_session();
    let id = StoredValue::new(invitation.id.clone());
    let organization = StoredValue::new(invitation.organization_name.clone());
    let accept =
        changes.action(
            move |token, ()| async move {
                api::account::accept_invitation(&token, &id.get_value()).await
            },
            move |()| {
                // The organization now shows in the selector and its DMSs in the overview.
                spawn_local(async move { session.reload_account().await });
                notice(format!(
                    "You are now a member of {}.",
                    organization.get_value()
                ))
            },
        );
    let decline =
        changes.action(
            move |token, ()| async move {
                api::account::decline_invitation(&token, &id.get_value()).await
            },
            move |()| {
                notice(format!(
                    "You declined the invitation of {}.",
                    organization.get_value()
                ))
            },
        );
    let invited_by = invitation
        .invited_by
        .map(|email| format!(" by {email}"))
        .unwrap_or_default();
    view! {
        <li data-testid="pending-invitation">
            <span>
                <strong>{invitation.organization_name.clone()}</strong>
                {format!(
                    " invites you as {}{invited_by} ({}).",
                    invitation.role.label(),
                    local_time(invitation.created_at)
                )}
            </span>
            " "
            <button type="button" class="button" on:click=move |_| { accept.dispatch(()); }>
                "Accept"
            </button>
            " "
            <button type="button" class="button button-quiet" on:click=move |_| { decline.dispatch(()); }>
                "Decline"
            </button>
        </li>
    }
}
