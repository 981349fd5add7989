//! What backends tell each other on the bus (cluster mode): versioned messages, validated like
//! any request body. A malformed, oversized or unknown message is logged and dropped by the
//! receiver, never a panic.

use serde::{Deserialize, Serialize};
use stratus_shared::api::live::SystemStateEvent;

/// The version every message carries; a backend drops messages of another version (a newer
/// backend during a rolling upgrade speaks a format this one does not know).
pub const BUS_VERSION: u32 = 1;
/// The largest message accepted (NATS's default payload limit is 1 MiB).
pub const MAX_MESSAGE_BYTES: usize = 1024 * 1024;
/// Most DMSs one message names; a flush of more goes out as several messages.
pub const MAX_SYSTEMS_PER_MESSAGE: usize = 2_000;
/// Ids are UUIDs (36 characters); anything much longer is not one of ours.
const MAX_ID_CHARS: usize = 64;

/// One message with its version and the backend that sent it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Envelope {
    pub v: u32,
    /// The sending backend's id (new for every process).
    pub origin: String,
    pub body: BusMessage,
}

/// What one backend tells the others.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum BusMessage {
    /// One flush of the sender's hub: gateways it now holds (every other backend closes its
    /// socket of those DMSs), then the states it decided and the DMSs removed.
    Changes {
        claims: Vec<Claim>,
        states: Vec<SystemStateEvent>,
        removed: Vec<SystemStateEvent>,
    },
    /// The DMS's credentials were revoked: tokens older than `generation` are void wherever
    /// its gateway is connected.
    Revoked { system_id: String, generation: i32 },
    /// A person's organizations (or their names) changed: their streams start over.
    MembershipChanged { user_id: String },
    /// Remote access ended: on these DMSs (switched off, removed), or for these people in
    /// these organizations (they left or were removed). Their open remote sessions are cut.
    RemoteAccessCut {
        system_ids: Vec<String>,
        people: Vec<PersonInOrganization>,
    },
    /// These sessions ended: their access tokens are void and their live streams close.
    SessionsEnded { session_ids: Vec<String> },
    /// The sender found `backend`'s lease expired and recorded these DMSs disconnected.
    TakenOver {
        backend: String,
        system_ids: Vec<String>,
    },
}

/// One person in one organization.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PersonInOrganization {
    pub user_id: String,
    pub organization_id: String,
}

/// A gateway connection a backend holds.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Claim {
    pub system_id: String,
    /// The connection's number within its backend.
    pub connection: u64,
}

/// Why a message was dropped.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum BusError {
    #[error("message of {0} bytes is over the limit")]
    TooLarge(usize),
    #[error("message version {0} is not {BUS_VERSION}")]
    UnknownVersion(u32),
    #[error("malformed message: {0}")]
    Malformed(String),
    #[error("invalid message: {0}")]
    Invalid(&'static str),
}

impl Envelope {
    /// A message from `origin`, in this version.
    pub fn new(origin: &str, body: BusMessage) -> Self {
        Self {
            v: BUS_VERSION,
            origin: origin.to_owned(),
            body,
        }
    }

    /// Reads and checks a message off the bus.
    pub fn parse(payload: &[u8]) -> Result<Self, BusError> {
        if payload.len() > MAX_MESSAGE_BYTES {
            return Err(BusError::TooLarge(payload.len()));
        }
        // The version first, so a message of another version is told apart from garbage.
        #[derive(Deserialize)]
        struct Version {
            v: u32,
        }
        let version: Version = serde_json::from_slice(payload)
            .map_err(|error| BusError::Malformed(error.to_string()))?;
        if version.v != BUS_VERSION {
            return Err(BusError::UnknownVersion(version.v));
        }
        let envelope: Envelope = serde_json::from_slice(payload)
            .map_err(|error| BusError::Malformed(error.to_string()))?;
        envelope.check()?;
        Ok(envelope)
    }

    fn check(&self) -> Result<(), BusError> {
        check_id(&self.origin)?;
        match &self.body {
            BusMessage::Changes {
                claims,
                states,
                removed,
            } => {
                if claims.len() + states.len() + removed.len() > MAX_SYSTEMS_PER_MESSAGE {
                    return Err(BusError::Invalid("too many DMSs in one message"));
                }
                for claim in claims {
                    check_id(&claim.system_id)?;
                }
                for event in states.iter().chain(removed) {
                    check_id(&event.system_id)?;
                    check_id(&event.organization_id)?;
                    if event.state == stratus_shared::ConnectionState::Unknown {
                        // Unknown is each backend's own view, never the cluster's decision.
                        return Err(BusError::Invalid("a decided state cannot be unknown"));
                    }
                }
            }
            BusMessage::Revoked { system_id, .. } => check_id(system_id)?,
            BusMessage::MembershipChanged { user_id } => check_id(user_id)?,
            BusMessage::RemoteAccessCut { system_ids, people } => {
                if system_ids.len() + people.len() > MAX_SYSTEMS_PER_MESSAGE {
                    return Err(BusError::Invalid("too many cuts in one message"));
                }
                for system_id in system_ids {
                    check_id(system_id)?;
                }
                for person in people {
                    check_id(&person.user_id)?;
                    check_id(&person.organization_id)?;
                }
            }
            BusMessage::SessionsEnded { session_ids } => {
                if session_ids.len() > MAX_SYSTEMS_PER_MESSAGE {
                    return Err(BusError::Invalid("too many sessions in one message"));
                }
                for session_id in session_ids {
                    check_id(session_id)?;
                }
            }
            BusMessage::TakenOver {
                backend,
                system_ids,
            } => {
                check_id(backend)?;
                if system_ids.len() > MAX_SYSTEMS_PER_MESSAGE {
                    return Err(BusError::Invalid("too many DMSs in one message"));
                }
                for id in system_ids {
                    check_id(id)?;
                }
            }
        }
        Ok(())
    }

