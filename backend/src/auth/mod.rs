//! Who is calling: people's access tokens, DMS tokens, and what each may do.

pub mod dms_tokens;
pub mod extractor;
pub mod one_time;
pub mod permissions;
pub mod tokens;

pub use dms_tokens::DmsTokens;
pub use extractor::CurrentUser;
pub use tokens::AccessTokens;
