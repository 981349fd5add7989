//! `/api/organizations`: the organizations I belong to, and creating one (I become its
//! Owner). An organization's settings, audit log and deletion are in
//! `organization_settings.rs`; its DMSs in `systems.rs`.

use actix_web::{get, post, web, HttpResponse};
use stratus_shared::api::organizations::{CreateOrganization, Organization};
use stratus_shared::ApiError;

use crate::auth::CurrentUser;
use crate::db::Database;
use crate::domain::organizations;
use crate::domain::quotas::{Counted, Quotas};
use crate::domain::text::{parse_text, NAME_MAX};
use crate::error::AppError;
use crate::json_body::JsonObject;
use crate::live::LiveHub;
use crate::state::AppState;

/// The organizations I belong to, with my role in each.
#[utoipa::path(
    tag = "organizations",
    security(("access_token" = [])),
    responses(
        (status = 200, description = "My organizations", body = [Organization]),
        (status = 401, description = "Not signed in", body = ApiError),
    )
)]
#[get("/organizations")]
pub async fn list_organizations(
    user: CurrentUser,
    database: web::Data<Database>,
) -> Result<HttpResponse, AppError> {
    let organizations = database
        .run_app(move |connection| Ok(organizations::of_member(connection, &user.user_id, None)?))
        .await?;
    Ok(HttpResponse::Ok().json(organizations))
}

/// Creates an organization; I become its Owner.
#[utoipa::path(
    tag = "organizations",
    security(("access_token" = [])),
    request_body = CreateOrganization,
    responses(
        (status = 201, description = "Created; I am its Owner", body = Organization),
        (status = 400, description = "Invalid name", body = ApiError),
        (status = 401, description = "Not signed in", body = ApiError),
        (status = 409, description = "I belong to as many organizations as the portal allows", body = ApiError),
    )
)]
#[post("/organizations")]
pub async fn create_organization(
    user: CurrentUser,
    body: JsonObject<CreateOrganization>,
    database: web::Data<Database>,
    hub: web::Data<LiveHub>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, AppError> {
    let name = parse_text(&body.name, "organization name", NAME_MAX)?;
    let quotas = Quotas::from_settings(&state.settings);
    let user_id = user.user_id.clone();
    let organization = database
        .run_write(move |connection| {
            quotas.ensure_room(connection, Counted::OrganizationsOf(&user.user_id))?;
            organizations::create_owned_by(connection, &user.user_id, &name)
        })
        .await?;
    hub.membership_changed(&user_id);
    Ok(HttpResponse::Created().json(organization))
}
