//! The product's rules and queries, one module per noun. Handlers (`routes/`), the demo, the
//! simulator, the benchmark and the command line call these; they never call each other's
//! handlers. Everything here runs on a database connection inside the caller's transaction
//! and returns [`AppError`](crate::error::AppError)s, which `error.rs` maps to answers once.

pub mod accounts;
pub mod audit;
pub mod catalog;
pub mod connect_codes;
pub mod dms_credentials;
pub mod mail_allowance;
pub mod memberships;
pub mod organizations;
pub mod passwords;
pub mod provider_sign_in;
pub mod sign_in;
pub mod sign_up;
pub mod system_access;
pub mod systems;
pub mod text;
