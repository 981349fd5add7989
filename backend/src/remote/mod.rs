//! Remote access: a DMS's web apps on its own origin (`<label>.<remote domain>`), tunnelled
//! over its gateway's connection. This module admits a request (the host's session cookie,
//! re-checked every time), finds its route (the tunnel, when this backend holds the DMS's
//! socket; else, in a cluster, the backend that does) and carries it there and back with
//! hyper, with limits on size, time and requests in flight. `pages` answers when it cannot.
//!
//! Both the plain handler (`routes::remote`) and the WebSocket upgrades (`routes::upgrade`)
//! go through [`RemoteAccess`].

pub mod pages;

use std::net::IpAddr;
use std::sync::Arc;
use std::time::Duration;

use actix_web::http::header::HeaderMap;
use bytes::Bytes;
use chrono::TimeDelta;
use diesel::prelude::*;
use futures_util::{Stream, StreamExt};
use hyper::body::{Body, Incoming};
use hyper_util::rt::TokioIo;
use subtle::ConstantTimeEq;
use tokio::io::{AsyncRead, AsyncWrite};

use crate::db::schema::{cluster_backends, systems};
use crate::db::Database;
use crate::domain::remote_access::{self, Admitted, Refusal, RemoteHosts};
use crate::live::LiveHub;
use crate::tunnel::{InUseGuard, TunnelError, Tunnels};
pub use pages::Failure;

/// The host-only cookie that holds a remote session on a DMS's origin.
pub const COOKIE: &str = "stratus_remote";
/// Where the portal's form posts a ticket, on the DMS's origin.
pub const ENTER_PATH: &str = "/_stratus/enter";
/// Marks a request one backend forwards to the backend holding the DMS's tunnel; its value
/// is a key derived from the session secret every backend shares.
pub const FORWARDED_HEADER: &str = "x-stratus-forwarded";

/// What remote access may carry.
#[derive(Debug, Clone)]
pub struct Limits {
    /// The largest request body (413 beyond).
    pub max_request_bytes: u64,
    /// How long the DMS may take to start answering (504 beyond).
    pub response_timeout: Duration,
    /// How long a remote session lasts after its ticket was posted.
    pub session_lifetime: TimeDelta,
}

/// The remote-access service, shared by every worker.
#[derive(Clone)]
pub struct RemoteAccess {
    inner: Arc<Inner>,
}

struct Inner {
    database: Database,
    tunnels: Tunnels,
    hub: LiveHub,
    hosts: RemoteHosts,
    limits: Limits,
    portal: String,
    /// In a cluster: the key that marks forwarded requests (hex SHA-256 of a label and the
    /// shared session secret).
    forwarding_key: Option<String>,
}

/// How a request reaches the DMS's web server.
enum Route {
    /// A stream of the tunnel this backend holds.
    Tunnel(crate::tunnel::Opened),
    /// A connection to the backend that holds it.
    Peer(tokio::net::TcpStream),
}

/// A request on its way to the DMS: the person let through and the session marked in use
/// (cut when their access ends).
pub struct Admission {
    pub admitted: Admitted,
    pub in_use: InUseGuard,
    /// The session's secret (the cookie), which a request forwarded to another backend
    /// carries again: that backend admits it itself.
    session: String,
}

impl RemoteAccess {
    /// The service. `forwarding_secret` (cluster mode) keys the requests backends forward to
    /// each other.
    pub fn new(
        database: Database,
        tunnels: Tunnels,
        hub: LiveHub,
        hosts: RemoteHosts,
        limits: Limits,
        portal: &str,
        forwarding_secret: Option<&[u8]>,
    ) -> Self {
        let forwarding_key = forwarding_secret.map(|secret| {
            use sha2::{Digest, Sha256};
            let mut digest = Sha256::new();
            digest.update(b"stratus remote-access forwarding\0");
            digest.update(secret);
            digest
                .finalize()
                .iter()
                .map(|byte| format!("{byte:02x}"))
                .collect()
        });
        Self {
            inner: Arc::new(Inner {
                database,
                tunnels,
                hub,
                hosts,
                limits,
                portal: portal.trim_end_matches('/').to_owned(),
                forwarding_key,
            }),
        }
    }

