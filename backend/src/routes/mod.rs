//! The HTTP API under `/api`, one module per feature.

pub mod auth;
pub mod gateway;
pub mod health;
pub mod live;
pub mod me;
pub mod members;
pub mod oidc;
pub mod openapi;
pub mod organizations;

use actix_web::{web, HttpRequest, HttpResponse};
use stratus_shared::{ApiError, ErrorCode};

/// Answers every `/api/...` path no endpoint claims: JSON, never the web app's HTML.
pub async fn api_not_found(request: HttpRequest) -> HttpResponse {
    HttpResponse::NotFound().json(ApiError::new(
        ErrorCode::NotFound,
        format!(
            "There is no API endpoint {} {}.",
            request.method(),
            request.path()
        ),
    ))
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
