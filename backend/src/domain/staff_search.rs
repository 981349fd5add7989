//! The staff console's searches: accounts by email (with their organizations and the pending
//! links of matching addresses) and organizations by name or slug (with their counts).

use std::collections::HashMap;

use chrono::NaiveDateTime;
use diesel::prelude::*;
use stratus_shared::api::organizations::Role;
use stratus_shared::api::staff::{
    AccountSearchResult, LinkSource, OrganizationLink, OrganizationSearchResult, PendingLink,
    StaffAccount, StaffOrganization,
};

use crate::db::schema::{invitations, memberships, organizations, users};
use crate::db::AnyConnection;

/// Most accounts (and, separately, pending links) one account search lists.
const ACCOUNT_SEARCH_LIMIT: i64 = 50;
/// Most organizations one organization search lists.
const ORGANIZATION_SEARCH_LIMIT: i64 = 1_000;

diesel::define_sql_function! {
    /// SQL `lower()`, the same on SQLite and PostgreSQL (ASCII at least).
    fn lower(text: diesel::sql_types::Text) -> diesel::sql_types::Text;
}

/// A LIKE pattern matching values that contain `text` (its own `%`, `_` and `\` taken
/// literally), case-insensitive when matched against lower-case values.
pub fn contains_pattern(text: &str) -> String {
    let mut pattern = String::with_capacity(text.len() + 2);
    pattern.push('%');
    for character in text.trim().to_lowercase().chars() {
        if matches!(character, '%' | '_' | '\\') {
            pattern.push('\\');
        }
        pattern.push(character);
    }
    pattern.push('%');
    pattern
}

/// An account as the search lists it.
#[derive(Debug, Queryable, Selectable)]
#[diesel(table_name = users)]
struct AccountRecord {
    id: String,
    email: String,
    email_verified_at: Option<NaiveDateTime>,
    is_staff: i32,
}

/// One membership of a found account.
#[derive(Debug, Queryable, Selectable)]
#[diesel(table_name = memberships)]
struct MembershipRecord {
    user_id: String,
    #[diesel(select_expression = organizations::id)]
    organization_id: String,
    #[diesel(select_expression = organizations::name)]
    organization_name: String,
    role: String,
    created_at: NaiveDateTime,
}

/// A pending link (an invitation of any source) with its organization's name.
#[derive(Debug, Queryable, Selectable)]
#[diesel(table_name = invitations)]
struct PendingLinkRecord {
    id: String,
    email: String,
    #[diesel(select_expression = organizations::id)]
    organization_id: String,
    #[diesel(select_expression = organizations::name)]
    organization_name: String,
    role: String,
    source: String,
    created_at: NaiveDateTime,
}

impl PendingLinkRecord {
    /// The link as the console shows it; none for a role the API does not know.
    fn into_pending_link(self) -> Option<PendingLink> {
        Some(PendingLink {
            role: Role::parse(&self.role)?,
            source: LinkSource::parse(&self.source).unwrap_or(LinkSource::Invitation),
            id: self.id,
            email: self.email,
            organization_id: self.organization_id,
            organization_name: self.organization_name,
            created_at: self.created_at.and_utc(),
        })
    }
}

/// An organization as the search lists it (before its counts).
#[derive(Debug, Queryable, Selectable)]
#[diesel(table_name = organizations)]
struct OrganizationRecord {
    id: String,
    name: String,
    slug: String,
    created_at: NaiveDateTime,
}

/// Keeps the first `limit` of `rows` (read with one more) and says whether there were more.
fn truncate<T>(rows: &mut Vec<T>, limit: i64) -> bool {
    let truncated = rows.len() as i64 > limit;
    rows.truncate(limit as usize);
    truncated
}

/// The organizations of each of the accounts `user_ids`, by organization name.
fn links_of(
    conn: &mut AnyConnection,
    user_ids: &[String],
) -> QueryResult<HashMap<String, Vec<OrganizationLink>>> {
    let records: Vec<MembershipRecord> = memberships::table
        .inner_join(organizations::table)
        .filter(memberships::user_id.eq_any(user_ids))
        .order(organizations::name.asc())
        .select(MembershipRecord::as_select())
        .load(conn)?;
    let mut links: HashMap<String, Vec<OrganizationLink>> = HashMap::new();
    for record in records {
        if let Some(role) = Role::parse(&record.role) {
            links
                .entry(record.user_id)
                .or_default()
                .push(OrganizationLink {
                    organization_id: record.organization_id,
                    organization_name: record.organization_name,
                    role,
                    since: record.created_at.and_utc(),
                });
        }
    }
    Ok(links)
}

