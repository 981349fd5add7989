//! Access to one DMS: who has which role on it (a DMS-level role replaces the organization
//! role for that DMS), its remote-access switch, and each person's link to their own user
//! account on the DMS. Every change is in the audit log; callers check permissions first.

use diesel::prelude::*;
use stratus_shared::api::organizations::{Role, SystemUser};

use crate::auth::access::SystemAccess;
use crate::db::schema::{
    dms_account_links, memberships, organizations, system_roles, systems, users,
};
use crate::db::AnyConnection;
use crate::domain::systems::record_change;
use crate::error::AppError;

/// The people of the DMS's organization with their roles on the DMS, by email.
pub fn users(
    connection: &mut AnyConnection,
    organization_id: &str,
    system_id: &str,
) -> Result<Vec<SystemUser>, AppError> {
    let people: Vec<(String, String, String)> = memberships::table
        .inner_join(users::table)
        .filter(memberships::organization_id.eq(organization_id))
        .order(users::email.asc())
        .select((users::id, users::email, memberships::role))
        .load(connection)?;
    let roles: Vec<(String, String)> = system_roles::table
        .filter(system_roles::system_id.eq(system_id))
        .select((system_roles::user_id, system_roles::role))
        .load(connection)?;
    let accounts: Vec<(String, String)> = dms_account_links::table
        .filter(dms_account_links::system_id.eq(system_id))
        .select((dms_account_links::user_id, dms_account_links::dms_username))
        .load(connection)?;
    Ok(people
        .into_iter()
        .filter_map(|(user_id, email, organization_role)| {
            let organization_role = Role::parse(&organization_role)?;
            let system_role = roles
                .iter()
                .find(|(id, _)| *id == user_id)
                .and_then(|(_, role)| Role::parse(role));
            let dms_account = accounts
                .iter()
                .find(|(id, _)| *id == user_id)
                .map(|(_, name)| name.clone());
            Some(SystemUser {
                effective_role: SystemUser::effective(organization_role, system_role),
                user_id,
                email,
                organization_role,
                system_role,
                dms_account,
            })
        })
        .collect())
}

/// One person of the DMS's organization, or 404.
pub fn user(
    connection: &mut AnyConnection,
    organization_id: &str,
    system_id: &str,
    user_id: &str,
) -> Result<SystemUser, AppError> {
    users(connection, organization_id, system_id)?
        .into_iter()
        .find(|person| person.user_id == user_id)
        .ok_or_else(|| AppError::NotFound("This person is not in the DMS's organization.".into()))
}

/// Gives `person_id` the DMS-level role `role` as the caller with `access` (who may manage
/// DMS roles): only an Owner on the DMS makes someone its Owner, and the organization's
/// Owners get none (they keep every right on every DMS).
pub fn set_role(
    connection: &mut AnyConnection,
    user_id: &str,
    access: &SystemAccess,
    system_id: &str,
    person_id: &str,
    role: Role,
) -> Result<SystemUser, AppError> {
    if role == Role::Owner && access.role != Role::Owner {
        return Err(AppError::Forbidden(
            "Only an Owner of the DMS may make someone its Owner.".into(),
        ));
    }
    let person = user(connection, &access.organization_id, system_id, person_id)?;
    if person.organization_role == Role::Owner {
        return Err(AppError::Conflict(
            "Owners of the organization have every right on each of its DMSs; change their \
             organization role first."
                .into(),
        ));
    }
    diesel::delete(system_roles::table.find((system_id, person_id))).execute(connection)?;
    diesel::insert_into(system_roles::table)
        .values((
            system_roles::system_id.eq(system_id),
            system_roles::user_id.eq(person_id),
            system_roles::role.eq(role.as_str()),
            system_roles::created_at.eq(crate::db::now().naive_utc()),
        ))
        .execute(connection)?;
    record_change(
        connection,
        user_id,
        &access.organization_id,
        system_id,
        "system.role_set",
        &format!("Made {} {} of the DMS", person.email, role.label()),
    )?;
    user(connection, &access.organization_id, system_id, person_id)
}

/// Takes `person_id`'s DMS-level role away: their organization role applies again. Taking an
/// Owner role away is as strong as giving one.
pub fn clear_role(
    connection: &mut AnyConnection,
    user_id: &str,
    access: &SystemAccess,
    system_id: &str,
    person_id: &str,
) -> Result<SystemUser, AppError> {
    let person = user(connection, &access.organization_id, system_id, person_id)?;
    if person.system_role == Some(Role::Owner) && access.role != Role::Owner {
        return Err(AppError::Forbidden(
            "Only an Owner of the DMS may change another Owner's role on it.".into(),
        ));
    }
    let removed =
        diesel::delete(system_roles::table.find((system_id, person_id))).execute(connection)?;
    if removed > 0 {
        record_change(
            connection,
            user_id,
            &access.organization_id,
            system_id,
            "system.role_cleared",
            &format!(
                "{} has their organization role on the DMS again",
                person.email
            ),
        )?;
    }
    user(connection, &access.organization_id, system_id, person_id)
}

/// Switches remote access for one DMS; it cannot go on while its organization has it off
/// (409 `remote_access_forced_off`).
pub fn set_remote_access(
    connection: &mut AnyConnection,
    user_id: &str,
    organization_id: &str,
    system_id: &str,
    enabled: bool,
) -> Result<(), AppError> {
    let organization_allows: i32 = organizations::table
        .find(organization_id)
        .select(organizations::remote_access_enabled)
        .first(connection)?;
    if enabled && organization_allows == 0 {
        return Err(AppError::RemoteAccessForcedOff);
    }
    let current: i32 = systems::table
        .find(system_id)
        .select(systems::remote_access_enabled)
        .first(connection)?;
    if (current != 0) == enabled {
        return Ok(());
    }
    diesel::update(systems::table.find(system_id))
        .set(systems::remote_access_enabled.eq(i32::from(enabled)))
        .execute(connection)?;
    record_change(
        connection,
        user_id,
        organization_id,
        system_id,
        "system.remote_access_changed",
        if enabled {
            "Switched remote access on"
        } else {
            "Switched remote access off"
        },
    )?;
    Ok(())
}

/// Links `user_id`'s own account on the DMS (replacing an earlier link).
pub fn link_account(
    connection: &mut AnyConnection,
    user_id: &str,
    organization_id: &str,
    system_id: &str,
    dms_username: &str,
) -> QueryResult<()> {
    diesel::delete(dms_account_links::table.find((system_id, user_id))).execute(connection)?;
    diesel::insert_into(dms_account_links::table)
        .values((
            dms_account_links::system_id.eq(system_id),
            dms_account_links::user_id.eq(user_id),
            dms_account_links::dms_username.eq(dms_username),
            dms_account_links::linked_at.eq(crate::db::now().naive_utc()),
        ))
        .execute(connection)?;
    record_change(
        connection,
        user_id,
        organization_id,
        system_id,
        "system.account_linked",
        &format!("Linked their DMS account {dms_username}"),
    )
}

/// Unlinks `user_id`'s own account on the DMS (nothing happens when there is none).
pub fn unlink_account(
    connection: &mut AnyConnection,
    user_id: &str,
    organization_id: &str,
    system_id: &str,
) -> QueryResult<()> {
    let removed =
        diesel::delete(dms_account_links::table.find((system_id, user_id))).execute(connection)?;
    if removed > 0 {
        record_change(
            connection,
            user_id,
            organization_id,
            system_id,
            "system.account_unlinked",
            "Unlinked their DMS account",
        )?;
    }
    Ok(())
}
