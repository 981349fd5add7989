//! `/api/staff/...`: the staff console. Platform staff (`users.is_staff`, granted only with
//! `stratus staff grant`) find accounts and organizations, create organizations, link people
//! or not-yet-registered addresses to organizations, change and remove those links, import
//! legacy accounts from CSV, and read the log of staff actions. Every change writes an audit
//! entry in its own transaction. The rules are in `domain::{staff_search, staff_links,
//! legacy_import}`; these handlers read the request and shape the answer.

mod upload;

use actix_web::{delete, get, patch, post, web, HttpResponse};
use stratus_shared::api::audit::{AuditPage, AuditPageQuery};
use stratus_shared::api::members::{ChangeRole, Member, Members, MembersQuery};
use stratus_shared::api::staff::{
    AccountSearchResult, CreateLink, CreateStaffOrganization, CreatedStaffOrganization,
    ImportReport, Linked, OrganizationSearchResult, IMPORT_MAX_BYTES,
};
use stratus_shared::email::EmailAddress;
use stratus_shared::ApiError;

use crate::auth::StaffUser;
use crate::db::Database;
use crate::domain::text::{parse_text, NAME_MAX};
use crate::domain::{audit, legacy_import, remote_access, staff_links, staff_search};
use crate::error::AppError;
use crate::json_body::JsonObject;
use crate::live::{LiveHub, RemoteCut};
use crate::mail::templates;
use crate::state::AppState;
use upload::read_limited;

/// `?q=`: a case-insensitive piece of an email address or an organization's name or slug.
#[derive(Debug, serde::Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct SearchQuery {
    /// Empty (or absent) lists the first ones alphabetically.
    #[serde(default)]
    q: String,
}

/// Tells the linked person: a member's open overviews change now, and a mail says what
/// happened (sent in the background).
fn announce(linked: &Linked, state: &AppState, hub: &LiveHub) {
    if let Linked::Member { user_id, .. } = linked {
        hub.membership_changed(user_id);
    }
    let mail = templates::staff_link(linked, &state.settings.public_url());
    state.mailer.send_in_background(mail);
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
        .run_app(move |conn| Ok(staff_search::accounts(conn, &q)?))
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
        .run_app(move |conn| Ok(staff_search::organizations(conn, &q)?))
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
    body: JsonObject<CreateStaffOrganization>,
    state: web::Data<AppState>,
    database: web::Data<Database>,
    hub: web::Data<LiveHub>,
) -> Result<HttpResponse, AppError> {
    let name = parse_text(&body.name, "organization name", NAME_MAX)?;
    let owner_email = EmailAddress::parse(&body.owner_email)?;
    let created = database
        .run_write(move |conn| {
            staff_links::create_organization(conn, &staff.user_id, name, &owner_email)
        })
        .await?;
    announce(&created.owner, &state, &hub);
    Ok(HttpResponse::Created().json(created))
}

/// An organization's members and pending links.
#[utoipa::path(
    tag = "staff",
    security(("access_token" = [])),
    params(
        ("organization_id" = String, Path, description = "The organization's id"),
        MembersQuery,
    ),
    responses(
        (status = 200, description = "A page of members, and the pending links on the first", body = Members),
        (status = 400, description = "limit out of range, or after names no member", body = ApiError),
        (status = 401, description = "Not signed in", body = ApiError),
        (status = 403, description = "Not platform staff", body = ApiError),
        (status = 404, description = "No such organization", body = ApiError),
    )
)]
#[get("/staff/organizations/{organization_id}/members")]
pub async fn staff_organization_members(
    _staff: StaffUser,
    path: web::Path<String>,
    query: web::Query<MembersQuery>,
    database: web::Data<Database>,
) -> Result<HttpResponse, AppError> {
    let organization_id = path.into_inner();
    let query = query.into_inner();
    let members = database
        .run_app(move |conn| staff_links::people(conn, &organization_id, &query))
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
    body: JsonObject<CreateLink>,
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
            staff_links::create_link(conn, &staff.user_id, &organization_id, &email, role)
        })
        .await?;
    announce(&linked, &state, &hub);
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
    body: JsonObject<ChangeRole>,
    database: web::Data<Database>,
    hub: web::Data<LiveHub>,
) -> Result<HttpResponse, AppError> {
    let (organization_id, user_id) = path.into_inner();
    let role = body.role;
    let member = database
        .run_write(move |conn| {
            staff_links::change_role(conn, &staff.user_id, &organization_id, &user_id, role)
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
    let left = organization_id.clone();
    database
        .run_write(move |conn| {
            staff_links::remove_member(conn, &staff.user_id, &organization_id, &user_id)?;
            remote_access::end_sessions_of_person(conn, &user_id, &organization_id)?;
            Ok(())
        })
        .await?;
    hub.membership_changed(&removed);
    hub.cut_remote_access(RemoteCut {
        system_ids: Vec::new(),
        people: vec![(removed, left)],
    });
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
        .run_write(move |conn| staff_links::remove_pending_link(conn, &staff.user_id, &link_id))
        .await?;
    Ok(HttpResponse::NoContent().finish())
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
    let too_large = || {
        AppError::TooLarge(format!(
            "A legacy import file may be at most {} KiB: split it.",
            IMPORT_MAX_BYTES / 1024
        ))
    };
    let body = read_limited(payload, IMPORT_MAX_BYTES, too_large).await?;
    let text = String::from_utf8(body).map_err(|_| {
        AppError::InvalidRequest("The file is not UTF-8 text: save the CSV as UTF-8.".into())
    })?;
    let (rows, errors) = legacy_import::read_import(&text)?;
    let (report, linked_users) = database
        .run_write(move |conn| legacy_import::apply(conn, &staff.user_id, rows, errors))
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
    params(AuditPageQuery),
    responses(
        (status = 200, description = "A page of staff actions, newest first", body = AuditPage),
        (status = 400, description = "limit out of range, or before names no entry of this log", body = ApiError),
        (status = 401, description = "Not signed in", body = ApiError),
        (status = 403, description = "Not platform staff", body = ApiError),
    )
)]
#[get("/staff/audit")]
pub async fn staff_audit_log(
    _staff: StaffUser,
    query: web::Query<AuditPageQuery>,
    database: web::Data<Database>,
) -> Result<HttpResponse, AppError> {
    let query = query.into_inner();
    let page = database
        .run_app(move |conn| audit::page(conn, audit::Scope::Staff, &query))
        .await?;
    Ok(HttpResponse::Ok().json(page))
}
