//! Organizations and their DMSs for a signed-in person: list and create organizations,
//! register a DMS and get its connect code, re-issue a connect code, list and inspect DMSs.
//!
//! An organization the person does not belong to answers 404, as if it did not exist.

use std::collections::HashMap;

use actix_web::{delete, get, patch, post, web, HttpResponse};
use chrono::NaiveDateTime;
use diesel::prelude::*;
use rand::distr::{Alphanumeric, SampleString};
use stratus_shared::api::organizations::{
    ConnectCode, CreateOrganization, CreateSystem, CreatedSystem, Organization, RemoteAccess, Role,
    StateTransition, System, SystemDetail, SystemUser,
};
use stratus_shared::ConnectionState;

use crate::audit;
use crate::auth::permissions::{allows, allows_staff, Action};
use crate::auth::{one_time, CurrentUser};
use crate::db::schema::{
    connect_codes, dms_account_links, memberships, organizations, system_state_transitions, systems,
};
use crate::db::{AnyConnection, Database};
use crate::error::AppError;
use crate::live::LiveHub;
use crate::memberships as membership_rules;

/// How long a connect code can be used.
pub const CONNECT_CODE_TTL: chrono::TimeDelta = chrono::TimeDelta::hours(1);
/// Transitions shown on a DMS's detail.
const DETAIL_TRANSITIONS: i64 = 100;

/// Reads a display name at the edge: trimmed, 1–100 characters, no control characters.
pub(crate) fn parse_name(raw: &str, what: &str) -> Result<String, AppError> {
    let name = raw.trim();
    let length = name.chars().count();
    if length == 0 || length > 100 || name.chars().any(char::is_control) {
        return Err(AppError::InvalidRequest(format!(
            "The {what} name must be 1 to 100 characters, without control characters."
        )));
    }
    Ok(name.to_owned())
}

/// The caller's role in `organization_id`, or 404 when they do not belong to it; 403 when the
/// role does not allow `action`.
pub(crate) fn authorize(
    connection: &mut AnyConnection,
    user_id: &str,
    organization_id: &str,
    action: Action,
) -> Result<Role, AppError> {
    let role = membership_rules::role_of(connection, organization_id, user_id)?
        .ok_or_else(|| AppError::NotFound("There is no such organization.".into()))?;
    if !allows(role, action) {
        return Err(AppError::Forbidden(
            "Your role in this organization does not allow this.".into(),
        ));
    }
    Ok(role)
}

/// How the caller may act in an organization: through their role there, or only as platform
/// staff (who then act `by_staff`, which the audit log records).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Access {
    /// True when only being staff allows the action (not the caller's role, if any).
    pub by_staff: bool,
}

/// Like [`authorize`], but platform staff may also do the actions `allows_staff` grants, in
/// any organization that exists. Not a member and not staff (or staff where staff may not
/// act): 404; a member whose role does not allow it and who is not staff: 403.
pub(crate) fn authorize_or_staff(
    connection: &mut AnyConnection,
    user_id: &str,
    organization_id: &str,
    action: Action,
) -> Result<Access, AppError> {
    let refused = match authorize(connection, user_id, organization_id, action) {
        Ok(_) => return Ok(Access { by_staff: false }),
        Err(refused @ (AppError::NotFound(_) | AppError::Forbidden(_))) => refused,
        Err(other) => return Err(other),
    };
    if !allows_staff(action) {
        return Err(refused);
    }
    let is_staff = crate::accounts::is_staff(connection, user_id)?;
    let organization_exists: i64 = organizations::table
        .find(organization_id)
        .count()
        .get_result(connection)?;
    if !is_staff || organization_exists == 0 {
        return Err(refused);
    }
    Ok(Access { by_staff: true })
}

/// [`authorize_or_staff`] for something of `organization_id` (a project, a task, a shared
/// dashboard): where the organization would answer 404, `missing` answers instead, so that a
/// foreign one reads exactly like one that does not exist.
pub(crate) fn authorize_or_staff_for(
    connection: &mut AnyConnection,
    user_id: &str,
    organization_id: &str,
    action: Action,
    missing: impl FnOnce() -> AppError,
) -> Result<Access, AppError> {
    authorize_or_staff(connection, user_id, organization_id, action).map_err(|error| match error {
        AppError::NotFound(_) => missing(),
        other => other,
    })
}

