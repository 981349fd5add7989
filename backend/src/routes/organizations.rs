//! Organizations and their DMSs for a signed-in person: list and create organizations,
//! register a DMS and get its connect code, re-issue a connect code, list and inspect DMSs.
//!
//! An organization the person does not belong to answers 404, as if it did not exist.

use actix_web::{delete, get, patch, post, web, HttpResponse};
use chrono::NaiveDateTime;
use diesel::prelude::*;
use rand::distr::{Alphanumeric, SampleString};
use stratus_shared::api::organizations::{
    ConnectCode, CreateOrganization, CreateSystem, CreatedSystem, Organization, Role,
    StateTransition, System, SystemDetail,
};
use stratus_shared::ConnectionState;

use crate::auth::permissions::{allows, Action};
use crate::auth::{one_time, CurrentUser};
use crate::db::schema::{
    connect_codes, memberships, organizations, system_state_transitions, systems,
};
use crate::db::{AnyConnection, Database};
use crate::error::AppError;
use crate::live::LiveHub;

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
    let role: Option<String> = memberships::table
        .filter(memberships::organization_id.eq(organization_id))
        .filter(memberships::user_id.eq(user_id))
        .select(memberships::role)
        .first(connection)
        .optional()?;
    let role = role
        .and_then(|role| Role::parse(&role))
        .ok_or_else(|| AppError::NotFound("There is no such organization.".into()))?;
    if !allows(role, action) {
        return Err(AppError::Forbidden(
            "Your role in this organization does not allow this.".into(),
        ));
    }
    Ok(role)
}

/// The organization of a DMS, when the caller may do `action` there (404 otherwise).
fn authorize_system(
    connection: &mut AnyConnection,
    user_id: &str,
    system_id: &str,
    action: Action,
) -> Result<String, AppError> {
    let organization_id: Option<String> = systems::table
        .find(system_id)
        .select(systems::organization_id)
        .first(connection)
        .optional()?;
    let organization_id =
        organization_id.ok_or_else(|| AppError::NotFound("There is no such DMS.".into()))?;
    authorize(connection, user_id, &organization_id, action).map_err(|error| match error {
        AppError::NotFound(_) => AppError::NotFound("There is no such DMS.".into()),
        other => other,
    })?;
    Ok(organization_id)
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
    let rows: Vec<(String, String, String, NaiveDateTime, String)> = database
        .run_app(move |connection| {
            Ok(organizations::table
                .inner_join(memberships::table)
                .filter(memberships::user_id.eq(&user.user_id))
                .order(organizations::name.asc())
                .select((
                    organizations::id,
                    organizations::name,
                    organizations::slug,
                    organizations::created_at,
                    memberships::role,
                ))
                .load(connection)?)
        })
        .await?;
    let organizations: Vec<Organization> = rows
        .into_iter()
        .filter_map(|(id, name, slug, created_at, role)| {
            Some(Organization {
                id,
                name,
                slug,
                role: Role::parse(&role)?,
                created_at: created_at.and_utc(),
            })
        })
        .collect();
    Ok(HttpResponse::Ok().json(organizations))
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
        .run_app(move |connection| {
            connection.transaction(|connection| {
                crate::db::begin_write(connection)?;
                let now = crate::db::now().naive_utc();
                let id = uuid::Uuid::new_v4().to_string();
                let slug = unique_slug(connection, &name)?;
                diesel::insert_into(organizations::table)
                    .values((
                        organizations::id.eq(&id),
                        organizations::name.eq(&name),
                        organizations::slug.eq(&slug),
                        organizations::created_at.eq(now),
                    ))
                    .execute(connection)?;
                diesel::insert_into(memberships::table)
                    .values((
                        memberships::organization_id.eq(&id),
                        memberships::user_id.eq(&user.user_id),
                        memberships::role.eq(Role::Owner.as_str()),
                        memberships::created_at.eq(now),
                    ))
                    .execute(connection)?;
                Ok(Organization {
                    id,
                    name,
                    slug,
                    role: Role::Owner,
                    created_at: now.and_utc(),
                })
            })
        })
        .await?;
    hub.membership_changed(&user_id);
    Ok(HttpResponse::Created().json(organization))
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
        .run_app(move |connection| {
            connection.transaction(|connection| {
                crate::db::begin_write(connection)?;
                authorize(
                    connection,
                    &user.user_id,
                    &organization_id,
                    Action::RegisterSystem,
                )?;
                insert_system(connection, &organization_id, &name, Some(&user.user_id))
            })
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
            authorize_system(
                connection,
                &user.user_id,
                &system_id,
                Action::IssueConnectCode,
            )?;
            Ok(insert_connect_code(
                connection,
                &system_id,
                Some(&user.user_id),
                crate::db::now().naive_utc(),
            )?)
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
    let (row, transitions, organization_slug) = database
        .run_app(move |connection| {
            let organization_id =
                authorize_system(connection, &user.user_id, &system_id, Action::View)?;
            let organization_slug: String = organizations::table
                .find(&organization_id)
                .select(organizations::slug)
                .first(connection)?;
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
            Ok((row, transitions, organization_slug))
        })
        .await?;
    let remote_access_url = stratus_shared::api::organizations::remote_access_url(
        &row.2,
        &organization_slug,
        &state.settings.remote_access_domain,
    );
    let detail = SystemDetail {
        remote_access_url,
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
        .run_app(move |connection| {
            let organization_id =
                authorize_system(connection, &user.user_id, &system_id, Action::RenameSystem)?;
            ensure_system_name_free(connection, &organization_id, &name, Some(&system_id))?;
            diesel::update(systems::table.find(&system_id))
                .set(systems::name.eq(&name))
                .execute(connection)?;
            let row: SystemRow = systems::table
                .find(&system_id)
                .select(system_columns())
                .first(connection)?;
            Ok(row)
        })
        .await?;
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
            authorize_system(connection, &user.user_id, &system_id, Action::RemoveSystem)?;
            diesel::delete(systems::table.find(&system_id)).execute(connection)?;
            Ok(())
        })
        .await?;
    hub.remove(&removed);
    Ok(HttpResponse::NoContent().finish())
}
