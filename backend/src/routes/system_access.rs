//! Access to one DMS: who has which role on it (DMS-level roles replace the organization role
//! for that DMS), its settings (remote access), and each person's link to their own user
//! account on the DMS.

use actix_web::{delete, get, patch, put, web, HttpResponse};
use chrono::NaiveDateTime;
use diesel::prelude::*;
use stratus_shared::api::organizations::{
    LinkDmsAccount, Role, SetSystemRole, SystemSettings, SystemUser,
};
use stratus_shared::ApiError;

use crate::auth::permissions::Action;
use crate::auth::CurrentUser;
use crate::db::schema::{
    dms_account_links, memberships, organizations, system_roles, systems, users,
};
use crate::db::{AnyConnection, Database};
use crate::error::AppError;
use crate::routes::organizations::{authorize_system, record_system_change};

/// The people of the DMS's organization with their roles on the DMS, by email.
fn system_users(
    connection: &mut AnyConnection,
    organization_id: &str,
    system_id: &str,
) -> Result<Vec<SystemUser>, AppError> {
    let people: Vec<(String, String, String)> = memberships::table
        .inner_join(users::table)
        .filter(memberships::organization_id.eq(organization_id))
        .order(users::email.asc())
        .select((users::id, users::email, memberships::role))
        .load(connection)?;
    let roles: Vec<(String, String)> = system_roles::table
        .filter(system_roles::system_id.eq(system_id))
        .select((system_roles::user_id, system_roles::role))
        .load(connection)?;
    let accounts: Vec<(String, String)> = dms_account_links::table
        .filter(dms_account_links::system_id.eq(system_id))
        .select((dms_account_links::user_id, dms_account_links::dms_username))
        .load(connection)?;
    Ok(people
        .into_iter()
        .filter_map(|(user_id, email, organization_role)| {
            let organization_role = Role::parse(&organization_role)?;
            let system_role = roles
                .iter()
                .find(|(id, _)| *id == user_id)
                .and_then(|(_, role)| Role::parse(role));
            let dms_account = accounts
                .iter()
                .find(|(id, _)| *id == user_id)
                .map(|(_, name)| name.clone());
            Some(SystemUser {
                effective_role: SystemUser::effective(organization_role, system_role),
                user_id,
                email,
                organization_role,
                system_role,
                dms_account,
            })
        })
        .collect())
}

/// One person of the DMS's organization, or 404.
fn system_user(
    connection: &mut AnyConnection,
    organization_id: &str,
    system_id: &str,
    user_id: &str,
) -> Result<SystemUser, AppError> {
    system_users(connection, organization_id, system_id)?
        .into_iter()
        .find(|person| person.user_id == user_id)
        .ok_or_else(|| AppError::NotFound("This person is not in the DMS's organization.".into()))
}

/// Everyone of the DMS's organization with their role on the DMS and their linked DMS account.
#[utoipa::path(
    tag = "systems",
    security(("access_token" = [])),
    params(("system_id" = String, Path, description = "The DMS's id")),
    responses(
        (status = 200, description = "The DMS's users", body = [SystemUser]),
        (status = 401, description = "Not signed in", body = ApiError),
        (status = 404, description = "No such DMS in my organizations", body = ApiError),
    )
)]
#[get("/systems/{system_id}/users")]
pub async fn list_system_users(
    user: CurrentUser,
    path: web::Path<String>,
    database: web::Data<Database>,
) -> Result<HttpResponse, AppError> {
    let system_id = path.into_inner();
    let people = database
        .run_app(move |connection| {
            let access =
                authorize_system(connection, &user.user_id, &system_id, Action::ViewMembers)?;
            system_users(connection, &access.organization_id, &system_id)
        })
        .await?;
    Ok(HttpResponse::Ok().json(people))
}

