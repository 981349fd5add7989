//! `/systems/<id>`: one DMS in full: state, last online, version, agents, history, and the
//! actions the user's role allows.

use leptos::prelude::*;
use leptos_router::hooks::use_params_map;
use stratus_shared::api::organizations::{
    DmsAccountLink, Organization, RemoteAccess, StateTransition, System, SystemDetail,
};
use stratus_shared::time::relative_time;

use crate::api::{self, ApiFailure};
use crate::components::feedback::{ActionError, LoadFailure, Loading};
use crate::components::local_time::local_time;
use crate::components::manage_system::ManageSystem;
use crate::components::remote_access::OpenRemotely;
use crate::components::require_sign_in::RequireSignIn;
use crate::components::state_icon::{state_class, StateGlyph};
use crate::live::now_utc;
use crate::session::use_session;

/// Transitions per page of the history.
const HISTORY_PAGE: usize = 10;

/// The DMS detail page (signed-in users only).
#[component]
pub fn SystemDetailPage() -> impl IntoView {
    view! {
        <RequireSignIn>
            <SystemDetailView />
        </RequireSignIn>
    }
}

#[component]
fn SystemDetailView() -> impl IntoView {
    let session = use_session();
    let params = use_params_map();
    let system_id = move || params.read().get("id").unwrap_or_default();
    let reload = RwSignal::new(0u32);
    let detail = LocalResource::new(move || {
        let id = system_id();
        reload.track();
        async move {
            let token = session.token()?;
            let detail = api::systems::detail(&token, &id).await?;
            let organizations = api::organizations::list(&token).await?;
            Ok::<_, ApiFailure>((detail, organizations))
        }
    });
    view! {
        <div class="page">
            <Suspense fallback=Loading>
                {move || Suspend::new(async move {
                    match detail.await {
                        Ok((detail, organizations)) => {
                            view! { <Detail detail organizations reload /> }.into_any()
                        }
                        Err(failure) => {
                            view! {
                                <h1>"DataMiner System"</h1>
                                <LoadFailure failure />
                            }
                                .into_any()
                        }
                    }
                })}
            </Suspense>
        </div>
    }
}

#[component]
fn Detail(
    detail: SystemDetail,
    organizations: Vec<Organization>,
    reload: RwSignal<u32>,
) -> impl IntoView {
    let SystemDetail {
        system,
        transitions,
        remote_access_url,
        remote_access,
        my_role,
        my_dms_account,
    } = detail;
    let organization_name = organizations
        .into_iter()
        .find(|o| o.id == system.organization_id)
        .map(|o| o.name)
        .unwrap_or_default();
    let state = system.state;
    let (id, name) = (system.id.clone(), system.name.clone());
    view! {
        <h1 class=format!("detail-title {}", state_class(state))>
            <span class="state-icon" role="img" aria-label=state.label()>
                <StateGlyph state=Signal::stored(state) />
            </span>
            {name.clone()}
        </h1>
        <p class="lead" data-testid="detail-tooltip">{state.tooltip()}</p>
        <Facts system organization_name remote_access_url remote_access />
        <History transitions />
        <MyDmsAccount system_id=id.clone() linked=my_dms_account reload />
        <ManageSystem system_id=id name role=Some(my_role) reload />
    }
}

/// What is known about the DMS.
#[component]
fn Facts(
    system: System,
    organization_name: String,
    remote_access_url: Option<String>,
    remote_access: RemoteAccess,
) -> impl IntoView {
    let last_online = match system.last_online_at {
        Some(at) => format!("{} ({})", relative_time(at, now_utc()), local_time(at)),
        None => "Never".to_owned(),
    };
    let not_reported = || "Not reported yet".to_owned();
    let system_id = system.id.clone();
    view! {
        <dl class="facts">
            <dt>"Organization"</dt>
            <dd>{organization_name}</dd>
            <dt>"Last online"</dt>
            <dd data-testid="detail-last-online">{last_online}</dd>
            <dt>"DataMiner version"</dt>
            <dd>{system.dms_version.unwrap_or_else(not_reported)}</dd>
            <dt>"Agents"</dt>
            <dd>{system.agent_count.map(|n| n.to_string()).unwrap_or_else(not_reported)}</dd>
            <dt>"Registered"</dt>
            <dd>{local_time(system.created_at)}</dd>
            <dt>"Remote access"</dt>
            <dd>{remote_access_view(system_id, remote_access_url, remote_access)}</dd>
        </dl>
    }
}

