//! `/api/staff/...`: the staff console. Platform staff (`users.is_staff`, granted only with
//! `stratus staff grant`) find accounts and organizations, create organizations, link people
//! or not-yet-registered addresses to organizations, change and remove those links, import
//! legacy accounts from CSV, and read the log of staff actions. Every change writes an audit
//! entry in its own transaction.

use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;

use actix_web::{
    delete, dev::Payload, get, patch, post, web, FromRequest, HttpRequest, HttpResponse,
};
use chrono::NaiveDateTime;
use diesel::prelude::*;
use futures_util::StreamExt;
use stratus_shared::api::audit::AuditEntry;
use stratus_shared::api::members::{ChangeRole, Member, Members};
use stratus_shared::api::organizations::Role;
use stratus_shared::api::staff::{
    AccountSearchResult, CreateLink, CreateStaffOrganization, CreatedStaffOrganization,
    ImportReport, ImportRowError, LinkSource, Linked, OrganizationLink, OrganizationSearchResult,
    PendingLink, StaffAccount, StaffOrganization, IMPORT_MAX_BYTES, IMPORT_MAX_ROWS,
};
use stratus_shared::email::EmailAddress;
use stratus_shared::ApiError;

use crate::auth::CurrentUser;
use crate::db::schema::{invitations, memberships, organizations, users};
use crate::db::{AnyConnection, Database};
use crate::domain::accounts;
use crate::domain::audit::{self, Actor};
use crate::domain::memberships::{self as membership_rules, LinkOutcome};
use crate::domain::organizations::insert as insert_organization;
use crate::domain::text::{parse_text, NAME_MAX};
use crate::error::AppError;
use crate::live::LiveHub;
use crate::mail::Mail;
use crate::state::AppState;

/// Most accounts (and, separately, pending links) one account search lists.
const ACCOUNT_SEARCH_LIMIT: i64 = 50;
/// Most organizations one organization search lists.
const ORGANIZATION_SEARCH_LIMIT: i64 = 1_000;
/// Audit entries listed when the request names no limit, and the most it may ask for.
const AUDIT_DEFAULT: i64 = 100;
const AUDIT_MAX: i64 = 1_000;

diesel::define_sql_function! {
    /// SQL `lower()`, the same on SQLite and PostgreSQL (ASCII at least).
    fn lower(text: diesel::sql_types::Text) -> diesel::sql_types::Text;
}

/// A signed-in person who is platform staff. Anyone else signed in gets 403 `forbidden`;
/// without a valid access token, 401.
#[derive(Debug, Clone)]
pub struct StaffUser {
    /// The staff member's user id.
    pub user_id: String,
}

impl FromRequest for StaffUser {
    type Error = AppError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, AppError>>>>;

    fn from_request(request: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let user = CurrentUser::from_request(request, payload).into_inner();
        let database = request.app_data::<web::Data<Database>>().cloned();
        Box::pin(async move {
            let user = user?;
            let database = database.ok_or_else(|| {
                AppError::Internal(anyhow::anyhow!("the database is not registered"))
            })?;
            let user_id = user.user_id.clone();
            let is_staff = database
                .run_app(move |conn| {
                    Ok(accounts::find_by_id(conn, &user_id)?.map(|account| account.is_staff != 0))
                })
                .await?;
            match is_staff {
                Some(true) => Ok(StaffUser {
                    user_id: user.user_id,
                }),
                Some(false) => Err(AppError::Forbidden(
                    "The staff console is for platform staff only.".into(),
                )),
                // The account is gone: the token is of no use any more.
                None => Err(AppError::Unauthorized),
            }
        })
    }
}

/// `?q=`: a case-insensitive piece of an email address or an organization's name or slug.
#[derive(Debug, serde::Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct SearchQuery {
    /// Empty (or absent) lists the first ones alphabetically.
    #[serde(default)]
    q: String,
}

/// `?limit=` of the audit log.
#[derive(Debug, serde::Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AuditQuery {
    /// How many entries, newest first (default 100, at most 1,000).
    limit: Option<i64>,
}

