//! `ws-echo`: a bare actix-web WebSocket server, the baseline of `stratus bench throughput`.
//! Same actix-web and actix-ws as the server and the same frame limits as a gateway socket, but
//! nothing behind the frames: text is dropped (or echoed with `--echo-text`), pings answered.
//! It prints `listening on http://ADDRESS` once it accepts connections.

use std::net::{SocketAddr, TcpListener};

use actix_web::{web, App, HttpRequest, HttpResponse, HttpServer};
use actix_ws::AggregatedMessage;
use clap::Parser;
use futures_util::StreamExt;

/// The largest frame accepted, as on a gateway socket.
const MAX_FRAME_BYTES: usize = 16 * 1024;

/// A bare WebSocket server at `/api/gateway/ws` (any path works).
#[derive(Parser)]
#[command(about)]
struct Cli {
    /// Address to listen on (port 0: any free port).
    #[arg(long, default_value = "127.0.0.1:0")]
    bind: SocketAddr,
    /// Send every text frame back (by default text frames are read and dropped, like a
    /// heartbeat that needs no answer).
    #[arg(long)]
    echo_text: bool,
}

async fn socket(
    request: HttpRequest,
    body: web::Payload,
    echo_text: web::Data<bool>,
) -> actix_web::Result<HttpResponse> {
    let (response, session, messages) = actix_ws::handle(&request, body)?;
    actix_web::rt::spawn(serve(session, messages, **echo_text));
    Ok(response)
}

async fn serve(mut session: actix_ws::Session, messages: actix_ws::MessageStream, echo_text: bool) {
    let mut messages = messages
        .max_frame_size(MAX_FRAME_BYTES)
        .aggregate_continuations()
        .max_continuation_size(MAX_FRAME_BYTES);
    while let Some(Ok(message)) = messages.next().await {
        let sent = match message {
            AggregatedMessage::Text(text) if echo_text => session.text(text).await,
            AggregatedMessage::Ping(bytes) => session.pong(&bytes).await,
            AggregatedMessage::Close(reason) => {
                let _ = session.close(reason).await;
                return;
            }
            _ => Ok(()),
        };
        if sent.is_err() {
            return;
        }
    }
    let _ = session.close(None).await;
}

#[actix_web::main]
async fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    let listener = TcpListener::bind(cli.bind)?;
    println!("listening on http://{}", listener.local_addr()?);
    let echo_text = web::Data::new(cli.echo_text);
    HttpServer::new(move || {
        App::new()
            .app_data(echo_text.clone())
            .default_service(web::get().to(socket))
    })
    .listen(listener)?
    .run()
    .await?;
    Ok(())
}
