//! DMSs (`systems`): registering one, the list a person sees, one DMS's detail with its
//! history, renaming and removing. The hub's live view overlays what is stored.

use chrono::NaiveDateTime;
use diesel::prelude::*;
use stratus_shared::api::organizations::{
    CreatedSystem, DmsAccountLink, RemoteAccess, Role, StateTransition, System, SystemDetail,
};
use stratus_shared::ConnectionState;

use crate::db::schema::{dms_account_links, organizations, system_state_transitions, systems};
use crate::db::AnyConnection;
use crate::domain::remote_access::{self, RemoteHosts};
use crate::domain::{audit, connect_codes, memberships};
use crate::error::AppError;
use crate::live::LiveHub;

/// Transitions shown on a DMS's detail.
const DETAIL_TRANSITIONS: i64 = 100;

/// A DMS as stored.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = systems)]
pub struct SystemRecord {
    pub id: String,
    pub organization_id: String,
    pub name: String,
    pub created_at: NaiveDateTime,
    pub last_online_at: Option<NaiveDateTime>,
    pub state: String,
    pub dms_version: Option<String>,
    pub agent_count: Option<i32>,
    pub remote_access_enabled: i32,
}

impl SystemRecord {
    /// The DMS as the API shows it: what is stored, overlaid with the hub's live view (which
    /// is newer when it has one).
    pub fn into_system(self, hub: &LiveHub) -> System {
        let stored = System {
            state: ConnectionState::parse(&self.state).unwrap_or(ConnectionState::Unknown),
            last_online_at: self.last_online_at.map(|at| at.and_utc()),
            created_at: self.created_at.and_utc(),
            id: self.id,
            organization_id: self.organization_id,
            name: self.name,
            dms_version: self.dms_version,
            agent_count: self.agent_count,
            remote_access_enabled: self.remote_access_enabled != 0,
        };
        match hub.view(&stored.id) {
            Some(live) => System {
                state: live.state,
                last_online_at: live.last_online_at,
                dms_version: live.dms_version,
                agent_count: live.agent_count,
                ..stored
            },
            None => stored,
        }
    }
}

/// The stored DMS with this id.
pub fn find(connection: &mut AnyConnection, system_id: &str) -> QueryResult<SystemRecord> {
    systems::table
        .find(system_id)
        .select(SystemRecord::as_select())
        .first(connection)
}

/// The id of the organization's DMS named `name`, if there is one (names are unique in an
/// organization).
pub fn find_by_name(
    connection: &mut AnyConnection,
    organization_id: &str,
    name: &str,
) -> QueryResult<Option<String>> {
    systems::table
        .filter(systems::organization_id.eq(organization_id))
        .filter(systems::name.eq(name))
        .select(systems::id)
        .first(connection)
        .optional()
}

/// Refuses a DMS name another DMS of the organization (other than `renamed`) already has.
fn ensure_name_free(
    connection: &mut AnyConnection,
    organization_id: &str,
    name: &str,
    renamed: Option<&str>,
) -> Result<(), AppError> {
    let mut others = systems::table
        .filter(systems::organization_id.eq(organization_id))
        .filter(systems::name.eq(name))
        .into_boxed();
    if let Some(id) = renamed {
        others = others.filter(systems::id.ne(id));
    }
    let taken: i64 = others.count().get_result(connection)?;
    if taken > 0 {
        return Err(AppError::Conflict(
            "A DMS of that name already exists in this organization.".into(),
        ));
    }
    Ok(())
}

/// Registers a DMS (never connected, with its first transition) and its first connect code.
/// `created_by` is the person asking (none for demo and benchmark data); no audit entry.
pub fn insert(
    connection: &mut AnyConnection,
    organization_id: &str,
    name: &str,
    created_by: Option<&str>,
) -> Result<CreatedSystem, AppError> {
    ensure_name_free(connection, organization_id, name, None)?;
    let now = crate::db::now().naive_utc();
    let id = uuid::Uuid::new_v4().to_string();
    diesel::insert_into(systems::table)
        .values((
            systems::id.eq(&id),
            systems::organization_id.eq(organization_id),
            systems::name.eq(name),
            systems::created_at.eq(now),
            systems::state.eq(ConnectionState::NeverConnected.as_str()),
        ))
        .execute(connection)?;
    diesel::insert_into(system_state_transitions::table)
        .values((
            system_state_transitions::id.eq(uuid::Uuid::now_v7().to_string()),
            system_state_transitions::system_id.eq(&id),
            system_state_transitions::state.eq(ConnectionState::NeverConnected.as_str()),
            system_state_transitions::at.eq(now),
        ))
        .execute(connection)?;
    remote_access::assign_label(connection, &id)?;
    let connect_code = connect_codes::insert(connection, &id, created_by, now)?;
    Ok(CreatedSystem {
        system: System {
            id,
            organization_id: organization_id.to_owned(),
            name: name.to_owned(),
            state: ConnectionState::NeverConnected,
            last_online_at: None,
            dms_version: None,
            agent_count: None,
            created_at: now.and_utc(),
            remote_access_enabled: true,
        },
        connect_code,
    })
}

/// Registers a DMS as `user_id` (checked already), in the audit log.
pub fn register(
    connection: &mut AnyConnection,
    user_id: &str,
    organization_id: &str,
    name: &str,
) -> Result<CreatedSystem, AppError> {
    let created = insert(connection, organization_id, name, Some(user_id))?;
    audit::record_as(
        connection,
        user_id,
        false,
        Some(organization_id),
        "system.registered",
        format!("Registered the DMS {name}"),
    )?;
    Ok(created)
}

