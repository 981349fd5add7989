//! Who is calling: people's access tokens and the extractor that demands one.

pub mod extractor;
pub mod tokens;

pub use extractor::CurrentUser;
pub use tokens::AccessTokens;
