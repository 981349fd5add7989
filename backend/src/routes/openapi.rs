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
    components(schemas(stratus_shared::ApiError, stratus_shared::ErrorCode)),
    modifiers(&BearerAuth),
    tags(
        (name = "health", description = "Is the server up"),
        (name = "auth", description = "Sign-up, verification, sign-in, sessions, password reset"),
        (name = "account", description = "The signed-in account")
    )
)]
pub struct ApiDoc;

/// Declares the `bearer` scheme (people's access tokens) that protected paths refer to.
struct BearerAuth;

impl utoipa::Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("JWT")
                    .build(),
            ),
        );
    }
}

/// The OpenAPI 3.1 document of this API.
#[utoipa::path(
    tag = "health",
    responses((status = 200, description = "The OpenAPI document", content_type = "application/json"))
)]
#[get("/openapi.json")]
pub async fn openapi_json(
    document: actix_web::web::Data<crate::startup::OpenApiDocument>,
) -> actix_web::HttpResponse {
    actix_web::HttpResponse::Ok()
        .content_type("application/json")
        .body(document.0.to_string())
}
