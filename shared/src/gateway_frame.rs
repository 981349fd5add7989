//! Reading a gateway's text frames, cheaply: a gateway at full speed sends hundreds of
//! thousands of heartbeats a second, and at any speed most repeat the previous one's report.

use std::borrow::Cow;

use serde::de::{Deserializer, IgnoredAny};
use serde::Deserialize;

use crate::api::gateway::{LinkAccountFrame, LinkAccountRequest};

/// The longest DMS version string accepted in a heartbeat.
pub const MAX_VERSION_LENGTH: usize = 64;

/// What a gateway's text frame is.
#[derive(Debug)]
pub enum GatewayTextFrame<'a> {
    /// A heartbeat, read for its shape only: call [`HeartbeatFrame::check`] before using a
    /// report it carries.
    Heartbeat(HeartbeatFrame<'a>),
    /// A DMS user confirming a link code.
    LinkAccount(LinkAccountRequest),
}

/// Why a text frame was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FrameError {
    /// Not a link confirmation, and not a heartbeat either: what reading it as one said.
    MalformedHeartbeat(String),
    /// A heartbeat of the right shape with implausible values (see [`HeartbeatFrame::check`]).
    InvalidHeartbeat(String),
    /// A JSON object with a `link_account` field that is not a valid confirmation.
    MalformedLinkAccount(String),
}

impl std::fmt::Display for FrameError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::MalformedHeartbeat(error) => write!(f, "malformed heartbeat: {error}"),
            Self::InvalidHeartbeat(error) => write!(f, "invalid heartbeat: {error}"),
            Self::MalformedLinkAccount(error) => write!(f, "malformed link_account frame: {error}"),
        }
    }
}

impl std::error::Error for FrameError {}

/// Decides what a text frame is: a heartbeat (the common case, tried first and read without
/// its timestamp), a link confirmation, or neither. Whitespace around the JSON and fields in
/// any order are fine; a frame counts as a link confirmation when it is an object with a
/// `link_account` field, however that field's value turns out.
pub fn parse_text_frame(text: &str) -> Result<GatewayTextFrame<'_>, FrameError> {
    let heartbeat_error = match HeartbeatFrame::read(text) {
        Ok(frame) => return Ok(GatewayTextFrame::Heartbeat(frame)),
        Err(error) => error,
    };
    match serde_json::from_str::<LinkAccountFrame>(text) {
        Ok(frame) => Ok(GatewayTextFrame::LinkAccount(frame.link_account)),
        Err(link_error) => match serde_json::from_str::<LinkProbe>(text) {
            Ok(LinkProbe {
                link_account: Present(true),
            }) => Err(FrameError::MalformedLinkAccount(link_error.to_string())),
            _ => Err(FrameError::MalformedHeartbeat(heartbeat_error.to_string())),
        },
    }
}

/// Whether a frame has a `link_account` field at all, whatever else it holds.
#[derive(Deserialize)]
struct LinkProbe {
    #[serde(default)]
    link_account: Present,
}

/// A field that was there (with any value, `null` included).
#[derive(Default)]
struct Present(bool);

impl<'de> Deserialize<'de> for Present {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        IgnoredAny::deserialize(deserializer).map(|_| Present(true))
    }
}

/// A heartbeat frame (the wire form of [`crate::api::gateway::Heartbeat`]), borrowing from
/// the frame's text. Unknown fields are ignored, so newer gateways can add some.
#[derive(Debug, Deserialize)]
pub struct HeartbeatFrame<'a> {
    pub dms_responding: bool,
    #[serde(borrow)]
    pub dms_version: Cow<'a, str>,
    pub agent_count: u32,
    /// The gateway's clock: Stratus decides with its own receipt time, so this is only
    /// checked (see [`HeartbeatFrame::check`]), never used.
    #[serde(borrow)]
    timestamp: Cow<'a, str>,
}

impl<'a> HeartbeatFrame<'a> {
    /// Reads the frame's shape: valid JSON with every field of the right type.
    pub fn read(text: &'a str) -> Result<Self, serde_json::Error> {
        serde_json::from_str(text)
    }

