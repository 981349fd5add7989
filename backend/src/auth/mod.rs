//! Who is calling and how they prove it: passwords, sessions with single-use refresh tokens,
//! people's access tokens, DMS tokens, mailed one-time links, rate limits on guessing, and
//! what each role may do.

pub mod access;
pub mod browser;
pub mod client_address;
pub mod dms_tokens;
pub mod email_tokens;
pub mod extractor;
pub mod identities;
pub mod jwt;
pub mod oidc;
pub mod one_time;
pub mod password;
pub mod permissions;
pub mod revoked_sessions;
pub mod sessions;
pub mod throttle;
pub mod tokens;

pub use dms_tokens::DmsTokens;
pub use extractor::{AuthenticatedDms, CurrentUser, StaffUser};
pub use tokens::AccessTokens;
