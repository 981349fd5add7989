//! Access to one DMS: who has which role on it (a DMS-level role replaces the organization
//! role for that DMS), its remote-access switch, and each person's link to their own user
//! account on the DMS. Every change is in the audit log; callers check permissions first.

use diesel::prelude::*;
use stratus_shared::api::organizations::{DmsAccountLink, Role, SystemUser};

use crate::auth::access::SystemAccess;
use crate::auth::one_time;
use crate::db::schema::{
    dms_account_links, dms_link_codes, memberships, organizations, system_roles, systems, users,
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
    let accounts: Vec<(String, String, Option<chrono::NaiveDateTime>)> = dms_account_links::table
        .filter(dms_account_links::system_id.eq(system_id))
        .select((
            dms_account_links::user_id,
            dms_account_links::dms_username,
            dms_account_links::confirmed_at,
        ))
        .load(connection)?;
    Ok(people
        .into_iter()
        .filter_map(|(user_id, email, organization_role)| {
            let organization_role = Role::parse(&organization_role)?;
            let system_role = roles
                .iter()
                .find(|(id, _)| *id == user_id)
                .and_then(|(_, role)| Role::parse(role));
            let dms_account =
                accounts
                    .iter()
                    .find(|(id, _, _)| *id == user_id)
                    .map(|(_, name, confirmed_at)| DmsAccountLink {
                        dms_username: name.clone(),
                        confirmed_at: confirmed_at.map(|at| at.and_utc()),
                    });
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
    may_change_role_of(access, &person)?;
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

/// Whoever holds the DMS-level Owner role keeps it unless an Owner of the DMS changes it:
/// demoting one (to any role) and taking the role away are as strong as giving it.
fn may_change_role_of(access: &SystemAccess, person: &SystemUser) -> Result<(), AppError> {
    if person.system_role == Some(Role::Owner) && access.role != Role::Owner {
        return Err(AppError::Forbidden(
            "Only an Owner of the DMS may change another Owner's role on it.".into(),
        ));
    }
    Ok(())
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
    may_change_role_of(access, &person)?;
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

/// How long a link code may wait to be entered on the DMS.
pub const LINK_CODE_LIFETIME: chrono::TimeDelta = chrono::TimeDelta::minutes(10);

/// The letters of a link code: no 0/O, 1/I/L, so that it can be read off a screen and typed.
const LINK_CODE_ALPHABET: &[u8] = b"ABCDEFGHJKMNPQRSTUVWXYZ23456789";

/// A link code's canonical form: letters and digits only, upper case (dashes and spaces
/// people type are ignored).
fn canonical_link_code(code: &str) -> String {
    code.chars()
        .filter(char::is_ascii_alphanumeric)
        .map(|c| c.to_ascii_uppercase())
        .collect()
}

/// A one-time code for `user_id` (who may link, checked already) to enter on the DMS; it
/// replaces their earlier codes for that DMS. Only its hash is stored.
pub fn issue_link_code(
    connection: &mut AnyConnection,
    user_id: &str,
    system_id: &str,
    now: chrono::DateTime<chrono::Utc>,
) -> QueryResult<(String, chrono::DateTime<chrono::Utc>)> {
    use rand::Rng;
    let mut rng = rand::rng();
    let letters: String = (0..8)
        .map(|_| LINK_CODE_ALPHABET[rng.random_range(0..LINK_CODE_ALPHABET.len())] as char)
        .collect();
    let code = format!("{}-{}", &letters[..4], &letters[4..]);
    let expires_at = now + LINK_CODE_LIFETIME;
    diesel::delete(
        dms_link_codes::table
            .filter(dms_link_codes::system_id.eq(system_id))
            .filter(
                dms_link_codes::user_id
                    .eq(user_id)
                    .or(dms_link_codes::expires_at.lt(now.naive_utc())),
            ),
    )
    .execute(connection)?;
    diesel::insert_into(dms_link_codes::table)
        .values((
            dms_link_codes::code_hash.eq(one_time::hash(&canonical_link_code(&code))),
            dms_link_codes::system_id.eq(system_id),
            dms_link_codes::user_id.eq(user_id),
            dms_link_codes::created_at.eq(now.naive_utc()),
            dms_link_codes::expires_at.eq(expires_at.naive_utc()),
        ))
        .execute(connection)?;
    Ok((code, expires_at))
}

/// Who a DMS's confirmation linked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LinkConfirmed {
    pub email: String,
    pub dms_username: String,
}

/// The DMS `system_id` confirms, over its gateway connection, that its user `dms_username`
/// entered `code`: the code's person is linked to that DMS account (replacing an earlier
/// link), audited. `None` when the code is unknown, expired, used, or another DMS's, or its
/// person is no longer in the organization.
pub fn confirm_link(
    connection: &mut AnyConnection,
    system_id: &str,
    code: &str,
    dms_username: &str,
    now: chrono::DateTime<chrono::Utc>,
) -> QueryResult<Option<LinkConfirmed>> {
    let hash = one_time::hash(&canonical_link_code(code));
    let found: Option<String> = dms_link_codes::table
        .find(&hash)
        .filter(dms_link_codes::system_id.eq(system_id))
        .filter(dms_link_codes::expires_at.gt(now.naive_utc()))
        .select(dms_link_codes::user_id)
        .first(connection)
        .optional()?;
    let Some(user_id) = found else {
        return Ok(None);
    };
    // Spent by deleting it: of two confirmations of one code, one wins.
    if diesel::delete(dms_link_codes::table.find(&hash)).execute(connection)? == 0 {
        return Ok(None);
    }
    let organization_id: String = systems::table
        .find(system_id)
        .select(systems::organization_id)
        .first(connection)?;
    if crate::domain::memberships::role_of(connection, &organization_id, &user_id)?.is_none() {
        return Ok(None);
    }
    diesel::delete(dms_account_links::table.find((system_id, &user_id))).execute(connection)?;
    diesel::insert_into(dms_account_links::table)
        .values((
            dms_account_links::system_id.eq(system_id),
            dms_account_links::user_id.eq(&user_id),
            dms_account_links::dms_username.eq(dms_username),
            dms_account_links::linked_at.eq(now.naive_utc()),
            dms_account_links::confirmed_at.eq(Some(now.naive_utc())),
        ))
        .execute(connection)?;
    record_change(
        connection,
        &user_id,
        &organization_id,
        system_id,
        "system.account_linked",
        &format!("Linked their DMS account {dms_username} (confirmed by the DMS)"),
    )?;
    let email: String = users::table
        .find(&user_id)
        .select(users::email)
        .first(connection)?;
    Ok(Some(LinkConfirmed {
        email,
        dms_username: dms_username.to_owned(),
    }))
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

/// The DMS's remote host label when remote access is on for it and its organization.
pub fn remote_label_if_on(
    connection: &mut AnyConnection,
    system_id: &str,
) -> QueryResult<Option<String>> {
    let (label, system_switch, organization_switch): (Option<String>, i32, i32) = systems::table
        .inner_join(organizations::table)
        .filter(systems::id.eq(system_id))
        .select((
            systems::remote_label,
            systems::remote_access_enabled,
            organizations::remote_access_enabled,
        ))
        .first(connection)?;
    Ok(label.filter(|_| system_switch != 0 && organization_switch != 0))
}
