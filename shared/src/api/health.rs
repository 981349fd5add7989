//! `GET /api/health`: is the server up, and can it reach its database?

use serde::{Deserialize, Serialize};

/// Which database engine the server runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum DatabaseBackend {
    /// The embedded default: one file under the data directory.
    Sqlite,
    /// A PostgreSQL server, for bigger installs with several backends.
    Postgres,
}

/// Overall health: `ok` when every dependency answers, `degraded` otherwise.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum HealthStatus {
    Ok,
    Degraded,
}

/// What the server knows of its database.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct DatabaseHealth {
    pub backend: DatabaseBackend,
    /// Whether a trivial query succeeded just now.
    pub reachable: bool,
}

/// The body of `GET /api/health` (200 when `ok`, 503 when `degraded`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct HealthReport {
    pub status: HealthStatus,
    /// The server's version (its crate version).
    pub version: String,
    pub database: DatabaseHealth,
}
