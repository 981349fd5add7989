//! `/api/me/invitations`: the organizations that invited the signed-in person, waiting for
//! their answer. Accepting makes them a member with the invited role; declining drops the
//! invitation. Either way the organization's audit log says so.

use actix_web::{delete, get, post, web, HttpResponse};
use stratus_shared::api::members::PendingInvitation;
use stratus_shared::ApiError;

use crate::auth::CurrentUser;
use crate::db::Database;
use crate::domain::invitations;
use crate::domain::quotas::{Counted, Quotas};
use crate::error::AppError;
use crate::live::LiveHub;
use crate::state::AppState;

/// The invitations waiting for my answer (for my verified address), newest first.
#[utoipa::path(
    tag = "account",
    security(("access_token" = [])),
    responses(
        (status = 200, description = "Invitations waiting for an answer", body = Vec<PendingInvitation>),
        (status = 401, description = "Not signed in", body = ApiError),
    )
)]
#[get("/me/invitations")]
pub async fn list_my_invitations(
    user: CurrentUser,
    database: web::Data<Database>,
) -> Result<HttpResponse, AppError> {
    let waiting = database
        .run_app(move |conn| invitations::waiting_for(conn, &user.user_id))
        .await?;
    Ok(HttpResponse::Ok().json(waiting))
}

/// Accept an invitation: I become a member of its organization with the invited role.
#[utoipa::path(
    tag = "account",
    security(("access_token" = [])),
    params(("invitation_id" = String, Path, description = "The invitation's id")),
    responses(
        (status = 204, description = "Accepted: I am a member now"),
        (status = 401, description = "Not signed in", body = ApiError),
        (status = 403, description = "My address is not verified", body = ApiError),
        (status = 404, description = "No such invitation for my address", body = ApiError),
        (status = 409, description = "I belong to as many organizations as the portal allows", body = ApiError),
    )
)]
#[post("/me/invitations/{invitation_id}/accept")]
pub async fn accept_invitation(
    user: CurrentUser,
    path: web::Path<String>,
    database: web::Data<Database>,
    hub: web::Data<LiveHub>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, AppError> {
    let invitation_id = path.into_inner();
    let joining = user.user_id.clone();
    let quotas = Quotas::from_settings(&state.settings);
    database
        .run_write(move |conn| {
            quotas.ensure_room(conn, Counted::OrganizationsOf(&user.user_id))?;
            invitations::accept(conn, &user.user_id, &invitation_id)
        })
        .await?;
    hub.membership_changed(&joining);
    Ok(HttpResponse::NoContent().finish())
}

/// Decline an invitation.
#[utoipa::path(
    tag = "account",
    security(("access_token" = [])),
    params(("invitation_id" = String, Path, description = "The invitation's id")),
    responses(
        (status = 204, description = "Declined"),
        (status = 401, description = "Not signed in", body = ApiError),
        (status = 403, description = "My address is not verified", body = ApiError),
        (status = 404, description = "No such invitation for my address", body = ApiError),
    )
)]
#[delete("/me/invitations/{invitation_id}")]
pub async fn decline_invitation(
    user: CurrentUser,
    path: web::Path<String>,
    database: web::Data<Database>,
) -> Result<HttpResponse, AppError> {
    let invitation_id = path.into_inner();
    database
        .run_write(move |conn| invitations::decline(conn, &user.user_id, &invitation_id))
        .await?;
    Ok(HttpResponse::NoContent().finish())
}
