//! Widgets used by several pages.

pub mod app_tiles;
pub mod health_status;
pub mod layout;
