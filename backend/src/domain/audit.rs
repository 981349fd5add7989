//! The audit log: every change to an organization's people, settings and DMSs, and every
//! staff action, with who did it and when. Written in the same transaction as the change.

use chrono::NaiveDateTime;
use diesel::prelude::*;
use stratus_shared::api::audit::AuditEntry;

use crate::db::schema::{audit_log, users};
use crate::db::AnyConnection;

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
    let mut query = audit_log::table.into_boxed();
    query = match scope {
        Scope::Organization(id) => query.filter(audit_log::organization_id.eq(id)),
        Scope::Staff => query.filter(audit_log::by_staff.eq(1)),
    };
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
