//! Demo data: an organization with DMSs and fresh connect codes, for `stratus serve --demo` and
//! `stratus simulate --register N`, written straight to the database.

use diesel::prelude::*;
use stratus_shared::api::organizations::Role;

use crate::db::schema::{memberships, organizations, systems, users};
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