/// A LIKE pattern matching values that contain `text` (its own `%`, `_` and `\` taken
/// literally).
fn contains_pattern(text: &str) -> String {
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

/// An organization as the staff console names it.
struct OrganizationRef {
    id: String,
    name: String,
}

/// The organization with this id, or 404.
fn find_organization(conn: &mut AnyConnection, id: &str) -> Result<OrganizationRef, AppError> {
    let name: Option<String> = organizations::table
        .find(id)
        .select(organizations::name)
        .first(conn)
        .optional()?;
    name.map(|name| OrganizationRef {
        id: id.to_owned(),
        name,
    })
    .ok_or_else(|| AppError::NotFound("There is no such organization.".into()))
}

/// What linking an address did, or that it was linked already.
enum LinkEffect {
    Linked(Linked),
    AlreadyLinked,
}

/// Links `email` to `organization` with `role` ([`membership_rules::link_email`]) and says
/// what that did as the staff console shows it. Writes no audit entry and sends no mail (the
/// callers do).
fn link_address(
    conn: &mut AnyConnection,
    staff_user_id: &str,
    organization: &OrganizationRef,
    email: &EmailAddress,
    role: Role,
    source: LinkSource,
    now: NaiveDateTime,
) -> Result<LinkEffect, AppError> {
    let outcome = membership_rules::link_email(
        conn,
        &organization.id,
        email,
        role,
        source,
        staff_user_id,
        now,
    )?;
    Ok(match outcome {
        LinkOutcome::AlreadyMember | LinkOutcome::AlreadyPending => LinkEffect::AlreadyLinked,
        LinkOutcome::Member { user_id, email } => LinkEffect::Linked(Linked::Member {
            user_id,
            email,
            link: OrganizationLink {
                organization_id: organization.id.clone(),
                organization_name: organization.name.clone(),
                role,
                since: now.and_utc(),
            },
        }),
        LinkOutcome::Pending { invitation_id } => LinkEffect::Linked(Linked::Pending {
            link: PendingLink {
                id: invitation_id,
                email: email.to_string(),
                organization_id: organization.id.clone(),
                organization_name: organization.name.clone(),
                role,
                source,
                created_at: now.and_utc(),
            },
        }),
    })
}

/// The audit detail of a link.
fn link_detail(linked: &Linked) -> String {
    match linked {
        Linked::Member { email, link, .. } => format!(
            "Linked {email} to {} as {}",
            link.organization_name,
            link.role.label()
        ),
        Linked::Pending { link } => format!(
            "Linked {} to {} as {} (pending until the address is verified)",
            link.email,
            link.organization_name,
            link.role.label()
        ),
    }
}

/// The mail telling the person about a staff link.
fn link_mail(linked: &Linked, public_url: &str) -> Mail {
    match linked {
        Linked::Member { email, link, .. } => Mail {
            to: email.clone(),
            subject: format!("You now belong to {} on Stratus", link.organization_name),
            body: format!(
                "Stratus staff linked your account to {} as {}.\n\n\
                 Sign in at {public_url}/login to see its DataMiner Systems.",
                link.organization_name,
                link.role.label()
            ),
        },
        Linked::Pending { link } => Mail {
            to: link.email.clone(),
            subject: format!("You are invited to {} on Stratus", link.organization_name),
            body: format!(
                "Stratus staff linked this address to {} as {}.\n\n\
                 Create your account with this address at {public_url}/signup (or sign in at \
                 {public_url}/login if you have one): once the address is verified, you \
                 belong to {}.",
                link.organization_name,
                link.role.label(),
                link.organization_name
            ),
        },
    }
}

/// The 404 message of an account that does not belong to the organization.
const NOT_LINKED: &str = "This account does not belong to that organization.";

fn email_of(conn: &mut AnyConnection, user_id: &str) -> Result<String, AppError> {
    Ok(users::table
        .find(user_id)
        .select(users::email)
        .first(conn)?)
}

type PendingRow = (
    String,
    String,
    String,
    String,
    String,
    String,
    NaiveDateTime,
);

fn pending_link(row: PendingRow) -> Option<PendingLink> {
    let (id, email, organization_id, organization_name, role, source, created_at) = row;
    Some(PendingLink {
        id,
        email,
        organization_id,
        organization_name,
        role: Role::parse(&role)?,
        source: LinkSource::parse(&source).unwrap_or(LinkSource::Invitation),
        created_at: created_at.and_utc(),
    })
}

/// Accounts whose email contains `q`, with their organizations, and the pending links of
/// addresses that contain it.
fn search_accounts(conn: &mut AnyConnection, q: &str) -> Result<AccountSearchResult, AppError> {
    let pattern = contains_pattern(q);
    let mut rows: Vec<(String, String, Option<NaiveDateTime>, i32)> = users::table
        .filter(users::email.like(&pattern).escape('\\'))
        .order(users::email.asc())
        .limit(ACCOUNT_SEARCH_LIMIT + 1)
        .select((
            users::id,
            users::email,
            users::email_verified_at,
            users::is_staff,
        ))
        .load(conn)?;
    let mut truncated = rows.len() as i64 > ACCOUNT_SEARCH_LIMIT;
    rows.truncate(ACCOUNT_SEARCH_LIMIT as usize);
    let ids: Vec<String> = rows.iter().map(|row| row.0.clone()).collect();
    let link_rows: Vec<(String, String, String, String, NaiveDateTime)> = memberships::table
        .inner_join(organizations::table)
        .filter(memberships::user_id.eq_any(&ids))
        .order(organizations::name.asc())
        .select((
            memberships::user_id,
            organizations::id,
            organizations::name,
            memberships::role,
            memberships::created_at,
        ))
        .load(conn)?;
    let mut links: HashMap<String, Vec<OrganizationLink>> = HashMap::new();
    for (user_id, organization_id, organization_name, role, since) in link_rows {
        if let Some(role) = Role::parse(&role) {
            links.entry(user_id).or_default().push(OrganizationLink {
                organization_id,
                organization_name,
                role,
                since: since.and_utc(),
            });
        }
    }
    let accounts = rows
        .into_iter()
        .map(|(user_id, email, verified_at, is_staff)| StaffAccount {
            links: links.remove(&user_id).unwrap_or_default(),
            user_id,
            email,
            verified: verified_at.is_some(),
            is_staff: is_staff != 0,
        })
        .collect();
    let mut pending_rows: Vec<PendingRow> = invitations::table
        .inner_join(organizations::table)
        .filter(invitations::email.like(&pattern).escape('\\'))
        .order((invitations::email.asc(), organizations::name.asc()))
        .limit(ACCOUNT_SEARCH_LIMIT + 1)
        .select((
            invitations::id,
            invitations::email,
            organizations::id,
            organizations::name,
            invitations::role,
            invitations::source,
            invitations::created_at,
        ))
        .load(conn)?;
    truncated |= pending_rows.len() as i64 > ACCOUNT_SEARCH_LIMIT;
    pending_rows.truncate(ACCOUNT_SEARCH_LIMIT as usize);
    Ok(AccountSearchResult {
        accounts,
        pending: pending_rows.into_iter().filter_map(pending_link).collect(),
        truncated,
    })
}

/// How many rows per organization a `(organization_id, count)` query gave.
fn counts_by_organization(rows: Vec<(String, i64)>) -> HashMap<String, i64> {
    rows.into_iter().collect()
}

/// Organizations whose name or slug contains `q`, with their member and pending counts.
fn search_organizations(
    conn: &mut AnyConnection,
    q: &str,
) -> Result<OrganizationSearchResult, AppError> {
    let pattern = contains_pattern(q);
    let mut rows: Vec<(String, String, String, NaiveDateTime)> = organizations::table
        .filter(
            lower(organizations::name)
                .like(&pattern)
                .escape('\\')
                .or(organizations::slug.like(&pattern).escape('\\')),
        )
        .order((organizations::name.asc(), organizations::id.asc()))
        .limit(ORGANIZATION_SEARCH_LIMIT + 1)
        .select((
            organizations::id,
            organizations::name,
            organizations::slug,
            organizations::created_at,
        ))
        .load(conn)?;
    let truncated = rows.len() as i64 > ORGANIZATION_SEARCH_LIMIT;
    rows.truncate(ORGANIZATION_SEARCH_LIMIT as usize);
    let ids: Vec<String> = rows.iter().map(|row| row.0.clone()).collect();
    let members = counts_by_organization(
        memberships::table
            .filter(memberships::organization_id.eq_any(&ids))
            .group_by(memberships::organization_id)
            .select((memberships::organization_id, diesel::dsl::count_star()))
            .load(conn)?,
    );
    let pending = counts_by_organization(
        invitations::table
            .filter(invitations::organization_id.eq_any(&ids))
            .group_by(invitations::organization_id)
            .select((invitations::organization_id, diesel::dsl::count_star()))
            .load(conn)?,
    );
    Ok(OrganizationSearchResult {
        organizations: rows
            .into_iter()
            .map(|(id, name, slug, created_at)| StaffOrganization {
                member_count: members.get(&id).copied().unwrap_or(0),
                pending_count: pending.get(&id).copied().unwrap_or(0),
                id,
                name,
                slug,
                created_at: created_at.and_utc(),
            })
            .collect(),
        truncated,
    })
}

/// Find accounts by email (substring, case-insensitive; at most 50), each with its
/// organizations, plus the pending links of matching addresses (not registered or not
/// verified yet).
#[utoipa::path(
    tag = "staff",
    security(("access_token" = [])),
    params(SearchQuery),
    responses(
        (status = 200, description = "Matching accounts and pending links", body = AccountSearchResult),
        (status = 401, description = "Not signed in", body = ApiError),
        (status = 403, description = "Not platform staff", body = ApiError),
    )
)]
#[get("/staff/accounts")]
pub async fn staff_search_accounts(
    _staff: StaffUser,
    query: web::Query<SearchQuery>,
    database: web::Data<Database>,
) -> Result<HttpResponse, AppError> {
    let q = query.into_inner().q;
    let result = database
        .run_app(move |conn| search_accounts(conn, &q))
        .await?;
    Ok(HttpResponse::Ok().json(result))
}

