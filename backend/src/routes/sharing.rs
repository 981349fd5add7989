//! Sharing: dashboards of an organization's DMSs shared with other people. Every member sees
//! them; Owners and Admins share and stop sharing, each in the audit log. A dashboard or DMS
//! of an organization the caller does not belong to answers 404.

use actix_web::{delete, get, post, web, HttpResponse};
use stratus_shared::api::sharing::{OrganizationSharedDashboards, ShareDashboard, SharedDashboard};
use stratus_shared::ApiError;

use crate::auth::access::{authorize_or_staff, authorize_or_staff_for, my_organizations_allowing};
use crate::auth::permissions::Action;
use crate::auth::CurrentUser;
use crate::db::Database;
use crate::domain::dashboards::{self, NewShare};
use crate::domain::quotas::{Counted, Quotas};
use crate::error::AppError;
use crate::json_body::JsonObject;
use crate::state::AppState;

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
            let action = Action::ViewSharedDashboards;
            let visible = my_organizations_allowing(connection, &user.user_id, action)?;
            Ok(dashboards::grouped(connection, visible)?)
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
            let action = Action::ViewSharedDashboards;
            authorize_or_staff(connection, &user.user_id, &organization_id, action)?;
            Ok(dashboards::of_organizations(
                connection,
                &[organization_id],
            )?)
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
        (status = 409, description = "The organization shares as many dashboards as the portal allows", body = ApiError),
    )
)]
#[post("/organizations/{organization_id}/shared-dashboards")]
pub async fn share_dashboard(
    user: CurrentUser,
    path: web::Path<String>,
    body: JsonObject<ShareDashboard>,
    database: web::Data<Database>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, AppError> {
    let organization_id = path.into_inner();
    let share = NewShare::parse(body.into_inner())?;
    let quotas = Quotas::from_settings(&state.settings);
    let dashboard = database
        .run_write(move |connection| {
            let action = Action::ManageSharedDashboards;
            let access = authorize_or_staff(connection, &user.user_id, &organization_id, action)?;
            quotas.ensure_room(connection, Counted::DashboardsOf(&organization_id))?;
            dashboards::share(connection, &user.user_id, access, &organization_id, share)
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
            let dashboard =
                dashboards::find(connection, &dashboard_id)?.ok_or_else(no_such_dashboard)?;
            let access = authorize_or_staff_for(
                connection,
                &user.user_id,
                &dashboard.organization_id,
                Action::ManageSharedDashboards,
                no_such_dashboard,
            )?;
            Ok(dashboards::unshare(
                connection,
                &user.user_id,
                access,
                dashboard,
            )?)
        })
        .await?;
    Ok(HttpResponse::NoContent().finish())
}