/// My organizations (by name) where my role allows `action`, each with that role.
pub(crate) fn my_organizations_allowing(
    connection: &mut AnyConnection,
    user_id: &str,
    action: Action,
) -> QueryResult<Vec<(String, String, Role)>> {
    let mine: Vec<(String, String, String)> = organizations::table
        .inner_join(memberships::table)
        .filter(memberships::user_id.eq(user_id))
        .order((organizations::name.asc(), organizations::id.asc()))
        .select((organizations::id, organizations::name, memberships::role))
        .load(connection)?;
    Ok(mine
        .into_iter()
        .filter_map(|(id, name, role)| Some((id, name, Role::parse(&role)?)))
        .filter(|(_, _, role)| allows(*role, action))
        .collect())
}

/// `items` by the id of the organization each belongs to (order kept within each).
pub(crate) fn by_organization<T>(
    items: Vec<T>,
    organization_of: impl Fn(&T) -> &str,
) -> HashMap<String, Vec<T>> {
    let mut grouped: HashMap<String, Vec<T>> = HashMap::new();
    for item in items {
        grouped
            .entry(organization_of(&item).to_owned())
            .or_default()
            .push(item);
    }
    grouped
}

/// What the caller may do with one DMS.
pub(crate) struct SystemAccess {
    pub organization_id: String,
    /// The caller's role on the DMS: their DMS-level role when they have one (organization
    /// Owners excepted), otherwise their organization role.
    pub role: Role,
}

/// The caller's access to a DMS when they may do `action` there: 404 when the DMS is not in
/// one of their organizations, 403 when their role on it does not allow `action`. For actions
/// about one DMS the DMS-level role decides (see [`SystemUser::effective`]).
pub(crate) fn authorize_system(
    connection: &mut AnyConnection,
    user_id: &str,
    system_id: &str,
    action: Action,
) -> Result<SystemAccess, AppError> {
    let no_such_system = || AppError::NotFound("There is no such DMS.".into());
    let organization_id: String = systems::table
        .find(system_id)
        .select(systems::organization_id)
        .first(connection)
        .optional()?
        .ok_or_else(no_such_system)?;
    let organization_role = membership_rules::role_of(connection, &organization_id, user_id)?
        .ok_or_else(no_such_system)?;
    let system_role = membership_rules::system_role_of(connection, system_id, user_id)?;
    let role = SystemUser::effective(organization_role, system_role);
    let deciding_role = if action.is_about_one_system() {
        role
    } else {
        organization_role
    };
    if !allows(deciding_role, action) {
        return Err(AppError::Forbidden(
            "Your role on this DMS does not allow this.".into(),
        ));
    }
    Ok(SystemAccess {
        organization_id,
        role,
    })
}

/// Refuses a DMS name another DMS of the organization (other than `renamed`) already has.
fn ensure_system_name_free(
    connection: &mut AnyConnection,
    organization_id: &str,
    name: &str,
    renamed: Option<&str>,
) -> Result<(), AppError> {
    let mut others = systems::table
        .filter(systems::organization_id.eq(organization_id))
        .filter(systems::name.eq(name))
        .into_boxed();
    if let Some(id) = renamed {
        others = others.filter(systems::id.ne(id));
    }
    let taken: i64 = others.count().get_result(connection)?;
    if taken > 0 {
        return Err(AppError::Conflict(
            "A DMS of that name already exists in this organization.".into(),
        ));
    }
    Ok(())
}

