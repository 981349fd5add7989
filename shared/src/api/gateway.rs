//! The DMS gateway's protocol: trading a connect code for a DMS token, renewing it, and the
//! frames sent on `/api/gateway/ws`.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// `POST /api/gateway/connect`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ConnectRequest {
    pub connect_code: String,
}

/// `POST /api/gateway/refresh`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RefreshRequest {
    pub refresh_key: String,
}

/// A DMS's credentials: a token for the WebSocket and a single-use key to renew it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct DmsCredentials {
    pub system_id: String,
    pub organization_id: String,
    /// JWT for `Authorization: Bearer` on `/api/gateway/ws`.
    pub token: String,
    pub token_expires_at: DateTime<Utc>,
    /// Opaque and single-use: trade it at `/api/gateway/refresh` before the token expires.
    pub refresh_key: String,
    pub refresh_key_expires_at: DateTime<Utc>,
    /// How often the gateway should send a heartbeat.
    pub heartbeat_interval_seconds: u64,
}

/// A heartbeat: the one text frame a gateway sends on its WebSocket. Fields this server does
/// not know are ignored, so newer gateways can add some.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Heartbeat {
    /// Whether the DMS answers its gateway.
    pub dms_responding: bool,
    /// The DMS's version, e.g. `10.5.2`.
    pub dms_version: String,
    /// The number of DataMiner Agents in the DMS.
    pub agent_count: u32,
    /// When the gateway sent it (the gateway's clock; Stratus uses its own receipt time).
    pub timestamp: DateTime<Utc>,
}

/// The WebSocket subprotocol a gateway asks for (`Sec-WebSocket-Protocol`) when it also
/// serves remote access: the server then carries a yamux session in the socket's binary
/// frames and opens one stream per HTTP connection to the DMS's web server. A gateway asking
/// for none only sends heartbeats. See `docs/gateway-protocol.md`.
pub const TUNNEL_SUBPROTOCOL: &str = "stratus.tunnel.v1";

/// A text frame a gateway sends when one of its DMS's users entered a link code (shown to
/// them in Stratus): the DMS confirms which of its users that person is.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct LinkAccountFrame {
    pub link_account: LinkAccountRequest,
}

/// See [`LinkAccountFrame`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct LinkAccountRequest {
    /// Chosen by the gateway; the answer carries it back.
    pub request_id: u64,
    /// The code as the person typed it (dashes, spaces and case do not matter).
    pub code: String,
    /// The DMS user who entered it, as the DMS names them (e.g. `SKYLINE\\jdoe`), 1–100
    /// characters.
    pub dms_user: String,
}

/// The server's answer to a [`LinkAccountFrame`], as a text frame.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct LinkAccountResultFrame {
    pub link_account_result: LinkAccountResult,
}

/// See [`LinkAccountResultFrame`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct LinkAccountResult {
    pub request_id: u64,
    /// Whether the link was recorded.
    pub linked: bool,
    /// The Stratus account now linked to the DMS user, when linked.
    pub account_email: Option<String>,
    /// What to tell the DMS user.
    pub message: String,
}

/// Close codes the server uses on the gateway socket.
pub mod close_code {
    /// The frame was not a valid heartbeat.
    pub const MALFORMED: u16 = 1008;
    /// The frame was larger than the server accepts.
    pub const TOO_LARGE: u16 = 1009;
    /// Nothing arrived within the heartbeat timeout.
    pub const IDLE: u16 = 4000;
    /// Another connection of the same DMS replaced this one.
    pub const REPLACED: u16 = 4001;
    /// The DMS token expired or was revoked, or the DMS was removed.
    pub const REVOKED: u16 = 4002;
}