/// Every organization (or those whose name or slug contains `q`), with member counts.
#[utoipa::path(
    tag = "staff",
    security(("access_token" = [])),
    params(SearchQuery),
    responses(
        (status = 200, description = "Organizations", body = OrganizationSearchResult),
        (status = 401, description = "Not signed in", body = ApiError),
        (status = 403, description = "Not platform staff", body = ApiError),
    )
)]
#[get("/staff/organizations")]
pub async fn staff_list_organizations(
    _staff: StaffUser,
    query: web::Query<SearchQuery>,
    database: web::Data<Database>,
) -> Result<HttpResponse, AppError> {
    let q = query.into_inner().q;
    let result = database
        .run_app(move |conn| search_organizations(conn, &q))
        .await?;
    Ok(HttpResponse::Ok().json(result))
}

/// Create an organization with its first Owner: a verified account is Owner at once, any
/// other address once it is verified (a pending Owner link, mailed).
#[utoipa::path(
    tag = "staff",
    security(("access_token" = [])),
    request_body = CreateStaffOrganization,
    responses(
        (status = 201, description = "Created", body = CreatedStaffOrganization),
        (status = 400, description = "Invalid name", body = ApiError),
        (status = 401, description = "Not signed in", body = ApiError),
        (status = 403, description = "Not platform staff", body = ApiError),
        (status = 422, description = "email_invalid", body = ApiError),
    )
)]
#[post("/staff/organizations")]
pub async fn staff_create_organization(
    staff: StaffUser,
    body: web::Json<CreateStaffOrganization>,
    state: web::Data<AppState>,
    database: web::Data<Database>,
    hub: web::Data<LiveHub>,
) -> Result<HttpResponse, AppError> {
    let name = parse_text(&body.name, "organization name", NAME_MAX)?;
    let owner_email = EmailAddress::parse(&body.owner_email)?;
    let created = database
        .run_write(move |conn| {
            let now = crate::db::now().naive_utc();
            let (id, slug) = insert_organization(conn, &name, now)?;
            let organization = OrganizationRef {
                id: id.clone(),
                name: name.clone(),
            };
            let owner = match link_address(
                conn,
                &staff.user_id,
                &organization,
                &owner_email,
                Role::Owner,
                LinkSource::Staff,
                now,
            )? {
                LinkEffect::Linked(linked) => linked,
                LinkEffect::AlreadyLinked => {
                    return Err(AppError::Internal(anyhow::anyhow!(
                        "a new organization already had a link"
                    )))
                }
            };
            audit::record_as(
                conn,
                &staff.user_id,
                true,
                Some(id.as_str()),
                "staff.organization_created",
                format!("Created organization {name} with first Owner {owner_email}"),
            )?;
            let pending_count = i64::from(matches!(owner, Linked::Pending { .. }));
            Ok(CreatedStaffOrganization {
                organization: StaffOrganization {
                    id,
                    name,
                    slug,
                    member_count: 1 - pending_count,
                    pending_count,
                    created_at: now.and_utc(),
                },
                owner,
            })
        })
        .await?;
    if let Linked::Member { user_id, .. } = &created.owner {
        hub.membership_changed(user_id);
    }
    state
        .mailer
        .send_in_background(link_mail(&created.owner, &state.settings.public_url()));
    Ok(HttpResponse::Created().json(created))
}

