//! Widgets used by several pages.

pub mod app_tiles;
pub mod form;
pub mod health_status;
pub mod layout;
pub mod require_sign_in;
