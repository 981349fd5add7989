//! Sharing: dashboards of an organization's DMSs shared with other people, and the audit
//! wording of sharing and unsharing. Who may do what is decided before (`auth::access`).

use chrono::NaiveDateTime;
use diesel::prelude::*;
use stratus_shared::api::organizations::Role;
use stratus_shared::api::sharing::{OrganizationSharedDashboards, ShareDashboard, SharedDashboard};

use crate::auth::access::Access;
use crate::auth::permissions::{allows, Action};
use crate::db::schema::{shared_dashboards, systems, users};
use crate::db::AnyConnection;
use crate::domain::audit;
use crate::domain::organizations::group_by_organization;
use crate::domain::text::{parse_text, NAME_MAX};
use crate::error::AppError;

pub use stratus_shared::text::SHARED_WITH_MAX;

/// A shared dashboard as listed: with its DMS's name and its creator's email.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = shared_dashboards)]
struct DashboardRecord {
    id: String,
    organization_id: String,
    system_id: String,
    #[diesel(select_expression = systems::name)]
    system_name: String,
    name: String,
    shared_with: String,
    /// Gone when the account that shared it was deleted.
    #[diesel(select_expression = users::email.nullable())]
    #[diesel(select_expression_type = diesel::dsl::Nullable<users::email>)]
    created_by: Option<String>,
    created_at: NaiveDateTime,
}

impl From<DashboardRecord> for SharedDashboard {
    fn from(record: DashboardRecord) -> Self {
        SharedDashboard {
            id: record.id,
            organization_id: record.organization_id,
            system_id: record.system_id,
            system_name: record.system_name,
            name: record.name,
            shared_with: record.shared_with,
            created_by: record.created_by,
            created_at: record.created_at.and_utc(),
        }
    }
}

/// What unsharing needs of a shared dashboard: whose it is and what its audit entry names.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = shared_dashboards)]
pub struct ShareRecord {
    pub id: String,
    pub organization_id: String,
    pub name: String,
    pub shared_with: String,
}

/// A dashboard to share, checked: name and recipients read.
#[derive(Debug, Clone)]
pub struct NewShare {
    pub name: String,
    pub system_id: String,
    pub shared_with: String,
}

impl NewShare {
    /// Reads a request to share a dashboard.
    pub fn parse(raw: ShareDashboard) -> Result<Self, AppError> {
        Ok(Self {
            name: parse_text(&raw.name, "dashboard name", NAME_MAX)?,
            shared_with: parse_text(&raw.shared_with, "\"shared with\" text", SHARED_WITH_MAX)?,
            system_id: raw.system_id,
        })
    }
}

/// The shared dashboards of the organizations, by name.
pub fn of_organizations(
    connection: &mut AnyConnection,
    organization_ids: &[String],
) -> QueryResult<Vec<SharedDashboard>> {
    let records: Vec<DashboardRecord> = shared_dashboards::table
        .inner_join(systems::table)
        .left_join(users::table)
        .filter(shared_dashboards::organization_id.eq_any(organization_ids))
        .order((shared_dashboards::name.asc(), shared_dashboards::id.asc()))
        .select(DashboardRecord::as_select())
        .load(connection)?;
    Ok(records.into_iter().map(SharedDashboard::from).collect())
}

/// The shared dashboards of `organizations` (id, name, the viewer's role; by name), grouped
/// by organization, each saying whether the viewer may share there.
pub fn grouped(
    connection: &mut AnyConnection,
    organizations: Vec<(String, String, Role)>,
) -> QueryResult<Vec<OrganizationSharedDashboards>> {
    let ids: Vec<String> = organizations.iter().map(|(id, _, _)| id.clone()).collect();
    let mut of_organization =
        group_by_organization(of_organizations(connection, &ids)?, |dashboard| {
            &dashboard.organization_id
        });
    Ok(organizations
        .into_iter()
        .map(|(id, name, role)| OrganizationSharedDashboards {
            dashboards: of_organization.remove(&id).unwrap_or_default(),
            can_manage: allows(role, Action::ManageSharedDashboards),
            organization_id: id,
            organization_name: name,
            role,
        })
        .collect())
}

/// The shared dashboard with this id, if there is one.
pub fn find(
    connection: &mut AnyConnection,
    dashboard_id: &str,
) -> QueryResult<Option<ShareRecord>> {
    shared_dashboards::table
        .find(dashboard_id)
        .select(ShareRecord::as_select())
        .first(connection)
        .optional()
}

/// Writes a shared dashboard (checked already) and returns its id. No audit entry: the demo
/// seeds through it too (without a creator).
pub fn insert(
    connection: &mut AnyConnection,
    organization_id: &str,
    share: &NewShare,
    created_by: Option<&str>,
    now: NaiveDateTime,
) -> QueryResult<String> {
    let id = uuid::Uuid::new_v4().to_string();
    diesel::insert_into(shared_dashboards::table)
        .values((
            shared_dashboards::id.eq(&id),
            shared_dashboards::organization_id.eq(organization_id),
            shared_dashboards::system_id.eq(&share.system_id),
            shared_dashboards::name.eq(&share.name),
            shared_dashboards::shared_with.eq(&share.shared_with),
            shared_dashboards::created_by.eq(created_by),
            shared_dashboards::created_at.eq(now),
        ))
        .execute(connection)?;
    Ok(id)
}

/// Shares a dashboard of one of `organization_id`'s DMSs as `user_id` (allowed there through
/// `access`). A DMS of another organization answers 404, as if it did not exist.
pub fn share(
    connection: &mut AnyConnection,
    user_id: &str,
    access: Access,
    organization_id: &str,
    share: NewShare,
) -> Result<SharedDashboard, AppError> {
    let system_name: String = systems::table
        .filter(systems::id.eq(&share.system_id))
        .filter(systems::organization_id.eq(organization_id))
        .select(systems::name)
        .first(connection)
        .optional()?
        .ok_or_else(|| AppError::NotFound("There is no such DMS in this organization.".into()))?;
    let now = crate::db::now().naive_utc();
    let id = insert(connection, organization_id, &share, Some(user_id), now)?;
    let NewShare {
        name,
        system_id,
        shared_with,
    } = share;
    let actor = audit::record_as(
        connection,
        user_id,
        access.by_staff,
        Some(organization_id),
        "dashboard.shared",
        format!("Shared the dashboard \"{name}\" of the DMS \"{system_name}\" with {shared_with}."),
    )?;
    Ok(SharedDashboard {
        id,
        organization_id: organization_id.to_owned(),
        system_id,
        system_name,
        name,
        shared_with,
        created_by: Some(actor.email),
        created_at: now.and_utc(),
    })
}

/// Stops sharing `dashboard` as `user_id` (allowed through `access`).
pub fn unshare(
    connection: &mut AnyConnection,
    user_id: &str,
    access: Access,
    dashboard: ShareRecord,
) -> QueryResult<()> {
    diesel::delete(shared_dashboards::table.find(&dashboard.id)).execute(connection)?;
    audit::record_as(
        connection,
        user_id,
        access.by_staff,
        Some(&dashboard.organization_id),
        "dashboard.unshared",
        format!(
            "Stopped sharing the dashboard \"{}\" with {}.",
            dashboard.name, dashboard.shared_with
        ),
    )?;
    Ok(())
}
