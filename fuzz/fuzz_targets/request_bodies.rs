//! Every JSON request body the server reads: the first byte picks the type (`A` the first arm
//! of the match below, `B` the next, and so on; any byte picks one, modulo their number), the
//! rest is the body, as in the seeds (fuzz/corpus/request_bodies/). A body that reads
//! serializes and reads back equal, and the parsers the server runs on its fields (addresses,
//! new passwords, names and titles, roles, statuses) hold their promises.

#![no_main]

use std::fmt::Debug;

use libfuzzer_sys::fuzz_target;
use serde::de::DeserializeOwned;
use serde::Serialize;
use stratus_shared::api::{
    auth, collaboration, gateway, members, oidc, organizations, sharing, staff,
};
use stratus_shared::email::EmailAddress;
use stratus_shared::gateway_frame::{parse_text_frame, GatewayTextFrame};
use stratus_shared::password::{NewPassword, MAX_PASSWORD_CHARS, MIN_PASSWORD_CHARS};
use stratus_shared::text::{parse_text, NAME_MAX, SHARED_WITH_MAX, TASK_TITLE_MAX};

/// Reads `json` as the server does (`web::Json` is `serde_json::from_slice`); when it reads,
/// checks the round trip.
fn read<T: DeserializeOwned + Serialize + PartialEq + Debug>(json: &[u8]) -> Option<T> {
    let body: T = serde_json::from_slice(json).ok()?;
    let text = serde_json::to_string(&body).expect("a body that was read serializes");
    let again: T = serde_json::from_str(&text)
        .unwrap_or_else(|error| panic!("{text} does not read back: {error}"));
    assert_eq!(body, again, "{text}");
    Some(body)
}

/// An address as sign-up, sign-in and invitations read it: normalizing is idempotent.
fn email(raw: &str) -> Option<EmailAddress> {
    let address = EmailAddress::parse(raw).ok()?;
    assert!(address.as_str().len() <= 254);
    assert!(!address.domain().is_empty());
    assert_eq!(
        EmailAddress::parse(address.as_str()).ok(),
        Some(address.clone())
    );
    let json = serde_json::to_string(&address).expect("an address serializes");
    assert_eq!(
        serde_json::from_str::<EmailAddress>(&json).ok(),
        Some(address.clone())
    );
    let _ = address.is_free_mail();
    Some(address)
}

/// A new password for the account `email`: accepted ones are kept as typed and in bounds.
fn password(raw: &str, email: &str) {
    if let Ok(password) = NewPassword::parse(raw, email) {
        assert_eq!(password.expose(), raw);
        let chars = raw.chars().count();
        assert!((MIN_PASSWORD_CHARS..=MAX_PASSWORD_CHARS).contains(&chars));
        assert_ne!(raw.trim().to_lowercase(), email.trim().to_lowercase());
    }
}

/// A name or title as the server reads it: trimmed, in bounds, and read again unchanged.
fn text(raw: &str, max: usize) {
    if let Some(text) = parse_text(raw, max) {
        assert_eq!(text, text.trim());
        assert!((1..=max).contains(&text.chars().count()));
        assert!(!text.chars().any(char::is_control));
        assert_eq!(parse_text(text, max), Some(text));
    }
}

fn role(role: organizations::Role) {
    assert_eq!(organizations::Role::parse(role.as_str()), Some(role));
}

fn project_status(status: Option<collaboration::ProjectStatus>) {
    if let Some(status) = status {
        assert_eq!(
            collaboration::ProjectStatus::parse(status.as_str()),
            Some(status)
        );
    }
}

fn task_status(status: Option<collaboration::TaskStatus>) {
    if let Some(status) = status {
        assert_eq!(
            collaboration::TaskStatus::parse(status.as_str()),
            Some(status)
        );
    }
}

/// The request bodies, in selector order (`A` is the first).
const BODIES: usize = 26;

