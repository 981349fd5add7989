//! The HTTP API under `/api`, one module per feature.

pub mod auth;
pub mod catalog;
pub mod collaboration;
pub mod gateway;
pub mod health;
pub mod invitations;
pub mod live;
pub mod me;
pub mod members;
pub mod oidc;
pub mod openapi;
pub mod organization_settings;
pub mod organizations;
pub mod remote;
pub mod sharing;
pub mod staff;
pub mod system_access;
pub mod systems;
pub mod upgrade;

use actix_web::{web, App, HttpRequest, HttpResponse};
use stratus_shared::{ApiError, ErrorCode};
use utoipa::OpenApi;
use utoipa_actix_web::service_config::ServiceConfig as OpenApiServiceConfig;
use utoipa_actix_web::AppExt;

/// The API's services, registered both in the server and in the OpenAPI document.
pub fn api_services(config: &mut OpenApiServiceConfig) {
    config
        .service(health::health)
        .service(openapi::openapi_json)
        .service(auth::signup)
        .service(auth::resend_verification)
        .service(auth::verify_email)
        .service(auth::login)
        .service(auth::refresh)
        .service(auth::logout)
        .service(auth::forgot_password)
        .service(auth::reset_password)
        .service(me::me)
        .service(me::change_password)
        .service(me::list_sessions)
        .service(me::revoke_session)
        .service(me::revoke_all_sessions)
        .service(invitations::list_my_invitations)
        .service(invitations::accept_invitation)
        .service(invitations::decline_invitation)
        .service(organizations::list_organizations)
        .service(organizations::create_organization)
        .service(systems::create_system)
        .service(systems::issue_connect_code)
        .service(systems::list_systems)
        .service(systems::system_detail)
        .service(members::list_members)
        .service(members::add_member)
        .service(members::change_role)
        .service(members::remove_member)
        .service(members::withdraw_invitation)
        .service(systems::rename_system)
        .service(systems::remove_system)
        .service(organization_settings::get_organization)
        .service(organization_settings::update_organization)
        .service(organization_settings::delete_organization)
        .service(organization_settings::organization_audit_log)
        .service(system_access::list_system_users)
        .service(system_access::set_system_role)
        .service(system_access::clear_system_role)
        .service(system_access::update_system_settings)
        .service(system_access::create_dms_link_code)
        .service(system_access::create_remote_ticket)
        .service(system_access::unlink_my_dms_account)
        .service(gateway::exchange_connect_code)
        .service(gateway::refresh_credentials)
        .service(gateway::gateway_ws)
        .service(live::live_events)
        .service(oidc::list_providers)
        .service(oidc::start)
        .service(oidc::callback)
        .service(oidc::link_identity)
        .service(oidc::list_identities)
        .service(oidc::unlink_identity)
        .service(collaboration::list_my_projects)
        .service(collaboration::list_projects)
        .service(collaboration::create_project)
        .service(collaboration::update_project)
        .service(collaboration::delete_project)
        .service(collaboration::create_task)
        .service(collaboration::update_task)
        .service(collaboration::delete_task)
        .service(sharing::list_my_shared_dashboards)
        .service(sharing::list_shared_dashboards)
        .service(sharing::share_dashboard)
        .service(sharing::unshare_dashboard)
        .service(catalog::search_catalog)
        .service(catalog::catalog_categories)
        .service(staff::staff_search_accounts)
        .service(staff::staff_list_organizations)
        .service(staff::staff_create_organization)
        .service(staff::staff_organization_members)
        .service(staff::staff_create_link)
        .service(staff::staff_change_role)
        .service(staff::staff_remove_member)
        .service(staff::staff_remove_pending_link)
        .service(staff::staff_legacy_import)
        .service(staff::staff_audit_log);
}

/// The OpenAPI document of every service under `/api`.
pub fn openapi_document() -> utoipa::openapi::OpenApi {
    let (_, document) = App::new()
        .into_utoipa_app()
        .openapi(openapi::ApiDoc::openapi())
        .service(utoipa_actix_web::scope("/api").configure(api_services))
        .split_for_parts();
    let mut document = document;
    utoipa::Modify::modify(&openapi::UnreadableRequests, &mut document);
    document
}