/// Registers a DMS (never connected, with its first transition) and its first connect code.
pub(crate) fn insert_system(
    connection: &mut AnyConnection,
    organization_id: &str,
    name: &str,
    created_by: Option<&str>,
) -> Result<CreatedSystem, AppError> {
    ensure_system_name_free(connection, organization_id, name, None)?;
    let now = crate::db::now().naive_utc();
    let id = uuid::Uuid::new_v4().to_string();
    diesel::insert_into(systems::table)
        .values((
            systems::id.eq(&id),
            systems::organization_id.eq(organization_id),
            systems::name.eq(name),
            systems::created_at.eq(now),
            systems::state.eq(ConnectionState::NeverConnected.as_str()),
        ))
        .execute(connection)?;
    diesel::insert_into(system_state_transitions::table)
        .values((
            system_state_transitions::id.eq(uuid::Uuid::now_v7().to_string()),
            system_state_transitions::system_id.eq(&id),
            system_state_transitions::state.eq(ConnectionState::NeverConnected.as_str()),
            system_state_transitions::at.eq(now),
        ))
        .execute(connection)?;
    let connect_code = insert_connect_code(connection, &id, created_by, now)?;
    Ok(CreatedSystem {
        system: System {
            id,
            organization_id: organization_id.to_owned(),
            name: name.to_owned(),
            state: ConnectionState::NeverConnected,
            last_online_at: None,
            dms_version: None,
            agent_count: None,
            created_at: now.and_utc(),
        },
        connect_code,
    })
}

/// The organizations the caller belongs to (their ids), for scoping lists and streams.
pub fn organization_ids_of(
    connection: &mut AnyConnection,
    user_id: &str,
) -> QueryResult<Vec<String>> {
    memberships::table
        .filter(memberships::user_id.eq(user_id))
        .select(memberships::organization_id)
        .load(connection)
}

/// Creates a connect code for a DMS; only its hash is stored.
pub(crate) fn insert_connect_code(
    connection: &mut AnyConnection,
    system_id: &str,
    user_id: Option<&str>,
    now: NaiveDateTime,
) -> QueryResult<ConnectCode> {
    let code = one_time::generate("scc_");
    let expires_at = now + CONNECT_CODE_TTL;
    diesel::insert_into(connect_codes::table)
        .values((
            connect_codes::code_hash.eq(one_time::hash(&code)),
            connect_codes::system_id.eq(system_id),
            connect_codes::created_by.eq(user_id),
            connect_codes::created_at.eq(now),
            connect_codes::expires_at.eq(expires_at),
        ))
        .execute(connection)?;
    Ok(ConnectCode {
        system_id: system_id.to_owned(),
        code,
        expires_at: expires_at.and_utc(),
    })
}

type SystemRow = (
    String,
    String,
    String,
    NaiveDateTime,
    Option<NaiveDateTime>,
    String,
    Option<String>,
    Option<i32>,
);

fn system_columns() -> (
    systems::id,
    systems::organization_id,
    systems::name,
    systems::created_at,
    systems::last_online_at,
    systems::state,
    systems::dms_version,
    systems::agent_count,
) {
    (
        systems::id,
        systems::organization_id,
        systems::name,
        systems::created_at,
        systems::last_online_at,
        systems::state,
        systems::dms_version,
        systems::agent_count,
    )
}

/// A DMS as stored, overlaid with the hub's live view (which is newer when it has one).
fn system_of(row: SystemRow, hub: &LiveHub) -> System {
    let (id, organization_id, name, created_at, last_online_at, state, dms_version, agent_count) =
        row;
    let stored = System {
        state: ConnectionState::parse(&state).unwrap_or(ConnectionState::Unknown),
        last_online_at: last_online_at.map(|at| at.and_utc()),
        created_at: created_at.and_utc(),
        id,
        organization_id,
        name,
        dms_version,
        agent_count,
    };
    match hub.view(&stored.id) {
        Some(live) => System {
            state: live.state,
            last_online_at: live.last_online_at,
            dms_version: live.dms_version,
            agent_count: live.agent_count,
            ..stored
        },
        None => stored,
    }
}

/// The organizations I belong to, with my role in each.
#[utoipa::path(
    tag = "organizations",
    security(("access_token" = [])),
    responses(
        (status = 200, description = "My organizations", body = [Organization]),
        (status = 401, description = "Not signed in", body = stratus_shared::ApiError),
    )
)]
#[get("/organizations")]
pub async fn list_organizations(
    user: CurrentUser,
    database: web::Data<Database>,
) -> Result<HttpResponse, AppError> {
    let organizations = database
        .run_app(move |connection| Ok(organizations_of(connection, &user.user_id, None)?))
        .await?;
    Ok(HttpResponse::Ok().json(organizations))
}

