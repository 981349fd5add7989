//! The audit log: every change to an organization's people, settings and DMSs, and every
//! staff action, with who did it and when. Written in the same transaction as the change.

use chrono::NaiveDateTime;
use diesel::prelude::*;
use stratus_shared::api::audit::{AuditEntry, AuditPage, AuditPageQuery};
use stratus_shared::api::audit::{AUDIT_PAGE_DEFAULT, AUDIT_PAGE_MAX};

use crate::db::schema::{audit_log, users};
use crate::db::AnyConnection;
use crate::error::AppError;

/// Who did something.
#[derive(Debug, Clone)]
pub struct Actor {
    pub user_id: Option<String>,
    pub email: String,
    /// Acting as platform staff (staff console or command line), not as a member.
    pub by_staff: bool,
}

impl Actor {
    /// A signed-in person, acting as a member (`by_staff` false) or as staff.
    pub fn load(conn: &mut AnyConnection, user_id: &str, by_staff: bool) -> QueryResult<Self> {
        let email: String = users::table
            .find(user_id)
            .select(users::email)
            .first(conn)?;
        Ok(Self {
            user_id: Some(user_id.to_owned()),
            email,
            by_staff,
        })
    }

    /// The operator at the server's command line (`stratus staff …`).
    pub fn command_line() -> Self {
        Self {
            user_id: None,
            email: "command line".into(),
            by_staff: true,
        }
    }
}

/// Writes one entry. `action` is a stable code (`member.added`), `detail` says it for people.
pub fn record(
    conn: &mut AnyConnection,
    actor: &Actor,
    organization_id: Option<&str>,
    action: &str,
    detail: impl Into<String>,
) -> QueryResult<()> {
    diesel::insert_into(audit_log::table)
        .values((
            audit_log::id.eq(uuid::Uuid::now_v7().to_string()),
            audit_log::at.eq(crate::db::now().naive_utc()),
            audit_log::actor_id.eq(actor.user_id.as_deref()),
            audit_log::actor_email.eq(&actor.email),
            audit_log::by_staff.eq(i32::from(actor.by_staff)),
            audit_log::organization_id.eq(organization_id),
            audit_log::action.eq(action),
            audit_log::detail.eq(detail.into()),
        ))
        .execute(conn)?;
    Ok(())
}

/// Writes one entry as the signed-in `user_id`, acting `by_staff` or as a member, and returns
/// that actor (for a response that names them).
pub fn record_as(
    conn: &mut AnyConnection,
    user_id: &str,
    by_staff: bool,
    organization_id: Option<&str>,
    action: &str,
    detail: impl Into<String>,
) -> QueryResult<Actor> {
    let actor = Actor::load(conn, user_id, by_staff)?;
    record(conn, &actor, organization_id, action, detail)?;
    Ok(actor)
}

/// Which entries to list.
#[derive(Debug, Clone, Copy)]
pub enum Scope<'a> {
    /// One organization's entries.
    Organization(&'a str),
    /// Entries of staff actions (the staff console's log).
    Staff,
}

/// The newest `limit` entries of `scope`, newest first.
pub fn list(
    conn: &mut AnyConnection,
    scope: Scope<'_>,
    limit: i64,
) -> QueryResult<Vec<AuditEntry>> {
    entries(conn, scope, None, limit)
}

/// One page of `scope`, newest first: at most `query.limit` entries older than the entry
/// `query.before` (keyset paging on `(at, id)`, so entries written meanwhile neither repeat
/// nor go missing). A limit out of range, or a `before` not in `scope`, is refused.
pub fn page(
    conn: &mut AnyConnection,
    scope: Scope<'_>,
    query: &AuditPageQuery,
) -> Result<AuditPage, AppError> {
    let limit = query.limit.unwrap_or(AUDIT_PAGE_DEFAULT);
    if !(1..=AUDIT_PAGE_MAX).contains(&limit) {
        return Err(AppError::InvalidRequest(format!(
            "limit must be between 1 and {AUDIT_PAGE_MAX}."
        )));
    }
    let before = match &query.before {
        None => None,
        Some(id) => Some(position(conn, scope, id)?.ok_or_else(|| {
            AppError::InvalidRequest("before names no entry of this audit log.".into())
        })?),
    };
    let page_size = usize::try_from(limit).unwrap_or(usize::MAX);
    // One more than the page, to know whether another page follows.
    let mut entries = entries(conn, scope, before, i64::from(limit) + 1)?;
    let next_before = if entries.len() > page_size {
        entries.truncate(page_size);
        entries.last().map(|entry| entry.id.clone())
    } else {
        None
    };
    Ok(AuditPage {
        entries,
        next_before,
    })
}

/// Where the entry `id` of `scope` stands in the order, if it is one of `scope`'s.
fn position(
    conn: &mut AnyConnection,
    scope: Scope<'_>,
    id: &str,
) -> QueryResult<Option<(NaiveDateTime, String)>> {
    scoped(scope)
        .filter(audit_log::id.eq(id))
        .select((audit_log::at, audit_log::id))
        .first(conn)
        .optional()
}

fn scoped(scope: Scope<'_>) -> audit_log::BoxedQuery<'_, crate::db::MultiBackend> {
    let query = audit_log::table.into_boxed();
    match scope {
        Scope::Organization(id) => query.filter(audit_log::organization_id.eq(id)),
        Scope::Staff => query.filter(audit_log::by_staff.eq(1)),
    }
}

/// Up to `limit` entries of `scope` older than `before`, newest first.
fn entries(
    conn: &mut AnyConnection,
    scope: Scope<'_>,
    before: Option<(NaiveDateTime, String)>,
    limit: i64,
) -> QueryResult<Vec<AuditEntry>> {
    let mut query = scoped(scope);
    if let Some((at, id)) = before {
        query = query.filter(
            audit_log::at
                .lt(at)
                .or(audit_log::at.eq(at).and(audit_log::id.lt(id))),
        );
    }
    type Row = (
        String,
        NaiveDateTime,
        String,
        i32,
        Option<String>,
        String,
        String,
    );
    let rows: Vec<Row> = query
        .order((audit_log::at.desc(), audit_log::id.desc()))
        .limit(limit)
        .select((
            audit_log::id,
            audit_log::at,
            audit_log::actor_email,
            audit_log::by_staff,
            audit_log::organization_id,
            audit_log::action,
            audit_log::detail,
        ))
        .load(conn)?;
    Ok(rows
        .into_iter()
        .map(
            |(id, at, actor_email, by_staff, organization_id, action, detail)| AuditEntry {
                id,
                at: at.and_utc(),
                actor_email,
                by_staff: by_staff != 0,
                organization_id,
                action,
                detail,
            },
        )
        .collect())
}
