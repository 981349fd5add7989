//! Admin › DataMiner Systems: for each DMS of the organization, its users (DMS-level roles)
//! and its settings (remote access, rename, new connect code, remove).

use leptos::prelude::*;
use stratus_shared::api::organizations::{
    RemoteAccess, Role, SystemDetail, SystemSettings, SystemUser,
};

use crate::api;
use crate::changes::Changes;
use crate::components::feedback::{loaded, outcome, LoadFailure, Loading, StatusLine};
use crate::components::manage_system::ManageSystem;
use crate::components::role_options::role_options;
use crate::session::use_session;

/// The organization's DMSs, one of them opened.
#[component]
pub fn OrganizationSystems(organization_id: String) -> impl IntoView {
    let session = use_session();
    let organization_id = StoredValue::new(organization_id);
    let systems = LocalResource::new(move || async move {
        let token = session.token()?;
        let all = api::systems::list(&token).await?;
        Ok::<_, api::ApiFailure>(
            all.into_iter()
                .filter(|system| organization_id.with_value(|id| system.organization_id == *id))
                .collect::<Vec<_>>(),
        )
    });
    let opened = RwSignal::new(None::<String>);
    view! {
        <h2>"DataMiner Systems"</h2>
        <Suspense fallback=Loading>
            {move || Suspend::new(async move {
                match systems.await {
                    Ok(systems) if systems.is_empty() => view! {
                        <p class="muted">"This organization has no DMS yet. Connect one from the home page."</p>
                    }.into_any(),
                    Ok(systems) => view! {
                        <ul class="system-picker">
                            {systems.into_iter().map(|system| {
                                let id = system.id.clone();
                                let is_open = {
                                    let id = id.clone();
                                    move || opened.get().as_deref() == Some(id.as_str())
                                };
                                view! {
                                    <li>
                                        <button
                                            type="button"
                                            class="tab"
                                            data-testid="admin-system"
                                            aria-pressed=move || is_open().to_string()
                                            on:click=move |_| opened.set(Some(id.clone()))
                                        >
                                            {system.name}
                                        </button>
                                    </li>
                                }
                            }).collect_view()}
                        </ul>
                    }.into_any(),
                    Err(failure) => view! { <LoadFailure failure /> }.into_any(),
                }
            })}
        </Suspense>
        {move || opened.get().map(|system_id| view! { <SystemAdmin system_id /> })}
    }
}

/// One DMS: settings and users.
#[component]
fn SystemAdmin(system_id: String) -> impl IntoView {
    let session = use_session();
    let system_id = StoredValue::new(system_id);
    let version = RwSignal::new(0u32);
    let detail = LocalResource::new(move || {
        version.track();
        async move {
            let token = session.token()?;
            api::systems::detail(&token, &system_id.get_value()).await
        }
    });
    view! {
        <Suspense fallback=Loading>
            {move || Suspend::new(async move {
                loaded(detail.await, |detail| view! { <SystemPanels detail reload=version /> })
            })}
        </Suspense>
    }
}

#[component]
fn SystemPanels(detail: SystemDetail, reload: RwSignal<u32>) -> impl IntoView {
    let system = detail.system;
    let role = detail.my_role;
    view! {
        <section class="system-admin" data-testid="system-admin">
            <h3>{system.name.clone()}</h3>
            <h4>"Settings"</h4>
            <RemoteAccessSwitch system_id=system.id.clone() remote_access=detail.remote_access reload />
            <ManageSystem system_id=system.id.clone() name=system.name.clone() role=Some(role) reload />
            <h4>"Users"</h4>
            <SystemUsers system_id=system.id.clone() my_role=role />
        </section>
    }
}

