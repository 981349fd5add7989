//! What platform staff change in the staff console: organizations created with their first
//! Owner, links of people or not-yet-registered addresses to organizations (memberships or
//! pending links), role changes and removals. Every change writes its staff audit entry in the
//! caller's transaction; the membership rules themselves are [`membership_rules`]'.

use chrono::NaiveDateTime;
use diesel::prelude::*;
use stratus_shared::api::members::{Member, Members, MembersQuery};
use stratus_shared::api::organizations::Role;
use stratus_shared::api::staff::{
    CreatedStaffOrganization, LinkSource, Linked, OrganizationLink, PendingLink, StaffOrganization,
};
use stratus_shared::email::EmailAddress;

use crate::db::schema::{invitations, organizations, users};
use crate::db::AnyConnection;
use crate::domain::audit;
use crate::domain::memberships::{self as membership_rules, LinkOutcome};
use crate::domain::organizations::insert as insert_organization;
use crate::error::AppError;

/// The 404 message of an account that does not belong to the organization.
const NOT_LINKED: &str = "This account does not belong to that organization.";

/// An organization as the staff console names it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrganizationRef {
    pub id: String,
    pub name: String,
}

/// The organization with this id, or 404.
pub fn find_organization(conn: &mut AnyConnection, id: &str) -> Result<OrganizationRef, AppError> {
    let name: Option<String> = organizations::table
        .find(id)
        .select(organizations::name)
        .first(conn)
        .optional()?;
    name.map(|name| OrganizationRef {
        id: id.to_owned(),
        name,
    })
    .ok_or_else(|| AppError::NotFound("There is no such organization.".into()))
}

/// What linking an address did, or that it was linked already.
pub enum LinkEffect {
    Linked(Linked),
    AlreadyLinked,
}

/// Links `email` to `organization` with `role` ([`membership_rules::link_email`]) and says
/// what that did as the staff console shows it. Writes no audit entry and sends no mail (the
/// callers do).
pub fn link_address(
    conn: &mut AnyConnection,
    staff_user_id: &str,
    organization: &OrganizationRef,
    email: &EmailAddress,
    role: Role,
    source: LinkSource,
    now: NaiveDateTime,
) -> QueryResult<LinkEffect> {
    let outcome = membership_rules::link_email(
        conn,
        &organization.id,
        email,
        role,
        source,
        staff_user_id,
        now,
    )?;
    Ok(match outcome {
        LinkOutcome::AlreadyMember | LinkOutcome::AlreadyPending => LinkEffect::AlreadyLinked,
        LinkOutcome::Member { user_id, email } => LinkEffect::Linked(Linked::Member {
            user_id,
            email,
            link: OrganizationLink {
                organization_id: organization.id.clone(),
                organization_name: organization.name.clone(),
                role,
                since: now.and_utc(),
            },
        }),
        LinkOutcome::Pending { invitation_id } => LinkEffect::Linked(Linked::Pending {
            link: PendingLink {
                id: invitation_id,
                email: email.to_string(),
                organization_id: organization.id.clone(),
                organization_name: organization.name.clone(),
                role,
                source,
                created_at: now.and_utc(),
            },
        }),
    })
}

/// The audit detail of a link.
pub fn link_detail(linked: &Linked) -> String {
    match linked {
        Linked::Member { email, link, .. } => format!(
            "Linked {email} to {} as {}",
            link.organization_name,
            link.role.label()
        ),
        Linked::Pending { link } => format!(
            "Linked {} to {} as {} (pending until the address is verified)",
            link.email,
            link.organization_name,
            link.role.label()
        ),
    }
}

/// Writes a staff audit entry of `staff_user_id` about `organization_id`.
fn record(
    conn: &mut AnyConnection,
    staff_user_id: &str,
    organization_id: &str,
    action: &str,
    detail: String,
) -> QueryResult<()> {
    audit::record_as(
        conn,
        staff_user_id,
        true,
        Some(organization_id),
        action,
        detail,
    )?;
    Ok(())
}

/// Creates the organization `name` with its first Owner: a verified account is Owner at once,
/// any other address once it is verified (a pending Owner link).
pub fn create_organization(
    conn: &mut AnyConnection,
    staff_user_id: &str,
    name: String,
    owner_email: &EmailAddress,
) -> Result<CreatedStaffOrganization, AppError> {
    let now = crate::db::now().naive_utc();
    let (id, slug) = insert_organization(conn, &name, now)?;
    let organization = OrganizationRef {
        id: id.clone(),
        name: name.clone(),
    };
    let (role, source) = (Role::Owner, LinkSource::Staff);
    let owner = match link_address(
        conn,
        staff_user_id,
        &organization,
        owner_email,
        role,
        source,
        now,
    )? {
        LinkEffect::Linked(linked) => linked,
        LinkEffect::AlreadyLinked => {
            return Err(AppError::Internal(anyhow::anyhow!(
                "a new organization already had a link"
            )))
        }
    };
    let detail = format!("Created organization {name} with first Owner {owner_email}");
    record(
        conn,
        staff_user_id,
        &id,
        "staff.organization_created",
        detail,
    )?;
    let pending_count = i64::from(matches!(owner, Linked::Pending { .. }));
    Ok(CreatedStaffOrganization {
        organization: StaffOrganization {
            id,
            name,
            slug,
            member_count: 1 - pending_count,
            pending_count,
            created_at: now.and_utc(),
        },
        owner,
    })
}