/// An organization's members and pending links.
#[utoipa::path(
    tag = "staff",
    security(("access_token" = [])),
    params(("organization_id" = String, Path, description = "The organization's id")),
    responses(
        (status = 200, description = "Members and pending links", body = Members),
        (status = 401, description = "Not signed in", body = ApiError),
        (status = 403, description = "Not platform staff", body = ApiError),
        (status = 404, description = "No such organization", body = ApiError),
    )
)]
#[get("/staff/organizations/{organization_id}/members")]
pub async fn staff_organization_members(
    _staff: StaffUser,
    path: web::Path<String>,
    database: web::Data<Database>,
) -> Result<HttpResponse, AppError> {
    let organization_id = path.into_inner();
    let members = database
        .run_app(move |conn| {
            find_organization(conn, &organization_id)?;
            Ok(membership_rules::people(conn, &organization_id)?)
        })
        .await?;
    Ok(HttpResponse::Ok().json(members))
}

/// Link an account or a not-yet-registered address to an organization: a verified account
/// becomes a member at once; any other address gets a pending link (mailed) that applies when
/// the address is verified.
#[utoipa::path(
    tag = "staff",
    security(("access_token" = [])),
    request_body = CreateLink,
    responses(
        (status = 201, description = "Linked, or pending", body = Linked),
        (status = 401, description = "Not signed in", body = ApiError),
        (status = 403, description = "Not platform staff", body = ApiError),
        (status = 404, description = "No such organization", body = ApiError),
        (status = 409, description = "Already linked to that organization", body = ApiError),
        (status = 422, description = "email_invalid", body = ApiError),
    )
)]
#[post("/staff/links")]
pub async fn staff_create_link(
    staff: StaffUser,
    body: web::Json<CreateLink>,
    state: web::Data<AppState>,
    database: web::Data<Database>,
    hub: web::Data<LiveHub>,
) -> Result<HttpResponse, AppError> {
    let CreateLink {
        email,
        organization_id,
        role,
    } = body.into_inner();
    let email = EmailAddress::parse(&email)?;
    let linked = database
        .run_write(move |conn| {
            let organization = find_organization(conn, &organization_id)?;
            let now = crate::db::now().naive_utc();
            let linked = match link_address(
                conn,
                &staff.user_id,
                &organization,
                &email,
                role,
                LinkSource::Staff,
                now,
            )? {
                LinkEffect::Linked(linked) => linked,
                LinkEffect::AlreadyLinked => {
                    return Err(AppError::Conflict(format!(
                        "{email} is already linked to {}.",
                        organization.name
                    )))
                }
            };
            audit::record_as(
                conn,
                &staff.user_id,
                true,
                Some(organization.id.as_str()),
                "staff.link_created",
                link_detail(&linked),
            )?;
            Ok(linked)
        })
        .await?;
    if let Linked::Member { user_id, .. } = &linked {
        hub.membership_changed(user_id);
    }
    state
        .mailer
        .send_in_background(link_mail(&linked, &state.settings.public_url()));
    Ok(HttpResponse::Created().json(linked))
}