/// The organizations `user_id` belongs to (only `only` when given), with their role, by name.
pub(crate) fn organizations_of(
    connection: &mut AnyConnection,
    user_id: &str,
    only: Option<&str>,
) -> QueryResult<Vec<Organization>> {
    let mut query = organizations::table
        .inner_join(memberships::table)
        .filter(memberships::user_id.eq(user_id))
        .into_boxed();
    if let Some(organization_id) = only {
        query = query.filter(organizations::id.eq(organization_id));
    }
    let rows: Vec<(String, String, String, NaiveDateTime, i32, String)> = query
        .order((organizations::name.asc(), organizations::id.asc()))
        .select((
            organizations::id,
            organizations::name,
            organizations::slug,
            organizations::created_at,
            organizations::remote_access_enabled,
            memberships::role,
        ))
        .load(connection)?;
    Ok(rows
        .into_iter()
        .filter_map(
            |(id, name, slug, created_at, remote_access_enabled, role)| {
                Some(Organization {
                    id,
                    name,
                    slug,
                    role: Role::parse(&role)?,
                    created_at: created_at.and_utc(),
                    remote_access_enabled: remote_access_enabled != 0,
                })
            },
        )
        .collect())
}

/// Creates an organization; I become its Owner.
#[utoipa::path(
    tag = "organizations",
    security(("access_token" = [])),
    request_body = CreateOrganization,
    responses(
        (status = 201, description = "Created; I am its Owner", body = Organization),
        (status = 400, description = "Invalid name", body = stratus_shared::ApiError),
        (status = 401, description = "Not signed in", body = stratus_shared::ApiError),
    )
)]
#[post("/organizations")]
pub async fn create_organization(
    user: CurrentUser,
    body: web::Json<CreateOrganization>,
    database: web::Data<Database>,
    hub: web::Data<LiveHub>,
) -> Result<HttpResponse, AppError> {
    let name = parse_name(&body.name, "organization")?;
    let user_id = user.user_id.clone();
    let organization = database
        .run_write(move |connection| {
            let now = crate::db::now().naive_utc();
            let (id, slug) = insert_organization(connection, &name, now)?;
            membership_rules::insert_membership(connection, &id, &user.user_id, Role::Owner, now)?;
            audit::record_as(
                connection,
                &user.user_id,
                false,
                Some(&id),
                "organization.created",
                format!("Created the organization {name}"),
            )?;
            Ok(Organization {
                id,
                name,
                slug,
                role: Role::Owner,
                created_at: now.and_utc(),
                remote_access_enabled: true,
            })
        })
        .await?;
    hub.membership_changed(&user_id);
    Ok(HttpResponse::Created().json(organization))
}

/// Creates an organization named `name` (with a slug of its own) and returns its id and slug.
/// Its first Owner is up to the caller.
pub(crate) fn insert_organization(
    connection: &mut AnyConnection,
    name: &str,
    now: NaiveDateTime,
) -> Result<(String, String), AppError> {
    let id = uuid::Uuid::new_v4().to_string();
    let slug = unique_slug(connection, name)?;
    diesel::insert_into(organizations::table)
        .values((
            organizations::id.eq(&id),
            organizations::name.eq(name),
            organizations::slug.eq(&slug),
            organizations::created_at.eq(now),
        ))
        .execute(connection)?;
    Ok((id, slug))
}

