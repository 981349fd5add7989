//! Types that cross the wire between the Stratus server and its browser client.
//!
//! This crate compiles to `wasm32-unknown-unknown` without diesel, tokio or actix: the server
//! adds OpenAPI schemas through the `openapi` feature, the client never pays for them.

pub mod api;
pub mod apps;
pub mod email;
pub mod error;
pub mod gateway_frame;
pub mod password;
pub mod state;
pub mod text;
pub mod time;

pub use error::{ApiError, ErrorCode};
pub use state::ConnectionState;
