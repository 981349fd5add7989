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

use crate::auth::dms_tokens::DmsTokens;
use crate::auth::AuthenticatedDms;
use crate::db::Database;
use crate::error::AppError;
use crate::live::{gateway_socket, LiveHub};

/// The path of the gateway's WebSocket.
pub const GATEWAY_SOCKET_PATH: &str = "/api/gateway/ws";

/// What the upgraded connections need; cloned into each worker.
#[derive(Clone)]
pub struct Upgrades {
    dms_tokens: DmsTokens,
    database: Database,
    hub: LiveHub,
}

impl Upgrades {
    pub fn new(dms_tokens: DmsTokens, database: Database, hub: LiveHub) -> Self {
        Self {
            dms_tokens,
            database,
            hub,
        }
    }

    /// Serves one upgrade request to its end: a gateway's socket until it closes, or the
    /// refusal (the usual JSON error) for anything else.
    pub async fn serve(
        self,
        request: Request,
        mut framed: Framed<TcpStream, h1::Codec>,
    ) -> Result<(), actix_web::Error> {
        let dms = match self.admit(&request).await {
            Ok(dms) => dms,
            Err(error) => return Ok(refuse(&mut framed, error).await?),
        };
        let switching = ws::handshake_response(request.head()).finish().drop_body();
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
            gateway_socket::run(dms, socket, self.hub).await;
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

/// Answers with `error` as the API does everywhere (status, JSON body with a stable code) and
/// closes the connection.
async fn refuse(framed: &mut Framed<TcpStream, h1::Codec>, error: AppError) -> io::Result<()> {
    let response: Response<_> = error.error_response().into();
    let (mut head, body) = response.into_parts();
    head.head_mut().set_connection_type(ConnectionType::Close);
    let body = actix_http::body::to_bytes(body).await.unwrap_or_default();
    // Fed, then sent as one write: the head and body arrive together.
    framed
        .feed(h1::Message::Item((
            head,
            BodySize::Sized(body.len() as u64),
        )))
        .await?;
    framed.feed(h1::Message::Chunk(Some(body))).await?;
    framed.send(h1::Message::Chunk(None)).await
}