/// A URL-friendly, unused slug for a name: `acme-corp`, or `acme-corp-x7k2q9` when taken.
pub(crate) fn unique_slug(connection: &mut AnyConnection, name: &str) -> Result<String, AppError> {
    let mut base: String = name
        .to_lowercase()
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
        .collect();
    base = base
        .split('-')
        .filter(|part| !part.is_empty())
        .collect::<Vec<_>>()
        .join("-");
    if base.is_empty() {
        base = "organization".into();
    }
    base.truncate(40);
    let taken: i64 = organizations::table
        .filter(organizations::slug.eq(&base))
        .count()
        .get_result(connection)?;
    if taken == 0 {
        return Ok(base);
    }
    let suffix = Alphanumeric
        .sample_string(&mut rand::rng(), 6)
        .to_lowercase();
    Ok(format!("{base}-{suffix}"))
}

/// Registers a DMS in one of my organizations and returns its first connect code (shown once).
#[utoipa::path(
    tag = "organizations",
    security(("access_token" = [])),
    params(("organization_id" = String, Path, description = "The organization's id")),
    request_body = CreateSystem,
    responses(
        (status = 201, description = "Registered, with its connect code", body = CreatedSystem),
        (status = 400, description = "Invalid name", body = stratus_shared::ApiError),
        (status = 401, description = "Not signed in", body = stratus_shared::ApiError),
        (status = 404, description = "Not one of my organizations", body = stratus_shared::ApiError),
        (status = 409, description = "A DMS of that name exists in the organization", body = stratus_shared::ApiError),
    )
)]
#[post("/organizations/{organization_id}/systems")]
pub async fn create_system(
    user: CurrentUser,
    path: web::Path<String>,
    body: web::Json<CreateSystem>,
    database: web::Data<Database>,
    hub: web::Data<LiveHub>,
) -> Result<HttpResponse, AppError> {
    let organization_id = path.into_inner();
    let name = parse_name(&body.name, "DMS")?;
    let created = database
        .run_write(move |connection| {
            authorize(
                connection,
                &user.user_id,
                &organization_id,
                Action::RegisterSystem,
            )?;
            let created = insert_system(connection, &organization_id, &name, Some(&user.user_id))?;
            audit::record_as(
                connection,
                &user.user_id,
                false,
                Some(&organization_id),
                "system.registered",
                format!("Registered the DMS {name}"),
            )?;
            Ok(created)
        })
        .await?;
    hub.register(
        &created.system.id,
        &created.system.organization_id,
        created.system.created_at,
    );
    Ok(HttpResponse::Created().json(created))
}

/// Issues a new connect code for an existing DMS (Owners only). Using it re-keys the DMS: its
/// current gateway's credentials stop working; the DMS keeps its id and history.
#[utoipa::path(
    tag = "organizations",
    security(("access_token" = [])),
    params(("system_id" = String, Path, description = "The DMS's id")),
    responses(
        (status = 201, description = "A new connect code", body = ConnectCode),
        (status = 401, description = "Not signed in", body = stratus_shared::ApiError),
        (status = 403, description = "Only Owners may issue connect codes", body = stratus_shared::ApiError),
        (status = 404, description = "No such DMS in my organizations", body = stratus_shared::ApiError),
    )
)]
#[post("/systems/{system_id}/connect-codes")]
pub async fn issue_connect_code(
    user: CurrentUser,
    path: web::Path<String>,
    database: web::Data<Database>,
) -> Result<HttpResponse, AppError> {
    let system_id = path.into_inner();
    let code = database
        .run_app(move |connection| {
            connection.transaction(|connection| {
                let access = authorize_system(
                    connection,
                    &user.user_id,
                    &system_id,
                    Action::IssueConnectCode,
                )?;
                let code = insert_connect_code(
                    connection,
                    &system_id,
                    Some(&user.user_id),
                    crate::db::now().naive_utc(),
                )?;
                record_system_change(
                    connection,
                    &user.user_id,
                    &access.organization_id,
                    &system_id,
                    "system.connect_code_issued",
                    "Issued a new connect code for the DMS",
                )?;
                Ok(code)
            })
        })
        .await?;
    Ok(HttpResponse::Created().json(code))
}

