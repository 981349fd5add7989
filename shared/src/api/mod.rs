//! Request and response bodies, one module per feature.

pub mod auth;
pub mod health;
pub mod oidc;