/// Change an account's role in an organization (appoint Admins and Owners). The last Owner
/// cannot be demoted.
#[utoipa::path(
    tag = "staff",
    security(("access_token" = [])),
    params(
        ("organization_id" = String, Path, description = "The organization's id"),
        ("user_id" = String, Path, description = "The account's user id"),
    ),
    request_body = ChangeRole,
    responses(
        (status = 200, description = "The member with the new role", body = Member),
        (status = 401, description = "Not signed in", body = ApiError),
        (status = 403, description = "Not platform staff", body = ApiError),
        (status = 404, description = "No such organization or member", body = ApiError),
        (status = 409, description = "last_owner: the organization would have no Owner", body = ApiError),
    )
)]
#[patch("/staff/organizations/{organization_id}/members/{user_id}")]
pub async fn staff_change_role(
    staff: StaffUser,
    path: web::Path<(String, String)>,
    body: web::Json<ChangeRole>,
    database: web::Data<Database>,
    hub: web::Data<LiveHub>,
) -> Result<HttpResponse, AppError> {
    let (organization_id, user_id) = path.into_inner();
    let role = body.role;
    let member = database
        .run_write(move |conn| {
            let organization = find_organization(conn, &organization_id)?;
            let before = membership_rules::change_role(conn, &organization.id, &user_id, role)?;
            let member = membership_rules::member(conn, &organization.id, &user_id)?
                .ok_or_else(|| AppError::NotFound(NOT_LINKED.into()))?;
            audit::record_as(
                conn,
                &staff.user_id,
                true,
                Some(organization.id.as_str()),
                "staff.role_changed",
                format!(
                    "Changed {}'s role in {} from {} to {}",
                    member.email,
                    organization.name,
                    before.label(),
                    role.label()
                ),
            )?;
            Ok(member)
        })
        .await?;
    hub.membership_changed(&member.user_id);
    Ok(HttpResponse::Ok().json(member))
}

/// Remove an account from an organization. The last Owner cannot be removed.
#[utoipa::path(
    tag = "staff",
    security(("access_token" = [])),
    params(
        ("organization_id" = String, Path, description = "The organization's id"),
        ("user_id" = String, Path, description = "The account's user id"),
    ),
    responses(
        (status = 204, description = "Removed"),
        (status = 401, description = "Not signed in", body = ApiError),
        (status = 403, description = "Not platform staff", body = ApiError),
        (status = 404, description = "No such organization or member", body = ApiError),
        (status = 409, description = "last_owner: the organization would have no Owner", body = ApiError),
    )
)]
#[delete("/staff/organizations/{organization_id}/members/{user_id}")]
pub async fn staff_remove_member(
    staff: StaffUser,
    path: web::Path<(String, String)>,
    database: web::Data<Database>,
    hub: web::Data<LiveHub>,
) -> Result<HttpResponse, AppError> {
    let (organization_id, user_id) = path.into_inner();
    let removed = user_id.clone();
    database
        .run_write(move |conn| {
            let organization = find_organization(conn, &organization_id)?;
            let role = membership_rules::remove_member(conn, &organization.id, &user_id)?;
            let email = email_of(conn, &user_id)?;
            audit::record_as(
                conn,
                &staff.user_id,
                true,
                Some(organization.id.as_str()),
                "staff.link_removed",
                format!(
                    "Unlinked {email} ({}) from {}",
                    role.label(),
                    organization.name
                ),
            )?;
            Ok(())
        })
        .await?;
    hub.membership_changed(&removed);
    Ok(HttpResponse::NoContent().finish())
}

/// Remove a pending link (of any source) before its address is verified.
#[utoipa::path(
    tag = "staff",
    security(("access_token" = [])),
    params(("link_id" = String, Path, description = "The pending link's id")),
    responses(
        (status = 204, description = "Removed"),
        (status = 401, description = "Not signed in", body = ApiError),
        (status = 403, description = "Not platform staff", body = ApiError),
        (status = 404, description = "No such pending link", body = ApiError),
    )
)]
#[delete("/staff/pending-links/{link_id}")]
pub async fn staff_remove_pending_link(
    staff: StaffUser,
    path: web::Path<String>,
    database: web::Data<Database>,
) -> Result<HttpResponse, AppError> {
    let link_id = path.into_inner();
    database
        .run_write(move |conn| {
            let link: Option<(String, String, String, String)> = invitations::table
                .inner_join(organizations::table)
                .filter(invitations::id.eq(&link_id))
                .select((
                    invitations::email,
                    invitations::role,
                    organizations::id,
                    organizations::name,
                ))
                .first(conn)
                .optional()?;
            let (email, role, organization_id, organization_name) =
                link.ok_or_else(|| AppError::NotFound("There is no such pending link.".into()))?;
            diesel::delete(invitations::table.find(&link_id)).execute(conn)?;
            let role = Role::parse(&role).map_or(role.clone(), |r| r.label().to_owned());
            audit::record_as(
                conn,
                &staff.user_id,
                true,
                Some(organization_id.as_str()),
                "staff.pending_link_removed",
                format!("Removed the pending link of {email} ({role}) to {organization_name}"),
            )?;
            Ok(())
        })
        .await?;
    Ok(HttpResponse::NoContent().finish())
}