    /// Where DMSs are reached.
    pub fn hosts(&self) -> &RemoteHosts {
        &self.inner.hosts
    }

    /// The tunnels this backend holds.
    pub fn tunnels(&self) -> &Tunnels {
        &self.inner.tunnels
    }

    /// The limits applied.
    pub fn limits(&self) -> &Limits {
        &self.inner.limits
    }

    /// The DMS label of a request's `Host` header, when it is a remote-access host.
    pub fn label_in(&self, headers: &HeaderMap) -> Option<String> {
        let host = headers.get(actix_web::http::header::HOST)?.to_str().ok()?;
        self.inner.hosts.label_of(host).map(str::to_owned)
    }

    /// Whether the request was forwarded by another backend of this cluster.
    pub fn is_forwarded(&self, headers: &HeaderMap) -> bool {
        let (Some(key), Some(value)) = (&self.inner.forwarding_key, headers.get(FORWARDED_HEADER))
        else {
            return false;
        };
        bool::from(key.as_bytes().ct_eq(value.as_bytes()))
    }

    fn portal_page(&self, system_id: &str) -> String {
        format!("{}/systems/{system_id}", self.inner.portal)
    }

    fn refusal_page(&self, refusal: Refusal, target_name: &str, system_id: &str) -> Failure {
        let portal = self.inner.portal.clone();
        match refusal {
            Refusal::NoSession => Failure::NoSession { portal },
            Refusal::BadTicket => Failure::BadTicket { portal },
            Refusal::NotMember => Failure::NotMember { portal },
            Refusal::Off {
                by_organization,
                managers,
            } => Failure::Off {
                dms: target_name.to_owned(),
                by_organization,
                managers,
                settings: self.portal_page(system_id),
            },
        }
    }

    /// Spends a ticket posted to the host `label`: the session secret for the cookie.
    pub async fn enter(&self, label: &str, ticket: String) -> Result<String, Failure> {
        let lifetime = self.inner.limits.session_lifetime;
        let owned_label = label.to_owned();
        let outcome = self
            .inner
            .database
            .run_write(move |connection| {
                remote_access::redeem_ticket(
                    connection,
                    &owned_label,
                    &ticket,
                    crate::db::now(),
                    lifetime,
                )
            })
            .await;
        match outcome {
            Ok(Ok((secret, admitted))) => {
                tracing::info!(
                    system_id = admitted.target.system_id,
                    user_id = admitted.user_id,
                    "remote session opened"
                );
                Ok(secret)
            }
            Ok(Err(refusal)) => Err(self.refusal_page(refusal, "", "")),
            Err(error) => {
                tracing::warn!(%error, "cannot redeem a remote-access ticket");
                Err(Failure::Broken {
                    dms: label.to_owned(),
                })
            }
        }
    }

    /// Lets a request at `label` with the session `cookie` through, or says why not.
    pub async fn admit(&self, label: &str, cookie: Option<String>) -> Result<Admission, Failure> {
        let owned_label = label.to_owned();
        let session = cookie.clone().unwrap_or_default();
        let outcome = self
            .inner
            .database
            .run_app(move |connection| {
                remote_access::admit(
                    connection,
                    &owned_label,
                    cookie.as_deref(),
                    crate::db::now(),
                )
            })
            .await;
        let admitted = match outcome {
            Ok(Ok(admitted)) => admitted,
            Ok(Err(refusal)) => {
                let target = {
                    let owned_label = label.to_owned();
                    self.inner
                        .database
                        .run(move |connection| {
                            Ok(remote_access::target_at(connection, &owned_label)?)
                        })
                        .await
                        .ok()
                        .flatten()
                };
                let (name, id) = target
                    .map(|target| (target.name, target.system_id))
                    .unwrap_or_default();
                return Err(self.refusal_page(refusal, &name, &id));
            }
            Err(error) => {
                tracing::warn!(%error, "cannot check a remote-access session");
                return Err(Failure::Broken {
                    dms: label.to_owned(),
                });
            }
        };
        let in_use = self.inner.tunnels.in_use(
            &admitted.target.system_id,
            &admitted.target.organization_id,
            &admitted.user_id,
        );
        Ok(Admission {
            admitted,
            in_use,
            session,
        })
    }

