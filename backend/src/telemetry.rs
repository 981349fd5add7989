//! Logging: `tracing` to stdout, one span per request with its id, one line when it ends with
//! status and latency. Query strings are never logged: they may carry one-time codes.

use std::time::Instant;

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::HttpMessage;
use tracing::Span;
use tracing_actix_web::{RequestId, RootSpanBuilder};
use tracing_subscriber::EnvFilter;

use crate::config::LogFormat;

/// Installs the global subscriber. `RUST_LOG` overrides the default level (`info`).
/// Safe to call more than once (later calls do nothing), as tests do.
pub fn init(format: LogFormat) {
    let filter = EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| EnvFilter::new("info,actix_server=warn"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stdout()));
    let _ = match format {
        LogFormat::Json => builder.json().flatten_event(true).try_init(),
        LogFormat::Pretty => builder.try_init(),
    };
}

/// When a request started, kept in its extensions to compute latency at the end.
#[derive(Clone, Copy)]
struct RequestStart(Instant);

/// The root span of every request: id, method and path (without the query string).
pub struct RequestSpan;

impl RootSpanBuilder for RequestSpan {
    fn on_request_start(request: &ServiceRequest) -> Span {
        request
            .extensions_mut()
            .insert(RequestStart(Instant::now()));
        let request_id = request
            .extensions()
            .get::<RequestId>()
            .map(|id| id.to_string())
            .unwrap_or_default();
        tracing::info_span!(
            "request",
            request_id = %request_id,
            method = %request.method(),
            path = %request.path(),
        )
    }

    fn on_request_end<B: MessageBody>(
        span: Span,
        outcome: &Result<ServiceResponse<B>, actix_web::Error>,
    ) {
        let _entered = span.enter();
        match outcome {
            Ok(response) => {
                let latency_ms = response
                    .request()
                    .extensions()
                    .get::<RequestStart>()
                    .map(|start| start.0.elapsed().as_secs_f64() * 1000.0)
                    .unwrap_or_default();
                let status = response.status().as_u16();
                let read = matches!(
                    *response.request().method(),
                    actix_web::http::Method::GET | actix_web::http::Method::HEAD
                );
                if response.status().is_server_error() {
                    tracing::warn!(status, latency_ms, "request finished");
                } else if read && response.status().is_success() {
                    // Reads that worked are most of the traffic (every home page reads the
                    // list of DMSs) and change nothing: at debug, so that a busy portal's log
                    // holds what changed and what failed. `RUST_LOG=debug` shows them.
                    tracing::debug!(status, latency_ms, "request finished");
                } else {
                    tracing::info!(status, latency_ms, "request finished");
                }
            }
            Err(error) => {
                let status = error.as_response_error().status_code().as_u16();
                tracing::warn!(status, %error, "request failed");
            }
        }
    }
}
