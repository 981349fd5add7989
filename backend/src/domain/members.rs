//! An organization's people as its Owners and Admins manage them: inviting by email (the
//! person joins once they accept), changing roles, removing people and withdrawing
//! invitations, each in the audit log. Only Owners give or take the Owner role;
//! the last-Owner rule is [`memberships`]'s.

use diesel::prelude::*;
use stratus_shared::api::members::{Invitation, Member};
use stratus_shared::api::organizations::Role;
use stratus_shared::api::staff::LinkSource;
use stratus_shared::email::EmailAddress;

use crate::auth::throttle::{self, Limit};
use crate::db::schema::{invitations, organizations, users};
use crate::db::AnyConnection;
use crate::domain::memberships::{self, LinkOutcome};
use crate::domain::{audit, mail_allowance};
use crate::error::AppError;
use crate::mail::{templates, Mail};

/// The 404 message of a member id that is not one of the organization's members.
const NO_SUCH_MEMBER: &str = "There is no such member.";

/// Only Owners give the Owner role or take it away: an Admin cannot make themselves Owner, nor
/// remove or demote one.
pub fn ensure_may_touch_owner(caller: Role, involves_owner: bool) -> Result<(), AppError> {
    if involves_owner && caller != Role::Owner {
        return Err(AppError::Forbidden(
            "Only Owners may make someone Owner or change an Owner's role.".into(),
        ));
    }
    Ok(())
}

/// Writes an audit entry of a member change made by `user_id` (as a member, not as staff).
fn record(
    conn: &mut AnyConnection,
    user_id: &str,
    organization_id: &str,
    action: &str,
    detail: String,
) -> QueryResult<()> {
    audit::record_as(conn, user_id, false, Some(organization_id), action, detail)?;
    Ok(())
}

/// Invitations one organization may send per day: enough for onboarding a whole team, too
/// few to turn Stratus into a mailer (invite/withdraw loops count every time).
pub fn invitation_limit(per_day: u32) -> Limit {
    Limit {
        bucket: "invitations_per_organization",
        max: per_day,
        window: chrono::Duration::days(1),
    }
}

/// Invites `email` with `role` as `user_id`, whose role there is `caller`, and returns the
/// invitation with the mail to send about it (none when the address has had its share of
/// mails this hour). Every address gets the same answer, whether it has an account or not:
/// the person joins only once they accept, signed in with that address. 409 when they are a
/// member or invited already; 429 once the organization has sent `limit` invitations a day.
#[allow(clippy::too_many_arguments)]
pub fn add(
    conn: &mut AnyConnection,
    user_id: &str,
    caller: Role,
    organization_id: &str,
    email: &EmailAddress,
    role: Role,
    limit: Limit,
    public_url: &str,
) -> Result<(Invitation, Option<Mail>), AppError> {
    ensure_may_touch_owner(caller, role == Role::Owner)?;
    let now = crate::db::now().naive_utc();
    throttle::take(conn, limit, organization_id, now)?.map_err(|wait| {
        AppError::TooManyRequests {
            retry_after_seconds: wait.num_seconds(),
        }
    })?;
    let organization_name: String = organizations::table
        .find(organization_id)
        .select(organizations::name)
        .first(conn)?;
    let outcome = memberships::link_email(
        conn,
        organization_id,
        email,
        role,
        LinkSource::Invitation,
        user_id,
        now,
    )?;
    let invitation_id = match outcome {
        LinkOutcome::AlreadyMember => {
            return Err(AppError::Conflict(
                "This person is already a member.".into(),
            ))
        }
        LinkOutcome::AlreadyPending => {
            return Err(AppError::Conflict(
                "This address is already invited.".into(),
            ))
        }
        // Invitations always wait for consent; a member cannot come out of one.
        LinkOutcome::Member { .. } => {
            return Err(AppError::Internal(anyhow::anyhow!(
                "an invitation made a member without consent"
            )))
        }
        LinkOutcome::Pending { invitation_id } => invitation_id,
    };
    record(
        conn,
        user_id,
        organization_id,
        "member.invited",
        format!("Invited {email} as {}", role.label()),
    )?;
    let mail = mail_allowance::take(conn, email.as_str(), now)?.then(|| {
        templates::invited_to_organization(email.as_str(), &organization_name, role, public_url)
    });
    let invitation = Invitation {
        id: invitation_id,
        email: email.to_string(),
        role,
        created_at: now.and_utc(),
    };
    Ok((invitation, mail))
}

/// Gives `member_id` the role `role` as `user_id`, whose role there is `caller`; the last
/// Owner keeps the role.
pub fn change_role(
    conn: &mut AnyConnection,
    user_id: &str,
    caller: Role,
    organization_id: &str,
    member_id: &str,
    role: Role,
) -> Result<Member, AppError> {
    let current = memberships::role_of(conn, organization_id, member_id)?;
    ensure_may_touch_owner(caller, role == Role::Owner || current == Some(Role::Owner))?;
    memberships::change_role(conn, organization_id, member_id, role)?;
    let member = memberships::member(conn, organization_id, member_id)?
        .ok_or_else(|| AppError::NotFound(NO_SUCH_MEMBER.into()))?;
    record(
        conn,
        user_id,
        organization_id,
        "member.role_changed",
        format!("Made {} {}", member.email, role.label()),
    )?;
    Ok(member)
}

/// Takes `member_id` out of the organization as `user_id` (whose role there is `caller`):
/// anyone may leave; removing an Owner takes an Owner. The last Owner stays.
pub fn remove(
    conn: &mut AnyConnection,
    user_id: &str,
    caller: Role,
    organization_id: &str,
    member_id: &str,
) -> Result<(), AppError> {
    let leaving = member_id == user_id;
    if !leaving {
        let current = memberships::role_of(conn, organization_id, member_id)?;
        ensure_may_touch_owner(caller, current == Some(Role::Owner))?;
    }
    let email: String = users::table
        .find(member_id)
        .select(users::email)
        .first(conn)
        .optional()?
        .ok_or_else(|| AppError::NotFound(NO_SUCH_MEMBER.into()))?;
    memberships::remove_member(conn, organization_id, member_id)?;
    record(
        conn,
        user_id,
        organization_id,
        "member.removed",
        if leaving {
            format!("{email} left the organization")
        } else {
            format!("Removed {email}")
        },
    )?;
    Ok(())
}

/// Withdraws a pending invitation of the organization as `user_id`.
pub fn withdraw_invitation(
    conn: &mut AnyConnection,
    user_id: &str,
    organization_id: &str,
    invitation_id: &str,
) -> Result<(), AppError> {
    let email: String = invitations::table
        .find(invitation_id)
        .filter(invitations::organization_id.eq(organization_id))
        .select(invitations::email)
        .first(conn)
        .optional()?
        .ok_or_else(|| AppError::NotFound("There is no such invitation.".into()))?;
    diesel::delete(invitations::table.find(invitation_id)).execute(conn)?;
    record(
        conn,
        user_id,
        organization_id,
        "member.invitation_withdrawn",
        format!("Withdrew the invitation of {email}"),
    )?;
    Ok(())
}
