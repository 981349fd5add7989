//! `/api/organizations/{id}/members`: an organization's people. Owners and Admins add people by
//! email (a verified account joins at once, any other address is invited and joins once it is
//! verified), change roles and remove people; everyone in the organization sees the list. An
//! organization always keeps an Owner.

use actix_web::{delete, get, patch, post, web, HttpResponse};
use diesel::prelude::*;
use stratus_shared::api::members::{AddMember, Added, ChangeRole, Invitation, Member, Members};
use stratus_shared::api::organizations::Role;
use stratus_shared::api::staff::LinkSource;
use stratus_shared::email::EmailAddress;
use stratus_shared::ApiError;

use crate::auth::access::authorize;
use crate::auth::permissions::Action;
use crate::auth::CurrentUser;
use crate::db::schema::{invitations, organizations, users};
use crate::db::{AnyConnection, Database};
use crate::domain::audit;
use crate::domain::memberships::{self as membership_rules, LinkOutcome};
use crate::error::AppError;
use crate::live::LiveHub;
use crate::mail::Mail;
use crate::state::AppState;

/// Writes an audit entry of a member change made by `user_id` (as a member, not as staff).
fn record(
    conn: &mut AnyConnection,
    user_id: &str,
    organization_id: &str,
    action: &str,
    detail: String,
) -> Result<(), AppError> {
    audit::record_as(conn, user_id, false, Some(organization_id), action, detail)?;
    Ok(())
}

/// The 404 message of a member id that is not one of the organization's members.
const NO_SUCH_MEMBER: &str = "There is no such member.";

/// Only Owners give the Owner role or take it away: an Admin cannot make themselves Owner, nor
/// remove or demote one.
fn ensure_may_touch_owner(caller: Role, involves_owner: bool) -> Result<(), AppError> {
    if involves_owner && caller != Role::Owner {
        return Err(AppError::Forbidden(
            "Only Owners may make someone Owner or change an Owner's role.".into(),
        ));
    }
    Ok(())
}

/// The organization's members and pending invitations.
#[utoipa::path(
    tag = "organizations",
    security(("access_token" = [])),
    params(("organization_id" = String, Path, description = "The organization's id")),
    responses(
        (status = 200, description = "Members and invitations", body = Members),
        (status = 401, description = "Not signed in", body = ApiError),
        (status = 404, description = "No such organization of mine", body = ApiError),
    )
)]
#[get("/organizations/{organization_id}/members")]
pub async fn list_members(
    user: CurrentUser,
    path: web::Path<String>,
    database: web::Data<Database>,
) -> Result<HttpResponse, AppError> {
    let organization_id = path.into_inner();
    let members = database
        .run_app(move |conn| {
            authorize(conn, &user.user_id, &organization_id, Action::ViewMembers)?;
            Ok(membership_rules::people(conn, &organization_id)?)
        })
        .await?;
    Ok(HttpResponse::Ok().json(members))
}

