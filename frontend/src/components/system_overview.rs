//! The system overview: every DMS the user may see, grouped by organization, with live
//! state icons, a summary that filters by state, a search box and two sort orders.

use leptos::prelude::*;
use leptos_router::components::A;
use stratus_shared::api::organizations::Organization;
use stratus_shared::ConnectionState;

use crate::components::connect_dms::{ConnectDms, NewConnectCode};
use crate::components::local_time::local_time;
use crate::components::remote_access::OpenRemotely;
use crate::components::state_icon::{last_online_text, state_class, StateIcon};
use crate::live::{Overview, StreamStatus, SystemRow};

/// The overview section of the home page.
#[component]
pub fn SystemOverview(overview: Overview) -> impl IntoView {
    let filter = RwSignal::new(None::<ConnectionState>);
    let search = RwSignal::new(String::new());
    let by_name = RwSignal::new(false);
    // Only flips when the first DMS arrives or the last one goes: the connect form below opens
    // or closes then, never on other reloads (which would collapse it while someone types).
    let empty = Memo::new(move |_| overview.rows.with(Vec::is_empty));
    view! {
        <section class="overview" aria-labelledby="systems-heading">
            <h2 id="systems-heading">"DataMiner Systems"</h2>
            <LiveBanner status=overview.status />
            <NewConnectCode overview />
            <Show when=move || overview.loaded.get() fallback=OverviewSkeleton>
                <Show when=move || !empty.get() fallback=EmptyOverview>
                    <Summary overview filter />
                    <div class="toolbar">
                        <label class="visually-hidden" for="system-search">
                            "Search DataMiner Systems by name"
                        </label>
                        <input
                            id="system-search"
                            type="search"
                            placeholder="Search by name"
                            bind:value=search
                        />
                        <label class="sort-choice">
                            <input type="checkbox" bind:checked=by_name />
                            " Sort by name"
                        </label>
                    </div>
                    <Groups overview filter search by_name />
                </Show>
                // One form for the first DMS and the next ones, outside the switch above:
                // registering the first DMS swaps the empty state for the list while the
                // form's request is still finishing, and a form inside the swapped part would
                // be disposed under it.
                <details class="connect-more" prop:open=move || empty.get()>
                    <summary>
                        {move || {
                            if empty.get() {
                                "Connect a DataMiner System"
                            } else {
                                "Connect another DataMiner System"
                            }
                        }}
                    </summary>
                    <ConnectDms overview />
                </details>
            </Show>
        </section>
    }
}

/// Says plainly when the states shown may be out of date.
#[component]
fn LiveBanner(status: RwSignal<StreamStatus>) -> impl IntoView {
    move || {
        match status.get() {
        StreamStatus::Reconnecting => Some(view! {
            <p class="banner banner-warn" role="status" data-testid="live-banner">
                "Live updates paused — reconnecting"
            </p>
        }.into_any()),
        StreamStatus::Unreachable => Some(view! {
            <p class="banner banner-bad" role="alert" data-testid="live-banner">
                "Stratus cannot be reached right now, so the states below may be out of date. Retrying…"
            </p>
        }.into_any()),
        StreamStatus::Connecting | StreamStatus::Live => None,
    }
    }
}

#[component]
fn OverviewSkeleton() -> impl IntoView {
    view! {
        <ul class="system-list" aria-busy="true" aria-label="Loading DataMiner Systems">
            {(0..3).map(|_| view! { <li class="system-row skeleton"></li> }).collect_view()}
        </ul>
    }
}

/// Counts per state; each one filters the list.
#[component]
fn Summary(overview: Overview, filter: RwSignal<Option<ConnectionState>>) -> impl IntoView {
    let count = move |state: ConnectionState| {
        overview
            .rows
            .with(|rows| rows.iter().filter(|row| row.state.get() == state).count())
    };
    view! {
        <div class="summary" role="group" aria-label="Filter by state">
            <button
                type="button"
                class="chip"
                aria-pressed=move || filter.get().is_none().to_string()
                on:click=move |_| filter.set(None)
            >
                "All " {move || overview.rows.with(Vec::len)}
            </button>
            {ConnectionState::ALL
                .into_iter()
                .map(|state| {
                    view! {
                        <button
                            type="button"
                            class=format!("chip {}", state_class(state))
                            data-testid=format!("count-{}", state.as_str())
                            aria-pressed=move || (filter.get() == Some(state)).to_string()
                            on:click=move |_| {
                                filter.update(|f| *f = if *f == Some(state) { None } else { Some(state) })
                            }
                        >
                            {state.label()} " " {move || count(state)}
                        </button>
                    }
                })
                .collect_view()}
        </div>
    }
}

