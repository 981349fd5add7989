//! The invited person's side of an invitation: seeing what waits for them, accepting (they
//! join with the invited role) or declining, each in the organization's audit log. Only a
//! verified account sees the invitations of its own address, so nobody joins an organization
//! without having agreed to it.

use stratus_shared::api::members::PendingInvitation;

use crate::db::AnyConnection;
use crate::domain::accounts::{self, User};
use crate::domain::{audit, memberships};
use crate::error::AppError;

/// The 404 message of an invitation that is not (or no longer) waiting for this person.
const NO_SUCH_INVITATION: &str = "There is no such invitation for your address.";

/// The signed-in account, which must have proved its address.
fn verified_account(conn: &mut AnyConnection, user_id: &str) -> Result<User, AppError> {
    let user = accounts::find_by_id(conn, user_id)?.ok_or(AppError::Unauthorized)?;
    if !user.is_verified() {
        return Err(AppError::Forbidden(
            "Verify your email address first: invitations are for the address's owner.".into(),
        ));
    }
    Ok(user)
}

/// The invitations waiting for the answer of `user_id` (none until the address is verified).
pub fn waiting_for(
    conn: &mut AnyConnection,
    user_id: &str,
) -> Result<Vec<PendingInvitation>, AppError> {
    let user = accounts::find_by_id(conn, user_id)?.ok_or(AppError::Unauthorized)?;
    if !user.is_verified() {
        return Ok(Vec::new());
    }
    Ok(memberships::invitations_for(conn, &user.email)?)
}

/// Accepts the invitation: `user_id` joins its organization. Returns the organization's id.
pub fn accept(
    conn: &mut AnyConnection,
    user_id: &str,
    invitation_id: &str,
) -> Result<String, AppError> {
    let user = verified_account(conn, user_id)?;
    let now = crate::db::now().naive_utc();
    let organization_id =
        memberships::accept_invitation(conn, invitation_id, &user.id, &user.email, now)?
            .ok_or_else(|| AppError::NotFound(NO_SUCH_INVITATION.into()))?;
    audit::record_as(
        conn,
        &user.id,
        false,
        Some(&organization_id),
        "member.joined",
        format!("{} accepted the invitation", user.email),
    )?;
    Ok(organization_id)
}

/// Declines the invitation; the organization's Owners and Admins see it in the audit log.
pub fn decline(
    conn: &mut AnyConnection,
    user_id: &str,
    invitation_id: &str,
) -> Result<(), AppError> {
    let user = verified_account(conn, user_id)?;
    let organization_id = memberships::decline_invitation(conn, invitation_id, &user.email)?
        .ok_or_else(|| AppError::NotFound(NO_SUCH_INVITATION.into()))?;
    audit::record_as(
        conn,
        &user.id,
        false,
        Some(&organization_id),
        "member.invitation_declined",
        format!("{} declined the invitation", user.email),
    )?;
    Ok(())
}
