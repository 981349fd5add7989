//! The product's rules and queries, one module per noun. Handlers (`routes/`), the demo, the
//! simulator, the benchmark and the command line call these; they never call each other's
//! handlers. Most functions run on a connection inside the caller's transaction; the few that
//! must keep slow work (argon2) off the connection — signing in, sign-up, passwords — take the
//! [`Database`](crate::db::Database) and say how many trips they make. Refusals are
//! [`AppError`](crate::error::AppError)s (or a noun's own error, converted by `From`), which
//! `error.rs` maps to answers once.

pub mod accounts;
pub mod audit;
pub mod catalog;
pub mod connect_codes;
pub mod dashboards;
pub mod dms_credentials;
pub mod invitations;
pub mod legacy_import;
pub mod mail_allowance;
pub mod members;
pub mod memberships;
pub mod organizations;
pub mod password_guesses;
pub mod passwords;
pub mod projects;
pub mod provider_sign_in;
pub mod quotas;
pub mod remote_access;
pub mod sign_in;
pub mod sign_up;
pub mod staff_links;
pub mod staff_search;
pub mod system_access;
pub mod system_list;
pub mod systems;
pub mod text;