    /// The page for a DMS that cannot be reached now.
    fn offline(&self, admitted: &Admitted, no_tunnel: bool) -> Failure {
        let view = self.inner.hub.view(&admitted.target.system_id);
        Failure::Offline {
            dms: admitted.target.name.clone(),
            state: view
                .as_ref()
                .map_or(stratus_shared::ConnectionState::Unknown, |view| view.state),
            last_online_at: view.and_then(|view| view.last_online_at),
            no_tunnel,
            detail: self.portal_page(&admitted.target.system_id),
        }
    }

    /// A route to the DMS's web server: its tunnel here, or (not for a forwarded request)
    /// the cluster backend holding its gateway's socket.
    async fn route(&self, admitted: &Admitted, forwarded: bool) -> Result<Route, Failure> {
        let system_id = &admitted.target.system_id;
        match self.inner.tunnels.open(system_id).await {
            Ok(opened) => return Ok(Route::Tunnel(opened)),
            Err(TunnelError::Busy) => {
                return Err(Failure::Busy {
                    dms: admitted.target.name.clone(),
                })
            }
            Err(TunnelError::Open(error)) => {
                tracing::info!(system_id, %error, "cannot open a tunnel stream");
                return Err(Failure::Broken {
                    dms: admitted.target.name.clone(),
                });
            }
            Err(TunnelError::NotHere) => {}
        }
        let connected = self.inner.hub.view(system_id).is_some_and(|view| {
            matches!(
                view.state,
                stratus_shared::ConnectionState::Connected
                    | stratus_shared::ConnectionState::DmsNotResponding
            )
        });
        if forwarded || self.inner.forwarding_key.is_none() {
            return Err(self.offline(admitted, connected));
        }
        let Some(address) = self.holder_address(system_id).await else {
            return Err(self.offline(admitted, false));
        };
        match tokio::net::TcpStream::connect(&address).await {
            Ok(stream) => {
                let _ = stream.set_nodelay(true);
                Ok(Route::Peer(stream))
            }
            Err(error) => {
                tracing::warn!(system_id, %address, %error, "cannot reach the backend holding the DMS");
                Err(self.offline(admitted, false))
            }
        }
    }

    /// The address (`host:port`) of the other backend holding `system_id`'s socket.
    async fn holder_address(&self, system_id: &str) -> Option<String> {
        let own = self.inner.hub.backend_id().map(str::to_owned);
        let system_id = system_id.to_owned();
        let found = self
            .inner
            .database
            .run(move |connection| {
                Ok(systems::table
                    .inner_join(
                        cluster_backends::table
                            .on(systems::gateway_backend.eq(cluster_backends::id.nullable())),
                    )
                    .filter(systems::id.eq(&system_id))
                    .select((cluster_backends::id, cluster_backends::address))
                    .first::<(String, String)>(connection)
                    .optional()?)
            })
            .await
            .ok()
            .flatten()?;
        let (backend, address) = found;
        (Some(backend) != own && !address.is_empty()).then_some(address)
    }