/// A page of an organization's members, with its pending links on the first page, or 404.
pub fn people(
    conn: &mut AnyConnection,
    organization_id: &str,
    query: &MembersQuery,
) -> Result<Members, AppError> {
    find_organization(conn, organization_id)?;
    membership_rules::people(conn, organization_id, query)
}

/// Links `email` to `organization_id` with `role`: a verified account becomes a member at
/// once, any other address gets a pending link. 409 when it is linked already.
pub fn create_link(
    conn: &mut AnyConnection,
    staff_user_id: &str,
    organization_id: &str,
    email: &EmailAddress,
    role: Role,
) -> Result<Linked, AppError> {
    let organization = find_organization(conn, organization_id)?;
    let now = crate::db::now().naive_utc();
    let source = LinkSource::Staff;
    let linked = match link_address(conn, staff_user_id, &organization, email, role, source, now)? {
        LinkEffect::Linked(linked) => linked,
        LinkEffect::AlreadyLinked => {
            return Err(AppError::Conflict(format!(
                "{email} is already linked to {}.",
                organization.name
            )))
        }
    };
    let detail = link_detail(&linked);
    record(
        conn,
        staff_user_id,
        &organization.id,
        "staff.link_created",
        detail,
    )?;
    Ok(linked)
}

/// Gives `user_id` the role `role` in `organization_id` (the last Owner stays one) and
/// returns the membership as changed.
pub fn change_role(
    conn: &mut AnyConnection,
    staff_user_id: &str,
    organization_id: &str,
    user_id: &str,
    role: Role,
) -> Result<Member, AppError> {
    let organization = find_organization(conn, organization_id)?;
    let before = membership_rules::change_role(conn, &organization.id, user_id, role)?;
    let member = membership_rules::member(conn, &organization.id, user_id)?
        .ok_or_else(|| AppError::NotFound(NOT_LINKED.into()))?;
    let detail = format!(
        "Changed {}'s role in {} from {} to {}",
        member.email,
        organization.name,
        before.label(),
        role.label()
    );
    record(
        conn,
        staff_user_id,
        &organization.id,
        "staff.role_changed",
        detail,
    )?;
    Ok(member)
}

/// Takes `user_id` out of `organization_id` (the last Owner stays).
pub fn remove_member(
    conn: &mut AnyConnection,
    staff_user_id: &str,
    organization_id: &str,
    user_id: &str,
) -> Result<(), AppError> {
    let organization = find_organization(conn, organization_id)?;
    let role = membership_rules::remove_member(conn, &organization.id, user_id)?;
    let email: String = users::table
        .find(user_id)
        .select(users::email)
        .first(conn)?;
    let detail = format!(
        "Unlinked {email} ({}) from {}",
        role.label(),
        organization.name
    );
    record(
        conn,
        staff_user_id,
        &organization.id,
        "staff.link_removed",
        detail,
    )?;
    Ok(())
}

/// A pending link with what its audit entry names.
#[derive(Debug, Queryable, Selectable)]
#[diesel(table_name = invitations)]
struct PendingLinkRecord {
    email: String,
    role: String,
    #[diesel(select_expression = organizations::id)]
    organization_id: String,
    #[diesel(select_expression = organizations::name)]
    organization_name: String,
}

/// Removes a pending link (of any source) before its address is verified; 404 when there is
/// none with this id.
pub fn remove_pending_link(
    conn: &mut AnyConnection,
    staff_user_id: &str,
    link_id: &str,
) -> Result<(), AppError> {
    let link: PendingLinkRecord = invitations::table
        .inner_join(organizations::table)
        .filter(invitations::id.eq(link_id))
        .select(PendingLinkRecord::as_select())
        .first(conn)
        .optional()?
        .ok_or_else(|| AppError::NotFound("There is no such pending link.".into()))?;
    diesel::delete(invitations::table.find(link_id)).execute(conn)?;
    // A role the API does not know is named as stored.
    let role = Role::parse(&link.role).map_or(link.role.clone(), |r| r.label().to_owned());
    let detail = format!(
        "Removed the pending link of {} ({role}) to {}",
        link.email, link.organization_name
    );
    let organization_id = &link.organization_id;
    record(
        conn,
        staff_user_id,
        organization_id,
        "staff.pending_link_removed",
        detail,
    )?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_link_is_audited_as_member_or_pending() {
        let at = chrono::DateTime::from_timestamp(0, 0).unwrap();
        let member = Linked::Member {
            user_id: "u".into(),
            email: "ann@acme.test".into(),
            link: OrganizationLink {
                organization_id: "o".into(),
                organization_name: "Acme".into(),
                role: Role::Admin,
                since: at,
            },
        };
        assert_eq!(
            link_detail(&member),
            "Linked ann@acme.test to Acme as Admin"
        );
        let pending = Linked::Pending {
            link: PendingLink {
                id: "i".into(),
                email: "bo@acme.test".into(),
                organization_id: "o".into(),
                organization_name: "Acme".into(),
                role: Role::Owner,
                source: LinkSource::Staff,
                created_at: at,
            },
        };
        assert_eq!(
            link_detail(&pending),
            "Linked bo@acme.test to Acme as Owner (pending until the address is verified)"
        );
    }
}
