//! Access to one DMS: who has which role on it (DMS-level roles replace the organization role
//! for that DMS), its settings (remote access), and each person's link to their own user
//! account on the DMS.

use actix_web::{delete, get, patch, post, put, web, HttpResponse};
use stratus_shared::api::organizations::{
    DmsLinkCode, RemoteTicket, SetSystemRole, SystemSettings, SystemUser,
};
use stratus_shared::ApiError;

use crate::auth::access::authorize_system;
use crate::auth::permissions::Action;
use crate::auth::CurrentUser;
use crate::db::Database;
use crate::domain::remote_access;
use crate::domain::system_access;
use crate::error::AppError;
use crate::json_body::JsonObject;
use crate::live::{LiveHub, RemoteCut};
use crate::remote::{self, RemoteAccess};

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
            system_access::users(connection, &access.organization_id, &system_id)
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
    body: JsonObject<SetSystemRole>,
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
            system_access::set_role(
                connection,
                &user.user_id,
                &access,
                &system_id,
                &person_id,
                role,
            )
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
            system_access::clear_role(connection, &user.user_id, &access, &system_id, &person_id)
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
    body: JsonObject<SystemSettings>,
    database: web::Data<Database>,
    hub: web::Data<LiveHub>,
) -> Result<HttpResponse, AppError> {
    let system_id = path.into_inner();
    let switched = system_id.clone();
    let settings = body.into_inner();
    let enabled = settings.remote_access_enabled;
    database
        .run_write(move |connection| {
            let access = authorize_system(
                connection,
                &user.user_id,
                &system_id,
                Action::EditSystemSettings,
            )?;
            system_access::set_remote_access(
                connection,
                &user.user_id,
                &access.organization_id,
                &system_id,
                enabled,
            )
        })
        .await?;
    if !enabled {
        hub.cut_remote_access(RemoteCut {
            system_ids: vec![switched],
            people: Vec::new(),
        });
    }
    Ok(HttpResponse::Ok().json(settings))
}

/// A one-time code to link my user account on the DMS: I enter it on the DMS, which then
/// confirms over its gateway connection which of its users I am; only then is the link
/// recorded. Valid ten minutes; a new code replaces my earlier one.
#[utoipa::path(
    tag = "systems",
    security(("access_token" = [])),
    params(("system_id" = String, Path, description = "The DMS's id")),
    responses(
        (status = 201, description = "The code, shown once", body = DmsLinkCode),
        (status = 401, description = "Not signed in", body = ApiError),
        (status = 404, description = "No such DMS in my organizations", body = ApiError),
    )
)]
#[post("/systems/{system_id}/my-account/link-code")]
pub async fn create_dms_link_code(
    user: CurrentUser,
    path: web::Path<String>,
    database: web::Data<Database>,
) -> Result<HttpResponse, AppError> {
    let system_id = path.into_inner();
    let (code, expires_at) = database
        .run_write(move |connection| {
            authorize_system(
                connection,
                &user.user_id,
                &system_id,
                Action::LinkOwnDmsAccount,
            )?;
            Ok(system_access::issue_link_code(
                connection,
                &user.user_id,
                &system_id,
                crate::db::now(),
            )?)
        })
        .await?;
    Ok(HttpResponse::Created()
        .insert_header(("Cache-Control", "no-store"))
        .json(DmsLinkCode { code, expires_at }))
}

/// A single-use ticket (valid one minute) to open the DMS's web apps remotely: the browser
/// posts it to `enter_url` on the DMS's own origin, where it becomes a host-only session
/// cookie. Needs remote access on for the DMS and its organization.
#[utoipa::path(
    tag = "systems",
    security(("access_token" = [])),
    params(("system_id" = String, Path, description = "The DMS's id")),
    responses(
        (status = 201, description = "The ticket", body = RemoteTicket),
        (status = 401, description = "Not signed in", body = ApiError),
        (status = 403, description = "My role on the DMS does not allow remote access", body = ApiError),
        (status = 404, description = "No such DMS in my organizations", body = ApiError),
        (status = 409, description = "remote_access_off: remote access is switched off for the DMS or its organization", body = ApiError),
    )
)]
#[post("/systems/{system_id}/remote-access/tickets")]
pub async fn create_remote_ticket(
    user: CurrentUser,
    path: web::Path<String>,
    database: web::Data<Database>,
    remote: web::Data<RemoteAccess>,
) -> Result<HttpResponse, AppError> {
    let system_id = path.into_inner();
    let (label, ticket, expires_at) = database
        .run_write(move |connection| {
            authorize_system(connection, &user.user_id, &system_id, Action::OpenRemotely)?;
            let label = system_access::remote_label_if_on(connection, &system_id)?
                .ok_or(AppError::RemoteAccessOff)?;
            let (ticket, expires_at) = remote_access::issue_ticket(
                connection,
                &user.user_id,
                &system_id,
                crate::db::now(),
            )?;
            Ok((label, ticket, expires_at))
        })
        .await?;
    Ok(HttpResponse::Created()
        .insert_header(("Cache-Control", "no-store"))
        .json(RemoteTicket {
            enter_url: format!("{}{}", remote.hosts().origin(&label), remote::ENTER_PATH),
            ticket,
            expires_at,
        }))
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
        .run_write(move |connection| {
            let access = authorize_system(
                connection,
                &user.user_id,
                &system_id,
                Action::LinkOwnDmsAccount,
            )?;
            Ok(system_access::unlink_account(
                connection,
                &user.user_id,
                &access.organization_id,
                &system_id,
            )?)
        })
        .await?;
    Ok(HttpResponse::NoContent().finish())
}