    /// Sends `request` to the DMS at `admission` and returns its answer (the body still
    /// streaming), within the limits.
    pub async fn send<B>(
        &self,
        admission: &Admission,
        forwarded: bool,
        mut request: http::Request<B>,
        too_large: Option<&std::sync::atomic::AtomicBool>,
    ) -> Result<http::Response<Incoming>, Failure>
    where
        B: Body<Data = Bytes> + 'static,
        B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
    {
        let route = self.route(&admission.admitted, forwarded).await?;
        let dms = admission.admitted.target.name.clone();
        let io: Box<dyn Io> = match route {
            Route::Tunnel(opened) => Box::new(OpenedIo(opened)),
            Route::Peer(stream) => {
                if let Some(key) = &self.inner.forwarding_key {
                    if let Ok(value) = http::HeaderValue::from_str(key) {
                        request.headers_mut().insert(FORWARDED_HEADER, value);
                    }
                }
                // The holder checks the session itself: it goes along, in a header of its
                // own beside the DMS's cookies.
                if let Ok(value) =
                    http::HeaderValue::from_str(&format!("{COOKIE}={}", admission.session))
                {
                    request.headers_mut().append(http::header::COOKIE, value);
                }
                Box::new(stream)
            }
        };
        let (mut sender, connection) =
            match hyper::client::conn::http1::handshake(TokioIo::new(io)).await {
                Ok(pair) => pair,
                Err(error) => {
                    tracing::info!(%error, "tunnel stream failed before the request");
                    return Err(Failure::Broken { dms });
                }
            };
        actix_web::rt::spawn(async move {
            if let Err(error) = connection.with_upgrades().await {
                tracing::debug!(%error, "tunnelled HTTP connection ended");
            }
        });
        let timeout = self.inner.limits.response_timeout;
        let cut = admission.in_use.cancelled();
        tokio::select! {
            answer = tokio::time::timeout(timeout, sender.send_request(request)) => match answer {
                Ok(Ok(response)) => Ok(response),
                Ok(Err(error)) => {
                    if too_large.is_some_and(|flag| flag.load(std::sync::atomic::Ordering::SeqCst)) {
                        return Err(Failure::TooLarge { limit_bytes: self.inner.limits.max_request_bytes });
                    }
                    tracing::info!(%error, "tunnelled request failed");
                    Err(Failure::Broken { dms })
                }
                Err(_) => Err(Failure::TooSlow { dms, seconds: timeout.as_secs() }),
            },
            () = cut.cancelled() => Err(Failure::NoSession { portal: self.inner.portal.clone() }),
        }
    }
}

/// What hyper runs a tunnelled HTTP connection over.
trait Io: AsyncRead + AsyncWrite + Unpin + Send {}
impl<T: AsyncRead + AsyncWrite + Unpin + Send> Io for T {}

/// A tunnel stream that keeps its DMS's request slot until the connection ends.
struct OpenedIo(crate::tunnel::Opened);

impl AsyncRead for OpenedIo {
    fn poll_read(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
        buf: &mut tokio::io::ReadBuf<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        std::pin::Pin::new(&mut self.0.stream).poll_read(cx, buf)
    }
}

impl AsyncWrite for OpenedIo {
    fn poll_write(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
        buf: &[u8],
    ) -> std::task::Poll<std::io::Result<usize>> {
        std::pin::Pin::new(&mut self.0.stream).poll_write(cx, buf)
    }

    fn poll_flush(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        std::pin::Pin::new(&mut self.0.stream).poll_flush(cx)
    }

    fn poll_shutdown(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        std::pin::Pin::new(&mut self.0.stream).poll_shutdown(cx)
    }
}

/// Headers that belong to one hop, never passed on (RFC 9110 §7.6.1).
pub const HOP_BY_HOP: [&str; 8] = [
    "connection",
    "keep-alive",
    "proxy-authenticate",
    "proxy-authorization",
    "te",
    "trailer",
    "transfer-encoding",
    "upgrade",
];

/// The `name=value` pairs of one `Cookie` header.
fn cookies_in(header: &str) -> Vec<(String, String)> {
    header
        .split(';')
        .filter_map(|pair| {
            let (name, value) = pair.trim().split_once('=')?;
            Some((name.trim().to_owned(), value.trim().to_owned()))
        })
        .collect()
}

