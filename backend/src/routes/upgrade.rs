//! Requests that ask to switch protocols. actix-http hands each one, with its bare TCP
//! connection, to [`Upgrades`] instead of the App. A gateway's WebSocket then runs on the
//! connection itself (tungstenite with a 2 KiB read buffer) rather than through actix's
//! HTTP dispatcher, whose 16 KiB of read and write buffers per connection 18,000 idle
//! gateways would otherwise hold all the time. Every other request keeps actix-web's routing;
//! a plain `GET /api/gateway/ws` (no upgrade) still reaches the gateway routes' handler.

use std::io;

use actix_codec::Framed;
use actix_http::body::BodySize;
use actix_http::{h1, ws, ConnectionType, HttpMessage, Request, Response};
use actix_web::http::header::AUTHORIZATION;
use actix_web::http::Method;
use actix_web::ResponseError;
use futures_util::SinkExt;
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::protocol::Role;
use tokio_tungstenite::WebSocketStream;

use crate::auth::client_address::TrustedProxies;
use crate::auth::dms_tokens::DmsTokens;
use crate::auth::AuthenticatedDms;
use crate::db::Database;
use crate::error::AppError;
use crate::live::{gateway_socket, LiveHub};
use crate::remote::{self, Failure, RemoteAccess};
use stratus_shared::api::gateway::TUNNEL_SUBPROTOCOL;

/// The path of the gateway's WebSocket.
pub const GATEWAY_SOCKET_PATH: &str = "/api/gateway/ws";

/// What the upgraded connections need; cloned into each worker.
#[derive(Clone)]
pub struct Upgrades {
    dms_tokens: DmsTokens,
    database: Database,
    hub: LiveHub,
    remote: RemoteAccess,
    trusted_proxies: TrustedProxies,
}

impl Upgrades {
    pub fn new(
        dms_tokens: DmsTokens,
        database: Database,
        hub: LiveHub,
        remote: RemoteAccess,
        trusted_proxies: TrustedProxies,
    ) -> Self {
        Self {
            dms_tokens,
            database,
            hub,
            remote,
            trusted_proxies,
        }
    }

    /// Serves one upgrade request to its end: a gateway's socket until it closes, or the
    /// refusal (the usual JSON error) for anything else.
    pub async fn serve(
        self,
        request: Request,
        mut framed: Framed<TcpStream, h1::Codec>,
    ) -> Result<(), actix_web::Error> {
        if let Some(label) = self.remote.label_in(request.headers()) {
            let client = request.peer_addr().map(|peer| {
                self.trusted_proxies
                    .client_of_headers(peer.ip(), request.headers())
            });
            return Ok(remote_socket(self.remote, label, request, client, framed).await?);
        }
        let dms = match self.admit(&request).await {
            Ok(dms) => dms,
            Err(error) => return Ok(refuse(&mut framed, error).await?),
        };
        let offers_tunnel = request
            .headers()
            .get_all(actix_web::http::header::SEC_WEBSOCKET_PROTOCOL)
            .filter_map(|value| value.to_str().ok())
            .flat_map(|value| value.split(','))
            .any(|protocol| protocol.trim() == TUNNEL_SUBPROTOCOL);
        let mut switching = ws::handshake_response(request.head());
        if offers_tunnel {
            switching.insert_header((
                actix_web::http::header::SEC_WEBSOCKET_PROTOCOL,
                TUNNEL_SUBPROTOCOL,
            ));
        }
        let switching = switching.finish().drop_body();
        framed
            .send(h1::Message::Item((switching, BodySize::None)))
            .await?;
        // Bytes the gateway sent right behind its request are the socket's first frames. The
        // dispatcher's 16 KiB of buffers are dropped here, not kept with the socket.
        let (io, early_bytes) = {
            let parts = framed.into_parts();
            (parts.io, parts.read_buf.to_vec())
        };
        drop(request);
        // The socket gets a task of its own: this one (the HTTP connection's, sized for the
        // dispatcher's largest state) ends now instead of being held for the socket's life.
        actix_web::rt::spawn(async move {
            let socket = WebSocketStream::from_partially_read(
                io,
                early_bytes,
                Role::Server,
                Some(gateway_socket::socket_config()),
            )
            .await;
            let tunnels = offers_tunnel.then(|| self.remote.tunnels().clone());
            gateway_socket::run(dms, socket, self.hub, tunnels, self.database).await;
        });
        Ok(())
    }

    /// The gateway whose socket this request may open, or why not: the path, the method,
    /// credentials first (as the plain route checks them: a stranger learns nothing more),
    /// then the WebSocket handshake.
    async fn admit(&self, request: &Request) -> Result<AuthenticatedDms, AppError> {
        if request.path() != GATEWAY_SOCKET_PATH {
            return Err(AppError::NotFound(
                "No WebSocket is served at this path.".into(),
            ));
        }
        if *request.method() != Method::GET {
            return Err(AppError::InvalidRequest(
                "A WebSocket upgrade is a GET request.".into(),
            ));
        }
        let dms = AuthenticatedDms::authenticate(
            request.headers().get(AUTHORIZATION),
            &self.dms_tokens,
            self.database.clone(),
        )
        .await?;
        ws::verify_handshake(request.head()).map_err(|error| {
            AppError::InvalidRequest(format!("not a WebSocket upgrade: {error}"))
        })?;
        Ok(dms)
    }
}

