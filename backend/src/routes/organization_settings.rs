//! One organization as a whole: its settings (name, remote access), its audit log, and
//! deleting it. Owners and Admins change settings and read the log; only Owners delete.

use actix_web::{delete, get, patch, web, HttpResponse};
use stratus_shared::api::audit::{AuditPage, AuditPageQuery};
use stratus_shared::api::organizations::{DeleteOrganization, Organization, UpdateOrganization};
use stratus_shared::ApiError;

use crate::auth::access::authorize;
use crate::auth::permissions::Action;
use crate::auth::CurrentUser;
use crate::db::Database;
use crate::domain::audit;
use crate::domain::organizations::{self, SettingsChange};
use crate::domain::remote_access;
use crate::domain::text::{parse_text, NAME_MAX};
use crate::error::AppError;
use crate::json_body::JsonObject;
use crate::live::{LiveHub, RemoteCut};

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
            organizations::as_seen_by(connection, &user.user_id, &organization_id)
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
    body: JsonObject<UpdateOrganization>,
    database: web::Data<Database>,
    hub: web::Data<LiveHub>,
) -> Result<HttpResponse, AppError> {
    let organization_id = path.into_inner();
    let change = SettingsChange {
        name: body
            .name
            .as_deref()
            .map(|name| parse_text(name, "organization name", NAME_MAX))
            .transpose()?,
        remote_access_enabled: body.remote_access_enabled,
    };
    let switched_off = body.remote_access_enabled == Some(false);
    let (organization, members, cut_systems) = database
        .run_write(move |connection| {
            authorize(
                connection,
                &user.user_id,
                &organization_id,
                Action::EditOrganizationSettings,
            )?;
            let (organization, members) = organizations::update_settings(
                connection,
                &user.user_id,
                &organization_id,
                change,
            )?;
            // Open sessions are cut; later requests of theirs get the "remote access is off"
            // page (every request re-checks both switches).
            let cut_systems = if switched_off {
                remote_access::systems_of(connection, &organization_id)?
            } else {
                Vec::new()
            };
            Ok((organization, members, cut_systems))
        })
        .await?;
    hub.cut_remote_access(RemoteCut {
        system_ids: cut_systems,
        people: Vec::new(),
    });
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
    body: JsonObject<DeleteOrganization>,
    database: web::Data<Database>,
    hub: web::Data<LiveHub>,
) -> Result<HttpResponse, AppError> {
    let organization_id = path.into_inner();
    let confirm_name = body.into_inner().confirm_name;
    let deleted = database
        .run_write(move |connection| {
            authorize(
                connection,
                &user.user_id,
                &organization_id,
                Action::DeleteOrganization,
            )?;
            organizations::delete(connection, &user.user_id, &organization_id, &confirm_name)
        })
        .await?;
    hub.cut_remote_access(RemoteCut {
        system_ids: deleted.system_ids.clone(),
        people: Vec::new(),
    });
    for system_id in &deleted.system_ids {
        hub.remove(system_id);
    }
    for member in &deleted.member_ids {
        hub.membership_changed(member);
    }
    Ok(HttpResponse::NoContent().finish())
}

/// The organization's audit log, newest first, a page at a time (Owners and Admins).
#[utoipa::path(
    tag = "organizations",
    security(("access_token" = [])),
    params(
        ("organization_id" = String, Path, description = "The organization's id"),
        AuditPageQuery,
    ),
    responses(
        (status = 200, description = "A page of entries, newest first", body = AuditPage),
        (status = 400, description = "limit out of range, or before names no entry of this log", body = ApiError),
        (status = 401, description = "Not signed in", body = ApiError),
        (status = 403, description = "Members may not read the audit log", body = ApiError),
        (status = 404, description = "No such organization of mine", body = ApiError),
    )
)]
#[get("/organizations/{organization_id}/audit-log")]
pub async fn organization_audit_log(
    user: CurrentUser,
    path: web::Path<String>,
    query: web::Query<AuditPageQuery>,
    database: web::Data<Database>,
) -> Result<HttpResponse, AppError> {
    let organization_id = path.into_inner();
    let query = query.into_inner();
    let page = database
        .run_app(move |connection| {
            authorize(
                connection,
                &user.user_id,
                &organization_id,
                Action::ViewAuditLog,
            )?;
            audit::page(
                connection,
                audit::Scope::Organization(&organization_id),
                &query,
            )
        })
        .await?;
    Ok(HttpResponse::Ok().json(page))
}