/// The value of the remote session cookie in `headers`.
pub fn session_cookie(headers: &HeaderMap) -> Option<String> {
    headers
        .get_all(actix_web::http::header::COOKIE)
        .filter_map(|value| value.to_str().ok())
        .flat_map(cookies_in)
        .find(|(name, _)| name == COOKIE)
        .map(|(_, value)| value)
}

/// The request to send to the DMS, from what the browser (or a forwarding backend) sent:
/// hop-by-hop headers, Stratus's own cookie and `x-stratus-*` headers dropped (unless
/// `upgrade`, which keeps `Connection` and `Upgrade`), `X-Forwarded-*` added.
// Each argument is one fact about the request; both callers (plain and upgrade) have them
// loose, so a struct would only be built to be taken apart here.
#[allow(clippy::too_many_arguments)]
pub fn outgoing_request<B>(
    method: &actix_web::http::Method,
    path_and_query: &str,
    headers: &HeaderMap,
    client: Option<IpAddr>,
    forwarded: bool,
    https: bool,
    upgrade: bool,
    body: B,
) -> Result<http::Request<B>, Failure> {
    let mut builder =
        http::Request::builder()
            .method(method.as_str())
            .uri(if path_and_query.is_empty() {
                "/"
            } else {
                path_and_query
            });
    for (name, value) in headers {
        let lower = name.as_str();
        let hop =
            HOP_BY_HOP.contains(&lower) && !(upgrade && matches!(lower, "connection" | "upgrade"));
        let ours = lower.starts_with("x-stratus-")
            || (!forwarded && lower.starts_with("x-forwarded-"))
            || lower == "cookie";
        if hop || ours {
            continue;
        }
        builder = builder.header(lower, value.as_bytes());
    }
    // The browser's cookies for the DMS, without Stratus's own.
    let cookies: Vec<String> = headers
        .get_all(actix_web::http::header::COOKIE)
        .filter_map(|value| value.to_str().ok())
        .flat_map(cookies_in)
        .filter(|(name, _)| name != COOKIE)
        .map(|(name, value)| format!("{name}={value}"))
        .collect();
    if !cookies.is_empty() {
        builder = builder.header("cookie", cookies.join("; "));
    }
    if !forwarded {
        if let Some(client) = client {
            builder = builder.header("x-forwarded-for", client.to_string());
        }
        builder = builder.header("x-forwarded-proto", if https { "https" } else { "http" });
        if let Some(host) = headers.get(actix_web::http::header::HOST) {
            builder = builder.header("x-forwarded-host", host.as_bytes());
        }
    }
    builder.body(body).map_err(|error| {
        tracing::info!(%error, "a remote request could not be rebuilt");
        Failure::Broken { dms: String::new() }
    })
}

/// Whether a response header of the DMS is passed to the browser, and how: hop-by-hop
/// headers dropped; `Set-Cookie` kept host-only (its `Domain` dropped, so no DMS can set
/// cookies for its neighbours' origins) and never for Stratus's own cookie.
pub fn incoming_header(name: &str, value: &[u8]) -> Option<Vec<u8>> {
    let lower = name.to_ascii_lowercase();
    if HOP_BY_HOP.contains(&lower.as_str()) || lower.starts_with("x-stratus-") {
        return None;
    }
    if lower != "set-cookie" {
        return Some(value.to_vec());
    }
    let text = std::str::from_utf8(value).ok()?;
    let mut cookie = actix_web::cookie::Cookie::parse(text.to_owned()).ok()?;
    if cookie.name() == COOKIE {
        return None;
    }
    cookie.unset_domain();
    Some(cookie.to_string().into_bytes())
}