/// Every DMS of my organizations, with its live state.
#[utoipa::path(
    tag = "organizations",
    security(("access_token" = [])),
    responses(
        (status = 200, description = "The DMSs I may see", body = [System]),
        (status = 401, description = "Not signed in", body = stratus_shared::ApiError),
    )
)]
#[get("/systems")]
pub async fn list_systems(
    user: CurrentUser,
    database: web::Data<Database>,
    hub: web::Data<LiveHub>,
) -> Result<HttpResponse, AppError> {
    let rows: Vec<SystemRow> = database
        .run_app(move |connection| {
            let organizations = organization_ids_of(connection, &user.user_id)?;
            Ok(systems::table
                .filter(systems::organization_id.eq_any(organizations))
                .order((systems::name.asc(), systems::id.asc()))
                .select(system_columns())
                .load(connection)?)
        })
        .await?;
    let systems: Vec<System> = rows.into_iter().map(|row| system_of(row, &hub)).collect();
    Ok(HttpResponse::Ok().json(systems))
}

/// One DMS with its latest state transitions (newest first).
#[utoipa::path(
    tag = "organizations",
    security(("access_token" = [])),
    params(("system_id" = String, Path, description = "The DMS's id")),
    responses(
        (status = 200, description = "The DMS and its history", body = SystemDetail),
        (status = 401, description = "Not signed in", body = stratus_shared::ApiError),
        (status = 404, description = "No such DMS in my organizations", body = stratus_shared::ApiError),
    )
)]
#[get("/systems/{system_id}")]
pub async fn system_detail(
    user: CurrentUser,
    path: web::Path<String>,
    database: web::Data<Database>,
    hub: web::Data<LiveHub>,
    state: web::Data<crate::startup::AppState>,
) -> Result<HttpResponse, AppError> {
    let system_id = path.into_inner();
    let (row, transitions, organization_slug, remote_access, my_role, my_dms_account) = database
        .run_app(move |connection| {
            let access = authorize_system(connection, &user.user_id, &system_id, Action::View)?;
            let (organization_slug, organization_remote_access): (String, i32) =
                organizations::table
                    .find(&access.organization_id)
                    .select((organizations::slug, organizations::remote_access_enabled))
                    .first(connection)?;
            let system_remote_access: i32 = systems::table
                .find(&system_id)
                .select(systems::remote_access_enabled)
                .first(connection)?;
            let remote_access = RemoteAccess {
                enabled_for_system: system_remote_access != 0,
                forced_off_by_organization: organization_remote_access == 0,
            };
            let my_dms_account: Option<String> = dms_account_links::table
                .find((&system_id, &user.user_id))
                .select(dms_account_links::dms_username)
                .first(connection)
                .optional()?;
            let row: SystemRow = systems::table
                .find(&system_id)
                .select(system_columns())
                .first(connection)?;
            let transitions: Vec<(String, NaiveDateTime)> = system_state_transitions::table
                .filter(system_state_transitions::system_id.eq(&system_id))
                .order((
                    system_state_transitions::at.desc(),
                    // Time-ordered ids (UUIDv7) settle transitions within the same microsecond.
                    system_state_transitions::id.desc(),
                ))
                .limit(DETAIL_TRANSITIONS)
                .select((
                    system_state_transitions::state,
                    system_state_transitions::at,
                ))
                .load(connection)?;
            Ok((
                row,
                transitions,
                organization_slug,
                remote_access,
                access.role,
                my_dms_account,
            ))
        })
        .await?;
    let remote_access_url = if remote_access.is_on() {
        stratus_shared::api::organizations::remote_access_url(
            &row.2,
            &organization_slug,
            &state.settings.remote_access_domain,
        )
    } else {
        None
    };
    let detail = SystemDetail {
        remote_access_url,
        remote_access,
        my_role,
        my_dms_account,
        system: system_of(row, &hub),
        transitions: transitions
            .into_iter()
            .filter_map(|(state, at)| {
                Some(StateTransition {
                    state: ConnectionState::parse(&state)?,
                    at: at.and_utc(),
                })
            })
            .collect(),
    };
    Ok(HttpResponse::Ok().json(detail))
}

