//! The HTTP API under `/api`, one module per feature.

pub mod auth;
pub mod catalog;
pub mod collaboration;
pub mod gateway;
pub mod health;
pub mod live;
pub mod me;
pub mod members;
pub mod oidc;
pub mod openapi;
pub mod organization_settings;
pub mod organizations;
pub mod sharing;
pub mod staff;
pub mod system_access;

use actix_web::{web, HttpRequest, HttpResponse};
use stratus_shared::{ApiError, ErrorCode};

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
        let routes = ApiRoutes::from_openapi(&crate::startup::openapi_document());
        assert_eq!(routes.methods_of("/api/health"), Some(&["GET"][..]));
        let system = routes.methods_of("/api/systems/abc").unwrap();
        assert!(system.contains(&"GET") && system.contains(&"PATCH") && system.contains(&"DELETE"));
        assert_eq!(routes.methods_of("/api/systems/"), None);
        assert_eq!(routes.methods_of("/api/nothing"), None);
        assert_eq!(routes.methods_of("/api/systems/abc/extra"), None);
    }
}