/// Accounts whose email contains `q` (at most 50, by email), with their organizations, and the
/// pending links of addresses that contain it (at most 50).
pub fn accounts(conn: &mut AnyConnection, q: &str) -> QueryResult<AccountSearchResult> {
    let pattern = contains_pattern(q);
    let mut records: Vec<AccountRecord> = users::table
        .filter(users::email.like(&pattern).escape('\\'))
        .order(users::email.asc())
        .limit(ACCOUNT_SEARCH_LIMIT + 1)
        .select(AccountRecord::as_select())
        .load(conn)?;
    let mut truncated = truncate(&mut records, ACCOUNT_SEARCH_LIMIT);
    let ids: Vec<String> = records.iter().map(|record| record.id.clone()).collect();
    let mut links = links_of(conn, &ids)?;
    let accounts = records
        .into_iter()
        .map(|record| StaffAccount {
            links: links.remove(&record.id).unwrap_or_default(),
            user_id: record.id,
            email: record.email,
            verified: record.email_verified_at.is_some(),
            is_staff: record.is_staff != 0,
        })
        .collect();
    let mut pending: Vec<PendingLinkRecord> = invitations::table
        .inner_join(organizations::table)
        .filter(invitations::email.like(&pattern).escape('\\'))
        .order((invitations::email.asc(), organizations::name.asc()))
        .limit(ACCOUNT_SEARCH_LIMIT + 1)
        .select(PendingLinkRecord::as_select())
        .load(conn)?;
    truncated |= truncate(&mut pending, ACCOUNT_SEARCH_LIMIT);
    Ok(AccountSearchResult {
        accounts,
        pending: pending
            .into_iter()
            .filter_map(PendingLinkRecord::into_pending_link)
            .collect(),
        truncated,
    })
}

/// Organizations whose name or slug contains `q` (at most 1,000, by name), with their member
/// and pending counts.
pub fn organizations(conn: &mut AnyConnection, q: &str) -> QueryResult<OrganizationSearchResult> {
    let pattern = contains_pattern(q);
    let mut records: Vec<OrganizationRecord> = organizations::table
        .filter(
            lower(organizations::name)
                .like(&pattern)
                .escape('\\')
                .or(organizations::slug.like(&pattern).escape('\\')),
        )
        .order((organizations::name.asc(), organizations::id.asc()))
        .limit(ORGANIZATION_SEARCH_LIMIT + 1)
        .select(OrganizationRecord::as_select())
        .load(conn)?;
    let truncated = truncate(&mut records, ORGANIZATION_SEARCH_LIMIT);
    let ids: Vec<String> = records.iter().map(|record| record.id.clone()).collect();
    let members: HashMap<String, i64> = memberships::table
        .filter(memberships::organization_id.eq_any(&ids))
        .group_by(memberships::organization_id)
        .select((memberships::organization_id, diesel::dsl::count_star()))
        .load::<(String, i64)>(conn)?
        .into_iter()
        .collect();
    let pending: HashMap<String, i64> = invitations::table
        .filter(invitations::organization_id.eq_any(&ids))
        .group_by(invitations::organization_id)
        .select((invitations::organization_id, diesel::dsl::count_star()))
        .load::<(String, i64)>(conn)?
        .into_iter()
        .collect();
    Ok(OrganizationSearchResult {
        organizations: records
            .into_iter()
            .map(|record| StaffOrganization {
                member_count: members.get(&record.id).copied().unwrap_or(0),
                pending_count: pending.get(&record.id).copied().unwrap_or(0),
                id: record.id,
                name: record.name,
                slug: record.slug,
                created_at: record.created_at.and_utc(),
            })
            .collect(),
        truncated,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn like_patterns_take_wildcards_literally() {
        assert_eq!(contains_pattern(" Ann_B%\\ "), "%ann\\_b\\%\\\\%");
        assert_eq!(contains_pattern(""), "%%");
    }
}
