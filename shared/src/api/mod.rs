//! Request and response bodies, one module per feature.

pub mod health;
