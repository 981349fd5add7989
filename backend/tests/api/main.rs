//! Black-box API tests: each starts the real server on a random port with a fresh database
//! (SQLite by default, PostgreSQL when `TEST_DATABASE_URL` is set) and talks HTTP to it.

mod helpers;

mod attacks;
mod audit_log;
mod auth;
mod catalog;
mod collaboration;
mod concurrency;
mod gateway;
mod health;
mod live;
mod members;
mod oidc;
mod openapi;
mod org_apps;
mod organizations;
mod permissions;
mod remote_access;
mod sharing;
mod simulator;
mod staff;
mod staff_import;
mod system_access;
mod system_list;
mod web_app;
