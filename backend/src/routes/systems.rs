//! A person's DMSs: register one in an organization (with its first connect code), issue a new
//! connect code, list them with their live states, one DMS's detail, rename and remove.
//!
//! A DMS outside the person's organizations answers 404, as if it did not exist.

use actix_web::http::header::{self, AcceptEncoding, ContentType, Encoding, Header};
use actix_web::{delete, get, patch, post, web, HttpRequest, HttpResponse};
use stratus_shared::api::organizations::{
    ConnectCode, CreateSystem, CreatedSystem, System, SystemDetail,
};
use stratus_shared::ApiError;

use crate::auth::access::{authorize, authorize_system};
use crate::auth::permissions::Action;
use crate::auth::CurrentUser;
use crate::db::Database;
use crate::domain::quotas::{Counted, Quotas};
use crate::domain::system_list::SystemListCache;
use crate::domain::text::{parse_text, NAME_MAX};
use crate::domain::{connect_codes, systems};
use crate::error::AppError;
use crate::json_body::JsonObject;
use crate::live::{LiveHub, RemoteCut};
use crate::remote::RemoteAccess;
use crate::state::AppState;

/// Registers a DMS in one of my organizations and returns its first connect code (shown once).
#[utoipa::path(
    tag = "organizations",
    security(("access_token" = [])),
    params(("organization_id" = String, Path, description = "The organization's id")),
    request_body = CreateSystem,
    responses(
        (status = 201, description = "Registered, with its connect code", body = CreatedSystem),
        (status = 400, description = "Invalid name", body = ApiError),
        (status = 401, description = "Not signed in", body = ApiError),
        (status = 404, description = "Not one of my organizations", body = ApiError),
        (status = 409, description = "A DMS of that name exists in the organization, or it has as many DMSs as the portal allows", body = ApiError),
    )
)]
#[post("/organizations/{organization_id}/systems")]
pub async fn create_system(
    user: CurrentUser,
    path: web::Path<String>,
    body: JsonObject<CreateSystem>,
    database: web::Data<Database>,
    hub: web::Data<LiveHub>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, AppError> {
    let organization_id = path.into_inner();
    let name = parse_text(&body.name, "DMS name", NAME_MAX)?;
    let quotas = Quotas::from_settings(&state.settings);
    let created = database
        .run_write(move |connection| {
            authorize(
                connection,
                &user.user_id,
                &organization_id,
                Action::RegisterSystem,
            )?;
            quotas.ensure_room(connection, Counted::SystemsOf(&organization_id))?;
            systems::register(connection, &user.user_id, &organization_id, &name)
        })
        .await?;
    hub.register(
        &created.system.id,
        &created.system.organization_id,
        created.system.created_at,
    );
    Ok(HttpResponse::Created().json(created))
}

/// Issues a new connect code for an existing DMS (Owners only). Using it re-keys the DMS: its
/// current gateway's credentials stop working; the DMS keeps its id and history.
#[utoipa::path(
    tag = "organizations",
    security(("access_token" = [])),
    params(("system_id" = String, Path, description = "The DMS's id")),
    responses(
        (status = 201, description = "A new connect code", body = ConnectCode),
        (status = 401, description = "Not signed in", body = ApiError),
        (status = 403, description = "Only Owners may issue connect codes", body = ApiError),
        (status = 404, description = "No such DMS in my organizations", body = ApiError),
    )
)]
#[post("/systems/{system_id}/connect-codes")]
pub async fn issue_connect_code(
    user: CurrentUser,
    path: web::Path<String>,
    database: web::Data<Database>,
) -> Result<HttpResponse, AppError> {
    let system_id = path.into_inner();
    let code = database
        .run_write(move |connection| {
            let access = authorize_system(
                connection,
                &user.user_id,
                &system_id,
                Action::IssueConnectCode,
            )?;
            connect_codes::issue(
                connection,
                &user.user_id,
                &access.organization_id,
                &system_id,
            )
        })
        .await?;
    Ok(HttpResponse::Created().json(code))
}

/// Every DMS of my organizations, with its live state.
#[utoipa::path(
    tag = "organizations",
    security(("access_token" = [])),
    responses(
        (status = 200, description = "The DMSs I may see", body = [System]),
        (status = 401, description = "Not signed in", body = ApiError),
    )
)]
#[get("/systems")]
pub async fn list_systems(
    request: HttpRequest,
    user: CurrentUser,
    database: web::Data<Database>,
    hub: web::Data<LiveHub>,
    lists: web::Data<SystemListCache>,
) -> Result<HttpResponse, AppError> {
    let list = lists.visible_to(&user.user_id, &database, &hub).await?;
    let mut response = HttpResponse::Ok();
    response
        .content_type(ContentType::json())
        .insert_header((header::VARY, "Accept-Encoding"));
    // The body is compressed already (or sent plain): the Compress middleware skips a
    // response that names its encoding.
    Ok(if accepts_gzip(&request) {
        response
            .insert_header((header::CONTENT_ENCODING, "gzip"))
            .body(list.gzip.clone())
    } else {
        response
            .insert_header((header::CONTENT_ENCODING, "identity"))
            .body(list.json.clone())
    })
}

