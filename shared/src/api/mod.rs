//! Request and response bodies, one module per feature.

pub mod audit;
pub mod auth;
pub mod catalog;
pub mod collaboration;
pub mod gateway;
pub mod health;
pub mod live;
pub mod members;
pub mod oidc;
pub mod organizations;
pub mod sharing;
pub mod staff;