/// Renames a DMS (Owners and Admins).
#[utoipa::path(
    tag = "organizations",
    security(("access_token" = [])),
    params(("system_id" = String, Path, description = "The DMS's id")),
    request_body = CreateSystem,
    responses(
        (status = 200, description = "Renamed", body = System),
        (status = 400, description = "The name is empty, too long or has control characters", body = stratus_shared::ApiError),
        (status = 401, description = "Not signed in", body = stratus_shared::ApiError),
        (status = 403, description = "Members may not rename a DMS", body = stratus_shared::ApiError),
        (status = 404, description = "No such DMS in my organizations", body = stratus_shared::ApiError),
        (status = 409, description = "Another DMS of the organization has that name", body = stratus_shared::ApiError),
    )
)]
#[patch("/systems/{system_id}")]
pub async fn rename_system(
    user: CurrentUser,
    path: web::Path<String>,
    body: web::Json<CreateSystem>,
    database: web::Data<Database>,
    hub: web::Data<LiveHub>,
) -> Result<HttpResponse, AppError> {
    let system_id = path.into_inner();
    let name = parse_name(&body.name, "DMS")?;
    let row = database
        .run_write(move |connection| {
            let access =
                authorize_system(connection, &user.user_id, &system_id, Action::RenameSystem)?;
            ensure_system_name_free(connection, &access.organization_id, &name, Some(&system_id))?;
            let old_name: String = systems::table
                .find(&system_id)
                .select(systems::name)
                .first(connection)?;
            diesel::update(systems::table.find(&system_id))
                .set(systems::name.eq(&name))
                .execute(connection)?;
            record_system_change(
                connection,
                &user.user_id,
                &access.organization_id,
                &system_id,
                "system.renamed",
                &format!("Renamed from {old_name}"),
            )?;
            let row: SystemRow = systems::table
                .find(&system_id)
                .select(system_columns())
                .first(connection)?;
            let members = membership_rules::member_ids(connection, &access.organization_id)?;
            Ok((row, members))
        })
        .await?;
    let (row, members) = row;
    // Overviews show names from a fresh list: a new snapshot makes them fetch it.
    for member in &members {
        hub.membership_changed(member);
    }
    Ok(HttpResponse::Ok().json(system_of(row, &hub)))
}

/// Removes a DMS (Owners and Admins): its gateway is cut off at once and its tokens stop working.
#[utoipa::path(
    tag = "organizations",
    security(("access_token" = [])),
    params(("system_id" = String, Path, description = "The DMS's id")),
    responses(
        (status = 204, description = "Removed"),
        (status = 401, description = "Not signed in", body = stratus_shared::ApiError),
        (status = 403, description = "Members may not remove a DMS", body = stratus_shared::ApiError),
        (status = 404, description = "No such DMS in my organizations", body = stratus_shared::ApiError),
    )
)]
#[delete("/systems/{system_id}")]
pub async fn remove_system(
    user: CurrentUser,
    path: web::Path<String>,
    database: web::Data<Database>,
    hub: web::Data<LiveHub>,
) -> Result<HttpResponse, AppError> {
    let system_id = path.into_inner();
    let removed = system_id.clone();
    database
        .run_app(move |connection| {
            connection.transaction(|connection| {
                let access =
                    authorize_system(connection, &user.user_id, &system_id, Action::RemoveSystem)?;
                record_system_change(
                    connection,
                    &user.user_id,
                    &access.organization_id,
                    &system_id,
                    "system.removed",
                    "Removed the DMS",
                )?;
                diesel::delete(systems::table.find(&system_id)).execute(connection)?;
                Ok(())
            })
        })
        .await?;
    hub.remove(&removed);
    Ok(HttpResponse::NoContent().finish())
}

/// Writes an audit entry about one DMS, naming it (entries outlive the DMS).
pub(crate) fn record_system_change(
    connection: &mut AnyConnection,
    user_id: &str,
    organization_id: &str,
    system_id: &str,
    action: &str,
    what: &str,
) -> Result<(), AppError> {
    let name: String = systems::table
        .find(system_id)
        .select(systems::name)
        .first(connection)?;
    audit::record_as(
        connection,
        user_id,
        false,
        Some(organization_id),
        action,
        format!("{what} (DMS {name})"),
    )?;
    Ok(())
}
