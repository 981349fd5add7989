//! Who belongs to which organization: memberships, the last-Owner rule, and invitations that
//! turn into memberships once their address is verified. The one place that adds people by
//! email, changes roles and removes members: the organization's own member pages and the staff
//! console both go through it (each with its own permission checks, audit entries and mail).

use chrono::NaiveDateTime;
use diesel::prelude::*;
use stratus_shared::api::members::{
    Invitation, Member, Members, MembersQuery, PendingInvitation, MEMBERS_PAGE_DEFAULT,
    MEMBERS_PAGE_MAX,
};
use stratus_shared::api::organizations::Role;
use stratus_shared::api::staff::LinkSource;
use stratus_shared::email::EmailAddress;

use crate::db::schema::{
    dms_account_links, invitations, memberships, organizations, system_roles, systems, users,
};
use crate::db::{self, AnyConnection};
use crate::domain::accounts::{self, User};
use crate::error::AppError;

/// Records that `user` proved control of their address and applies the organization links
/// waiting for it: the one thing to call when an address is verified (mailed link, password
/// reset, provider sign-in).
pub fn address_verified(
    conn: &mut AnyConnection,
    user: &User,
    now: NaiveDateTime,
) -> QueryResult<()> {
    accounts::mark_verified(conn, &user.id, now)?;
    apply_invitations(conn, &user.id, &user.email, now)?;
    Ok(())
}

/// Turns every link for `email` that needs no consent (staff and legacy links) into a
/// membership of `user_id`, keeping a membership the person already has. Invitations from an
/// organization's Owners and Admins stay until the person accepts them
/// ([`accept_invitation`]). Call only once the address is verified. Returns how many applied.
pub fn apply_invitations(
    conn: &mut AnyConnection,
    user_id: &str,
    email: &str,
    now: NaiveDateTime,
) -> QueryResult<usize> {
    let consented = invitations::table
        .filter(invitations::email.eq(email))
        .filter(invitations::source.ne(LinkSource::Invitation.as_str()));
    let pending: Vec<(String, String)> = consented
        .select((invitations::organization_id, invitations::role))
        .load(conn)?;
    for (organization_id, role) in &pending {
        join(conn, organization_id, user_id, role, now)?;
    }
    diesel::delete(consented).execute(conn)?;
    Ok(pending.len())
}

/// Makes `user_id` a member with the stored `role` unless they are one already.
fn join(
    conn: &mut AnyConnection,
    organization_id: &str,
    user_id: &str,
    role: &str,
    now: NaiveDateTime,
) -> QueryResult<bool> {
    let already: i64 = memberships::table
        .filter(memberships::organization_id.eq(organization_id))
        .filter(memberships::user_id.eq(user_id))
        .count()
        .get_result(conn)?;
    if already > 0 {
        return Ok(false);
    }
    diesel::insert_into(memberships::table)
        .values((
            memberships::organization_id.eq(organization_id),
            memberships::user_id.eq(user_id),
            memberships::role.eq(role),
            memberships::created_at.eq(now),
        ))
        .execute(conn)?;
    Ok(true)
}

/// The invitations waiting for `email`'s answer, newest first.
pub fn invitations_for(
    conn: &mut AnyConnection,
    email: &str,
) -> QueryResult<Vec<PendingInvitation>> {
    let rows: Vec<(
        String,
        String,
        String,
        String,
        Option<String>,
        NaiveDateTime,
    )> = invitations::table
        .inner_join(organizations::table)
        .left_join(users::table.on(invitations::invited_by.eq(users::id.nullable())))
        .filter(invitations::email.eq(email))
        .filter(invitations::source.eq(LinkSource::Invitation.as_str()))
        .order(invitations::created_at.desc())
        .select((
            invitations::id,
            invitations::organization_id,
            organizations::name,
            invitations::role,
            users::email.nullable(),
            invitations::created_at,
        ))
        .load(conn)?;
    Ok(rows
        .into_iter()
        .filter_map(
            |(id, organization_id, organization_name, role, invited_by, created_at)| {
                Some(PendingInvitation {
                    id,
                    organization_id,
                    organization_name,
                    role: Role::parse(&role)?,
                    invited_by,
                    created_at: created_at.and_utc(),
                })
            },
        )
        .collect())
}