/// One data row of a legacy import file, as read (not checked yet).
#[derive(Debug, Clone, PartialEq, Eq)]
struct ImportRow {
    line: u64,
    email: String,
    organization: String,
    role: String,
}

/// Turns csv's byte offsets into 1-based line numbers (csv's own line count is off after CRLF
/// line ends, and its offset may point at the line break before a record). Offsets only grow,
/// so each byte is counted once.
struct LineCounter<'a> {
    bytes: &'a [u8],
    counted_to: usize,
    line: u64,
}

impl<'a> LineCounter<'a> {
    fn new(text: &'a str) -> Self {
        Self {
            bytes: text.as_bytes(),
            counted_to: 0,
            line: 1,
        }
    }

    /// The line of the record csv says starts at `offset`.
    fn line_at(&mut self, offset: u64) -> u64 {
        let bytes = self.bytes;
        let mut offset = usize::try_from(offset)
            .unwrap_or(usize::MAX)
            .clamp(self.counted_to, bytes.len());
        while offset < bytes.len() && matches!(bytes[offset], b'\r' | b'\n') {
            offset += 1;
        }
        self.line += bytes[self.counted_to..offset]
            .iter()
            .filter(|&&b| b == b'\n')
            .count() as u64;
        self.counted_to = offset;
        self.line
    }
}

/// Reads the CSV rows (`email, organization, role`; an optional header row whose first field
/// is `email`). Lines that cannot be read are reported, not fatal; more than
/// [`IMPORT_MAX_ROWS`] rows is.
fn read_import(text: &str) -> Result<(Vec<ImportRow>, Vec<ImportRowError>), AppError> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .trim(csv::Trim::All)
        .from_reader(text.as_bytes());
    let (mut rows, mut errors) = (Vec::new(), Vec::new());
    let mut lines = LineCounter::new(text);
    let mut first = true;
    for record in reader.records() {
        let record = match record {
            Ok(record) => record,
            Err(error) => {
                let line = error
                    .position()
                    .map_or(0, |position| lines.line_at(position.byte()));
                errors.push(ImportRowError {
                    line,
                    reason: format!("This line cannot be read as CSV: {error}"),
                });
                continue;
            }
        };
        let line = record
            .position()
            .map_or(0, |position| lines.line_at(position.byte()));
        let is_header = first
            && record
                .get(0)
                .is_some_and(|f| f.eq_ignore_ascii_case("email"));
        first = false;
        if is_header {
            continue;
        }
        if record.iter().all(str::is_empty) {
            continue;
        }
        if rows.len() + errors.len() >= IMPORT_MAX_ROWS {
            return Err(AppError::TooLarge(format!(
                "A legacy import takes at most {IMPORT_MAX_ROWS} rows: split the file."
            )));
        }
        if record.len() != 3 {
            errors.push(ImportRowError {
                line,
                reason: format!(
                    "Expected 3 columns (email, organization, role), found {}.",
                    record.len()
                ),
            });
            continue;
        }
        rows.push(ImportRow {
            line,
            email: record[0].to_owned(),
            organization: record[1].to_owned(),
            role: record[2].to_owned(),
        });
    }
    Ok((rows, errors))
}

/// The organizations an import row may name: by slug or by exact name, case-insensitive.
struct OrganizationIndex {
    by_slug: HashMap<String, usize>,
    /// Names shared by several organizations map to `None`: the slug must be used.
    by_name: HashMap<String, Option<usize>>,
    organizations: Vec<OrganizationRef>,
}

impl OrganizationIndex {
    fn new(rows: Vec<(String, String, String)>) -> Self {
        let mut index = Self {
            by_slug: HashMap::new(),
            by_name: HashMap::new(),
            organizations: Vec::with_capacity(rows.len()),
        };
        for (position, (id, name, slug)) in rows.into_iter().enumerate() {
            index.by_slug.insert(slug.to_lowercase(), position);
            index
                .by_name
                .entry(name.to_lowercase())
                .and_modify(|found| *found = None)
                .or_insert(Some(position));
            index.organizations.push(OrganizationRef { id, name });
        }
        index
    }

    fn find(&self, key: &str) -> Result<usize, String> {
        let key = key.to_lowercase();
        if let Some(position) = self.by_slug.get(&key) {
            return Ok(*position);
        }
        match self.by_name.get(&key) {
            Some(Some(position)) => Ok(*position),
            Some(None) => Err(format!(
                "Several organizations are named \"{key}\": use the slug."
            )),
            None => Err(format!(
                "There is no organization \"{key}\" (by slug or name)."
            )),
        }
    }
}

/// A checked import row.
struct GoodRow {
    line: u64,
    email: EmailAddress,
    organization: usize,
    role: Role,
}

