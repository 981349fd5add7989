//! `/staff`: the staff console for platform staff. Find accounts and their organizations,
//! link people (or addresses not registered yet) to organizations, change roles and unlink,
//! create organizations, import legacy accounts from CSV, and read the log of staff actions.

use leptos::ev::SubmitEvent;
use leptos::prelude::*;
use leptos::task::spawn_local;
use stratus_shared::api::organizations::Role;
use stratus_shared::api::staff::{
    AccountSearchResult, ImportReport, LinkSource, Linked, OrganizationLink, PendingLink,
    StaffAccount,
};
use wasm_bindgen::JsCast;

use crate::api::{self, ApiFailure};
use crate::components::feedback::{LoadFailure, Loading, Outcome, StatusLine};
use crate::components::require_sign_in::RequireSignIn;
use crate::session::use_session;

const ROLES: [Role; 3] = [Role::Owner, Role::Admin, Role::Member];

/// What every part of the console shares: a version bumped after each change (lists and the
/// audit log re-read themselves) and the last outcome shown to the staff member.
#[derive(Clone, Copy)]
struct Console {
    version: RwSignal<u32>,
    message: RwSignal<Outcome>,
}

impl Console {
    fn changed(self, notice: String) {
        self.message.set(Some((false, notice)));
        self.version.update(|v| *v += 1);
    }

    fn failed(self, failure: ApiFailure) {
        self.message.set(Some((true, failure.to_string())));
    }
}

/// The staff console (signed-in platform staff; others see that it is not for them).
#[component]
pub fn StaffPage() -> impl IntoView {
    view! {
        <RequireSignIn>
            <StaffGate />
        </RequireSignIn>
    }
}

#[component]
fn StaffGate() -> impl IntoView {
    let session = use_session();
    move || {
        if session.account().is_some_and(|account| account.is_staff) {
            view! { <StaffConsole /> }.into_any()
        } else {
            view! {
                <div class="page">
                    <h1>"Staff console"</h1>
                    <p class="form-message form-error" data-testid="staff-only">
                        "The staff console is for platform staff only."
                    </p>
                </div>
            }
            .into_any()
        }
    }
}

#[component]
fn StaffConsole() -> impl IntoView {
    let console = Console {
        version: RwSignal::new(0),
        message: RwSignal::new(None),
    };
    view! {
        <div class="page staff-console">
            <h1>"Staff console"</h1>
            <StatusLine message=console.message test_id="staff-message" />
            <AccountSearch console />
            <LinkForm console />
            <CreateOrganizationForm console />
            <LegacyImport console />
            <AuditLog console />
        </div>
    }
}

#[component]
fn AccountSearch(console: Console) -> impl IntoView {
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
            let token = session.token()?;
            api::staff::accounts(&token, &q).await.map(Some)
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
                        Err(failure) => {
                            view! { <LoadFailure failure /> }
                                .into_any()
                        }
                    }
                })}
            </Suspense>
        </section>
    }
}

