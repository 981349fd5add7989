//! `/api/organizations/{id}/members`: an organization's people. Owners and Admins invite
//! people by email (they join once they accept, signed in with that address), change roles
//! and remove people; everyone in the organization sees the list. An organization always
//! keeps an Owner.

use actix_web::{delete, get, patch, post, web, HttpResponse};
use stratus_shared::api::members::{
    AddMember, ChangeRole, Invitation, Member, Members, MembersQuery,
};
use stratus_shared::email::EmailAddress;
use stratus_shared::ApiError;

use crate::auth::access::authorize;
use crate::auth::permissions::Action;
use crate::auth::CurrentUser;
use crate::db::Database;
use crate::domain::quotas::{Counted, Quotas};
use crate::domain::{members, memberships, remote_access};
use crate::error::AppError;
use crate::json_body::JsonObject;
use crate::live::{LiveHub, RemoteCut};
use crate::state::AppState;

/// A page of the organization's members, by email, and (on the first page) its pending
/// invitations.
#[utoipa::path(
    tag = "organizations",
    security(("access_token" = [])),
    params(
        ("organization_id" = String, Path, description = "The organization's id"),
        MembersQuery,
    ),
    responses(
        (status = 200, description = "Members and invitations", body = Members),
        (status = 400, description = "limit out of range, or after names no member", body = ApiError),
        (status = 401, description = "Not signed in", body = ApiError),
        (status = 404, description = "No such organization of mine", body = ApiError),
    )
)]
#[get("/organizations/{organization_id}/members")]
pub async fn list_members(
    user: CurrentUser,
    path: web::Path<String>,
    query: web::Query<MembersQuery>,
    database: web::Data<Database>,
) -> Result<HttpResponse, AppError> {
    let organization_id = path.into_inner();
    let query = query.into_inner();
    let members = database
        .run_app(move |conn| {
            authorize(conn, &user.user_id, &organization_id, Action::ViewMembers)?;
            memberships::people(conn, &organization_id, &query)
        })
        .await?;
    Ok(HttpResponse::Ok().json(members))
}

/// Invite a person by email. Every address gets the same answer and an invitation by mail
/// (whether or not it has an account): the person joins once they accept it, signed in with
/// that address (`POST /api/me/invitations/{id}/accept`).
#[utoipa::path(
    tag = "organizations",
    security(("access_token" = [])),
    params(("organization_id" = String, Path, description = "The organization's id")),
    request_body = AddMember,
    responses(
        (status = 201, description = "Invited", body = Invitation),
        (status = 401, description = "Not signed in", body = ApiError),
        (status = 403, description = "Members may not add people", body = ApiError),
        (status = 404, description = "No such organization of mine", body = ApiError),
        (status = 409, description = "Already a member or already invited; limit_reached: the organization's pending invitations are at their quota", body = ApiError),
        (status = 422, description = "email_invalid", body = ApiError),
        (status = 429, description = "too_many_requests: the organization's invitations for today are used up", body = ApiError),
    )
)]
#[post("/organizations/{organization_id}/members")]
pub async fn add_member(
    user: CurrentUser,
    path: web::Path<String>,
    body: JsonObject<AddMember>,
    state: web::Data<AppState>,
    database: web::Data<Database>,
) -> Result<HttpResponse, AppError> {
    let organization_id = path.into_inner();
    let email = EmailAddress::parse(&body.email)?;
    let role = body.role;
    let public_url = state.settings.public_url();
    let limit = members::invitation_limit(state.settings.invitations_per_organization_per_day);
    let quotas = Quotas::from_settings(&state.settings);
    let (invitation, mail) = database
        .run_write(move |conn| {
            let caller = authorize(conn, &user.user_id, &organization_id, Action::ManageMembers)?;
            quotas.ensure_room(conn, Counted::InvitationsOf(&organization_id))?;
            members::add(
                conn,
                &user.user_id,
                caller,
                &organization_id,
                &email,
                role,
                limit,
                &public_url,
            )
        })
        .await?;
    if let Some(mail) = mail {
        state.mailer.send_in_background(mail);
    }
    Ok(HttpResponse::Created().json(invitation))
}

