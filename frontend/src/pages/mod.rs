//! One module per route.

pub mod app_page;
pub mod home;
pub mod login;
pub mod not_found;
pub mod signup;
