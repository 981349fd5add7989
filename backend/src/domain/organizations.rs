//! Organizations: creating one with its first Owner, the ones a person belongs to, their
//! settings and deleting them.

use std::collections::HashMap;

use chrono::NaiveDateTime;
use diesel::prelude::*;
use rand::distr::{Alphanumeric, SampleString};
use stratus_shared::api::organizations::{Organization, Role};
use stratus_shared::ErrorCode;

use crate::db::schema::{memberships, organizations, systems};
use crate::db::AnyConnection;
use crate::domain::audit::{self, Actor};
use crate::domain::memberships as membership_rules;
use crate::error::AppError;

/// The organizations the person belongs to (their ids), for scoping lists and streams.
pub fn ids_of(connection: &mut AnyConnection, user_id: &str) -> QueryResult<Vec<String>> {
    memberships::table
        .filter(memberships::user_id.eq(user_id))
        .select(memberships::organization_id)
        .load(connection)
}

/// The organizations `user_id` belongs to (only `only` when given), with their role, by name.
pub fn of_member(
    connection: &mut AnyConnection,
    user_id: &str,
    only: Option<&str>,
) -> QueryResult<Vec<Organization>> {
    let mut query = organizations::table
        .inner_join(memberships::table)
        .filter(memberships::user_id.eq(user_id))
        .into_boxed();
    if let Some(organization_id) = only {
        query = query.filter(organizations::id.eq(organization_id));
    }
    let rows: Vec<(String, String, String, NaiveDateTime, i32, String)> = query
        .order((organizations::name.asc(), organizations::id.asc()))
        .select((
            organizations::id,
            organizations::name,
            organizations::slug,
            organizations::created_at,
            organizations::remote_access_enabled,
            memberships::role,
        ))
        .load(connection)?;
    Ok(rows
        .into_iter()
        .filter_map(
            |(id, name, slug, created_at, remote_access_enabled, role)| {
                Some(Organization {
                    id,
                    name,
                    slug,
                    role: Role::parse(&role)?,
                    created_at: created_at.and_utc(),
                    remote_access_enabled: remote_access_enabled != 0,
                })
            },
        )
        .collect())
}

/// One organization as its member `user_id` sees it (call after the access check).
pub fn as_seen_by(
    connection: &mut AnyConnection,
    user_id: &str,
    organization_id: &str,
) -> Result<Organization, AppError> {
    of_member(connection, user_id, Some(organization_id))?
        .into_iter()
        .next()
        .ok_or_else(|| AppError::NotFound("There is no such organization.".into()))
}

/// The id of the organization named exactly `name` (the first by id when several are).
pub fn find_by_name(connection: &mut AnyConnection, name: &str) -> QueryResult<Option<String>> {
    organizations::table
        .filter(organizations::name.eq(name))
        .order(organizations::id.asc())
        .select(organizations::id)
        .first(connection)
        .optional()
}

/// Creates an organization named `name` (with a slug of its own) and returns its id and slug.
/// Its first Owner is up to the caller.
pub fn insert(
    connection: &mut AnyConnection,
    name: &str,
    now: NaiveDateTime,
) -> QueryResult<(String, String)> {
    let id = uuid::Uuid::new_v4().to_string();
    let slug = unique_slug(connection, name)?;
    diesel::insert_into(organizations::table)
        .values((
            organizations::id.eq(&id),
            organizations::name.eq(name),
            organizations::slug.eq(&slug),
            organizations::created_at.eq(now),
        ))
        .execute(connection)?;
    Ok((id, slug))
}

/// Creates an organization with `user_id` as its Owner, in the audit log.
pub fn create_owned_by(
    connection: &mut AnyConnection,
    user_id: &str,
    name: &str,
) -> Result<Organization, AppError> {
    let now = crate::db::now().naive_utc();
    let (id, slug) = insert(connection, name, now)?;
    membership_rules::insert_membership(connection, &id, user_id, Role::Owner, now)?;
    audit::record_as(
        connection,
        user_id,
        false,
        Some(&id),
        "organization.created",
        format!("Created the organization {name}"),
    )?;
    Ok(Organization {
        id,
        name: name.to_owned(),
        slug,
        role: Role::Owner,
        created_at: now.and_utc(),
        remote_access_enabled: true,
    })
}

