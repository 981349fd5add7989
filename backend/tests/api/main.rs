//! Black-box API tests: each starts the real server on a random port with a fresh database
//! (SQLite by default, PostgreSQL when `TEST_DATABASE_URL` is set) and talks HTTP to it.

mod helpers;

mod auth;
mod gateway;
mod health;
mod live;
mod members;
mod oidc;
mod openapi;
mod organizations;
mod simulator;
mod staff;
mod web_app;
