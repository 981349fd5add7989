//! The gateway's text frames: whatever a gateway sends, reading it never panics, and what it
//! is does not depend on the whitespace around it.

#![no_main]

use libfuzzer_sys::fuzz_target;
use stratus_shared::api::gateway::LinkAccountFrame;
use stratus_shared::gateway_frame::{
    parse_text_frame, FrameError, GatewayTextFrame, MAX_VERSION_LENGTH,
};

/// What a frame was decided to be, to compare two readings.
#[derive(Debug, PartialEq, Eq)]
enum Kind {
    Heartbeat,
    LinkAccount,
    MalformedHeartbeat,
    MalformedLinkAccount,
}

fn kind(outcome: &Result<GatewayTextFrame<'_>, FrameError>) -> Kind {
    match outcome {
        Ok(GatewayTextFrame::Heartbeat(_)) => Kind::Heartbeat,
        Ok(GatewayTextFrame::LinkAccount(_)) => Kind::LinkAccount,
        Err(FrameError::MalformedLinkAccount(_)) => Kind::MalformedLinkAccount,
        Err(FrameError::MalformedHeartbeat(_) | FrameError::InvalidHeartbeat(_)) => {
            Kind::MalformedHeartbeat
        }
    }
}

fuzz_target!(|data: &[u8]| {
    // The socket only ever hands over UTF-8 (WebSocket text frames are validated).
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let outcome = parse_text_frame(text);
    match &outcome {
        Ok(GatewayTextFrame::Heartbeat(frame)) => {
            assert!(frame.repeats(&frame.report()));
            if frame.check().is_ok() {
                let version = frame.dms_version.trim();
                assert!(!version.is_empty() && version.len() <= MAX_VERSION_LENGTH);
                assert!(!version.chars().any(char::is_control));
            }
        }
        Ok(GatewayTextFrame::LinkAccount(request)) => {
            let again = serde_json::to_string(&LinkAccountFrame {
                link_account: request.clone(),
            })
            .expect("a link confirmation serializes");
            match parse_text_frame(&again) {
                Ok(GatewayTextFrame::LinkAccount(read)) => assert_eq!(&read, request),
                other => panic!("{again} read back as {other:?}"),
            }
        }
        Err(error) => {
            let _ = error.to_string();
        }
    }
    let spaced = format!(" \r\n\t{text}\n ");
    assert_eq!(kind(&parse_text_frame(&spaced)), kind(&outcome), "{text:?}");
});
