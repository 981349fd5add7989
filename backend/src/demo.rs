//! Demo data: an organization with DMSs and fresh connect codes, for `stratus serve --demo` and
//! `stratus simulate --register N`, written straight to the database; for the demo, also
//! example projects and shared dashboards.

use diesel::prelude::*;
use stratus_shared::api::organizations::Role;

use stratus_shared::api::collaboration::{ProjectStatus, TaskStatus};

use crate::db::schema::{
    memberships, organizations, project_tasks, projects, shared_dashboards, systems, users,
};
use crate::db::Database;
use crate::error::AppError;
use crate::routes::organizations::{insert_connect_code, insert_system, unique_slug};

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
        .run_app(move |connection| {
            connection.transaction(|connection| {
                crate::db::begin_write(connection)?;
                let now = crate::db::now().naive_utc();
                let existing: Option<String> = organizations::table
                    .filter(organizations::name.eq(&organization_name))
                    .select(organizations::id)
                    .first(connection)
                    .optional()?;
                let organization_id = match existing {
                    Some(id) => id,
                    None => {
                        let id = uuid::Uuid::new_v4().to_string();
                        let slug = unique_slug(connection, &organization_name)?;
                        diesel::insert_into(organizations::table)
                            .values((
                                organizations::id.eq(&id),
                                organizations::name.eq(&organization_name),
                                organizations::slug.eq(slug),
                                organizations::created_at.eq(now),
                            ))
                            .execute(connection)?;
                        id
                    }
                };
                let people: Vec<(String, String)> = users::table
                    .select((users::id, users::email))
                    .load(connection)?;
                for (user_id, email) in people {
                    let role = if owner_email.as_deref() == Some(email.as_str()) {
                        Role::Owner
                    } else {
                        Role::Member
                    };
                    let member: i64 = memberships::table
                        .filter(memberships::organization_id.eq(&organization_id))
                        .filter(memberships::user_id.eq(&user_id))
                        .count()
                        .get_result(connection)?;
                    if member == 0 {
                        diesel::insert_into(memberships::table)
                            .values((
                                memberships::organization_id.eq(&organization_id),
                                memberships::user_id.eq(&user_id),
                                memberships::role.eq(role.as_str()),
                                memberships::created_at.eq(now),
                            ))
                            .execute(connection)?;
                    }
                }
                let mut prepared = Vec::with_capacity(names.len());
                for name in names {
                    let existing: Option<String> = systems::table
                        .filter(systems::organization_id.eq(&organization_id))
                        .filter(systems::name.eq(&name))
                        .select(systems::id)
                        .first(connection)
                        .optional()?;
                    let (system_id, code) = match existing {
                        Some(id) => {
                            let code = insert_connect_code(connection, &id, None, now)?;
                            (id, code.code)
                        }
                        None => {
                            let created = insert_system(connection, &organization_id, &name, None)?;
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
        .run_app(move |connection| {
            connection.transaction(|connection| {
                crate::db::begin_write(connection)?;
                let now = crate::db::now().naive_utc();
                let today = now.date();
                let day = |offset: i64| Some(today + chrono::TimeDelta::days(offset));
                let has_projects: i64 = projects::table
                    .filter(projects::organization_id.eq(&organization_id))
                    .count()
                    .get_result(connection)?;
                if has_projects == 0 {
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
                        let project_id = uuid::Uuid::new_v4().to_string();
                        diesel::insert_into(projects::table)
                            .values((
                                projects::id.eq(&project_id),
                                projects::organization_id.eq(&organization_id),
                                projects::name.eq(name),
                                projects::status.eq(status.as_str()),
                                projects::start_date.eq(start_date),
                                projects::due_date.eq(due_date),
                                projects::created_at.eq(now),
                                projects::updated_at.eq(now),
                            ))
                            .execute(connection)?;
                        for (position, (title, status)) in (1..).zip(tasks) {
                            diesel::insert_into(project_tasks::table)
                                .values((
                                    project_tasks::id.eq(uuid::Uuid::new_v4().to_string()),
                                    project_tasks::project_id.eq(&project_id),
                                    project_tasks::title.eq(*title),
                                    project_tasks::status.eq(status.as_str()),
                                    project_tasks::position.eq(position),
                                ))
                                .execute(connection)?;
                        }
                    }
                }
                let has_dashboards: i64 = shared_dashboards::table
                    .filter(shared_dashboards::organization_id.eq(&organization_id))
                    .count()
                    .get_result(connection)?;
                if has_dashboards == 0 {
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
                        diesel::insert_into(shared_dashboards::table)
                            .values((
                                shared_dashboards::id.eq(uuid::Uuid::new_v4().to_string()),
                                shared_dashboards::organization_id.eq(&organization_id),
                                shared_dashboards::system_id.eq(system_id),
                                shared_dashboards::name.eq(name),
                                shared_dashboards::shared_with.eq(shared_with),
                                shared_dashboards::created_at.eq(now),
                            ))
                            .execute(connection)?;
                    }
                }
                Ok(())
            })
        })
        .await
}