fuzz_target!(|data: &[u8]| {
    let Some((&selector, json)) = data.split_first() else {
        return;
    };
    match usize::from(selector.wrapping_sub(b'A')) % BODIES {
        0 => {
            if let Some(body) = read::<auth::SignupRequest>(json) {
                let address = email(&body.email);
                let normalized = address.as_ref().map_or("", EmailAddress::as_str);
                password(&body.password, normalized);
            }
        }
        1 => {
            if let Some(body) = read::<auth::LoginRequest>(json) {
                email(&body.email);
            }
        }
        2 => {
            if let Some(body) = read::<auth::EmailRequest>(json) {
                email(&body.email);
            }
        }
        3 => {
            read::<auth::VerifyEmailRequest>(json);
        }
        4 => {
            if let Some(body) = read::<auth::ResetPasswordRequest>(json) {
                password(&body.password, "");
            }
        }
        5 => {
            if let Some(body) = read::<auth::ChangePasswordRequest>(json) {
                password(&body.new_password, "");
            }
        }
        6 => {
            read::<oidc::LinkIdentityRequest>(json);
        }
        7 => {
            if let Some(body) = read::<organizations::CreateOrganization>(json) {
                text(&body.name, NAME_MAX);
            }
        }
        8 => {
            if let Some(body) = read::<organizations::UpdateOrganization>(json) {
                text(body.name.as_deref().unwrap_or_default(), NAME_MAX);
            }
        }
        9 => {
            read::<organizations::DeleteOrganization>(json);
        }
        10 => {
            if let Some(body) = read::<members::AddMember>(json) {
                email(&body.email);
                role(body.role);
            }
        }
        11 => {
            if let Some(body) = read::<members::ChangeRole>(json) {
                role(body.role);
            }
        }
        12 => {
            if let Some(body) = read::<organizations::CreateSystem>(json) {
                text(&body.name, NAME_MAX);
            }
        }
        13 => {
            read::<organizations::SystemSettings>(json);
        }
        14 => {
            if let Some(body) = read::<organizations::SetSystemRole>(json) {
                role(body.role);
            }
        }
        15 => {
            if let Some(body) = read::<collaboration::CreateProject>(json) {
                text(&body.name, NAME_MAX);
                project_status(body.status);
            }
        }
        16 => {
            if let Some(body) = read::<collaboration::UpdateProject>(json) {
                text(body.name.as_deref().unwrap_or_default(), NAME_MAX);
                project_status(body.status);
            }
        }
        17 => {
            if let Some(body) = read::<collaboration::CreateTask>(json) {
                text(&body.title, TASK_TITLE_MAX);
                task_status(body.status);
            }
        }
        18 => {
            if let Some(body) = read::<collaboration::UpdateTask>(json) {
                text(body.title.as_deref().unwrap_or_default(), TASK_TITLE_MAX);
                task_status(body.status);
            }
        }
        19 => {
            if let Some(body) = read::<sharing::ShareDashboard>(json) {
                text(&body.name, NAME_MAX);
                text(&body.shared_with, SHARED_WITH_MAX);
            }
        }
        20 => {
            if let Some(body) = read::<staff::CreateStaffOrganization>(json) {
                text(&body.name, NAME_MAX);
                email(&body.owner_email);
            }
        }
        21 => {
            if let Some(body) = read::<staff::CreateLink>(json) {
                email(&body.email);
                role(body.role);
            }
        }
        22 => {
            read::<gateway::ConnectRequest>(json);
        }
        23 => {
            read::<gateway::RefreshRequest>(json);
        }
        24 => {
            // The socket's reader agrees with the typed frame.
            if let Some(frame) = read::<gateway::LinkAccountFrame>(json) {
                text(&frame.link_account.dms_user, NAME_MAX);
                // serde_json skips ignored values without checking their UTF-8; the socket
                // only hands over valid text.
                let Ok(text) = std::str::from_utf8(json) else {
                    return;
                };
                match parse_text_frame(text) {
                    Ok(GatewayTextFrame::LinkAccount(request)) => {
                        assert_eq!(request, frame.link_account)
                    }
                    other => panic!("{text} read as {other:?}"),
                }
            }
        }
        _ => {
            if let Some(heartbeat) = read::<gateway::Heartbeat>(json) {
                // serde_json skips ignored values without checking their UTF-8; the socket
                // only hands over valid text.
                let Ok(text) = std::str::from_utf8(json) else {
                    return;
                };
                match parse_text_frame(text) {
                    Ok(GatewayTextFrame::Heartbeat(frame)) => {
                        assert_eq!(frame.dms_responding, heartbeat.dms_responding);
                        assert_eq!(frame.dms_version, heartbeat.dms_version);
                        assert_eq!(frame.agent_count, heartbeat.agent_count);
                    }
                    other => panic!("{text} read as {other:?}"),
                }
            }
        }
    }
});