/// Whether the client takes gzip rather than the plain body (`Accept-Encoding`, q-values
/// and `*` included).
fn accepts_gzip(request: &HttpRequest) -> bool {
    AcceptEncoding::parse(request).is_ok_and(|accepted| {
        accepted.negotiate([Encoding::gzip(), Encoding::identity()].iter())
            == Some(Encoding::gzip())
    })
}

/// One DMS with its latest state transitions (newest first).
#[utoipa::path(
    tag = "organizations",
    security(("access_token" = [])),
    params(("system_id" = String, Path, description = "The DMS's id")),
    responses(
        (status = 200, description = "The DMS and its history", body = SystemDetail),
        (status = 401, description = "Not signed in", body = ApiError),
        (status = 404, description = "No such DMS in my organizations", body = ApiError),
    )
)]
#[get("/systems/{system_id}")]
pub async fn system_detail(
    user: CurrentUser,
    path: web::Path<String>,
    database: web::Data<Database>,
    hub: web::Data<LiveHub>,
    remote: web::Data<RemoteAccess>,
) -> Result<HttpResponse, AppError> {
    let system_id = path.into_inner();
    let detail = database
        .run_app(move |connection| {
            let access = authorize_system(connection, &user.user_id, &system_id, Action::View)?;
            Ok(systems::detail(
                connection,
                &user.user_id,
                &system_id,
                access.role,
            )?)
        })
        .await?;
    Ok(HttpResponse::Ok().json(detail.into_api(&hub, remote.hosts())))
}

/// Renames a DMS (Owners and Admins).
#[utoipa::path(
    tag = "organizations",
    security(("access_token" = [])),
    params(("system_id" = String, Path, description = "The DMS's id")),
    request_body = CreateSystem,
    responses(
        (status = 200, description = "Renamed", body = System),
        (status = 400, description = "The name is empty, too long or has control characters", body = ApiError),
        (status = 401, description = "Not signed in", body = ApiError),
        (status = 403, description = "Members may not rename a DMS", body = ApiError),
        (status = 404, description = "No such DMS in my organizations", body = ApiError),
        (status = 409, description = "Another DMS of the organization has that name", body = ApiError),
    )
)]
#[patch("/systems/{system_id}")]
pub async fn rename_system(
    user: CurrentUser,
    path: web::Path<String>,
    body: JsonObject<CreateSystem>,
    database: web::Data<Database>,
    hub: web::Data<LiveHub>,
) -> Result<HttpResponse, AppError> {
    let system_id = path.into_inner();
    let name = parse_text(&body.name, "DMS name", NAME_MAX)?;
    let (record, members) = database
        .run_write(move |connection| {
            let access =
                authorize_system(connection, &user.user_id, &system_id, Action::RenameSystem)?;
            systems::rename(
                connection,
                &user.user_id,
                &access.organization_id,
                &system_id,
                &name,
            )
        })
        .await?;
    // Overviews show names from a fresh list: a new snapshot makes them fetch it.
    for member in &members {
        hub.membership_changed(member);
    }
    Ok(HttpResponse::Ok().json(record.into_system(&hub)))
}

/// Removes a DMS (Owners and Admins): its gateway is cut off at once and its tokens stop working.
#[utoipa::path(
    tag = "organizations",
    security(("access_token" = [])),
    params(("system_id" = String, Path, description = "The DMS's id")),
    responses(
        (status = 204, description = "Removed"),
        (status = 401, description = "Not signed in", body = ApiError),
        (status = 403, description = "Members may not remove a DMS", body = ApiError),
        (status = 404, description = "No such DMS in my organizations", body = ApiError),
    )
)]
#[delete("/systems/{system_id}")]
pub async fn remove_system(
    user: CurrentUser,
    path: web::Path<String>,
    database: web::Data<Database>,
    hub: web::Data<LiveHub>,
) -> Result<HttpResponse, AppError> {
    let system_id = path.into_inner();
    let removed = system_id.clone();
    database
        .run_write(move |connection| {
            let access =
                authorize_system(connection, &user.user_id, &system_id, Action::RemoveSystem)?;
            systems::remove(
                connection,
                &user.user_id,
                &access.organization_id,
                &system_id,
            )
        })
        .await?;
    hub.cut_remote_access(RemoteCut {
        system_ids: vec![removed.clone()],
        people: Vec::new(),
    });
    hub.remove(&removed);
    Ok(HttpResponse::NoContent().finish())
}
