//! Sharing: dashboards of an organization's DMSs shared with other people. Every member sees
//! them; Owners and Admins share and stop sharing, each in the audit log. A dashboard or DMS
//! of an organization the caller does not belong to answers 404.

use actix_web::{delete, get, post, web, HttpResponse};
use chrono::NaiveDateTime;
use diesel::prelude::*;
use stratus_shared::api::sharing::{OrganizationSharedDashboards, ShareDashboard, SharedDashboard};
use stratus_shared::ApiError;

use crate::auth::access::{authorize_or_staff, authorize_or_staff_for, my_organizations_allowing};
use crate::auth::permissions::{allows, Action};
use crate::auth::CurrentUser;
use crate::db::schema::{shared_dashboards, systems, users};
use crate::db::{AnyConnection, Database};
use crate::domain::audit;
use crate::domain::organizations::group_by_organization as by_organization;
use crate::domain::text::parse_text;
use crate::domain::text::NAME_MAX;
use crate::error::AppError;

/// Longest "shared with" text (a list of addresses fits).
const SHARED_WITH_MAX: usize = 500;

type DashboardRow = (
    String,
    String,
    String,
    String,
    String,
    String,
    Option<String>,
    NaiveDateTime,
);

/// The shared dashboards of the organizations, by name.
fn dashboards_of(
    connection: &mut AnyConnection,
    organization_ids: &[String],
) -> QueryResult<Vec<SharedDashboard>> {
    let rows: Vec<DashboardRow> = shared_dashboards::table
        .inner_join(systems::table)
        .left_join(users::table)
        .filter(shared_dashboards::organization_id.eq_any(organization_ids))
        .order((shared_dashboards::name.asc(), shared_dashboards::id.asc()))
        .select((
            shared_dashboards::id,
            shared_dashboards::organization_id,
            shared_dashboards::system_id,
            systems::name,
            shared_dashboards::name,
            shared_dashboards::shared_with,
            users::email.nullable(),
            shared_dashboards::created_at,
        ))
        .load(connection)?;
    Ok(rows
        .into_iter()
        .map(
            |(id, organization_id, system_id, system_name, name, shared_with, created_by, at)| {
                SharedDashboard {
                    id,
                    organization_id,
                    system_id,
                    system_name,
                    name,
                    shared_with,
                    created_by,
                    created_at: at.and_utc(),
                }
            },
        )
        .collect())
}

/// The shared dashboards of all my organizations, grouped by organization (by name).
#[utoipa::path(
    tag = "sharing",
    security(("access_token" = [])),
    responses(
        (status = 200, description = "My organizations' shared dashboards; empty for a guest", body = [OrganizationSharedDashboards]),
        (status = 401, description = "Not signed in", body = ApiError),
    )
)]
#[get("/shared-dashboards")]
pub async fn list_my_shared_dashboards(
    user: CurrentUser,
    database: web::Data<Database>,
) -> Result<HttpResponse, AppError> {
    let grouped = database
        .run_app(move |connection| {
            let visible =
                my_organizations_allowing(connection, &user.user_id, Action::ViewSharedDashboards)?;
            let ids: Vec<String> = visible.iter().map(|(id, _, _)| id.clone()).collect();
            let mut of_organization =
                by_organization(dashboards_of(connection, &ids)?, |dashboard| {
                    &dashboard.organization_id
                });
            Ok(visible
                .into_iter()
                .map(|(id, name, role)| OrganizationSharedDashboards {
                    dashboards: of_organization.remove(&id).unwrap_or_default(),
                    can_manage: allows(role, Action::ManageSharedDashboards),
                    organization_id: id,
                    organization_name: name,
                    role,
                })
                .collect::<Vec<_>>())
        })
        .await?;
    Ok(HttpResponse::Ok().json(grouped))
}

/// An organization's shared dashboards.
#[utoipa::path(
    tag = "sharing",
    security(("access_token" = [])),
    params(("organization_id" = String, Path, description = "The organization's id")),
    responses(
        (status = 200, description = "The shared dashboards, by name", body = [SharedDashboard]),
        (status = 401, description = "Not signed in", body = ApiError),
        (status = 404, description = "Not one of my organizations", body = ApiError),
    )
)]
#[get("/organizations/{organization_id}/shared-dashboards")]
pub async fn list_shared_dashboards(
    user: CurrentUser,
    path: web::Path<String>,
    database: web::Data<Database>,
) -> Result<HttpResponse, AppError> {
    let organization_id = path.into_inner();
    let dashboards = database
        .run_app(move |connection| {
            authorize_or_staff(
                connection,
                &user.user_id,
                &organization_id,
                Action::ViewSharedDashboards,
            )?;
            Ok(dashboards_of(connection, &[organization_id])?)
        })
        .await?;
    Ok(HttpResponse::Ok().json(dashboards))
}

