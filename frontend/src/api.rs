//! One typed client for the Stratus API, over gloo-net.

use stratus_shared::api::health::HealthReport;

/// Why an API call gave no result.
#[derive(Debug, Clone, PartialEq)]
pub enum ApiFailure {
    /// The server could not be reached at all (offline, server down, blocked).
    Unreachable,
    /// The server answered something this client cannot read.
    Unexpected { status: u16 },
}

impl std::fmt::Display for ApiFailure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ApiFailure::Unreachable => f.write_str("The Stratus server cannot be reached."),
            ApiFailure::Unexpected { status } => {
                write!(f, "The server gave an unexpected answer (HTTP {status}).")
            }
        }
    }
}

/// `GET /api/health`. A 503 still carries a report (database unreachable), so it is read too.
pub async fn health() -> Result<HealthReport, ApiFailure> {
    let response = gloo_net::http::Request::get("/api/health")
        .header("Accept", "application/json")
        .send()
        .await
        .map_err(|_| ApiFailure::Unreachable)?;
    let status = response.status();
    match response.json::<HealthReport>().await {
        Ok(report) => Ok(report),
        Err(_) if status == 200 || status == 503 => Err(ApiFailure::Unexpected { status }),
        // A proxy's error page when the backend is down: the API is not reachable.
        Err(_) => Err(ApiFailure::Unreachable),
    }
}