#[component]
fn RemoteAccessSwitch(
    system_id: String,
    remote_access: RemoteAccess,
    reload: RwSignal<u32>,
) -> impl IntoView {
    let session = use_session();
    let system_id = StoredValue::new(system_id);
    let forced_off = remote_access.forced_off_by_organization;
    let update = Action::new_local(move |settings: &SystemSettings| {
        let settings = *settings;
        async move {
            let token = session.token()?;
            api::systems::update_settings(&token, &system_id.get_value(), settings).await?;
            reload.update(|n| *n += 1);
            Ok(())
        }
    });
    let toggle = move |event| {
        update.dispatch(SystemSettings {
            remote_access_enabled: event_target_checked(&event),
        });
    };
    view! {
        <label class="checkbox">
            <input
                type="checkbox"
                data-testid="system-remote-access"
                prop:checked=remote_access.is_on()
                disabled=forced_off
                on:change=toggle
            />
            " Remote access"
        </label>
        {forced_off.then(|| view! {
            <p class="muted" data-testid="system-remote-access-forced">
                "Forced off: remote access is off for the whole organization (Admin › Settings)."
            </p>
        })}
        <StatusLine message=outcome(update, None) test_id="admin-message" />
    }
}

#[component]
fn SystemUsers(system_id: String, my_role: Role) -> impl IntoView {
    let session = use_session();
    let system_id = StoredValue::new(system_id);
    let changes = Changes::new();
    let users = LocalResource::new(move || {
        changes.version.track();
        async move { api::systems::users(&session.token()?, &system_id.get_value()).await }
    });
    let set_role = changes.action(
        move |token, (user_id, role): (String, Option<Role>)| async move {
            api::systems::set_role(&token, &system_id.get_value(), &user_id, role).await
        },
        |_| None,
    );
    view! {
        <p class="muted">
            "A DMS-level role replaces the person's organization role for this DMS only. Owners of the organization keep every right on each DMS."
        </p>
        <StatusLine message=changes.message test_id="admin-message" />
        <Suspense fallback=Loading>
            {move || Suspend::new(async move {
                loaded(users.await, |users| view! { <SystemUserTable users my_role set_role /> })
            })}
        </Suspense>
    }
}

/// Sets a person's DMS-level role (`None`: the organization role applies).
type SetRole = Action<(String, Option<Role>), ()>;

#[component]
fn SystemUserTable(users: Vec<SystemUser>, my_role: Role, set_role: SetRole) -> impl IntoView {
    let may_manage = matches!(my_role, Role::Owner | Role::Admin);
    view! {
        <table class="users">
            <thead>
                <tr>
                    <th scope="col">"Email"</th>
                    <th scope="col">"Organization role"</th>
                    <th scope="col">"Role on this DMS"</th>
                    <th scope="col">"DMS account"</th>
                </tr>
            </thead>
            <tbody>
                {users
                    .into_iter()
                    .map(|person| view! { <SystemUserRow person may_manage set_role /> })
                    .collect_view()}
            </tbody>
        </table>
    }
}

#[component]
fn SystemUserRow(person: SystemUser, may_manage: bool, set_role: SetRole) -> impl IntoView {
    let user_id = person.user_id.clone();
    let is_organization_owner = person.organization_role == Role::Owner;
    // An empty choice means "the organization role applies".
    let choose = move |event| {
        set_role.dispatch((user_id.clone(), Role::parse(&event_target_value(&event))));
    };
    view! {
        <tr data-testid="system-user-row">
            <td>{person.email.clone()}</td>
            <td>{person.organization_role.label()}</td>
            <td>
                <select
                    aria-label=format!("Role of {} on this DMS", person.email)
                    disabled=!may_manage || is_organization_owner
                    on:change=choose
                >
                    <option value="" selected=person.system_role.is_none()>
                        {format!("As in the organization ({})", person.organization_role.label())}
                    </option>
                    {role_options(person.system_role)}
                </select>
            </td>
            <td>{person.dms_account.as_ref().map_or_else(
                || "—".to_owned(),
                |link| if link.confirmed_at.is_some() {
                    link.dms_username.clone()
                } else {
                    format!("{} (unconfirmed)", link.dms_username)
                },
            )}</td>
        </tr>
    }
}
