//! Who belongs to which organization: memberships, the last-Owner rule, and invitations that
//! turn into memberships once their address is verified.

use chrono::NaiveDateTime;
use diesel::prelude::*;
use stratus_shared::api::organizations::Role;

use crate::db::schema::{dms_account_links, invitations, memberships, system_roles, systems};
use crate::db::AnyConnection;

/// Turns every invitation for `email` into a membership of `user_id` (keeping a membership the
/// person already has). Call only once the address is verified. Returns how many applied.
pub fn apply_invitations(
    conn: &mut AnyConnection,
    user_id: &str,
    email: &str,
    now: NaiveDateTime,
) -> QueryResult<usize> {
    let pending: Vec<(String, String)> = invitations::table
        .filter(invitations::email.eq(email))
        .select((invitations::organization_id, invitations::role))
        .load(conn)?;
    for (organization_id, role) in &pending {
        let already: i64 = memberships::table
            .filter(memberships::organization_id.eq(organization_id))
            .filter(memberships::user_id.eq(user_id))
            .count()
            .get_result(conn)?;
        if already == 0 {
            diesel::insert_into(memberships::table)
                .values((
                    memberships::organization_id.eq(organization_id),
                    memberships::user_id.eq(user_id),
                    memberships::role.eq(role),
                    memberships::created_at.eq(now),
                ))
                .execute(conn)?;
        }
    }
    diesel::delete(invitations::table.filter(invitations::email.eq(email))).execute(conn)?;
    Ok(pending.len())
}

/// The role of `user_id` in `organization_id`, if they belong to it.
pub fn role_of(
    conn: &mut AnyConnection,
    organization_id: &str,
    user_id: &str,
) -> QueryResult<Option<Role>> {
    let role: Option<String> = memberships::table
        .filter(memberships::organization_id.eq(organization_id))
        .filter(memberships::user_id.eq(user_id))
        .select(memberships::role)
        .first(conn)
        .optional()?;
    Ok(role.as_deref().and_then(Role::parse))
}

/// How many Owners the organization has.
pub fn owner_count(conn: &mut AnyConnection, organization_id: &str) -> QueryResult<i64> {
    memberships::table
        .filter(memberships::organization_id.eq(organization_id))
        .filter(memberships::role.eq(Role::Owner.as_str()))
        .count()
        .get_result(conn)
}

/// Whether taking `user_id`'s current role away (demotion or removal) would leave the
/// organization without an Owner.
pub fn would_orphan(
    conn: &mut AnyConnection,
    organization_id: &str,
    user_id: &str,
) -> QueryResult<bool> {
    Ok(
        role_of(conn, organization_id, user_id)? == Some(Role::Owner)
            && owner_count(conn, organization_id)? <= 1,
    )
}

/// The DMS-level role of `user_id` on `system_id`, if one was given.
pub fn system_role_of(
    conn: &mut AnyConnection,
    system_id: &str,
    user_id: &str,
) -> QueryResult<Option<Role>> {
    let role: Option<String> = system_roles::table
        .filter(system_roles::system_id.eq(system_id))
        .filter(system_roles::user_id.eq(user_id))
        .select(system_roles::role)
        .first(conn)
        .optional()?;
    Ok(role.as_deref().and_then(Role::parse))
}

/// Forgets what `user_id` had on the DMSs of `organization_id` (DMS-level roles, linked DMS
/// accounts): called when they leave the organization, so nothing is left for a comeback.
pub fn forget_system_access(
    conn: &mut AnyConnection,
    organization_id: &str,
    user_id: &str,
) -> QueryResult<()> {
    let systems_of_organization = systems::table
        .filter(systems::organization_id.eq(organization_id))
        .select(systems::id);
    diesel::delete(
        system_roles::table
            .filter(system_roles::user_id.eq(user_id))
            .filter(system_roles::system_id.eq_any(systems_of_organization)),
    )
    .execute(conn)?;
    let systems_of_organization = systems::table
        .filter(systems::organization_id.eq(organization_id))
        .select(systems::id);
    diesel::delete(
        dms_account_links::table
            .filter(dms_account_links::user_id.eq(user_id))
            .filter(dms_account_links::system_id.eq_any(systems_of_organization)),
    )
    .execute(conn)?;
    Ok(())
}

/// The ids of everyone in the organization (to refresh their live overviews after a change).
pub fn member_ids(conn: &mut AnyConnection, organization_id: &str) -> QueryResult<Vec<String>> {
    memberships::table
        .filter(memberships::organization_id.eq(organization_id))
        .select(memberships::user_id)
        .load(conn)
}
