//! Shows whether the Stratus API and its database answer.

use leptos::prelude::*;
use stratus_shared::api::health::{DatabaseBackend, HealthReport, HealthStatus as Status};

use crate::api::{self, ApiFailure};

/// Asks `/api/health` once and shows the result; an unreachable API is said plainly.
#[component]
pub fn HealthStatus() -> impl IntoView {
    let health = LocalResource::new(api::health);
    view! {
        <section class="health" aria-live="polite" aria-labelledby="health-heading">
            <h2 id="health-heading" class="visually-hidden">"Service status"</h2>
            <Suspense fallback=|| {
                view! { <p class="health-line" data-testid="health">"Checking the service…"</p> }
            }>
                {move || Suspend::new(async move { health_line(health.await) })}
            </Suspense>
        </section>
    }
}

fn health_line(result: Result<HealthReport, ApiFailure>) -> impl IntoView {
    let (class, text) = match result {
        Ok(report) if report.status == Status::Ok => (
            "health-line health-ok",
            format!(
                "Service online — API {} with {}",
                report.version,
                backend_name(report.database.backend)
            ),
        ),
        Ok(report) => (
            "health-line health-degraded",
            format!(
                "Service degraded — API {} cannot reach its {} database",
                report.version,
                backend_name(report.database.backend)
            ),
        ),
        Err(failure) => (
            "health-line health-down",
            format!("Service unreachable — {failure}"),
        ),
    };
    view! {
        <p class=class data-testid="health" role="status">
            {text}
        </p>
    }
}

fn backend_name(backend: DatabaseBackend) -> &'static str {
    match backend {
        DatabaseBackend::Sqlite => "SQLite",
        DatabaseBackend::Postgres => "PostgreSQL",
    }
}
