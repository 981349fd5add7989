//! `GET /api/health`: version and database reachability, for people and load balancers.

use actix_web::{get, web, HttpResponse};
use stratus_shared::api::health::{DatabaseHealth, HealthReport, HealthStatus};

use crate::db::Database;

/// Reports whether the server can do its work. 503 when the database does not answer, so a
/// load balancer takes this backend out of rotation.
#[utoipa::path(
    tag = "health",
    responses(
        (status = 200, description = "The server and its database are up", body = HealthReport),
        (status = 503, description = "The database cannot be reached", body = HealthReport),
    )
)]
#[get("/health")]
pub async fn health(database: web::Data<Database>) -> HttpResponse {
    let reachable = database.is_reachable().await;
    let report = HealthReport {
        status: if reachable {
            HealthStatus::Ok
        } else {
            HealthStatus::Degraded
        },
        version: env!("CARGO_PKG_VERSION").to_owned(),
        database: DatabaseHealth {
            backend: database.backend(),
            reachable,
        },
    };
    let mut response = if reachable {
        HttpResponse::Ok()
    } else {
        HttpResponse::ServiceUnavailable()
    };
    response
        .insert_header(("Cache-Control", "no-store"))
        .json(report)
}