    /// The message as sent on the bus.
    pub fn to_payload(&self) -> Vec<u8> {
        // Serializing these plain structs cannot fail.
        serde_json::to_vec(self).unwrap_or_default()
    }
}

fn check_id(id: &str) -> Result<(), BusError> {
    if id.is_empty() || id.len() > MAX_ID_CHARS {
        return Err(BusError::Invalid("an id is empty or too long"));
    }
    if !id
        .bytes()
        .all(|byte| byte.is_ascii_alphanumeric() || byte == b'-' || byte == b'_')
    {
        return Err(BusError::Invalid("an id has characters ids never have"));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::Utc;
    use stratus_shared::ConnectionState;

    fn event(state: ConnectionState) -> SystemStateEvent {
        SystemStateEvent {
            system_id: "0193a3c4-1111-7000-8000-000000000001".into(),
            organization_id: "org-1".into(),
            state,
            last_online_at: Some(Utc::now()),
            at: Utc::now(),
        }
    }

    #[test]
    fn every_message_survives_the_round_trip() {
        let messages = [
            BusMessage::Changes {
                claims: vec![Claim {
                    system_id: "sys".into(),
                    connection: 7,
                }],
                states: vec![event(ConnectionState::Connected)],
                removed: vec![event(ConnectionState::Disconnected)],
            },
            BusMessage::Revoked {
                system_id: "sys".into(),
                generation: 3,
            },
            BusMessage::MembershipChanged {
                user_id: "user".into(),
            },
            BusMessage::TakenOver {
                backend: "b-1".into(),
                system_ids: vec!["sys".into()],
            },
        ];
        for body in messages {
            let envelope = Envelope::new("backend-a", body);
            assert_eq!(Envelope::parse(&envelope.to_payload()), Ok(envelope));
        }
    }

    #[test]
    fn another_version_is_told_apart_from_garbage() {
        let newer = br#"{"v":2,"origin":"b","body":{"kind":"something_new"}}"#;
        assert_eq!(Envelope::parse(newer), Err(BusError::UnknownVersion(2)));
        for garbage in [
            &b"not json"[..],
            b"[]",
            b"{}",
            br#"{"v":"1"}"#,
            br#"{"v":1,"origin":"b","body":{"kind":"what"}}"#,
            br#"{"v":1,"origin":"b","body":{"kind":"revoked","system_id":"s"}}"#,
            br#"{"v":1,"origin":"b","extra":1,"body":{"kind":"membership_changed","user_id":"u"}}"#,
        ] {
            assert!(
                matches!(Envelope::parse(garbage), Err(BusError::Malformed(_))),
                "{}",
                String::from_utf8_lossy(garbage)
            );
        }
    }

    #[test]
    fn messages_that_parse_but_cannot_be_ours_are_refused() {
        let bad = [
            Envelope::new(
                "",
                BusMessage::MembershipChanged {
                    user_id: "u".into(),
                },
            ),
            Envelope::new(
                "b",
                BusMessage::MembershipChanged {
                    user_id: "x".repeat(65),
                },
            ),
            Envelope::new(
                "b",
                BusMessage::Revoked {
                    system_id: "a/b".into(),
                    generation: 1,
                },
            ),
            Envelope::new(
                "b",
                BusMessage::Changes {
                    claims: vec![],
                    states: vec![event(ConnectionState::Unknown)],
                    removed: vec![],
                },
            ),
            Envelope::new(
                "b",
                BusMessage::TakenOver {
                    backend: "dead".into(),
                    system_ids: vec!["s".into(); MAX_SYSTEMS_PER_MESSAGE + 1],
                },
            ),
        ];
        for envelope in bad {
            assert!(
                matches!(
                    Envelope::parse(&envelope.to_payload()),
                    Err(BusError::Invalid(_))
                ),
                "{envelope:?}"
            );
        }
        let huge = vec![b' '; MAX_MESSAGE_BYTES + 1];
        assert_eq!(
            Envelope::parse(&huge),
            Err(BusError::TooLarge(MAX_MESSAGE_BYTES + 1))
        );
    }
}