    /// Checks the values: a plausible version and an RFC 3339 timestamp. Parsing a timestamp
    /// costs more than the rest of the frame, so the socket checks the frames whose report it
    /// hands to the hub (the first, each change, and at least every half second) and lets
    /// the repeats in between through on their shape alone.
    pub fn check(&self) -> Result<(), FrameError> {
        let version = self.dms_version.trim();
        if version.is_empty()
            || version.len() > MAX_VERSION_LENGTH
            || version.chars().any(char::is_control)
        {
            return Err(FrameError::InvalidHeartbeat(format!(
                "dms_version must be 1 to {MAX_VERSION_LENGTH} characters without control characters"
            )));
        }
        chrono::DateTime::parse_from_rfc3339(&self.timestamp).map_err(|error| {
            FrameError::InvalidHeartbeat(format!("timestamp is not an RFC 3339 date-time: {error}"))
        })?;
        Ok(())
    }

    /// Whether this frame reports what `previous` reported.
    pub fn repeats(&self, previous: &Report) -> bool {
        self.dms_responding == previous.dms_responding
            && self.agent_count == previous.agent_count
            && self.dms_version == previous.dms_version
    }

    /// The report this frame carries, to compare later frames with.
    pub fn report(&self) -> Report {
        Report {
            dms_responding: self.dms_responding,
            dms_version: self.dms_version.clone().into_owned(),
            agent_count: self.agent_count,
        }
    }
}

