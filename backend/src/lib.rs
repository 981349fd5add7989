//! The Stratus server as a library, so the binary and the black-box tests start it the same way.

pub mod auth;
pub mod bench;
pub mod config;
pub mod db;
pub mod demo;
pub mod domain;
pub mod error;
pub mod json_body;
pub mod live;
pub mod mail;
pub mod remote;
pub mod routes;
pub mod secrets;
pub mod simulator;
pub mod spa;
pub mod startup;
pub mod state;
pub mod telemetry;
pub mod tunnel;
