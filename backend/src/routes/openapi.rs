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
    tags((name = "health", description = "Is the server up"))
)]
pub struct ApiDoc;

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