/// The organization and role of an invitation for `email` that waits for an answer.
pub fn invitation_for(
    conn: &mut AnyConnection,
    invitation_id: &str,
    email: &str,
) -> QueryResult<Option<(String, String)>> {
    invitations::table
        .find(invitation_id)
        .filter(invitations::email.eq(email))
        .filter(invitations::source.eq(LinkSource::Invitation.as_str()))
        .select((invitations::organization_id, invitations::role))
        .first(conn)
        .optional()
}

/// Accepts an invitation for the verified account `user_id` whose address is `email`: they
/// join with the invited role (or keep the membership they have). Returns the organization,
/// or `None` when there is no such invitation for that address.
pub fn accept_invitation(
    conn: &mut AnyConnection,
    invitation_id: &str,
    user_id: &str,
    email: &str,
    now: NaiveDateTime,
) -> QueryResult<Option<String>> {
    let Some((organization_id, role)) = invitation_for(conn, invitation_id, email)? else {
        return Ok(None);
    };
    join(conn, &organization_id, user_id, &role, now)?;
    diesel::delete(invitations::table.find(invitation_id)).execute(conn)?;
    Ok(Some(organization_id))
}

/// Declines an invitation for `email`; returns its organization, or `None` when there is no
/// such invitation for that address.
pub fn decline_invitation(
    conn: &mut AnyConnection,
    invitation_id: &str,
    email: &str,
) -> QueryResult<Option<String>> {
    let Some((organization_id, _)) = invitation_for(conn, invitation_id, email)? else {
        return Ok(None);
    };
    diesel::delete(invitations::table.find(invitation_id)).execute(conn)?;
    Ok(Some(organization_id))
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

/// Makes `user_id` a member of `organization_id` with `role` (the caller has checked that they
/// are not one yet).
pub fn insert_membership(
    conn: &mut AnyConnection,
    organization_id: &str,
    user_id: &str,
    role: Role,
    now: NaiveDateTime,
) -> QueryResult<()> {
    diesel::insert_into(memberships::table)
        .values((
            memberships::organization_id.eq(organization_id),
            memberships::user_id.eq(user_id),
            memberships::role.eq(role.as_str()),
            memberships::created_at.eq(now),
        ))
        .execute(conn)?;
    Ok(())
}

/// What [`link_email`] did.
#[derive(Debug)]
pub enum LinkOutcome {
    /// The address belongs to a verified account and the link needs no consent: it is a
    /// member now.
    Member {
        /// The account's user id.
        user_id: String,
        /// The account's email as stored.
        email: String,
    },
    /// A pending link (an `invitations` row) with this id: accepted by the person, or
    /// applied once the address is verified (see [`link_email`]).
    Pending {
        /// The invitation's id.
        invitation_id: String,
    },
    /// The address's account is a member already: nothing changed.
    AlreadyMember,
    /// The address has a pending link already: nothing changed.
    AlreadyPending,
}

/// Links `email` to `organization_id` with `role`, marked with `source` (and who asked for
/// it). A verified account joins at once when the source needs no consent (staff, legacy);
/// otherwise, and for any address without a verified account, a pending link (an
/// `invitations` row) waits: for the person to accept an invitation, or for a staff or
/// legacy link's address to be verified. Writes no audit entry and sends no mail: the
/// callers decide those.
pub fn link_email(
    conn: &mut AnyConnection,
    organization_id: &str,
    email: &EmailAddress,
    role: Role,
    source: LinkSource,
    invited_by: &str,
    now: NaiveDateTime,
) -> QueryResult<LinkOutcome> {
    let account = accounts::find_by_email(conn, email)?;
    if let Some(account) = &account {
        if role_of(conn, organization_id, &account.id)?.is_some() {
            return Ok(LinkOutcome::AlreadyMember);
        }
    }
    if let Some(account) = account.filter(|account| account.is_verified()) {
        if !source.needs_consent() {
            insert_membership(conn, organization_id, &account.id, role, now)?;
            return Ok(LinkOutcome::Member {
                user_id: account.id,
                email: account.email,
            });
        }
    }
    let taken: i64 = invitations::table
        .filter(invitations::organization_id.eq(organization_id))
        .filter(invitations::email.eq(email.as_str()))
        .count()
        .get_result(conn)?;
    if taken > 0 {
        return Ok(LinkOutcome::AlreadyPending);
    }
    let invitation_id = uuid::Uuid::new_v4().to_string();
    diesel::insert_into(invitations::table)
        .values((
            invitations::id.eq(&invitation_id),
            invitations::organization_id.eq(organization_id),
            invitations::email.eq(email.as_str()),
            invitations::role.eq(role.as_str()),
            invitations::invited_by.eq(invited_by),
            invitations::created_at.eq(now),
            invitations::source.eq(source.as_str()),
        ))
        .execute(conn)?;
    Ok(LinkOutcome::Pending { invitation_id })
}

/// Why a change of a membership was refused.
#[derive(Debug)]
pub enum MembershipError {
    /// The person does not belong to the organization.
    NotAMember,
    /// The change would leave the organization without an Owner.
    LastOwner,
    /// The database failed.
    Database(diesel::result::Error),
}

impl From<diesel::result::Error> for MembershipError {
    fn from(error: diesel::result::Error) -> Self {
        MembershipError::Database(error)
    }
}

/// A refused membership change: 404 for someone who is not a member, 409 `last_owner`.
impl From<MembershipError> for AppError {
    fn from(error: MembershipError) -> Self {
        match error {
            MembershipError::NotAMember => {
                AppError::NotFound("This person does not belong to that organization.".into())
            }
            MembershipError::LastOwner => AppError::LastOwner,
            MembershipError::Database(error) => error.into(),
        }
    }
}

/// The current role of `user_id`, refusing a change that finds no membership or that takes
/// away (`loses_owner`) the organization's last Owner.
fn check_change(
    conn: &mut AnyConnection,
    organization_id: &str,
    user_id: &str,
    loses_owner: bool,
) -> Result<Role, MembershipError> {
    lock_organization(conn, organization_id)?;
    let current = role_of(conn, organization_id, user_id)?.ok_or(MembershipError::NotAMember)?;
    if loses_owner && would_orphan(conn, organization_id, user_id)? {
        return Err(MembershipError::LastOwner);
    }
    Ok(current)
}

/// Serialises changes under one organization (its memberships, what its quotas count) until
/// the transaction ends, so two Owners leaving at once cannot both see the other still there,
/// nor two registrations both see the last free slot. On PostgreSQL that takes the
/// organization's row lock (`FOR UPDATE`; read committed lets each later statement see what
/// the other committed); on SQLite the database's one write lock ([`db::begin_write`]).
pub fn lock_organization(conn: &mut AnyConnection, organization_id: &str) -> QueryResult<()> {
    match conn {
        AnyConnection::Postgresql(pg) => {
            organizations::table
                .find(organization_id)
                .select(organizations::id)
                .for_update()
                .first::<String>(pg)
                .optional()?;
        }
        AnyConnection::Sqlite(_) => db::begin_write(conn)?,
    }
    Ok(())
}

/// Gives `user_id` the role `role` in `organization_id`; the last Owner keeps the role.
/// Returns the role they had before.
pub fn change_role(
    conn: &mut AnyConnection,
    organization_id: &str,
    user_id: &str,
    role: Role,
) -> Result<Role, MembershipError> {
    let before = check_change(conn, organization_id, user_id, role != Role::Owner)?;
    diesel::update(
        memberships::table
            .filter(memberships::organization_id.eq(organization_id))
            .filter(memberships::user_id.eq(user_id)),
    )
    .set(memberships::role.eq(role.as_str()))
    .execute(conn)?;
    Ok(before)
}

/// Takes `user_id` out of `organization_id`, with what they had on its DMSs
/// ([`forget_system_access`]); the last Owner stays. Returns the role they had.
pub fn remove_member(
    conn: &mut AnyConnection,
    organization_id: &str,
    user_id: &str,
) -> Result<Role, MembershipError> {
    let role = check_change(conn, organization_id, user_id, true)?;
    forget_system_access(conn, organization_id, user_id)?;
    diesel::delete(
        memberships::table
            .filter(memberships::organization_id.eq(organization_id))
            .filter(memberships::user_id.eq(user_id)),
    )
    .execute(conn)?;
    Ok(role)
}

/// `user_id`'s membership of `organization_id` as the API shows it, if they belong to it.
pub fn member(
    conn: &mut AnyConnection,
    organization_id: &str,
    user_id: &str,
) -> QueryResult<Option<Member>> {
    let row: Option<(String, String, NaiveDateTime)> = memberships::table
        .inner_join(users::table)
        .filter(memberships::organization_id.eq(organization_id))
        .filter(memberships::user_id.eq(user_id))
        .select((users::email, memberships::role, memberships::created_at))
        .first(conn)
        .optional()?;
    Ok(row.and_then(|(email, role, since)| {
        Some(Member {
            user_id: user_id.to_owned(),
            email,
            role: Role::parse(&role)?,
            since: since.and_utc(),
        })
    }))
}

/// One page of the organization's members, by email: at most `query.limit` after the member
/// `query.after` (keyset paging on the address, which is unique, so a person joining meanwhile
/// is neither shown twice nor skipped), and on the first page every pending invitation (the
/// invitation quota bounds them). A limit out of range, or an `after` who is not a member, is
/// refused.
pub fn people(
    conn: &mut AnyConnection,
    organization_id: &str,
    query: &MembersQuery,
) -> Result<Members, AppError> {
    let limit = query.limit.unwrap_or(MEMBERS_PAGE_DEFAULT);
    if !(1..=MEMBERS_PAGE_MAX).contains(&limit) {
        return Err(AppError::InvalidRequest(format!(
            "limit must be between 1 and {MEMBERS_PAGE_MAX}."
        )));
    }
    let after = match &query.after {
        None => None,
        Some(user_id) => Some(
            member(conn, organization_id, user_id)?
                .ok_or_else(|| {
                    AppError::InvalidRequest("after names no member of this organization.".into())
                })?
                .email,
        ),
    };
    let mut page = memberships::table
        .inner_join(users::table)
        .filter(memberships::organization_id.eq(organization_id))
        .into_boxed();
    if let Some(email) = &after {
        page = page.filter(users::email.gt(email));
    }
    let rows: Vec<(String, String, String, NaiveDateTime)> = page
        .order(users::email.asc())
        // One more than the page, to know whether another page follows.
        .limit(i64::from(limit) + 1)
        .select((
            users::id,
            users::email,
            memberships::role,
            memberships::created_at,
        ))
        .load(conn)?;
    let mut members: Vec<Member> = rows
        .into_iter()
        .filter_map(|(user_id, email, role, since)| {
            Some(Member {
                user_id,
                email,
                role: Role::parse(&role)?,
                since: since.and_utc(),
            })
        })
        .collect();
    let page_size = usize::try_from(limit).unwrap_or(usize::MAX);
    let next_after = if members.len() > page_size {
        members.truncate(page_size);
        members.last().map(|member| member.user_id.clone())
    } else {
        None
    };
    let invitations = if after.is_none() {
        pending_invitations(conn, organization_id)?
    } else {
        Vec::new()
    };
    Ok(Members {
        members,
        invitations,
        next_after,
    })
}

/// Every invitation and pending link of the organization, by address.
fn pending_invitations(
    conn: &mut AnyConnection,
    organization_id: &str,
) -> QueryResult<Vec<Invitation>> {
    let pending: Vec<(String, String, String, NaiveDateTime)> = invitations::table
        .filter(invitations::organization_id.eq(organization_id))
        .order(invitations::email.asc())
        .select((
            invitations::id,
            invitations::email,
            invitations::role,
            invitations::created_at,
        ))
        .load(conn)?;
    Ok(pending
        .into_iter()
        .filter_map(|(id, email, role, created_at)| {
            Some(Invitation {
                id,
                email,
                role: Role::parse(&role)?,
                created_at: created_at.and_utc(),
            })
        })
        .collect())
}
