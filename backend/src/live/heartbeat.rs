//! Reading a gateway's heartbeat frame, cheaply: a gateway at full speed sends hundreds of
//! thousands a second, and at any speed most frames repeat the previous one's report.

use std::borrow::Cow;

use serde::Deserialize;

/// The longest DMS version string accepted in a heartbeat.
const MAX_VERSION_LENGTH: usize = 64;

/// A heartbeat frame (the wire form of [`stratus_shared::api::gateway::Heartbeat`]), borrowing
/// from the frame's text. Unknown fields are ignored, so newer gateways can add some.
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
    pub fn read(text: &'a str) -> Result<Self, String> {
        serde_json::from_str(text).map_err(|error| error.to_string())
    }

    /// Checks the values: a plausible version and an RFC 3339 timestamp. Parsing a timestamp
    /// costs more than the rest of the frame, so the socket checks the frames whose report it
    /// hands to the hub (the first, each change, and at least every half second) and lets
    /// the repeats in between through on their shape alone.
    pub fn check(&self) -> Result<(), String> {
        let version = self.dms_version.trim();
        if version.is_empty()
            || version.len() > MAX_VERSION_LENGTH
            || version.chars().any(char::is_control)
        {
            return Err(format!(
                "dms_version must be 1 to {MAX_VERSION_LENGTH} characters without control characters"
            ));
        }
        chrono::DateTime::parse_from_rfc3339(&self.timestamp)
            .map_err(|error| format!("timestamp is not an RFC 3339 date-time: {error}"))?;
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

    fn parse(text: &str) -> Result<HeartbeatFrame<'_>, String> {
        let frame = HeartbeatFrame::read(text)?;
        frame.check()?;
        Ok(frame)
    }

    #[test]
    fn heartbeats_are_read_strictly() {
        let good = r#"{"dms_responding":true,"dms_version":"10.5","agent_count":2,"timestamp":"2026-11-24T00:00:00Z"}"#;
        assert_eq!(parse(good).unwrap().agent_count, 2);
        for bad in [
            "",
            "null",
            "[]",
            r#"{"dms_responding":true}"#,
            r#"{"dms_responding":1,"dms_version":"10.5","agent_count":2,"timestamp":"2026-11-24T00:00:00Z"}"#,
            r#"{"dms_responding":true,"dms_version":"","agent_count":2,"timestamp":"2026-11-24T00:00:00Z"}"#,
            r#"{"dms_responding":true,"dms_version":"10.5","agent_count":2,"timestamp":"yesterday"}"#,
            r#"{"dms_responding":true,"dms_version":"10.5","agent_count":-1,"timestamp":"2026-11-24T00:00:00Z"}"#,
        ] {
            assert!(parse(bad).is_err(), "{bad}");
        }
        // Newer gateways may send more.
        let newer = good.replace("}", r#","cpu_load":0.5}"#);
        assert!(parse(&newer).is_ok());
        let long = good.replace("10.5", &"9".repeat(65));
        assert!(parse(&long).is_err());
        // Escapes in the version are read (into an owned string).
        let escaped = good.replace("10.5", r"10.5\u002e1");
        assert_eq!(parse(&escaped).unwrap().dms_version, "10.5.1");
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