/// Checks every row: email shape, organization, role, and duplicates within the file.
fn check_import(
    rows: Vec<ImportRow>,
    organizations: &OrganizationIndex,
    errors: &mut Vec<ImportRowError>,
) -> Vec<GoodRow> {
    let mut seen: HashMap<(String, usize), u64> = HashMap::new();
    let mut good = Vec::new();
    for row in rows {
        let mut reasons = Vec::new();
        let email = EmailAddress::parse(&row.email)
            .map_err(|error| reasons.push(format!("Bad email \"{}\": {error}", row.email)))
            .ok();
        let organization = organizations
            .find(&row.organization)
            .map_err(|reason| reasons.push(reason))
            .ok();
        let role = Role::parse(&row.role.to_lowercase());
        if role.is_none() {
            reasons.push(format!(
                "Bad role \"{}\": use owner, admin or member.",
                row.role
            ));
        }
        if let (Some(email), Some(organization), Some(role)) = (email, organization, role) {
            let key = (email.as_str().to_owned(), organization);
            if let Some(first_line) = seen.get(&key) {
                reasons.push(format!(
                    "Duplicate in the file: line {first_line} already links {email} to {}.",
                    organizations.organizations[organization].name
                ));
            } else {
                seen.insert(key, row.line);
                good.push(GoodRow {
                    line: row.line,
                    email,
                    organization,
                    role,
                });
                continue;
            }
        }
        errors.push(ImportRowError {
            line: row.line,
            reason: reasons.join(" "),
        });
    }
    good
}

/// How much of a too-large upload is still read (and dropped) before answering, so that the
/// client, still sending, receives the 413 instead of a reset connection.
const DRAIN_LIMIT: usize = 8 * 1024 * 1024;

/// Reads the request body, refusing more than `limit` bytes.
async fn read_body(mut payload: web::Payload, limit: usize) -> Result<Vec<u8>, AppError> {
    let too_large = || {
        AppError::TooLarge(format!(
            "A legacy import file may be at most {} KiB: split it.",
            limit / 1024
        ))
    };
    let mut body = Vec::new();
    let mut received = 0usize;
    while let Some(chunk) = payload.next().await {
        let chunk = chunk.map_err(|error| AppError::InvalidRequest(error.to_string()))?;
        received = received.saturating_add(chunk.len());
        if received > DRAIN_LIMIT {
            return Err(too_large());
        }
        if received <= limit {
            body.extend_from_slice(&chunk);
        }
    }
    if received > limit {
        return Err(too_large());
    }
    Ok(body)
}

/// Import legacy accounts from CSV (`email,organization,role`, header row optional;
/// organization by slug or exact name, case-insensitive; role owner, admin or member). Every
/// row is checked and refused lines are listed with the reason; the good rows are applied in
/// one transaction: verified accounts become members at once, other addresses get a pending
/// legacy link (no mail) that applies when the address is verified. At most 1 MiB and 5,000
/// rows.
#[utoipa::path(
    tag = "staff",
    security(("access_token" = [])),
    request_body(content = String, content_type = "text/csv", description = "email,organization,role lines"),
    responses(
        (status = 200, description = "What was applied, and the refused lines", body = ImportReport),
        (status = 400, description = "The file is not UTF-8 text", body = ApiError),
        (status = 401, description = "Not signed in", body = ApiError),
        (status = 403, description = "Not platform staff", body = ApiError),
        (status = 413, description = "Over 1 MiB or 5,000 rows", body = ApiError),
    )
)]
#[post("/staff/legacy-import")]
pub async fn staff_legacy_import(
    staff: StaffUser,
    payload: web::Payload,
    database: web::Data<Database>,
    hub: web::Data<LiveHub>,
) -> Result<HttpResponse, AppError> {
    let body = read_body(payload, IMPORT_MAX_BYTES).await?;
    let text = String::from_utf8(body).map_err(|_| {
        AppError::InvalidRequest("The file is not UTF-8 text: save the CSV as UTF-8.".into())
    })?;
    let (rows, mut errors) = read_import(&text)?;
    let (report, linked_users) = database
        .run_write(move |conn| {
            let organizations: Vec<(String, String, String)> = organizations::table
                .select((organizations::id, organizations::name, organizations::slug))
                .load(conn)?;
            let index = OrganizationIndex::new(organizations);
            let good = check_import(rows, &index, &mut errors);
            errors.sort_by_key(|error| error.line);
            let actor = Actor::load(conn, &staff.user_id, true)?;
            let now = crate::db::now().naive_utc();
            let mut report = ImportReport {
                applied: 0,
                linked_now: 0,
                pending: 0,
                already_linked: 0,
                errors: Vec::new(),
            };
            let mut linked_users = Vec::new();
            for row in good {
                let organization = &index.organizations[row.organization];
                report.applied += 1;
                match link_address(
                    conn,
                    &staff.user_id,
                    organization,
                    &row.email,
                    row.role,
                    LinkSource::Legacy,
                    now,
                )? {
                    LinkEffect::AlreadyLinked => report.already_linked += 1,
                    LinkEffect::Linked(linked) => {
                        match &linked {
                            Linked::Member { user_id, .. } => {
                                report.linked_now += 1;
                                linked_users.push(user_id.clone());
                            }
                            Linked::Pending { .. } => report.pending += 1,
                        }
                        audit::record(
                            conn,
                            &actor,
                            Some(organization.id.as_str()),
                            "staff.link_created",
                            format!(
                                "{} (legacy import, line {})",
                                link_detail(&linked),
                                row.line
                            ),
                        )?;
                    }
                }
            }
            audit::record(
                conn,
                &actor,
                None,
                "staff.legacy_import",
                format!(
                    "Legacy import: {} rows applied ({} linked now, {} pending, {} already \
                         linked), {} lines refused",
                    report.applied,
                    report.linked_now,
                    report.pending,
                    report.already_linked,
                    errors.len()
                ),
            )?;
            report.errors = errors;
            Ok((report, linked_users))
        })
        .await?;
    for user_id in &linked_users {
        hub.membership_changed(user_id);
    }
    Ok(HttpResponse::Ok().json(report))
}