/// What a heartbeat reports about its DMS.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Report {
    pub dms_responding: bool,
    pub dms_version: String,
    pub agent_count: u32,
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: &str = r#"{"dms_responding":true,"dms_version":"10.5","agent_count":2,"timestamp":"2026-11-24T00:00:00Z"}"#;
    const LINK: &str =
        r#"{"link_account":{"request_id":7,"code":"ABCD-1234","dms_user":"SKYLINE\\jdoe"}}"#;

    /// A frame read and, when a heartbeat, checked.
    fn parse(text: &str) -> Result<GatewayTextFrame<'_>, FrameError> {
        let frame = parse_text_frame(text)?;
        if let GatewayTextFrame::Heartbeat(heartbeat) = &frame {
            heartbeat.check()?;
        }
        Ok(frame)
    }

    fn heartbeat(text: &str) -> Result<HeartbeatFrame<'_>, FrameError> {
        match parse(text)? {
            GatewayTextFrame::Heartbeat(frame) => Ok(frame),
            other => panic!("{text} is not a heartbeat: {other:?}"),
        }
    }

    fn link(text: &str) -> LinkAccountRequest {
        match parse(text) {
            Ok(GatewayTextFrame::LinkAccount(request)) => request,
            other => panic!("{text} is not a link confirmation: {other:?}"),
        }
    }

    #[test]
    fn a_heartbeat_is_read_with_its_report() {
        let frame = heartbeat(GOOD).unwrap();
        assert_eq!(
            frame.report(),
            Report {
                dms_responding: true,
                dms_version: "10.5".into(),
                agent_count: 2,
            }
        );
        // Escapes in the version are read (into an owned string).
        let escaped = GOOD.replace("10.5", r"10.5\u002e1");
        assert_eq!(heartbeat(&escaped).unwrap().dms_version, "10.5.1");
    }

    #[test]
    fn a_link_confirmation_is_read() {
        let request = link(LINK);
        assert_eq!(request.request_id, 7);
        assert_eq!(request.code, "ABCD-1234");
        assert_eq!(request.dms_user, r"SKYLINE\jdoe");
    }

    #[test]
    fn whitespace_around_or_inside_a_frame_changes_nothing() {
        let spaced_link = format!(" \n\t{}\r\n ", LINK.replace(":{", ": {"));
        assert_eq!(link(&spaced_link), link(LINK));
        let reordered =
            r#"  { "link_account" : { "dms_user": "u", "code": "c", "request_id": 1 } }"#;
        assert_eq!(link(reordered).dms_user, "u");
        assert!(heartbeat(&format!("\n {GOOD} \n")).is_ok());
    }

    #[test]
    fn unknown_fields_are_ignored_in_heartbeats_only() {
        // Newer gateways may add fields to a heartbeat.
        let newer = GOOD.replace('}', r#","cpu_load":0.5}"#);
        assert!(heartbeat(&newer).is_ok());
        // A link confirmation is read strictly.
        let extra = LINK.replace("}}", r#","extra":1}}"#);
        assert!(matches!(
            parse(&extra),
            Err(FrameError::MalformedLinkAccount(_))
        ));
        let beside = LINK.replace("}}", r#"},"extra":1}"#);
        assert!(matches!(
            parse(&beside),
            Err(FrameError::MalformedLinkAccount(_))
        ));
    }

    #[test]
    fn malformed_frames_are_refused_as_heartbeats() {
        for bad in [
            "",
            " ",
            "null",
            "[]",
            "{}",
            "{",
            r#"{"dms_responding":true}"#,
            r#"{"link_account_result":{}}"#,
            r#"{"dms_responding":true,"dms_version":"10.5","agent_count":2,"timestamp":"2026-11-24T00:00:00Z"} x"#,
        ] {
            assert!(
                matches!(parse(bad), Err(FrameError::MalformedHeartbeat(_))),
                "{bad}: {:?}",
                parse(bad)
            );
        }
    }

    #[test]
    fn fields_of_the_wrong_type_are_refused() {
        for bad in [
            r#"{"dms_responding":1,"dms_version":"10.5","agent_count":2,"timestamp":"2026-11-24T00:00:00Z"}"#,
            r#"{"dms_responding":true,"dms_version":10.5,"agent_count":2,"timestamp":"2026-11-24T00:00:00Z"}"#,
            r#"{"dms_responding":true,"dms_version":"10.5","agent_count":-1,"timestamp":"2026-11-24T00:00:00Z"}"#,
            r#"{"dms_responding":true,"dms_version":"10.5","agent_count":4294967296,"timestamp":"2026-11-24T00:00:00Z"}"#,
            r#"{"dms_responding":true,"dms_version":"10.5","agent_count":2,"timestamp":0}"#,
        ] {
            assert!(
                matches!(parse(bad), Err(FrameError::MalformedHeartbeat(_))),
                "{bad}"
            );
        }
        for bad in [
            r#"{"link_account":null}"#,
            r#"{"link_account":[]}"#,
            r#"{"link_account":{"request_id":"7","code":"c","dms_user":"u"}}"#,
            r#"{"link_account":{"request_id":-1,"code":"c","dms_user":"u"}}"#,
            r#"{"link_account":{"request_id":7,"code":1,"dms_user":"u"}}"#,
            r#"{"link_account":{"request_id":7,"code":"c"}}"#,
        ] {
            assert!(
                matches!(parse(bad), Err(FrameError::MalformedLinkAccount(_))),
                "{bad}"
            );
        }
    }

    #[test]
    fn implausible_values_are_refused_by_the_check_only() {
        for bad in [
            GOOD.replace("10.5", ""),
            GOOD.replace("10.5", "   "),
            GOOD.replace("10.5", r"10\u0007"),
            GOOD.replace("10.5", &"9".repeat(MAX_VERSION_LENGTH + 1)),
            GOOD.replace("2026-11-24T00:00:00Z", "yesterday"),
        ] {
            // The shape is right: repeats pass without the check.
            assert!(parse_text_frame(&bad).is_ok(), "{bad}");
            assert!(
                matches!(parse(&bad), Err(FrameError::InvalidHeartbeat(_))),
                "{bad}"
            );
        }
        let longest = GOOD.replace("10.5", &"9".repeat(MAX_VERSION_LENGTH));
        assert!(heartbeat(&longest).is_ok());
    }

    #[test]
    fn a_frame_repeats_a_report_only_when_every_reported_value_is_the_same() {
        let frame = |responding: bool, version: &str, agents: u32| {
            format!(
                r#"{{"dms_responding":{responding},"dms_version":"{version}","agent_count":{agents},"timestamp":"2026-11-24T00:00:00Z"}}"#
            )
        };
        let first = frame(true, "10.5", 2);
        let report = HeartbeatFrame::read(&first).unwrap().report();
        for (other, repeats) in [
            (frame(true, "10.5", 2), true),
            (frame(false, "10.5", 2), false),
            (frame(true, "10.6", 2), false),
            (frame(true, "10.5", 3), false),
        ] {
            assert_eq!(
                HeartbeatFrame::read(&other).unwrap().repeats(&report),
                repeats,
                "{other}"
            );
        }
    }
}