/// Every stored DMS of the organizations `user_id` belongs to, by name.
pub fn in_organizations(
    connection: &mut AnyConnection,
    organization_ids: &[String],
) -> QueryResult<Vec<SystemRecord>> {
    systems::table
        .filter(systems::organization_id.eq_any(organization_ids))
        .order((systems::name.asc(), systems::id.asc()))
        .select(SystemRecord::as_select())
        .load(connection)
}

/// A DMS's detail as stored: everything but the live overlay (see [`Detail::into_api`]).
#[derive(Debug)]
pub struct Detail {
    pub record: SystemRecord,
    pub remote_label: Option<String>,
    pub remote_access: RemoteAccess,
    pub my_role: Role,
    pub my_dms_account: Option<DmsAccountLink>,
    pub transitions: Vec<StateTransition>,
}

/// Reads a DMS's detail for `user_id`, whose `role` on it was checked already.
pub fn detail(
    connection: &mut AnyConnection,
    user_id: &str,
    system_id: &str,
    role: Role,
) -> QueryResult<Detail> {
    let (record, remote_label, organization_remote_access, system_remote_access) = systems::table
        .inner_join(organizations::table)
        .filter(systems::id.eq(system_id))
        .select((
            SystemRecord::as_select(),
            systems::remote_label,
            organizations::remote_access_enabled,
            systems::remote_access_enabled,
        ))
        .first::<(SystemRecord, Option<String>, i32, i32)>(connection)?;
    let my_dms_account = dms_account_links::table
        .find((system_id, user_id))
        .select((
            dms_account_links::dms_username,
            dms_account_links::confirmed_at,
        ))
        .first::<(String, Option<NaiveDateTime>)>(connection)
        .optional()?
        .map(|(dms_username, confirmed_at)| DmsAccountLink {
            dms_username,
            confirmed_at: confirmed_at.map(|at| at.and_utc()),
        });
    let transitions: Vec<(String, NaiveDateTime)> = system_state_transitions::table
        .filter(system_state_transitions::system_id.eq(system_id))
        .order((
            system_state_transitions::at.desc(),
            // Time-ordered ids (UUIDv7) settle transitions within the same microsecond.
            system_state_transitions::id.desc(),
        ))
        .limit(DETAIL_TRANSITIONS)
        .select((
            system_state_transitions::state,
            system_state_transitions::at,
        ))
        .load(connection)?;
    Ok(Detail {
        record,
        remote_label,
        remote_access: RemoteAccess {
            enabled_for_system: system_remote_access != 0,
            forced_off_by_organization: organization_remote_access == 0,
        },
        my_role: role,
        my_dms_account,
        transitions: transitions
            .into_iter()
            .filter_map(|(state, at)| {
                Some(StateTransition {
                    state: ConnectionState::parse(&state)?,
                    at: at.and_utc(),
                })
            })
            .collect(),
    })
}

impl Detail {
    /// The detail as the API shows it: with the hub's live view, and the DMS's remote origin
    /// when remote access is on.
    pub fn into_api(self, hub: &LiveHub, hosts: &RemoteHosts) -> SystemDetail {
        let remote_access_url = self
            .remote_label
            .as_deref()
            .filter(|_| self.remote_access.is_on())
            .map(|label| hosts.origin(label));
        SystemDetail {
            remote_access_url,
            remote_access: self.remote_access,
            my_role: self.my_role,
            my_dms_account: self.my_dms_account,
            system: self.record.into_system(hub),
            transitions: self.transitions,
        }
    }
}

/// Renames a DMS of `organization_id` as `user_id` (checked already), in the audit log.
/// Returns the DMS as stored now and the organization's members (whose overviews show names).
pub fn rename(
    connection: &mut AnyConnection,
    user_id: &str,
    organization_id: &str,
    system_id: &str,
    name: &str,
) -> Result<(SystemRecord, Vec<String>), AppError> {
    ensure_name_free(connection, organization_id, name, Some(system_id))?;
    let old_name = find(connection, system_id)?.name;
    diesel::update(systems::table.find(system_id))
        .set(systems::name.eq(name))
        .execute(connection)?;
    remote_access::assign_label(connection, system_id)?;
    record_change(
        connection,
        user_id,
        organization_id,
        system_id,
        "system.renamed",
        &format!("Renamed from {old_name}"),
    )?;
    let record = find(connection, system_id)?;
    let members = memberships::member_ids(connection, organization_id)?;
    Ok((record, members))
}

/// Removes a DMS of `organization_id` as `user_id` (checked already), in the audit log; its
/// codes, keys, roles and history go with it.
pub fn remove(
    connection: &mut AnyConnection,
    user_id: &str,
    organization_id: &str,
    system_id: &str,
) -> Result<(), AppError> {
    record_change(
        connection,
        user_id,
        organization_id,
        system_id,
        "system.removed",
        "Removed the DMS",
    )?;
    diesel::delete(systems::table.find(system_id)).execute(connection)?;
    Ok(())
}

/// Writes an audit entry about one DMS, naming it (entries outlive the DMS).
pub fn record_change(
    connection: &mut AnyConnection,
    user_id: &str,
    organization_id: &str,
    system_id: &str,
    action: &str,
    what: &str,
) -> QueryResult<()> {
    let name: String = systems::table
        .find(system_id)
        .select(systems::name)
        .first(connection)?;
    audit::record_as(
        connection,
        user_id,
        false,
        Some(organization_id),
        action,
        format!("{what} (DMS {name})"),
    )?;
    Ok(())
}