/// A WebSocket a page on a DMS's remote host opens: admitted like any remote request (and
/// only from the DMS's own origin), then sent through the tunnel; once the DMS's web server
/// switches protocols, the bytes flow both ways untouched until either side closes or the
/// person's access is cut.
async fn remote_socket(
    remote: RemoteAccess,
    label: String,
    request: Request,
    client: Option<std::net::IpAddr>,
    mut framed: Framed<TcpStream, h1::Codec>,
) -> io::Result<()> {
    let origin_ok = request
        .headers()
        .get(actix_web::http::header::ORIGIN)
        .and_then(|origin| origin.to_str().ok())
        .is_none_or(|origin| origin == remote.hosts().origin(&label));
    let forwarded = remote.is_forwarded(request.headers());
    let admission = match remote
        .admit(&label, remote::session_cookie(request.headers()))
        .await
    {
        Ok(admission) if origin_ok || forwarded => admission,
        Ok(_) => {
            let failure = Failure::NoSession {
                portal: String::new(),
            };
            return send_page(&mut framed, failure.response()).await;
        }
        Err(failure) => return send_page(&mut framed, failure.response()).await,
    };
    let path = request
        .uri()
        .path_and_query()
        .map_or("/", |path| path.as_str());
    let outgoing = match remote::outgoing_request(
        request.method(),
        path,
        request.headers(),
        client,
        forwarded,
        remote.hosts().is_https(),
        true,
        remote::empty_body(),
    ) {
        Ok(outgoing) => outgoing,
        Err(failure) => return send_page(&mut framed, failure.response()).await,
    };
    let mut answer = match remote.send(&admission, forwarded, outgoing, None).await {
        Ok(answer) => answer,
        Err(failure) => return send_page(&mut framed, failure.response()).await,
    };
    if answer.status() != http::StatusCode::SWITCHING_PROTOCOLS {
        let status = actix_web::http::StatusCode::from_u16(answer.status().as_u16())
            .unwrap_or(actix_web::http::StatusCode::BAD_GATEWAY);
        return send_page(&mut framed, actix_web::HttpResponse::build(status).finish()).await;
    }
    let upgraded = match hyper::upgrade::on(&mut answer).await {
        Ok(upgraded) => upgraded,
        Err(error) => {
            tracing::info!(%error, "the DMS's WebSocket upgrade failed");
            let failure = Failure::Broken {
                dms: admission.admitted.target.name.clone(),
            };
            return send_page(&mut framed, failure.response()).await;
        }
    };
    let mut switching = Response::build(actix_web::http::StatusCode::SWITCHING_PROTOCOLS);
    switching.upgrade("websocket");
    for (name, value) in answer.headers() {
        if let Some(value) = remote::incoming_header(name.as_str(), value.as_bytes()) {
            switching.append_header((name.as_str(), value));
        }
    }
    let switching = switching.finish().drop_body();
    framed
        .send(h1::Message::Item((switching, BodySize::None)))
        .await?;
    let (mut browser, early_bytes) = {
        let parts = framed.into_parts();
        (parts.io, parts.read_buf.to_vec())
    };
    drop(request);
    let cut = admission.in_use.cancelled();
    actix_web::rt::spawn(async move {
        use tokio::io::AsyncWriteExt;
        let mut dms = hyper_util::rt::TokioIo::new(upgraded);
        if !early_bytes.is_empty() && dms.write_all(&early_bytes).await.is_err() {
            return;
        }
        tokio::select! {
            _ = tokio::io::copy_bidirectional(&mut browser, &mut dms) => {}
            () = cut.cancelled() => {
                tracing::info!(system_id = admission.admitted.target.system_id, "remote WebSocket cut");
            }
        }
        drop(admission);
    });
    Ok(())
}

/// Sends a whole response (a remote host's page) on an upgrade request's connection and
/// closes it.
async fn send_page(
    framed: &mut Framed<TcpStream, h1::Codec>,
    response: actix_web::HttpResponse,
) -> io::Result<()> {
    let response: Response<_> = response.into();
    let (mut head, body) = response.into_parts();
    head.head_mut().set_connection_type(ConnectionType::Close);
    let body = actix_http::body::to_bytes(body).await.unwrap_or_default();
    framed
        .feed(h1::Message::Item((
            head,
            BodySize::Sized(body.len() as u64),
        )))
        .await?;
    framed.feed(h1::Message::Chunk(Some(body))).await?;
    framed.send(h1::Message::Chunk(None)).await
}

/// Answers with `error` as the API does everywhere (status, JSON body with a stable code) and
/// closes the connection.
async fn refuse(framed: &mut Framed<TcpStream, h1::Codec>, error: AppError) -> io::Result<()> {
    send_page(framed, error.error_response()).await
}
