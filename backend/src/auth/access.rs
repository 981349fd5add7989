//! The one place that answers "may this person do this here": a role in an organization, a
//! DMS-level role on one DMS, or platform staff where staff may act. Outsiders get 404 (as if
//! the thing did not exist, so ids cannot be probed); members whose role does not allow the
//! action get 403. What each role may do is the table in [`super::permissions`].

use diesel::prelude::*;
use stratus_shared::api::organizations::{Role, SystemUser};

use super::permissions::{allows, allows_staff, Action};
use crate::db::schema::{memberships, organizations, systems};
use crate::db::AnyConnection;
use crate::domain::memberships as membership_rules;
use crate::error::AppError;

/// The caller's role in `organization_id`, or 404 when they do not belong to it; 403 when the
/// role does not allow `action`.
pub fn authorize(
    connection: &mut AnyConnection,
    user_id: &str,
    organization_id: &str,
    action: Action,
) -> Result<Role, AppError> {
    let role = membership_rules::role_of(connection, organization_id, user_id)?
        .ok_or_else(|| AppError::NotFound("There is no such organization.".into()))?;
    if !allows(role, action) {
        return Err(AppError::Forbidden(
            "Your role in this organization does not allow this.".into(),
        ));
    }
    Ok(role)
}

/// How the caller may act in an organization: through their role there, or only as platform
/// staff (who then act `by_staff`, which the audit log records).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Access {
    /// True when only being staff allows the action (not the caller's role, if any).
    pub by_staff: bool,
}

/// Like [`authorize`], but platform staff may also do the actions `allows_staff` grants, in
/// any organization that exists. Not a member and not staff (or staff where staff may not
/// act): 404; a member whose role does not allow it and who is not staff: 403.
pub fn authorize_or_staff(
    connection: &mut AnyConnection,
    user_id: &str,
    organization_id: &str,
    action: Action,
) -> Result<Access, AppError> {
    let refused = match authorize(connection, user_id, organization_id, action) {
        Ok(_) => return Ok(Access { by_staff: false }),
        Err(refused @ (AppError::NotFound(_) | AppError::Forbidden(_))) => refused,
        Err(other) => return Err(other),
    };
    if !allows_staff(action) {
        return Err(refused);
    }
    let is_staff = crate::domain::accounts::is_staff(connection, user_id)?;
    let organization_exists: i64 = organizations::table
        .find(organization_id)
        .count()
        .get_result(connection)?;
    if !is_staff || organization_exists == 0 {
        return Err(refused);
    }
    Ok(Access { by_staff: true })
}

/// [`authorize_or_staff`] for something of `organization_id` (a project, a task, a shared
/// dashboard): where the organization would answer 404, `missing` answers instead, so that a
/// foreign one reads exactly like one that does not exist.
pub fn authorize_or_staff_for(
    connection: &mut AnyConnection,
    user_id: &str,
    organization_id: &str,
    action: Action,
    missing: impl FnOnce() -> AppError,
) -> Result<Access, AppError> {
    authorize_or_staff(connection, user_id, organization_id, action).map_err(|error| match error {
        AppError::NotFound(_) => missing(),
        other => other,
    })
}

/// My organizations (by name) where my role allows `action`, each with that role.
pub fn my_organizations_allowing(
    connection: &mut AnyConnection,
    user_id: &str,
    action: Action,
) -> QueryResult<Vec<(String, String, Role)>> {
    let mine: Vec<(String, String, String)> = organizations::table
        .inner_join(memberships::table)
        .filter(memberships::user_id.eq(user_id))
        .order((organizations::name.asc(), organizations::id.asc()))
        .select((organizations::id, organizations::name, memberships::role))
        .load(connection)?;
    Ok(mine
        .into_iter()
        .filter_map(|(id, name, role)| Some((id, name, Role::parse(&role)?)))
        .filter(|(_, _, role)| allows(*role, action))
        .collect())
}

/// What the caller may do with one DMS.
pub struct SystemAccess {
    pub organization_id: String,
    /// The caller's role on the DMS: their DMS-level role when they have one (organization
    /// Owners excepted), otherwise their organization role.
    pub role: Role,
}

/// The caller's access to a DMS when they may do `action` there: 404 when the DMS is not in
/// one of their organizations, 403 when their role on it does not allow `action`. For actions
/// about one DMS the DMS-level role decides (see [`SystemUser::effective`]).
pub fn authorize_system(
    connection: &mut AnyConnection,
    user_id: &str,
    system_id: &str,
    action: Action,
) -> Result<SystemAccess, AppError> {
    let no_such_system = || AppError::NotFound("There is no such DMS.".into());
    let organization_id: String = systems::table
        .find(system_id)
        .select(systems::organization_id)
        .first(connection)
        .optional()?
        .ok_or_else(no_such_system)?;
    let organization_role = membership_rules::role_of(connection, &organization_id, user_id)?
        .ok_or_else(no_such_system)?;
    let system_role = membership_rules::system_role_of(connection, system_id, user_id)?;
    let role = SystemUser::effective(organization_role, system_role);
    let deciding_role = if action.is_about_one_system() {
        role
    } else {
        organization_role
    };
    if !allows(deciding_role, action) {
        return Err(AppError::Forbidden(
            "Your role on this DMS does not allow this.".into(),
        ));
    }
    Ok(SystemAccess {
        organization_id,
        role,
    })
}