/// Gives a person of the organization a role on this DMS, replacing their organization role
/// there. Only an Owner on the DMS may make someone Owner of it; the organization's Owners keep
/// every right on every DMS, so they get no DMS-level role.
#[utoipa::path(
    tag = "systems",
    security(("access_token" = [])),
    params(
        ("system_id" = String, Path, description = "The DMS's id"),
        ("user_id" = String, Path, description = "The person's user id"),
    ),
    request_body = SetSystemRole,
    responses(
        (status = 200, description = "The person's roles on the DMS now", body = SystemUser),
        (status = 401, description = "Not signed in", body = ApiError),
        (status = 403, description = "My role on the DMS does not allow this", body = ApiError),
        (status = 404, description = "No such DMS, or the person is not in its organization", body = ApiError),
        (status = 409, description = "The person is an Owner of the organization", body = ApiError),
    )
)]
#[put("/systems/{system_id}/users/{user_id}")]
pub async fn set_system_role(
    user: CurrentUser,
    path: web::Path<(String, String)>,
    body: web::Json<SetSystemRole>,
    database: web::Data<Database>,
) -> Result<HttpResponse, AppError> {
    let (system_id, person_id) = path.into_inner();
    let role = body.role;
    let person = database
        .run_write(move |connection| {
            let access = authorize_system(
                connection,
                &user.user_id,
                &system_id,
                Action::ManageSystemRoles,
            )?;
            if role == Role::Owner && access.role != Role::Owner {
                return Err(AppError::Forbidden(
                    "Only an Owner of the DMS may make someone its Owner.".into(),
                ));
            }
            let person = system_user(connection, &access.organization_id, &system_id, &person_id)?;
            if person.organization_role == Role::Owner {
                return Err(AppError::Conflict(
                    "Owners of the organization have every right on each of its DMSs; \
                         change their organization role first."
                        .into(),
                ));
            }
            diesel::delete(system_roles::table.find((&system_id, &person_id)))
                .execute(connection)?;
            diesel::insert_into(system_roles::table)
                .values((
                    system_roles::system_id.eq(&system_id),
                    system_roles::user_id.eq(&person_id),
                    system_roles::role.eq(role.as_str()),
                    system_roles::created_at.eq(crate::db::now().naive_utc()),
                ))
                .execute(connection)?;
            record_system_change(
                connection,
                &user.user_id,
                &access.organization_id,
                &system_id,
                "system.role_set",
                &format!("Made {} {} of the DMS", person.email, role.label()),
            )?;
            system_user(connection, &access.organization_id, &system_id, &person_id)
        })
        .await?;
    Ok(HttpResponse::Ok().json(person))
}

/// Takes a person's DMS-level role away: their organization role applies on the DMS again.
#[utoipa::path(
    tag = "systems",
    security(("access_token" = [])),
    params(
        ("system_id" = String, Path, description = "The DMS's id"),
        ("user_id" = String, Path, description = "The person's user id"),
    ),
    responses(
        (status = 200, description = "The person's roles on the DMS now", body = SystemUser),
        (status = 401, description = "Not signed in", body = ApiError),
        (status = 403, description = "My role on the DMS does not allow this", body = ApiError),
        (status = 404, description = "No such DMS, or the person is not in its organization", body = ApiError),
    )
)]
#[delete("/systems/{system_id}/users/{user_id}")]
pub async fn clear_system_role(
    user: CurrentUser,
    path: web::Path<(String, String)>,
    database: web::Data<Database>,
) -> Result<HttpResponse, AppError> {
    let (system_id, person_id) = path.into_inner();
    let person = database
        .run_write(move |connection| {
            let access = authorize_system(
                connection,
                &user.user_id,
                &system_id,
                Action::ManageSystemRoles,
            )?;
            let person = system_user(connection, &access.organization_id, &system_id, &person_id)?;
            // Taking an Owner role away is as strong as giving one.
            if person.system_role == Some(Role::Owner) && access.role != Role::Owner {
                return Err(AppError::Forbidden(
                    "Only an Owner of the DMS may change another Owner's role on it.".into(),
                ));
            }
            let removed = diesel::delete(system_roles::table.find((&system_id, &person_id)))
                .execute(connection)?;
            if removed > 0 {
                record_system_change(
                    connection,
                    &user.user_id,
                    &access.organization_id,
                    &system_id,
                    "system.role_cleared",
                    &format!(
                        "{} has their organization role on the DMS again",
                        person.email
                    ),
                )?;
            }
            system_user(connection, &access.organization_id, &system_id, &person_id)
        })
        .await?;
    Ok(HttpResponse::Ok().json(person))
}