/// Add a person by email: a verified account becomes a member now; any other address is
/// invited by mail and becomes a member once it is verified.
#[utoipa::path(
    tag = "organizations",
    security(("access_token" = [])),
    params(("organization_id" = String, Path, description = "The organization's id")),
    request_body = AddMember,
    responses(
        (status = 201, description = "Added or invited", body = Added),
        (status = 401, description = "Not signed in", body = ApiError),
        (status = 403, description = "Members may not add people", body = ApiError),
        (status = 404, description = "No such organization of mine", body = ApiError),
        (status = 409, description = "Already a member or already invited", body = ApiError),
        (status = 422, description = "email_invalid", body = ApiError),
    )
)]
#[post("/organizations/{organization_id}/members")]
pub async fn add_member(
    user: CurrentUser,
    path: web::Path<String>,
    body: web::Json<AddMember>,
    state: web::Data<AppState>,
    database: web::Data<Database>,
    hub: web::Data<LiveHub>,
) -> Result<HttpResponse, AppError> {
    let organization_id = path.into_inner();
    let email: EmailAddress = EmailAddress::parse(&body.email)?;
    let role = body.role;
    let public_url = state.settings.public_url();
    let (added, mail) = database
        .run_write(move |conn| {
            let caller = authorize(conn, &user.user_id, &organization_id, Action::ManageMembers)?;
            ensure_may_touch_owner(caller, role == Role::Owner)?;
            let now = crate::db::now().naive_utc();
            let organization_name: String = organizations::table
                .find(&organization_id)
                .select(organizations::name)
                .first(conn)?;
            let outcome = membership_rules::link_email(
                conn,
                &organization_id,
                &email,
                role,
                LinkSource::Invitation,
                &user.user_id,
                now,
            )?;
            match outcome {
                LinkOutcome::AlreadyMember => Err(AppError::Conflict(
                    "This person is already a member.".into(),
                )),
                LinkOutcome::AlreadyPending => Err(AppError::Conflict(
                    "This address is already invited.".into(),
                )),
                LinkOutcome::Member {
                    user_id: member_id,
                    email: member_email,
                } => {
                    record(
                        conn,
                        &user.user_id,
                        &organization_id,
                        "member.added",
                        format!("Added {email} as {}", role.label()),
                    )?;
                    let mail = Mail {
                        to: email.to_string(),
                        subject: format!("You now belong to {organization_name} on Stratus"),
                        body: format!(
                            "You were added to {organization_name} on Stratus as {}.\n\n\
                                 Sign in at {public_url}/login to see its DataMiner Systems.",
                            role.label()
                        ),
                    };
                    Ok((
                        Added::Member {
                            member: Member {
                                user_id: member_id,
                                email: member_email,
                                role,
                                since: now.and_utc(),
                            },
                        },
                        mail,
                    ))
                }
                LinkOutcome::Pending { invitation_id } => {
                    record(
                        conn,
                        &user.user_id,
                        &organization_id,
                        "member.invited",
                        format!("Invited {email} as {}", role.label()),
                    )?;
                    let mail = Mail {
                        to: email.to_string(),
                        subject: format!("You are invited to {organization_name} on Stratus"),
                        body: format!(
                            "You are invited to join {organization_name} on Stratus as {}.\n\n\
                                 Create your account with this address at {public_url}/signup (or \
                                 sign in at {public_url}/login if you have one): once the address \
                                 is verified, you belong to {organization_name}.",
                            role.label()
                        ),
                    };
                    Ok((
                        Added::Invited {
                            invitation: Invitation {
                                id: invitation_id,
                                email: email.to_string(),
                                role,
                                created_at: now.and_utc(),
                            },
                        },
                        mail,
                    ))
                }
            }
        })
        .await?;
    if let Added::Member { member } = &added {
        hub.membership_changed(&member.user_id);
    }
    state.mailer.send_in_background(mail);
    Ok(HttpResponse::Created().json(added))
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
    body: web::Json<ChangeRole>,
    database: web::Data<Database>,
) -> Result<HttpResponse, AppError> {
    let (organization_id, member_id) = path.into_inner();
    let role = body.role;
    let member = database
        .run_write(move |conn| {
            let caller = authorize(conn, &user.user_id, &organization_id, Action::ManageMembers)?;
            let current = membership_rules::role_of(conn, &organization_id, &member_id)?;
            ensure_may_touch_owner(caller, role == Role::Owner || current == Some(Role::Owner))?;
            membership_rules::change_role(conn, &organization_id, &member_id, role)?;
            let member = membership_rules::member(conn, &organization_id, &member_id)?
                .ok_or_else(|| AppError::NotFound(NO_SUCH_MEMBER.into()))?;
            record(
                conn,
                &user.user_id,
                &organization_id,
                "member.role_changed",
                format!("Made {} {}", member.email, role.label()),
            )?;
            Ok(member)
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
    database
        .run_write(move |conn| {
            let action = if member_id == user.user_id {
                Action::ViewMembers
            } else {
                Action::ManageMembers
            };
            let caller = authorize(conn, &user.user_id, &organization_id, action)?;
            if member_id != user.user_id {
                let current = membership_rules::role_of(conn, &organization_id, &member_id)?;
                ensure_may_touch_owner(caller, current == Some(Role::Owner))?;
            }
            let email: String = users::table
                .find(&member_id)
                .select(users::email)
                .first(conn)
                .optional()?
                .ok_or_else(|| AppError::NotFound(NO_SUCH_MEMBER.into()))?;
            membership_rules::remove_member(conn, &organization_id, &member_id)?;
            record(
                conn,
                &user.user_id,
                &organization_id,
                "member.removed",
                if member_id == user.user_id {
                    format!("{email} left the organization")
                } else {
                    format!("Removed {email}")
                },
            )?;
            Ok(())
        })
        .await?;
    hub.membership_changed(&removed);
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
        .run_app(move |conn| {
            conn.transaction(|conn| {
                authorize(conn, &user.user_id, &organization_id, Action::ManageMembers)?;
                let email: String = invitations::table
                    .find(&invitation_id)
                    .filter(invitations::organization_id.eq(&organization_id))
                    .select(invitations::email)
                    .first(conn)
                    .optional()?
                    .ok_or_else(|| AppError::NotFound("There is no such invitation.".into()))?;
                diesel::delete(invitations::table.find(&invitation_id)).execute(conn)?;
                record(
                    conn,
                    &user.user_id,
                    &organization_id,
                    "member.invitation_withdrawn",
                    format!("Withdrew the invitation of {email}"),
                )
            })
        })
        .await?;
    Ok(HttpResponse::NoContent().finish())
}
