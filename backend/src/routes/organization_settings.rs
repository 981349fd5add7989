//! One organization as a whole: its settings (name, remote access), its audit log, and
//! deleting it. Owners and Admins change settings and read the log; only Owners delete.

use actix_web::{delete, get, patch, web, HttpResponse};
use diesel::prelude::*;
use stratus_shared::api::audit::AuditEntry;
use stratus_shared::api::organizations::{DeleteOrganization, Organization, UpdateOrganization};
use stratus_shared::{ApiError, ErrorCode};

use crate::audit::{self, Actor};
use crate::auth::permissions::Action;
use crate::auth::CurrentUser;
use crate::db::schema::{organizations, systems};
use crate::db::{AnyConnection, Database};
use crate::error::AppError;
use crate::live::LiveHub;
use crate::memberships as membership_rules;
use crate::routes::organizations::{authorize, organizations_of, parse_name};

/// How many audit entries the organization's log shows.
const AUDIT_LOG_ENTRIES: i64 = 200;

/// The organization as `user_id` sees it (after `authorize`).
fn organization_for(
    connection: &mut AnyConnection,
    user_id: &str,
    organization_id: &str,
) -> Result<Organization, AppError> {
    organizations_of(connection, user_id, Some(organization_id))?
        .into_iter()
        .next()
        .ok_or_else(|| AppError::NotFound("There is no such organization.".into()))
}

/// One of my organizations, with my role and its settings.
#[utoipa::path(
    tag = "organizations",
    security(("access_token" = [])),
    params(("organization_id" = String, Path, description = "The organization's id")),
    responses(
        (status = 200, description = "The organization", body = Organization),
        (status = 401, description = "Not signed in", body = ApiError),
        (status = 404, description = "No such organization of mine", body = ApiError),
    )
)]
#[get("/organizations/{organization_id}")]
pub async fn get_organization(
    user: CurrentUser,
    path: web::Path<String>,
    database: web::Data<Database>,
) -> Result<HttpResponse, AppError> {
    let organization_id = path.into_inner();
    let organization = database
        .run_app(move |connection| {
            authorize(connection, &user.user_id, &organization_id, Action::View)?;
            organization_for(connection, &user.user_id, &organization_id)
        })
        .await?;
    Ok(HttpResponse::Ok().json(organization))
}

/// Renames the organization or switches remote access for all its DMSs (Owners and Admins).
#[utoipa::path(
    tag = "organizations",
    security(("access_token" = [])),
    params(("organization_id" = String, Path, description = "The organization's id")),
    request_body = UpdateOrganization,
    responses(
        (status = 200, description = "The organization as it is now", body = Organization),
        (status = 400, description = "Invalid name or body", body = ApiError),
        (status = 401, description = "Not signed in", body = ApiError),
        (status = 403, description = "Members may not change settings", body = ApiError),
        (status = 404, description = "No such organization of mine", body = ApiError),
    )
)]
#[patch("/organizations/{organization_id}")]
pub async fn update_organization(
    user: CurrentUser,
    path: web::Path<String>,
    body: web::Json<UpdateOrganization>,
    database: web::Data<Database>,
    hub: web::Data<LiveHub>,
) -> Result<HttpResponse, AppError> {
    let organization_id = path.into_inner();
    let name = body
        .name
        .as_deref()
        .map(|name| parse_name(name, "organization"))
        .transpose()?;
    let remote_access_enabled = body.remote_access_enabled;
    let (organization, members) = database
        .run_write(move |connection| {
            authorize(
                connection,
                &user.user_id,
                &organization_id,
                Action::EditOrganizationSettings,
            )?;
            let before = organization_for(connection, &user.user_id, &organization_id)?;
            let actor = Actor::load(connection, &user.user_id, false)?;
            if let Some(name) = name.as_ref().filter(|name| **name != before.name) {
                diesel::update(organizations::table.find(&organization_id))
                    .set(organizations::name.eq(&name))
                    .execute(connection)?;
                audit::record(
                    connection,
                    &actor,
                    Some(&organization_id),
                    "organization.renamed",
                    format!("Renamed the organization from {} to {name}", before.name),
                )?;
            }
            if let Some(enabled) =
                remote_access_enabled.filter(|enabled| *enabled != before.remote_access_enabled)
            {
                diesel::update(organizations::table.find(&organization_id))
                    .set(organizations::remote_access_enabled.eq(i32::from(enabled)))
                    .execute(connection)?;
                audit::record(
                    connection,
                    &actor,
                    Some(&organization_id),
                    "organization.remote_access_changed",
                    if enabled {
                        "Switched remote access on for the organization".to_owned()
                    } else {
                        "Switched remote access off for every DMS of the organization".to_owned()
                    },
                )?;
            }
            // What was written is known: no need to read the organization again.
            let organization = Organization {
                name: name.unwrap_or_else(|| before.name.clone()),
                remote_access_enabled: remote_access_enabled
                    .unwrap_or(before.remote_access_enabled),
                ..before
            };
            let members = membership_rules::member_ids(connection, &organization_id)?;
            Ok((organization, members))
        })
        .await?;
    // The overview groups DMSs under the organization's name: a fresh snapshot shows the new one.
    for member in &members {
        hub.membership_changed(member);
    }
    Ok(HttpResponse::Ok().json(organization))
}

