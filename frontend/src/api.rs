//! One typed client for the Stratus API, over gloo-net: one module per feature, like
//! `stratus_shared::api`, over the request helpers of `http`.

use gloo_net::http::Request;
use stratus_shared::api::health::HealthReport;
use stratus_shared::{ApiError, ErrorCode};

pub mod account;
pub mod auth;
pub mod catalog;
pub mod collaboration;
mod http;
pub mod organizations;
pub mod sharing;
pub mod staff;
pub mod systems;

/// Why an API call gave no result.
#[derive(Debug, Clone, PartialEq)]
pub enum ApiFailure {
    /// No one is signed in in this browser (any more): nothing was sent.
    SignedOut,
    /// The server could not be reached at all (offline, server down, blocked).
    Unreachable,
    /// The server answered with an error body.
    Rejected { status: u16, error: ApiError },
    /// The server answered something this client cannot read.
    Unexpected { status: u16 },
}

impl ApiFailure {
    /// The stable error code, when the server gave one.
    pub fn code(&self) -> Option<ErrorCode> {
        match self {
            ApiFailure::Rejected { error, .. } => Some(error.code),
            _ => None,
        }
    }
}

impl std::fmt::Display for ApiFailure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ApiFailure::SignedOut => f.write_str("You are signed out. Sign in to go on."),
            ApiFailure::Unreachable => f.write_str("The Stratus server cannot be reached."),
            ApiFailure::Rejected { error, .. } => f.write_str(&error.message),
            ApiFailure::Unexpected { status } => {
                write!(f, "The server gave an unexpected answer (HTTP {status}).")
            }
        }
    }
}

/// `GET /api/health`. A 503 still carries a report (database unreachable), so it is read too.
pub async fn health() -> Result<HealthReport, ApiFailure> {
    let request = Request::get("/api/health").header("Accept", "application/json");
    let response = http::send(request).await?;
    let status = response.status();
    match response.json::<HealthReport>().await {
        Ok(report) => Ok(report),
        Err(_) if status == 200 || status == 503 => Err(ApiFailure::Unexpected { status }),
        // A proxy's error page when the backend is down: the API is not reachable.
        Err(_) => Err(ApiFailure::Unreachable),
    }
}
