//! Demo data: an organization with DMSs and fresh connect codes, for `stratus serve --demo` and
//! `stratus simulate --register N`, written straight to the database; for the demo, also
//! example projects and shared dashboards.

use stratus_shared::api::collaboration::{ProjectStatus, Task, TaskStatus};
use stratus_shared::api::organizations::Role;

use crate::db::Database;
use crate::domain::accounts;
use crate::domain::dashboards::{self, NewShare};
use crate::domain::memberships as membership_rules;
use crate::domain::projects::{self as project_rules, tasks as task_rules};
use crate::domain::{connect_codes, organizations as organization_rules, systems as system_rules};
use crate::error::AppError;

/// A DMS ready to be played by the simulator.
#[derive(Debug, Clone)]
pub struct DemoSystem {
    pub system_id: String,
    pub organization_id: String,
    pub name: String,
    pub connect_code: String,
}

/// Finds or creates the organization `organization_name` and in it the DMSs `names` (existing
/// ones get a new connect code, keeping their id and history). Every person in the database
/// becomes a Member when not in it yet, and `owner_email`, when given, its Owner.
pub async fn prepare(
    database: &Database,
    organization_name: &str,
    names: Vec<String>,
    owner_email: Option<String>,
) -> Result<Vec<DemoSystem>, AppError> {
    let organization_name = organization_name.to_owned();
    database
        .run_write(move |connection| {
            let now = crate::db::now().naive_utc();
            let organization_id =
                match organization_rules::find_by_name(connection, &organization_name)? {
                    Some(id) => id,
                    None => organization_rules::insert(connection, &organization_name, now)?.0,
                };
            for (user_id, email) in accounts::everyone(connection)? {
                let role = if owner_email.as_deref() == Some(email.as_str()) {
                    Role::Owner
                } else {
                    Role::Member
                };
                if membership_rules::role_of(connection, &organization_id, &user_id)?.is_none() {
                    membership_rules::insert_membership(
                        connection,
                        &organization_id,
                        &user_id,
                        role,
                        now,
                    )?;
                }
            }
            let mut prepared = Vec::with_capacity(names.len());
            for name in names {
                let existing = system_rules::find_by_name(connection, &organization_id, &name)?;
                let (system_id, code) = match existing {
                    Some(id) => {
                        let code = connect_codes::insert(connection, &id, None, now)?;
                        (id, code.code)
                    }
                    None => {
                        let created =
                            system_rules::insert(connection, &organization_id, &name, None)?;
                        (created.system.id, created.connect_code.code)
                    }
                };
                prepared.push(DemoSystem {
                    system_id,
                    organization_id: organization_id.clone(),
                    name,
                    connect_code: code,
                });
            }
            Ok(prepared)
        })
        .await
}

/// Example projects (with tasks) and shared dashboards for the demo organization, so the
/// Collaboration and Sharing apps have something to show. Added once: an organization that
/// already has projects or shared dashboards keeps what it has.
pub async fn seed_apps(database: &Database, systems: &[DemoSystem]) -> Result<(), AppError> {
    let Some(first) = systems.first() else {
        return Ok(());
    };
    let organization_id = first.organization_id.clone();
    let system_ids: Vec<String> = systems.iter().map(|s| s.system_id.clone()).collect();
    database
        .run_write(move |connection| {
            let now = crate::db::now().naive_utc();
            let today = now.date();
            let day = |offset: i64| Some(today + chrono::TimeDelta::days(offset));
            let organization = [organization_id.clone()];
            if project_rules::of_organizations(connection, &organization)?.is_empty() {
                let examples = [
                    (
                        "Headend IP migration",
                        ProjectStatus::Active,
                        day(-30),
                        day(45),
                        &[
                            ("Inventory the SDI routes", TaskStatus::Done),
                            ("Install the ST 2110 spine switches", TaskStatus::InProgress),
                            ("Move the first ten channels", TaskStatus::Todo),
                        ][..],
                    ),
                    (
                        "Satellite uplink redundancy",
                        ProjectStatus::Planned,
                        day(14),
                        day(90),
                        &[
                            ("Choose the backup modem", TaskStatus::Todo),
                            ("Write the switchover procedure", TaskStatus::Todo),
                        ][..],
                    ),
                ];
                for (name, status, start_date, due_date, tasks) in examples {
                    let project_id = project_rules::insert(
                        connection,
                        &organization_id,
                        name,
                        status,
                        (start_date, due_date),
                        now,
                    )?;
                    for (position, (title, status)) in (1..).zip(tasks) {
                        task_rules::insert(
                            connection,
                            &Task {
                                id: uuid::Uuid::new_v4().to_string(),
                                project_id: project_id.clone(),
                                title: (*title).to_owned(),
                                status: *status,
                                position,
                            },
                        )?;
                    }
                }
            }
            if dashboards::of_organizations(connection, &organization)?.is_empty() {
                let examples = [
                    (
                        "Channel availability",
                        "noc@partner.example, ops@partner.example",
                    ),
                    ("Uplink carriers", "Everyone at Demo"),
                    ("Weekly SLA report", "customer-success@broadcaster.example"),
                ];
                for ((name, shared_with), system_id) in
                    examples.into_iter().zip(system_ids.iter().cycle())
                {
                    let share = NewShare {
                        name: name.to_owned(),
                        system_id: system_id.clone(),
                        shared_with: shared_with.to_owned(),
                    };
                    dashboards::insert(connection, &organization_id, &share, None, now)?;
                }
            }
            Ok(())
        })
        .await
}