/// The log of staff actions (console and command line), newest first.
#[utoipa::path(
    tag = "staff",
    security(("access_token" = [])),
    params(AuditQuery),
    responses(
        (status = 200, description = "Staff actions, newest first", body = [AuditEntry]),
        (status = 401, description = "Not signed in", body = ApiError),
        (status = 403, description = "Not platform staff", body = ApiError),
    )
)]
#[get("/staff/audit")]
pub async fn staff_audit_log(
    _staff: StaffUser,
    query: web::Query<AuditQuery>,
    database: web::Data<Database>,
) -> Result<HttpResponse, AppError> {
    let limit = query.limit.unwrap_or(AUDIT_DEFAULT).clamp(1, AUDIT_MAX);
    let entries = database
        .run_app(move |conn| Ok(audit::list(conn, audit::Scope::Staff, limit)?))
        .await?;
    Ok(HttpResponse::Ok().json(entries))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn index() -> OrganizationIndex {
        OrganizationIndex::new(vec![
            ("1".into(), "Acme".into(), "acme".into()),
            ("2".into(), "Globex Corp".into(), "globex-corp".into()),
            ("3".into(), "Twin Co".into(), "twin-co".into()),
            ("4".into(), "Twin Co".into(), "twin-co-x7k2q9".into()),
        ])
    }

    #[test]
    fn like_patterns_take_wildcards_literally() {
        assert_eq!(contains_pattern(" Ann_B%\\ "), "%ann\\_b\\%\\\\%");
        assert_eq!(contains_pattern(""), "%%");
    }

    #[test]
    fn the_header_row_is_optional_and_lines_are_counted_from_one() {
        let (rows, errors) = read_import("email,organization,role\na@x.com,Acme,owner\n").unwrap();
        assert!(errors.is_empty());
        assert_eq!(rows.len(), 1);
        assert_eq!(rows[0].line, 2);
        let text = "\u{feff}a@x.com, acme , Admin\r\n\r\nb@x.com,acme,member\r\n\"x\ny\",acme\r\nc@x.com,acme,member";
        let (rows, errors) = read_import(text).unwrap();
        assert_eq!(rows.len(), 3);
        assert_eq!(errors.len(), 1);
        assert_eq!(errors[0].line, 4, "a quoted field may span lines");
        assert_eq!(rows[2].line, 6);
        assert_eq!(rows[0].line, 1);
        assert_eq!(rows[0].organization, "acme");
        assert_eq!(rows[1].line, 3);
    }

    #[test]
    fn rows_with_the_wrong_column_count_are_reported() {
        let (rows, errors) = read_import("a@x.com,Acme\nb@x.com,Acme,member,extra\n").unwrap();
        assert!(rows.is_empty());
        assert_eq!(errors.len(), 2);
        assert_eq!(errors[0].line, 1);
        assert_eq!(errors[1].line, 2);
        assert!(errors[0].reason.contains("found 2"), "{}", errors[0].reason);
    }

    #[test]
    fn too_many_rows_are_refused_whole() {
        let text = "a@x.com,Acme,member\n".repeat(IMPORT_MAX_ROWS);
        assert!(read_import(&text).is_ok());
        let text = format!("{text}b@x.com,Acme,member\n");
        assert!(matches!(read_import(&text), Err(AppError::TooLarge(_))));
    }

    #[test]
    fn every_row_is_checked_with_its_reason() {
        let text = "a@x.com,ACME,Owner\n\
                    not-an-email,Acme,member\n\
                    b@x.com,Nowhere,member\n\
                    c@x.com,globex corp,boss\n\
                    A@X.com,acme,member\n\
                    d@x.com,Twin Co,member\n\
                    e@x.com,TWIN-CO-x7k2q9,admin\n";
        let (rows, mut errors) = read_import(text).unwrap();
        let good = check_import(rows, &index(), &mut errors);
        let good: Vec<(u64, &str, usize, Role)> = good
            .iter()
            .map(|row| (row.line, row.email.as_str(), row.organization, row.role))
            .collect();
        assert_eq!(
            good,
            vec![
                (1, "a@x.com", 0, Role::Owner),
                (7, "e@x.com", 3, Role::Admin)
            ]
        );
        let lines: Vec<u64> = errors.iter().map(|error| error.line).collect();
        assert_eq!(lines, vec![2, 3, 4, 5, 6]);
        assert!(errors[0].reason.starts_with("Bad email"));
        assert!(errors[1].reason.contains("no organization"));
        assert!(errors[2].reason.starts_with("Bad role"));
        assert!(errors[3].reason.contains("Duplicate in the file: line 1"));
        assert!(errors[4].reason.contains("use the slug"));
    }
}
