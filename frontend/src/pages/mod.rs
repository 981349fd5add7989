//! One module per route.

pub mod account;
pub mod admin;
pub mod app_page;
pub mod catalog;
pub mod collaboration;
pub mod community;
mod forms;
pub mod home;
pub mod login;
pub mod not_found;
pub mod password_reset;
pub mod provider_sign_in;
pub mod sharing;
pub mod signup;
pub mod staff;
pub mod system_detail;
pub mod verify_email;