/// The lists, one per organization when there are several.
#[component]
fn Groups(
    overview: Overview,
    filter: RwSignal<Option<ConnectionState>>,
    search: RwSignal<String>,
    by_name: RwSignal<bool>,
) -> impl IntoView {
    let grouped = move || overview.organizations.with(|orgs| orgs.len() > 1);
    let visible = move |organization_id: Option<String>| {
        let needle = search.get().trim().to_lowercase();
        let mut rows: Vec<SystemRow> = overview.rows.with(|rows| {
            rows.iter()
                .filter(|row| {
                    organization_id
                        .as_ref()
                        .is_none_or(|id| &row.organization_id == id)
                })
                .filter(|row| filter.get().is_none_or(|state| row.state.get() == state))
                .filter(|row| {
                    needle.is_empty() || row.name.with(|n| n.to_lowercase().contains(&needle))
                })
                .cloned()
                .collect()
        });
        if by_name.get() {
            rows.sort_by_cached_key(|row| row.name.get().to_lowercase());
        } else {
            rows.sort_by_cached_key(|row| {
                (
                    row.state.get().attention_rank(),
                    row.name.get().to_lowercase(),
                )
            });
        }
        rows
    };
    move || {
        if grouped() {
            overview
                .organizations
                .get()
                .into_iter()
                .map(|organization: Organization| {
                    let id = organization.id.clone();
                    view! {
                        <h3 class="group-heading">{organization.name}</h3>
                        <SystemList rows=Signal::derive(move || visible(Some(id.clone()))) overview />
                    }
                })
                .collect_view()
                .into_any()
        } else {
            view! { <SystemList rows=Signal::derive(move || visible(None)) overview /> }.into_any()
        }
    }
}

#[component]
fn SystemList(rows: Signal<Vec<SystemRow>>, overview: Overview) -> impl IntoView {
    view! {
        <ul
            class="system-list"
            class:stale=move || overview.status.get() != StreamStatus::Live
        >
            <For each=move || rows.get() key=|row| row.id.clone() let:row>
                <SystemRowView row overview />
            </For>
            <Show when=move || rows.with(Vec::is_empty)>
                <li class="muted">"No DataMiner System matches."</li>
            </Show>
        </ul>
    }
}

/// One DMS: bar, icon with tooltip, name, time line. Only its own signals re-render it.
#[component]
fn SystemRowView(row: SystemRow, overview: Overview) -> impl IntoView {
    let SystemRow {
        id,
        organization_id,
        name,
        state,
        last_online_at,
        remote_access_enabled,
    } = row;
    // Remote access is on when both switches are; it is offered while the gateway is there.
    let remote_on = remote_access_enabled
        && overview.organizations.with_untracked(|organizations| {
            organizations
                .iter()
                .any(|o| o.id == organization_id && o.remote_access_enabled)
        });
    let reachable = move || {
        remote_on
            && matches!(
                state.get(),
                ConnectionState::Connected | ConnectionState::DmsNotResponding
            )
    };
    let remote_id = id.clone();
    let time_line = move || match state.get() {
        ConnectionState::Connected => "Online".to_owned(),
        ConnectionState::NeverConnected => "Never connected".to_owned(),
        ConnectionState::Unknown => "State unknown".to_owned(),
        other => {
            last_online_text(other, last_online_at.get(), overview.now.get()).unwrap_or_default()
        }
    };
    let exact = move || last_online_at.get().map(local_time);
    view! {
        <li
            class=move || format!("system-row {}", state_class(state.get()))
            data-testid="system-row"
            data-system-id=id.clone()
        >
            <StateIcon
                state
                last_online_at
                now=overview.now
                tooltip_id=format!("tooltip-{id}")
            />
            <A href=format!("/systems/{id}") attr:class="system-name">
                {move || name.get()}
            </A>
            <span class="system-time" title=exact data-testid="system-time">
                {time_line}
            </span>
            <Show when=reachable>
                <OpenRemotely system_id=remote_id.clone() compact=true />
            </Show>
        </li>
    }
}

/// No DMS yet: how to connect one (the form follows it).
#[component]
fn EmptyOverview() -> impl IntoView {
    view! {
        <div class="empty-state">
            <p>
                "No DataMiner System is connected to your organizations yet. Connecting one takes a minute:"
            </p>
            <ol>
                <li>"Register the DMS below. You get a connect code, shown once and valid for an hour."</li>
                <li>
                    "On the DMS, give the code to its cloud gateway. The gateway trades it for the DMS's own credentials and keeps a connection to Stratus."
                </li>
                <li>"The DMS appears here, and its icon turns green once the DMS responds."</li>
            </ol>
        </div>
    }
}