#[component]
fn AccountResults(found: AccountSearchResult, console: Console) -> impl IntoView {
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
fn AccountRow(account: StaffAccount, console: Console) -> impl IntoView {
    let status = match (account.verified, account.is_staff) {
        (true, true) => "Verified, staff",
        (true, false) => "Verified",
        (false, _) => "Not verified",
    };
    let user_id = account.user_id.clone();
    let email = account.email.clone();
    view! {
        <tr data-testid="staff-account-row">
            <td>{account.email.clone()}</td>
            <td>{status}</td>
            <td>
                {if account.links.is_empty() {
                    view! { <span class="muted">"None"</span> }.into_any()
                } else {
                    view! {
                        <ul class="staff-links">
                            {account
                                .links
                                .into_iter()
                                .map(|link| {
                                    view! {
                                        <LinkItem
                                            user_id=user_id.clone()
                                            email=email.clone()
                                            link
                                            console
                                        />
                                    }
                                })
                                .collect_view()}
                        </ul>
                    }
                        .into_any()
                }}
            </td>
        </tr>
    }
}

/// One membership: its role can be changed and it can be removed, inline.
#[component]
fn LinkItem(
    user_id: String,
    email: String,
    link: OrganizationLink,
    console: Console,
) -> impl IntoView {
    let session = use_session();
    let target = StoredValue::new((link.organization_id.clone(), user_id));
    let label = format!("Role of {email} in {}", link.organization_name);
    let change_role = move |role: String| {
        let (Ok(token), Some(role)) = (session.token(), Role::parse(&role)) else {
            return;
        };
        let (organization_id, user_id) = target.get_value();
        spawn_local(async move {
            match api::staff::change_role(&token, &organization_id, &user_id, role).await {
                Ok(member) => console.changed(format!(
                    "{} is now {} there.",
                    member.email,
                    member.role.label()
                )),
                Err(failure) => {
                    console.failed(failure);
                    console.version.update(|v| *v += 1);
                }
            }
        });
    };
    let unlink = move |_| {
        let Ok(token) = session.token() else {
            return;
        };
        let (organization_id, user_id) = target.get_value();
        spawn_local(async move {
            match api::staff::unlink(&token, &organization_id, &user_id).await {
                Ok(()) => console.changed("Unlinked.".into()),
                Err(failure) => console.failed(failure),
            }
        });
    };
    view! {
        <li>
            {link.organization_name.clone()} " "
            <select aria-label=label on:change=move |event| change_role(event_target_value(&event))>
                {ROLES
                    .map(|r| {
                        view! {
                            <option value=r.as_str() selected=r == link.role>
                                {r.label()}
                            </option>
                        }
                    })
                    .collect_view()}
            </select>
            " "
            <button type="button" class="button button-quiet" on:click=unlink>
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
fn PendingRow(link: PendingLink, console: Console) -> impl IntoView {
    let session = use_session();
    let id = StoredValue::new(link.id.clone());
    let remove = move |_| {
        let Ok(token) = session.token() else {
            return;
        };
        spawn_local(async move {
            match api::staff::remove_pending_link(&token, &id.get_value()).await {
                Ok(()) => console.changed("Pending link removed.".into()),
                Err(failure) => console.failed(failure),
            }
        });
    };
    view! {
        <tr data-testid="staff-pending-row">
            <td>{link.email.clone()}</td>
            <td>"Pending (" {source_label(link.source)} ")"</td>
            <td>
                {link.organization_name.clone()} " as " {link.role.label()} " "
                <button type="button" class="button button-quiet" on:click=remove>
                    "Remove"
                </button>
            </td>
        </tr>
    }
}

/// A picker of every organization (re-read after each change).
#[component]
fn OrganizationPicker(
    id: &'static str,
    selected: RwSignal<String>,
    console: Console,
) -> impl IntoView {
    let session = use_session();
    let organizations = LocalResource::new(move || {
        console.version.track();
        async move {
            let token = session.token()?;
            api::staff::organizations(&token).await
        }
    });
    view! {
        <Suspense fallback=|| view! { <span class="muted">"Loading organizations…"</span> }>
            {move || Suspend::new(async move {
                match organizations.await {
                    Ok(found) => {
                        view! {
                            <select id=id bind:value=selected required=true>
                                <option value="">"Choose an organization"</option>
                                {found
                                    .organizations
                                    .into_iter()
                                    .map(|o| {
                                        let members = match o.member_count {
                                            1 => "1 member".to_owned(),
                                            n => format!("{n} members"),
                                        };
                                        let text = format!("{} ({}, {members})", o.name, o.slug);
                                        view! { <option value=o.id>{text}</option> }
                                    })
                                    .collect_view()}
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

#[component]
fn LinkForm(console: Console) -> impl IntoView {
    let session = use_session();
    let email = RwSignal::new(String::new());
    let organization = RwSignal::new(String::new());
    let role = RwSignal::new(Role::Member.as_str().to_owned());
    let submit = move |event: SubmitEvent| {
        event.prevent_default();
        let Ok(token) = session.token() else {
            return;
        };
        let chosen = Role::parse(&role.get_untracked()).unwrap_or(Role::Member);
        let (address, organization_id) = (email.get_untracked(), organization.get_untracked());
        spawn_local(async move {
            match api::staff::link(&token, address, organization_id, chosen).await {
                Ok(Linked::Member {
                    email: who, link, ..
                }) => {
                    email.set(String::new());
                    console.changed(format!(
                        "{who} now belongs to {} as {}.",
                        link.organization_name,
                        link.role.label()
                    ));
                }
                Ok(Linked::Pending { link }) => {
                    email.set(String::new());
                    console.changed(format!(
                        "{} has no verified account yet: linked to {} as {} once the address is verified.",
                        link.email,
                        link.organization_name,
                        link.role.label()
                    ));
                }
                Err(failure) => console.failed(failure),
            }
        });
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
                    {ROLES.map(|r| view! { <option value=r.as_str()>{r.label()}</option> }).collect_view()}
                </select>
                <button type="submit" class="button">"Link"</button>
            </form>
        </section>
    }
}

#[component]
fn CreateOrganizationForm(console: Console) -> impl IntoView {
    let session = use_session();
    let name = RwSignal::new(String::new());
    let owner_email = RwSignal::new(String::new());
    let submit = move |event: SubmitEvent| {
        event.prevent_default();
        let Ok(token) = session.token() else {
            return;
        };
        let (chosen_name, owner) = (name.get_untracked(), owner_email.get_untracked());
        spawn_local(async move {
            match api::staff::create_organization(&token, chosen_name, owner).await {
                Ok(created) => {
                    name.set(String::new());
                    owner_email.set(String::new());
                    let owner = match created.owner {
                        Linked::Member { email, .. } => format!("{email} is its Owner."),
                        Linked::Pending { link } => format!(
                            "{} becomes its Owner once the address is verified.",
                            link.email
                        ),
                    };
                    console.changed(format!("Created {}. {owner}", created.organization.name));
                }
                Err(failure) => console.failed(failure),
            }
        });
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

/// Reads the chosen file's text into `csv` (in the browser; nothing is sent yet).
fn read_chosen_file(event: leptos::ev::Event, csv: RwSignal<String>, console: Console) {
    let Some(file) = event
        .target()
        .and_then(|target| target.dyn_into::<web_sys::HtmlInputElement>().ok())
        .and_then(|input| input.files())
        .and_then(|files| files.get(0))
    else {
        return;
    };
    spawn_local(async move {
        match wasm_bindgen_futures::JsFuture::from(file.text()).await {
            Ok(text) => csv.set(text.as_string().unwrap_or_default()),
            Err(_) => console
                .message
                .set(Some((true, "That file cannot be read.".into()))),
        }
    });
}

#[component]
fn LegacyImport(console: Console) -> impl IntoView {
    let session = use_session();
    let csv = RwSignal::new(String::new());
    let report = RwSignal::new(None::<ImportReport>);
    let submit = move |event: SubmitEvent| {
        event.prevent_default();
        let Ok(token) = session.token() else {
            return;
        };
        let text = csv.get_untracked();
        spawn_local(async move {
            match api::staff::legacy_import(&token, text).await {
                Ok(answer) => {
                    let notice = format!(
                        "Legacy import: {} rows applied, {} lines refused.",
                        answer.applied,
                        answer.errors.len()
                    );
                    report.set(Some(answer));
                    console.changed(notice);
                }
                Err(failure) => {
                    report.set(None);
                    console.failed(failure);
                }
            }
        });
    };
    view! {
        <section aria-labelledby="staff-import-title">
            <h2 id="staff-import-title">"Legacy import"</h2>
            <p class="muted">
                "CSV with the columns email, organization (slug or exact name), role (owner, admin or member); a header row is optional. "
                "Verified accounts are linked at once, other addresses once they are verified (no mail is sent). At most 1 MiB and 5,000 rows."
            </p>
            <form on:submit=submit>
                <label for="staff-import-file">"CSV file"</label>
                <input
                    id="staff-import-file"
                    type="file"
                    accept=".csv,text/csv,text/plain"
                    on:change=move |event| read_chosen_file(event, csv, console)
                />
                <label for="staff-import-text">"or paste the rows"</label>
                <textarea id="staff-import-text" rows="6" bind:value=csv></textarea>
                <button type="submit" class="button">"Import"</button>
            </form>
            {move || report.get().map(|answer| view! { <ImportOutcome answer /> })}
        </section>
    }
}

#[component]
fn ImportOutcome(answer: ImportReport) -> impl IntoView {
    view! {
        <div data-testid="staff-import-report">
            <p>
                {format!(
                    "Applied {} rows: {} linked now, {} pending until verified, {} already linked.",
                    answer.applied,
                    answer.linked_now,
                    answer.pending,
                    answer.already_linked,
                )}
            </p>
            <Show when={
                let any = !answer.errors.is_empty();
                move || any
            }>
                <p>"Refused lines (nothing of them was applied):"</p>
            </Show>
            <ul class="import-errors">
                {answer
                    .errors
                    .into_iter()
                    .map(|error| view! { <li>{format!("Line {}: {}", error.line, error.reason)}</li> })
                    .collect_view()}
            </ul>
        </div>
    }
}

#[component]
fn AuditLog(console: Console) -> impl IntoView {
    let session = use_session();
    let entries = LocalResource::new(move || {
        console.version.track();
        async move {
            let token = session.token()?;
            api::staff::audit_log(&token).await
        }
    });
    view! {
        <section aria-labelledby="staff-audit-title">
            <h2 id="staff-audit-title">"Staff audit log"</h2>
            <Suspense fallback=Loading>
                {move || Suspend::new(async move {
                    match entries.await {
                        Ok(entries) => {
                            view! {
                                <table class="users" data-testid="staff-audit">
                                    <thead>
                                        <tr>
                                            <th scope="col">"When"</th>
                                            <th scope="col">"Who"</th>
                                            <th scope="col">"What"</th>
                                        </tr>
                                    </thead>
                                    <tbody>
                                        {entries
                                            .into_iter()
                                            .map(|entry| {
                                                view! {
                                                    <tr>
                                                        <td>{entry.at.format("%Y-%m-%d %H:%M UTC").to_string()}</td>
                                                        <td>{entry.actor_email}</td>
                                                        <td>
                                                            <code>{entry.action}</code>
                                                            " "
                                                            {entry.detail}
                                                        </td>
                                                    </tr>
                                                }
                                            })
                                            .collect_view()}
                                    </tbody>
                                </table>
                            }
                                .into_any()
                        }
                        Err(failure) => {
                            view! { <LoadFailure failure /> }
                                .into_any()
                        }
                    }
                })}
            </Suspense>
        </section>
    }
}
