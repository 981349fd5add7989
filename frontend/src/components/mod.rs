//! Widgets used by several pages.

pub mod app_tiles;
pub mod audit_table;
pub mod connect_dms;
pub mod feedback;
pub mod form;
pub mod health_status;
pub mod invitations;
pub mod layout;
pub mod local_time;
pub mod manage_system;
pub mod organization_selector;
pub mod provider_buttons;
pub mod remote_access;
pub mod require_sign_in;
pub mod role_options;
pub mod state_icon;
pub mod system_overview;