/// Shares a dashboard of one of the organization's DMSs (Owners and Admins).
#[utoipa::path(
    tag = "sharing",
    security(("access_token" = [])),
    params(("organization_id" = String, Path, description = "The organization's id")),
    request_body = ShareDashboard,
    responses(
        (status = 201, description = "Shared", body = SharedDashboard),
        (status = 400, description = "Name or recipients empty or too long", body = ApiError),
        (status = 401, description = "Not signed in", body = ApiError),
        (status = 403, description = "Members may not share dashboards", body = ApiError),
        (status = 404, description = "Not one of my organizations, or the DMS is not one of its DMSs", body = ApiError),
    )
)]
#[post("/organizations/{organization_id}/shared-dashboards")]
pub async fn share_dashboard(
    user: CurrentUser,
    path: web::Path<String>,
    body: web::Json<ShareDashboard>,
    database: web::Data<Database>,
) -> Result<HttpResponse, AppError> {
    let organization_id = path.into_inner();
    let ShareDashboard {
        name,
        system_id,
        shared_with,
    } = body.into_inner();
    let name = parse_text(&name, "dashboard name", NAME_MAX)?;
    let shared_with = parse_text(&shared_with, "\"shared with\" text", SHARED_WITH_MAX)?;
    let dashboard = database
        .run_write(move |connection| {
                let access = authorize_or_staff(
                    connection,
                    &user.user_id,
                    &organization_id,
                    Action::ManageSharedDashboards,
                )?;
                // Only a DMS of this organization: another's answers as if it did not exist.
                let system_name: String = systems::table
                    .filter(systems::id.eq(&system_id))
                    .filter(systems::organization_id.eq(&organization_id))
                    .select(systems::name)
                    .first(connection)
                    .optional()?
                    .ok_or_else(|| {
                        AppError::NotFound("There is no such DMS in this organization.".into())
                    })?;
                let now = crate::db::now().naive_utc();
                let id = uuid::Uuid::new_v4().to_string();
                diesel::insert_into(shared_dashboards::table)
                    .values((
                        shared_dashboards::id.eq(&id),
                        shared_dashboards::organization_id.eq(&organization_id),
                        shared_dashboards::system_id.eq(&system_id),
                        shared_dashboards::name.eq(&name),
                        shared_dashboards::shared_with.eq(&shared_with),
                        shared_dashboards::created_by.eq(&user.user_id),
                        shared_dashboards::created_at.eq(now),
                    ))
                    .execute(connection)?;
                let actor = audit::record_as(
                    connection,
                    &user.user_id,
                    access.by_staff,
                    Some(&organization_id),
                    "dashboard.shared",
                    format!(
                        "Shared the dashboard \"{name}\" of the DMS \"{system_name}\" with {shared_with}."
                    ),
                )?;
                Ok(SharedDashboard {
                    id,
                    organization_id,
                    system_id,
                    system_name,
                    name,
                    shared_with,
                    created_by: Some(actor.email),
                    created_at: now.and_utc(),
                })
        })
        .await?;
    Ok(HttpResponse::Created().json(dashboard))
}

/// Stops sharing a dashboard (Owners and Admins).
#[utoipa::path(
    tag = "sharing",
    security(("access_token" = [])),
    params(("shared_dashboard_id" = String, Path, description = "The shared dashboard's id")),
    responses(
        (status = 204, description = "No longer shared"),
        (status = 401, description = "Not signed in", body = ApiError),
        (status = 403, description = "Members may not stop sharing", body = ApiError),
        (status = 404, description = "No such shared dashboard in my organizations", body = ApiError),
    )
)]
#[delete("/shared-dashboards/{shared_dashboard_id}")]
pub async fn unshare_dashboard(
    user: CurrentUser,
    path: web::Path<String>,
    database: web::Data<Database>,
) -> Result<HttpResponse, AppError> {
    let dashboard_id = path.into_inner();
    database
        .run_write(move |connection| {
            let no_such_dashboard =
                || AppError::NotFound("There is no such shared dashboard.".into());
            let (organization_id, name, shared_with): (String, String, String) =
                shared_dashboards::table
                    .find(&dashboard_id)
                    .select((
                        shared_dashboards::organization_id,
                        shared_dashboards::name,
                        shared_dashboards::shared_with,
                    ))
                    .first(connection)
                    .optional()?
                    .ok_or_else(no_such_dashboard)?;
            let access = authorize_or_staff_for(
                connection,
                &user.user_id,
                &organization_id,
                Action::ManageSharedDashboards,
                no_such_dashboard,
            )?;
            diesel::delete(shared_dashboards::table.find(&dashboard_id)).execute(connection)?;
            audit::record_as(
                connection,
                &user.user_id,
                access.by_staff,
                Some(&organization_id),
                "dashboard.unshared",
                format!("Stopped sharing the dashboard \"{name}\" with {shared_with}."),
            )?;
            Ok(())
        })
        .await?;
    Ok(HttpResponse::NoContent().finish())
}