/// The API's paths and their methods, read from the OpenAPI document (the one list of
/// endpoints), so an unclaimed request can be told apart: unknown path (404) or known path with
/// another method (405).
#[derive(Debug, Clone, Default)]
pub struct ApiRoutes(Vec<(Vec<String>, Vec<&'static str>)>);

impl ApiRoutes {
    /// Collects the paths and methods of `document`.
    pub fn from_openapi(document: &utoipa::openapi::OpenApi) -> Self {
        let routes = document
            .paths
            .paths
            .iter()
            .map(|(path, item)| {
                let segments = path.split('/').map(str::to_owned).collect();
                let methods = [
                    ("GET", item.get.is_some()),
                    ("POST", item.post.is_some()),
                    ("PUT", item.put.is_some()),
                    ("PATCH", item.patch.is_some()),
                    ("DELETE", item.delete.is_some()),
                ]
                .into_iter()
                .filter_map(|(method, present)| present.then_some(method))
                .collect();
                (segments, methods)
            })
            .collect();
        Self(routes)
    }

    /// The methods `path` answers to, when it is an endpoint's path.
    pub fn methods_of(&self, path: &str) -> Option<&[&'static str]> {
        let asked: Vec<&str> = path.split('/').collect();
        self.0
            .iter()
            .find(|(pattern, _)| {
                pattern.len() == asked.len()
                    && pattern.iter().zip(&asked).all(|(expected, actual)| {
                        let is_parameter = expected.starts_with('{') && expected.ends_with('}');
                        if is_parameter {
                            !actual.is_empty()
                        } else {
                            expected == actual
                        }
                    })
            })
            .map(|(_, methods)| methods.as_slice())
    }
}

/// Answers every `/api/...` request no endpoint claims, in JSON (never the web app's HTML):
/// 405 with `Allow` for a known path asked with another method, else 404.
pub async fn api_not_found(request: HttpRequest, routes: web::Data<ApiRoutes>) -> HttpResponse {
    if let Some(methods) = routes.methods_of(request.path()) {
        return HttpResponse::MethodNotAllowed()
            .insert_header(("Allow", methods.join(", ")))
            .json(ApiError::new(
                ErrorCode::MethodNotAllowed,
                format!(
                    "{} does not answer {}; it answers {}.",
                    request.path(),
                    request.method(),
                    methods.join(", ")
                ),
            ));
    }
    HttpResponse::NotFound().json(ApiError::new(
        ErrorCode::NotFound,
        format!(
            "There is no API endpoint {} {}.",
            request.method(),
            request.path()
        ),
    ))
}

/// Refuses a path or query that carries the NUL character (`%00`), for every API endpoint:
/// PostgreSQL cannot store NUL in text, so such an id or search would otherwise fail in the
/// database as a server error. Bodies get the same rule in `json_body`.
pub async fn refuse_nul_characters(
    request: actix_web::dev::ServiceRequest,
    next: actix_web::middleware::Next<impl actix_web::body::MessageBody + 'static>,
) -> Result<actix_web::dev::ServiceResponse<impl actix_web::body::MessageBody>, actix_web::Error> {
    let carries_nul = request
        .uri()
        .path_and_query()
        .is_some_and(|target| target.as_str().contains("%00"));
    if carries_nul {
        return Err(crate::error::AppError::InvalidRequest(
            "The path and query must not contain the NUL character (%00).".into(),
        )
        .into());
    }
    next.call(request).await
}

/// Registers the JSON error handlers for the built-in extractors.
pub fn configure_extractors(config: &mut web::ServiceConfig) {
    use actix_web::error::{JsonPayloadError, PathError, QueryPayloadError};
    config
        .app_data(web::JsonConfig::default().limit(64 * 1024).error_handler(
            |error: JsonPayloadError, _| {
                let too_large = matches!(
                    error,
                    JsonPayloadError::OverflowKnownLength { .. }
                        | JsonPayloadError::Overflow { .. }
                );
                crate::error::extractor_error(error, too_large)
            },
        ))
        .app_data(
            web::QueryConfig::default().error_handler(|error: QueryPayloadError, _| {
                crate::error::extractor_error(error, false)
            }),
        )
        .app_data(
            web::PathConfig::default()
                .error_handler(|error: PathError, _| crate::error::extractor_error(error, false)),
        );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_paths_are_matched_with_their_parameters() {
        let routes = ApiRoutes::from_openapi(&openapi_document());
        assert_eq!(routes.methods_of("/api/health"), Some(&["GET"][..]));
        let system = routes.methods_of("/api/systems/abc").unwrap();
        assert!(system.contains(&"GET") && system.contains(&"PATCH") && system.contains(&"DELETE"));
        assert_eq!(routes.methods_of("/api/systems/"), None);
        assert_eq!(routes.methods_of("/api/nothing"), None);
        assert_eq!(routes.methods_of("/api/systems/abc/extra"), None);
    }
}