/// Change a member's role. The last Owner cannot be demoted.
#[utoipa::path(
    tag = "organizations",
    security(("access_token" = [])),
    params(
        ("organization_id" = String, Path, description = "The organization's id"),
        ("user_id" = String, Path, description = "The member's user id"),
    ),
    request_body = ChangeRole,
    responses(
        (status = 200, description = "The member with the new role", body = Member),
        (status = 401, description = "Not signed in", body = ApiError),
        (status = 403, description = "Members may not change roles", body = ApiError),
        (status = 404, description = "No such organization or member", body = ApiError),
        (status = 409, description = "last_owner: the organization would have no Owner", body = ApiError),
    )
)]
#[patch("/organizations/{organization_id}/members/{user_id}")]
pub async fn change_role(
    user: CurrentUser,
    path: web::Path<(String, String)>,
    body: JsonObject<ChangeRole>,
    database: web::Data<Database>,
) -> Result<HttpResponse, AppError> {
    let (organization_id, member_id) = path.into_inner();
    let role = body.role;
    let member = database
        .run_write(move |conn| {
            let caller = authorize(conn, &user.user_id, &organization_id, Action::ManageMembers)?;
            members::change_role(
                conn,
                &user.user_id,
                caller,
                &organization_id,
                &member_id,
                role,
            )
        })
        .await?;
    Ok(HttpResponse::Ok().json(member))
}

/// Remove a member (anyone may leave; Owners and Admins may remove others). The last Owner
/// cannot be removed.
#[utoipa::path(
    tag = "organizations",
    security(("access_token" = [])),
    params(
        ("organization_id" = String, Path, description = "The organization's id"),
        ("user_id" = String, Path, description = "The member's user id"),
    ),
    responses(
        (status = 204, description = "Removed"),
        (status = 401, description = "Not signed in", body = ApiError),
        (status = 403, description = "Members may only remove themselves", body = ApiError),
        (status = 404, description = "No such organization or member", body = ApiError),
        (status = 409, description = "last_owner: the organization would have no Owner", body = ApiError),
    )
)]
#[delete("/organizations/{organization_id}/members/{user_id}")]
pub async fn remove_member(
    user: CurrentUser,
    path: web::Path<(String, String)>,
    database: web::Data<Database>,
    hub: web::Data<LiveHub>,
) -> Result<HttpResponse, AppError> {
    let (organization_id, member_id) = path.into_inner();
    let removed = member_id.clone();
    let left = organization_id.clone();
    database
        .run_write(move |conn| {
            // Anyone may leave; removing someone else takes managing members.
            let action = if member_id == user.user_id {
                Action::ViewMembers
            } else {
                Action::ManageMembers
            };
            let caller = authorize(conn, &user.user_id, &organization_id, action)?;
            members::remove(conn, &user.user_id, caller, &organization_id, &member_id)?;
            remote_access::end_sessions_of_person(conn, &member_id, &organization_id)?;
            Ok(())
        })
        .await?;
    hub.membership_changed(&removed);
    hub.cut_remote_access(RemoteCut {
        system_ids: Vec::new(),
        people: vec![(removed, left)],
    });
    Ok(HttpResponse::NoContent().finish())
}

/// Withdraw a pending invitation.
#[utoipa::path(
    tag = "organizations",
    security(("access_token" = [])),
    params(
        ("organization_id" = String, Path, description = "The organization's id"),
        ("invitation_id" = String, Path, description = "The invitation's id"),
    ),
    responses(
        (status = 204, description = "Withdrawn"),
        (status = 401, description = "Not signed in", body = ApiError),
        (status = 403, description = "Members may not withdraw invitations", body = ApiError),
        (status = 404, description = "No such organization or invitation", body = ApiError),
    )
)]
#[delete("/organizations/{organization_id}/invitations/{invitation_id}")]
pub async fn withdraw_invitation(
    user: CurrentUser,
    path: web::Path<(String, String)>,
    database: web::Data<Database>,
) -> Result<HttpResponse, AppError> {
    let (organization_id, invitation_id) = path.into_inner();
    database
        .run_write(move |conn| {
            authorize(conn, &user.user_id, &organization_id, Action::ManageMembers)?;
            members::withdraw_invitation(conn, &user.user_id, &organization_id, &invitation_id)
        })
        .await?;
    Ok(HttpResponse::NoContent().finish())
}
