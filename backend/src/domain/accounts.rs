//! Accounts in the database: look-ups, creation, and the account as the API shows it.

use chrono::NaiveDateTime;
use diesel::prelude::*;
use stratus_shared::api::auth::{Account, AccountKind, OrganizationMembership, Role};
use stratus_shared::email::EmailAddress;

use crate::db::schema::{memberships, organizations, users};
use crate::db::AnyConnection;

/// A row of `users`.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = users)]
pub struct User {
    pub id: String,
    pub email: String,
    pub password_hash: Option<String>,
    pub email_verified_at: Option<NaiveDateTime>,
    pub is_staff: i32,
    pub created_at: NaiveDateTime,
}

impl User {
    /// Whether the owner has proven control of the address.
    pub fn is_verified(&self) -> bool {
        self.email_verified_at.is_some()
    }
}

/// The account with this (normalized) email, if any.
pub fn find_by_email(conn: &mut AnyConnection, email: &EmailAddress) -> QueryResult<Option<User>> {
    users::table
        .filter(users::email.eq(email.as_str()))
        .select(User::as_select())
        .first(conn)
        .optional()
}

/// The account with this id, if any.
pub fn find_by_id(conn: &mut AnyConnection, user_id: &str) -> QueryResult<Option<User>> {
    users::table
        .find(user_id)
        .select(User::as_select())
        .first(conn)
        .optional()
}

/// Whether the account with this id is platform staff (false when there is no such account).
pub fn is_staff(conn: &mut AnyConnection, user_id: &str) -> QueryResult<bool> {
    let flag: Option<i32> = users::table
        .find(user_id)
        .select(users::is_staff)
        .first(conn)
        .optional()?;
    Ok(flag == Some(1))
}

/// Every account's id and email (the demo makes everyone a member of its organization).
pub fn everyone(conn: &mut AnyConnection) -> QueryResult<Vec<(String, String)>> {
    users::table.select((users::id, users::email)).load(conn)
}

/// The id of the account with this email, created unverified and without a password when
/// there is none: an account nobody can sign in to, for tools that act as it with tokens they
/// sign themselves (the benchmark's subscriber).
pub fn find_or_insert_tool_account(
    conn: &mut AnyConnection,
    email: &str,
    now: NaiveDateTime,
) -> QueryResult<String> {
    let existing: Option<String> = users::table
        .filter(users::email.eq(email))
        .select(users::id)
        .first(conn)
        .optional()?;
    match existing {
        Some(id) => Ok(id),
        None => insert(conn, email, None, None, now),
    }
}

/// Writes a new account; returns its id.
fn insert(
    conn: &mut AnyConnection,
    email: &str,
    password_hash: Option<&str>,
    verified_at: Option<NaiveDateTime>,
    now: NaiveDateTime,
) -> QueryResult<String> {
    let id = uuid::Uuid::new_v4().to_string();
    diesel::insert_into(users::table)
        .values((
            users::id.eq(&id),
            users::email.eq(email),
            users::password_hash.eq(password_hash),
            users::email_verified_at.eq(verified_at),
            users::is_staff.eq(0),
            users::created_at.eq(now),
        ))
        .execute(conn)?;
    Ok(id)
}

/// Creates an unverified password account; returns its id.
pub fn create(
    conn: &mut AnyConnection,
    email: &EmailAddress,
    password_hash: &str,
    now: NaiveDateTime,
) -> QueryResult<String> {
    insert(conn, email.as_str(), Some(password_hash), None, now)
}

/// Creates an account from a provider sign-in: the provider vouched for the address, and
/// there is no password until the owner chooses one (forgot-password works for that).
pub fn create_verified_without_password(
    conn: &mut AnyConnection,
    email: &EmailAddress,
    now: NaiveDateTime,
) -> QueryResult<String> {
    insert(conn, email.as_str(), None, Some(now), now)
}

/// Replaces the account's password hash.
pub fn set_password_hash(
    conn: &mut AnyConnection,
    user_id: &str,
    password_hash: &str,
) -> QueryResult<()> {
    diesel::update(users::table.find(user_id))
        .set(users::password_hash.eq(password_hash))
        .execute(conn)
        .map(|_| ())
}

/// Removes the account's password (one the mailbox owner never confirmed).
pub fn clear_password(conn: &mut AnyConnection, user_id: &str) -> QueryResult<()> {
    diesel::update(users::table.find(user_id))
        .set(users::password_hash.eq(None::<String>))
        .execute(conn)
        .map(|_| ())
}

/// Records that the owner proved control of the address (the time of the first proof is
/// kept). Callers go through `memberships::address_verified`, which also applies the
/// organization links waiting for the address.
pub fn mark_verified(
    conn: &mut AnyConnection,
    user_id: &str,
    now: NaiveDateTime,
) -> QueryResult<()> {
    diesel::update(
        users::table
            .find(user_id)
            .filter(users::email_verified_at.is_null()),
    )
    .set(users::email_verified_at.eq(now))
    .execute(conn)?;
    Ok(())
}

/// The account as `GET /api/me` shows it, with its organizations.
pub fn view(conn: &mut AnyConnection, user: &User) -> QueryResult<Account> {
    let rows: Vec<(String, String, String, String)> = memberships::table
        .inner_join(organizations::table)
        .filter(memberships::user_id.eq(&user.id))
        .order(organizations::name.asc())
        .select((
            organizations::id,
            organizations::name,
            organizations::slug,
            memberships::role,
        ))
        .load(conn)?;
    let organizations: Vec<OrganizationMembership> = rows
        .into_iter()
        .filter_map(|(organization_id, name, slug, role)| {
            Some(OrganizationMembership {
                organization_id,
                name,
                slug,
                role: Role::parse(&role)?,
            })
        })
        .collect();
    Ok(Account {
        id: user.id.clone(),
        email: user.email.clone(),
        kind: if organizations.is_empty() {
            AccountKind::Guest
        } else {
            AccountKind::Member
        },
        is_staff: user.is_staff != 0,
        organizations,
    })
}

/// The account with this id as `GET /api/me` shows it, if there is one.
pub fn view_by_id(conn: &mut AnyConnection, user_id: &str) -> QueryResult<Option<Account>> {
    match find_by_id(conn, user_id)? {
        Some(user) => view(conn, &user).map(Some),
        None => Ok(None),
    }
}

/// Makes the account with `email` platform staff or not (the `stratus staff` command; the
/// public API can never do this).
pub async fn set_staff(
    database: &crate::db::Database,
    email: &str,
    is_staff: bool,
) -> anyhow::Result<()> {
    let email = EmailAddress::parse(email).map_err(|error| anyhow::anyhow!("{error}"))?;
    let changed = database
        .run(move |conn| {
            conn.transaction(|conn| {
                let changed = diesel::update(users::table.filter(users::email.eq(email.as_str())))
                    .set(users::is_staff.eq(i32::from(is_staff)))
                    .execute(conn)?;
                if changed == 1 {
                    let (action, detail) = if is_staff {
                        ("staff.granted", format!("Made {email} platform staff"))
                    } else {
                        (
                            "staff.revoked",
                            format!("{email} is no longer platform staff"),
                        )
                    };
                    crate::domain::audit::record(
                        conn,
                        &crate::domain::audit::Actor::command_line(),
                        None,
                        action,
                        detail,
                    )?;
                }
                Ok(changed)
            })
        })
        .await?;
    anyhow::ensure!(changed == 1, "there is no account with that email address");
    Ok(())
}