/// The response body as a stream of chunks for actix, which ends with an error (so the
/// browser sees a broken transfer, not a complete one) when the session is cut, and keeps
/// `hold` (the request slot and the in-use mark) until it ends.
pub fn body_stream<H: 'static>(
    body: Incoming,
    cut: tokio_util::sync::CancellationToken,
    hold: H,
) -> impl Stream<Item = Result<Bytes, std::io::Error>> + 'static {
    let chunks = http_body_util::BodyStream::new(body).filter_map(|frame| async move {
        match frame {
            Ok(frame) => frame.into_data().ok().map(Ok),
            Err(error) => Some(Err(std::io::Error::other(error))),
        }
    });
    let after_cut = cut.clone();
    chunks.take_until(cut.cancelled_owned()).chain(
        futures_util::stream::once(async move { after_cut.is_cancelled() }).filter_map(
            move |was_cut| {
                let _hold = &hold;
                async move { was_cut.then(|| Err(std::io::Error::other("remote access was cut"))) }
            },
        ),
    )
}

/// A request body from chunks, failing (and raising `too_large`) past `limit` bytes.
pub fn limited_body<S, E>(
    chunks: S,
    limit: u64,
    too_large: Arc<std::sync::atomic::AtomicBool>,
) -> impl Body<Data = Bytes, Error = std::io::Error>
where
    S: Stream<Item = Result<Bytes, E>> + 'static,
    E: std::fmt::Display,
{
    let mut seen: u64 = 0;
    let frames = chunks.map(move |chunk| {
        let chunk = chunk.map_err(|error| std::io::Error::other(error.to_string()))?;
        seen += chunk.len() as u64;
        if seen > limit {
            too_large.store(true, std::sync::atomic::Ordering::SeqCst);
            return Err(std::io::Error::other("request body too large"));
        }
        Ok(hyper::body::Frame::data(chunk))
    });
    http_body_util::StreamBody::new(frames)
}

/// An empty request body.
pub fn empty_body() -> http_body_util::Empty<Bytes> {
    http_body_util::Empty::new()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dms_cookies_stay_host_only_and_stratus_cookie_is_never_set_by_a_dms() {
        let kept = incoming_header(
            "Set-Cookie",
            b"sid=1; Domain=remote.localhost; Path=/; HttpOnly",
        )
        .unwrap();
        let kept = String::from_utf8(kept).unwrap();
        assert!(!kept.to_ascii_lowercase().contains("domain"), "{kept}");
        assert!(kept.contains("sid=1") && kept.contains("HttpOnly"));
        assert_eq!(incoming_header("set-cookie", b"stratus_remote=x"), None);
        assert_eq!(incoming_header("Transfer-Encoding", b"chunked"), None);
        assert_eq!(incoming_header("x-stratus-backend", b"b1"), None);
        assert_eq!(
            incoming_header("content-type", b"text/html"),
            Some(b"text/html".to_vec())
        );
    }

    #[test]
    fn the_dms_never_sees_stratus_cookie_or_headers() {
        let mut headers = HeaderMap::new();
        let header = |name: &'static str, value: &'static str| {
            (
                actix_web::http::header::HeaderName::from_static(name),
                actix_web::http::header::HeaderValue::from_static(value),
            )
        };
        for (name, value) in [
            header("cookie", "stratus_remote=secret; dms=1"),
            header("host", "main-acme.remote.localhost:8080"),
            header("connection", "keep-alive"),
            header("x-stratus-forwarded", "forged"),
            header("x-forwarded-for", "10.0.0.1"),
        ] {
            headers.append(name, value);
        }
        let request = outgoing_request(
            &actix_web::http::Method::GET,
            "/alarms?x=1",
            &headers,
            Some("127.0.0.1".parse().unwrap()),
            false,
            false,
            false,
            (),
        )
        .unwrap();
        assert_eq!(request.uri(), "/alarms?x=1");
        let h = request.headers();
        assert_eq!(h["cookie"], "dms=1");
        assert_eq!(
            h["x-forwarded-for"], "127.0.0.1",
            "a forged one is replaced"
        );
        assert!(h.get("connection").is_none() && h.get("x-stratus-forwarded").is_none());
        assert_eq!(h["x-forwarded-host"], "main-acme.remote.localhost:8080");
    }
}
