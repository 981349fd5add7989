//! The OpenAPI 3.1 document, generated from the handlers' annotations.

use actix_web::get;
use utoipa::OpenApi;

/// Document-level information; paths and schemas are collected from the registered services.
#[derive(OpenApi)]
#[openapi(
    info(
        title = "Stratus API",
        description = "The API of Stratus, the cloud portal DataMiner Systems connect to.",
    ),
    components(schemas(
        stratus_shared::ApiError,
        stratus_shared::ErrorCode,
        stratus_shared::ConnectionState,
        stratus_shared::api::gateway::Heartbeat,
        stratus_shared::api::live::SystemStateEvent,
        stratus_shared::api::live::SystemRemovedEvent,
    )),
    modifiers(&SecuritySchemes),
    tags(
        (name = "health", description = "Is the server up"),
        (name = "auth", description = "Sign-up, verification, sign-in, sessions, password reset"),
        (name = "account", description = "The signed-in account"),
        (name = "organizations", description = "Organizations, their settings, people, audit log, DMSs and connect codes"),
        (name = "systems", description = "One DMS's users, DMS-level roles, settings and linked DMS accounts"),
        (name = "gateway", description = "The DMS gateway: credentials and the heartbeat WebSocket"),
        (name = "live", description = "Live DMS states as Server-Sent Events"),
        (name = "collaboration", description = "Project Collaboration: an organization's projects and tasks"),
        (name = "sharing", description = "Dashboards of an organization's DMSs shared with other people"),
        (name = "catalog", description = "The public catalog of connectors and apps"),
        (name = "staff", description = "The staff console: accounts, organizations, links, legacy import, staff audit log"),
    )
)]
pub struct ApiDoc;

/// The two kinds of bearer token: people's access tokens and DMS tokens.
struct SecuritySchemes;

impl utoipa::Modify for SecuritySchemes {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::security::{Http, HttpAuthScheme, SecurityScheme};
        let components = openapi.components.get_or_insert_with(Default::default);
        for (name, description) in [
            ("access_token", "A person's access token"),
            (
                "dms_token",
                "A DMS token from /api/gateway/connect or /api/gateway/refresh",
            ),
        ] {
            let mut scheme = Http::new(HttpAuthScheme::Bearer);
            scheme.bearer_format = Some("JWT".into());
            scheme.description = Some(description.into());
            components.add_security_scheme(name, SecurityScheme::Http(scheme));
        }
    }
}

/// Every endpoint answers 400 `invalid_request` when its path or query holds the NUL character
/// (refused before any handler, since PostgreSQL cannot store it), and every endpoint that
/// reads a JSON body also when the body cannot be read (the extractors' shared error handler);
/// documented here once for all of them. Applied to the finished document, once the handlers'
/// paths are in it.
pub struct UnreadableRequests;

impl utoipa::Modify for UnreadableRequests {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::{ContentBuilder, Ref, RefOr, ResponseBuilder};
        for item in openapi.paths.paths.values_mut() {
            let operations = [
                &mut item.get,
                &mut item.put,
                &mut item.post,
                &mut item.delete,
                &mut item.patch,
            ];
            for operation in operations.into_iter().flatten() {
                let description = if operation.request_body.is_some() {
                    "invalid_request: the body is missing, not JSON, or lacks a field, or the \
                     path or query holds the NUL character"
                } else {
                    "invalid_request: the path or query holds the NUL character"
                };
                operation
                    .responses
                    .responses
                    .entry("400".to_owned())
                    .or_insert_with(|| {
                        RefOr::T(
                            ResponseBuilder::new()
                                .description(description)
                                .content(
                                    "application/json",
                                    ContentBuilder::new()
                                        .schema(Some(Ref::from_schema_name("ApiError")))
                                        .build(),
                                )
                                .build(),
                        )
                    });
            }
        }
    }
}

/// The OpenAPI 3.1 document of this API.
#[utoipa::path(
    tag = "health",
    responses((status = 200, description = "The OpenAPI document", content_type = "application/json"))
)]
#[get("/openapi.json")]
pub async fn openapi_json(
    document: actix_web::web::Data<crate::state::OpenApiDocument>,
) -> actix_web::HttpResponse {
    actix_web::HttpResponse::Ok()
        .content_type("application/json")
        .body(document.0.to_string())
}