/// Switches remote access for one DMS (Owners and Admins on the DMS). It cannot be switched on
/// while the organization has remote access off.
#[utoipa::path(
    tag = "systems",
    security(("access_token" = [])),
    params(("system_id" = String, Path, description = "The DMS's id")),
    request_body = SystemSettings,
    responses(
        (status = 200, description = "The DMS's settings now", body = SystemSettings),
        (status = 401, description = "Not signed in", body = ApiError),
        (status = 403, description = "My role on the DMS does not allow this", body = ApiError),
        (status = 404, description = "No such DMS in my organizations", body = ApiError),
        (status = 409, description = "remote_access_forced_off: the organization has remote access off", body = ApiError),
    )
)]
#[patch("/systems/{system_id}/settings")]
pub async fn update_system_settings(
    user: CurrentUser,
    path: web::Path<String>,
    body: web::Json<SystemSettings>,
    database: web::Data<Database>,
) -> Result<HttpResponse, AppError> {
    let system_id = path.into_inner();
    let settings = body.into_inner();
    database
        .run_write(move |connection| {
            let access = authorize_system(
                connection,
                &user.user_id,
                &system_id,
                Action::EditSystemSettings,
            )?;
            let organization_allows: i32 = organizations::table
                .find(&access.organization_id)
                .select(organizations::remote_access_enabled)
                .first(connection)?;
            if settings.remote_access_enabled && organization_allows == 0 {
                return Err(AppError::RemoteAccessForcedOff);
            }
            let current: i32 = systems::table
                .find(&system_id)
                .select(systems::remote_access_enabled)
                .first(connection)?;
            if (current != 0) != settings.remote_access_enabled {
                diesel::update(systems::table.find(&system_id))
                    .set(
                        systems::remote_access_enabled
                            .eq(i32::from(settings.remote_access_enabled)),
                    )
                    .execute(connection)?;
                record_system_change(
                    connection,
                    &user.user_id,
                    &access.organization_id,
                    &system_id,
                    "system.remote_access_changed",
                    if settings.remote_access_enabled {
                        "Switched remote access on"
                    } else {
                        "Switched remote access off"
                    },
                )?;
            }
            Ok(())
        })
        .await?;
    Ok(HttpResponse::Ok().json(settings))
}

/// Links my user account on the DMS (replacing an earlier link).
#[utoipa::path(
    tag = "systems",
    security(("access_token" = [])),
    params(("system_id" = String, Path, description = "The DMS's id")),
    request_body = LinkDmsAccount,
    responses(
        (status = 200, description = "Linked", body = LinkDmsAccount),
        (status = 400, description = "The user name is empty, too long or has control characters", body = ApiError),
        (status = 401, description = "Not signed in", body = ApiError),
        (status = 404, description = "No such DMS in my organizations", body = ApiError),
    )
)]
#[put("/systems/{system_id}/my-account")]
pub async fn link_my_dms_account(
    user: CurrentUser,
    path: web::Path<String>,
    body: web::Json<LinkDmsAccount>,
    database: web::Data<Database>,
) -> Result<HttpResponse, AppError> {
    let system_id = path.into_inner();
    let dms_username = crate::routes::organizations::parse_name(&body.dms_username, "DMS user")?;
    let linked = LinkDmsAccount {
        dms_username: dms_username.clone(),
    };
    database
        .run_app(move |connection| {
            connection.transaction(|connection| {
                let access = authorize_system(
                    connection,
                    &user.user_id,
                    &system_id,
                    Action::LinkOwnDmsAccount,
                )?;
                let now: NaiveDateTime = crate::db::now().naive_utc();
                diesel::delete(dms_account_links::table.find((&system_id, &user.user_id)))
                    .execute(connection)?;
                diesel::insert_into(dms_account_links::table)
                    .values((
                        dms_account_links::system_id.eq(&system_id),
                        dms_account_links::user_id.eq(&user.user_id),
                        dms_account_links::dms_username.eq(&dms_username),
                        dms_account_links::linked_at.eq(now),
                    ))
                    .execute(connection)?;
                record_system_change(
                    connection,
                    &user.user_id,
                    &access.organization_id,
                    &system_id,
                    "system.account_linked",
                    &format!("Linked their DMS account {dms_username}"),
                )
            })
        })
        .await?;
    Ok(HttpResponse::Ok().json(linked))
}

/// Unlinks my user account on the DMS (every member may unlink their own).
#[utoipa::path(
    tag = "systems",
    security(("access_token" = [])),
    params(("system_id" = String, Path, description = "The DMS's id")),
    responses(
        (status = 204, description = "Unlinked (or there was no link)"),
        (status = 401, description = "Not signed in", body = ApiError),
        (status = 404, description = "No such DMS in my organizations", body = ApiError),
    )
)]
#[delete("/systems/{system_id}/my-account")]
pub async fn unlink_my_dms_account(
    user: CurrentUser,
    path: web::Path<String>,
    database: web::Data<Database>,
) -> Result<HttpResponse, AppError> {
    let system_id = path.into_inner();
    database
        .run_app(move |connection| {
            connection.transaction(|connection| {
                let access = authorize_system(
                    connection,
                    &user.user_id,
                    &system_id,
                    Action::LinkOwnDmsAccount,
                )?;
                let removed =
                    diesel::delete(dms_account_links::table.find((&system_id, &user.user_id)))
                        .execute(connection)?;
                if removed > 0 {
                    record_system_change(
                        connection,
                        &user.user_id,
                        &access.organization_id,
                        &system_id,
                        "system.account_unlinked",
                        "Unlinked their DMS account",
                    )?;
                }
                Ok(())
            })
        })
        .await?;
    Ok(HttpResponse::NoContent().finish())
}
