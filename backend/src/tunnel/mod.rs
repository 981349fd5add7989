//! Remote access's transport: a yamux session inside a gateway's WebSocket (its binary
//! frames), one stream per tunnelled HTTP connection to the DMS's local web server, HTTP/1.1
//! spoken inside each stream by hyper. `mux` runs a session, `registry` knows the tunnels
//! this backend holds (`remote` carries requests through them), `gateway` is the gateway's
//! side (the simulator's and a reference for real gateways).

pub mod gateway;
pub mod mux;
pub mod registry;

pub use registry::{InUseGuard, Opened, TunnelError, Tunnels};