/// The DMS's remote origin and the button that opens it, or why there is none.
fn remote_access_view(
    system_id: String,
    url: Option<String>,
    remote_access: RemoteAccess,
) -> AnyView {
    match url {
        Some(url) => view! {
            <span class="remote-access" data-testid="remote-access">
                <code>{url}</code>
                " "
                <OpenRemotely system_id />
            </span>
        }
        .into_any(),
        None if remote_access.forced_off_by_organization => view! {
            <span class="muted" data-testid="remote-access-off">"Off for the whole organization"</span>
        }
        .into_any(),
        None if !remote_access.enabled_for_system => view! {
            <span class="muted" data-testid="remote-access-off">"Off for this DMS"</span>
        }
        .into_any(),
        None => view! { <span class="muted">"Not enabled"</span> }.into_any(),
    }
}

/// The state changes, newest first, a page at a time.
#[component]
fn History(transitions: Vec<StateTransition>) -> impl IntoView {
    let page = RwSignal::new(0usize);
    let pages = transitions.len().div_ceil(HISTORY_PAGE).max(1);
    let transitions = StoredValue::new(transitions);
    let shown = move || {
        transitions.with_value(|all| {
            all.iter()
                .skip(page.get() * HISTORY_PAGE)
                .take(HISTORY_PAGE)
                .map(|t| {
                    view! {
                        <li class=state_class(t.state)>
                            <span class="history-state">{t.state.label()}</span>
                            <time datetime=t.at.to_rfc3339()>{local_time(t.at)}</time>
                        </li>
                    }
                })
                .collect_view()
        })
    };
    view! {
        <h2>"State history"</h2>
        <ol class="history">{shown}</ol>
        <Show when=move || { pages > 1 }>
            <nav class="pager" aria-label="History pages">
                <button type="button" class="button button-quiet" disabled=move || page.get() == 0
                    on:click=move |_| page.update(|p| *p = p.saturating_sub(1))>"Newer"</button>
                <span>{move || format!("Page {} of {pages}", page.get() + 1)}</span>
                <button type="button" class="button button-quiet" disabled=move || page.get() + 1 >= pages
                    on:click=move |_| page.update(|p| *p += 1)>"Older"</button>
            </nav>
        </Show>
    }
}

/// My user account on the DMS. Linking takes the DMS's word: Stratus shows a one-time code,
/// I enter it on the DMS, and the DMS confirms which of its users I am. Unlinking is at once.
#[component]
fn MyDmsAccount(
    system_id: String,
    linked: Option<DmsAccountLink>,
    reload: RwSignal<u32>,
) -> impl IntoView {
    let session = use_session();
    let id = StoredValue::new(system_id);
    let code = Action::new_local(move |_: &()| async move {
        api::systems::link_code(&session.token()?, &id.get_value()).await
    });
    let unlink = Action::new_local(move |_: &()| async move {
        api::systems::unlink_my_account(&session.token()?, &id.get_value()).await?;
        reload.update(|n| *n += 1);
        Ok::<_, ApiFailure>(())
    });
    let shown_code = move || {
        code.value().get().and_then(Result::ok).map(|code| {
            view! {
                <div class="link-code" data-testid="link-code-box">
                    <p>
                        "Enter this code on the DMS (DataMiner Cube or its web apps, "
                        <em>"Link Stratus account"</em>
                        "), signed in as your own DMS user:"
                    </p>
                    <p class="code" data-testid="link-code">{code.code.clone()}</p>
                    <p class="muted">
                        "Valid until " {local_time(code.expires_at)}
                        ". The link appears here once the DMS confirms it. "
                        <button type="button" class="button button-quiet" on:click=move |_| reload.update(|n| *n += 1)>
                            "Check again"
                        </button>
                    </p>
                </div>
            }
        })
    };
    let link_button = move || {
        view! {
            <button type="button" class="button" data-testid="get-link-code"
                disabled=move || code.pending().get()
                on:click=move |_| { code.dispatch(()); }>
                "Get a link code"
            </button>
            <ActionError action=code />
            {shown_code}
        }
    };
    view! {
        <h2>"My DMS account"</h2>
        {match linked {
            Some(link) => {
                let confirmed = link.confirmed_at.is_some();
                view! {
                    <p data-testid="my-dms-account">
                        "Linked to " <strong>{link.dms_username}</strong> " on this DMS"
                        {if confirmed {
                            view! { <span class="badge" data-testid="link-confirmed">"confirmed by the DMS"</span> }.into_any()
                        } else {
                            view! { <span class="badge badge-warning" data-testid="link-unconfirmed">"unconfirmed"</span> }.into_any()
                        }}
                        ". "
                        <button type="button" class="button button-quiet" on:click=move |_| { unlink.dispatch(()); }>
                            "Unlink"
                        </button>
                    </p>
                    {(!confirmed).then(|| view! {
                        <p class="muted">
                            "This link was typed in before links needed the DMS's confirmation. Confirm it with a code:"
                        </p>
                        {link_button}
                    })}
                    <ActionError action=unlink />
                }.into_any()
            }
            None => view! {
                <p class="muted">
                    "Link your Stratus account to your own user on this DMS: get a code here and enter it on the DMS."
                </p>
                {link_button}
            }.into_any(),
        }}
    }
}
