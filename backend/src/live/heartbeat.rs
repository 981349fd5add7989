//! The gateway's heartbeat frame, read by `stratus_shared::gateway_frame` (pure, and fuzzed
//! there); re-exported under the name the hub and the socket know it by.

pub use stratus_shared::gateway_frame::{HeartbeatFrame, Report};
