//! Who is calling and how they prove it: passwords, sessions with single-use refresh tokens,
//! access tokens, mailed one-time links, and rate limits on guessing.

pub mod email_tokens;
pub mod extractor;
pub mod identities;
pub mod oidc;
pub mod password;
pub mod secret_token;
pub mod sessions;
pub mod throttle;
pub mod tokens;

pub use extractor::CurrentUser;
pub use tokens::AccessTokens;