/// A URL-friendly, unused slug for a name: `acme-corp`, or `acme-corp-x7k2q9` when taken.
pub fn unique_slug(connection: &mut AnyConnection, name: &str) -> QueryResult<String> {
    let mut base: String = name
        .to_lowercase()
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
        .collect();
    base = base
        .split('-')
        .filter(|part| !part.is_empty())
        .collect::<Vec<_>>()
        .join("-");
    if base.is_empty() {
        base = "organization".into();
    }
    base.truncate(40);
    let taken: i64 = organizations::table
        .filter(organizations::slug.eq(&base))
        .count()
        .get_result(connection)?;
    if taken == 0 {
        return Ok(base);
    }
    let suffix = Alphanumeric
        .sample_string(&mut rand::rng(), 6)
        .to_lowercase();
    Ok(format!("{base}-{suffix}"))
}

/// A change of an organization's settings; `None` keeps what is there.
#[derive(Debug, Clone, Default)]
pub struct SettingsChange {
    pub name: Option<String>,
    pub remote_access_enabled: Option<bool>,
}

/// Applies `change` as `user_id` (checked already), each real change in the audit log, and
/// returns the organization as it is now with the ids of its members (whose overviews show
/// its name).
pub fn update_settings(
    connection: &mut AnyConnection,
    user_id: &str,
    organization_id: &str,
    change: SettingsChange,
) -> Result<(Organization, Vec<String>), AppError> {
    let before = as_seen_by(connection, user_id, organization_id)?;
    let actor = Actor::load(connection, user_id, false)?;
    if let Some(name) = change.name.as_ref().filter(|name| **name != before.name) {
        diesel::update(organizations::table.find(organization_id))
            .set(organizations::name.eq(name))
            .execute(connection)?;
        audit::record(
            connection,
            &actor,
            Some(organization_id),
            "organization.renamed",
            format!("Renamed the organization from {} to {name}", before.name),
        )?;
    }
    if let Some(enabled) = change
        .remote_access_enabled
        .filter(|enabled| *enabled != before.remote_access_enabled)
    {
        diesel::update(organizations::table.find(organization_id))
            .set(organizations::remote_access_enabled.eq(i32::from(enabled)))
            .execute(connection)?;
        audit::record(
            connection,
            &actor,
            Some(organization_id),
            "organization.remote_access_changed",
            if enabled {
                "Switched remote access on for the organization"
            } else {
                "Switched remote access off for every DMS of the organization"
            },
        )?;
    }
    // What was written is known: no need to read the organization again.
    let organization = Organization {
        name: change.name.unwrap_or_else(|| before.name.clone()),
        remote_access_enabled: change
            .remote_access_enabled
            .unwrap_or(before.remote_access_enabled),
        ..before
    };
    let members = membership_rules::member_ids(connection, organization_id)?;
    Ok((organization, members))
}

/// What deleting an organization took with it: its DMSs (to cut off) and its members (whose
/// overviews change).
#[derive(Debug)]
pub struct Deleted {
    pub system_ids: Vec<String>,
    pub member_ids: Vec<String>,
}

/// Deletes the organization with everything in it, as `user_id` (checked already), once
/// `confirm_name` is exactly its name.
pub fn delete(
    connection: &mut AnyConnection,
    user_id: &str,
    organization_id: &str,
    confirm_name: &str,
) -> Result<Deleted, AppError> {
    let name: String = organizations::table
        .find(organization_id)
        .select(organizations::name)
        .first(connection)?;
    if confirm_name.trim() != name {
        return Err(AppError::Validation {
            code: ErrorCode::ConfirmationMismatch,
            message: "Type the organization's name exactly to delete it.".into(),
        });
    }
    let system_ids: Vec<String> = systems::table
        .filter(systems::organization_id.eq(organization_id))
        .select(systems::id)
        .load(connection)?;
    let member_ids = membership_rules::member_ids(connection, organization_id)?;
    audit::record_as(
        connection,
        user_id,
        false,
        Some(organization_id),
        "organization.deleted",
        format!(
            "Deleted the organization {name} with its {} DMS(s)",
            system_ids.len()
        ),
    )?;
    // Memberships, DMSs, their codes, keys, roles and history go with it (ON DELETE
    // CASCADE); the audit log keeps its entries.
    diesel::delete(organizations::table.find(organization_id)).execute(connection)?;
    Ok(Deleted {
        system_ids,
        member_ids,
    })
}

/// `items` by the id of the organization each belongs to (order kept within each).
pub fn group_by_organization<T>(
    items: Vec<T>,
    organization_of: impl Fn(&T) -> &str,
) -> HashMap<String, Vec<T>> {
    let mut grouped: HashMap<String, Vec<T>> = HashMap::new();
    for item in items {
        grouped
            .entry(organization_of(&item).to_owned())
            .or_default()
            .push(item);
    }
    grouped
}