/// Deletes the organization with its DMSs (cut off at once), memberships, invitations and
/// everything else in it (Owners only). The organization's name must be typed again.
#[utoipa::path(
    tag = "organizations",
    security(("access_token" = [])),
    params(("organization_id" = String, Path, description = "The organization's id")),
    request_body = DeleteOrganization,
    responses(
        (status = 204, description = "Deleted"),
        (status = 400, description = "Unreadable body", body = ApiError),
        (status = 401, description = "Not signed in", body = ApiError),
        (status = 403, description = "Only Owners may delete the organization", body = ApiError),
        (status = 404, description = "No such organization of mine", body = ApiError),
        (status = 422, description = "confirmation_mismatch: the typed name is not the organization's", body = ApiError),
    )
)]
#[delete("/organizations/{organization_id}")]
pub async fn delete_organization(
    user: CurrentUser,
    path: web::Path<String>,
    body: web::Json<DeleteOrganization>,
    database: web::Data<Database>,
    hub: web::Data<LiveHub>,
) -> Result<HttpResponse, AppError> {
    let organization_id = path.into_inner();
    let confirm_name = body.into_inner().confirm_name;
    let (system_ids, members) = database
        .run_write(move |connection| {
            authorize(
                connection,
                &user.user_id,
                &organization_id,
                Action::DeleteOrganization,
            )?;
            let name: String = organizations::table
                .find(&organization_id)
                .select(organizations::name)
                .first(connection)?;
            if confirm_name.trim() != name {
                return Err(AppError::Validation {
                    code: ErrorCode::ConfirmationMismatch,
                    message: "Type the organization's name exactly to delete it.".into(),
                });
            }
            let system_ids: Vec<String> = systems::table
                .filter(systems::organization_id.eq(&organization_id))
                .select(systems::id)
                .load(connection)?;
            let members = membership_rules::member_ids(connection, &organization_id)?;
            audit::record_as(
                connection,
                &user.user_id,
                false,
                Some(&organization_id),
                "organization.deleted",
                format!(
                    "Deleted the organization {name} with its {} DMS(s)",
                    system_ids.len()
                ),
            )?;
            // Memberships, DMSs, their codes, keys, roles and history go with it (ON DELETE
            // CASCADE); the audit log keeps its entries.
            diesel::delete(organizations::table.find(&organization_id)).execute(connection)?;
            Ok((system_ids, members))
        })
        .await?;
    for system_id in &system_ids {
        hub.remove(system_id);
    }
    for member in &members {
        hub.membership_changed(member);
    }
    Ok(HttpResponse::NoContent().finish())
}

/// The organization's audit log, newest first (Owners and Admins).
#[utoipa::path(
    tag = "organizations",
    security(("access_token" = [])),
    params(("organization_id" = String, Path, description = "The organization's id")),
    responses(
        (status = 200, description = "The latest entries, newest first", body = [AuditEntry]),
        (status = 401, description = "Not signed in", body = ApiError),
        (status = 403, description = "Members may not read the audit log", body = ApiError),
        (status = 404, description = "No such organization of mine", body = ApiError),
    )
)]
#[get("/organizations/{organization_id}/audit-log")]
pub async fn organization_audit_log(
    user: CurrentUser,
    path: web::Path<String>,
    database: web::Data<Database>,
) -> Result<HttpResponse, AppError> {
    let organization_id = path.into_inner();
    let entries = database
        .run_app(move |connection| {
            authorize(
                connection,
                &user.user_id,
                &organization_id,
                Action::ViewAuditLog,
            )?;
            Ok(audit::list(
                connection,
                audit::Scope::Organization(&organization_id),
                AUDIT_LOG_ENTRIES,
            )?)
        })
        .await?;
    Ok(HttpResponse::Ok().json(entries))
}
