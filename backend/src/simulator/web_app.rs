//! The simulated DMS's own web server, reached through the tunnel: a start page with the
//! DMS's name and a few alarms, a form that posts, a WebSocket that streams a counter, the
//! page where a DMS user enters a Stratus link code, and endpoints that tests and the
//! benchmark use (a download of any size, an upload counter, a slow answer, the headers as
//! received). Plain hyper on 127.0.0.1, as a DMS's local web server would be.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use bytes::Bytes;
use futures_util::{SinkExt, StreamExt};
use html_escape::encode_text as text;
use http::{header, Method, Request, Response, StatusCode};
use http_body_util::{combinators::BoxBody, BodyExt, Full, StreamBody};
use hyper::body::{Frame, Incoming};
use hyper_util::rt::TokioIo;
use stratus_shared::api::gateway::LinkAccountResult;
use tokio::sync::{mpsc, oneshot};
use tokio_tungstenite::tungstenite::handshake::derive_accept_key;
use tokio_tungstenite::tungstenite::protocol::Role;
use tokio_tungstenite::tungstenite::Message;

/// A DMS user's request to link their Stratus account, for the gateway to confirm.
pub struct LinkJob {
    pub code: String,
    pub dms_user: String,
    pub answer: oneshot::Sender<LinkAccountResult>,
}

/// The largest download the app serves.
const MAX_DOWNLOAD: u64 = 1 << 30;

struct App {
    name: String,
    notes: Mutex<Vec<String>>,
    links: mpsc::Sender<LinkJob>,
}

type Body = BoxBody<Bytes, std::io::Error>;

/// Serves the web app of the DMS `name` on 127.0.0.1 (a free port, returned) until the
/// runtime ends; link requests go to `links`.
pub async fn start(name: &str, links: mpsc::Sender<LinkJob>) -> std::io::Result<SocketAddr> {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let address = listener.local_addr()?;
    let app = Arc::new(App {
        name: name.to_owned(),
        notes: Mutex::new(Vec::new()),
        links,
    });
    tokio::spawn(async move {
        loop {
            let Ok((stream, _)) = listener.accept().await else {
                continue;
            };
            let _ = stream.set_nodelay(true);
            let app = app.clone();
            tokio::spawn(async move {
                let service = hyper::service::service_fn(move |request| {
                    let app = app.clone();
                    async move { Ok::<_, Infallible>(app.handle(request).await) }
                });
                let _ = hyper::server::conn::http1::Builder::new()
                    .serve_connection(TokioIo::new(stream), service)
                    .with_upgrades()
                    .await;
            });
        }
    });
    Ok(address)
}

fn full(status: StatusCode, content_type: &str, body: impl Into<Bytes>) -> Response<Body> {
    Response::builder()
        .status(status)
        .header(header::CONTENT_TYPE, content_type)
        .body(
            Full::new(body.into())
                .map_err(|never: Infallible| match never {})
                .boxed(),
        )
        .unwrap_or_default()
}

fn redirect(to: &str) -> Response<Body> {
    let mut response = full(StatusCode::SEE_OTHER, "text/plain", "");
    if let Ok(value) = header::HeaderValue::from_str(to) {
        response.headers_mut().insert(header::LOCATION, value);
    }
    response
}

fn query_number(request: &Request<Incoming>, key: &str) -> Option<u64> {
    request.uri().query()?.split('&').find_map(|pair| {
        let (name, value) = pair.split_once('=')?;
        (name == key).then(|| value.parse().ok()).flatten()
    })
}

/// The value of `key` in a form body.
fn form_value(body: &[u8], key: &str) -> Option<String> {
    url::form_urlencoded::parse(body)
        .find(|(name, _)| name == key)
        .map(|(_, value)| value.into_owned())
}

impl App {
    async fn handle(self: Arc<Self>, request: Request<Incoming>) -> Response<Body> {
        let path = request.uri().path().to_owned();
        match (request.method().clone(), path.as_str()) {
            (Method::GET, "/") => full(StatusCode::OK, "text/html; charset=utf-8", self.home()),
            (Method::GET, "/app.js") => full(StatusCode::OK, "text/javascript", APP_JS),
            (Method::POST, "/notes") => {
                let body = read_body(request).await;
                if let Some(note) = form_value(&body, "note").filter(|note| !note.trim().is_empty())
                {
                    self.notes
                        .lock()
                        .unwrap_or_else(PoisonError::into_inner)
                        .push(note);
                }
                redirect("/")
            }
            (Method::GET, "/link") => full(
                StatusCode::OK,
                "text/html; charset=utf-8",
                self.link_page(None),
            ),
            (Method::POST, "/link") => {
                let body = read_body(request).await;
                let code = form_value(&body, "code").unwrap_or_default();
                let dms_user = form_value(&body, "user").unwrap_or_default();
                let result = self.link(code, dms_user).await;
                full(
                    if result.linked {
                        StatusCode::OK
                    } else {
                        StatusCode::UNPROCESSABLE_ENTITY
                    },
                    "text/html; charset=utf-8",
                    self.link_page(Some(&result)),
                )
            }
            (Method::GET, "/download") => download(query_number(&request, "bytes").unwrap_or(0)),
            (Method::POST, "/upload") => {
                let mut body = request.into_body();
                let mut bytes: u64 = 0;
                while let Some(frame) = body.frame().await {
                    match frame {
                        Ok(frame) => {
                            if let Some(data) = frame.data_ref() {
                                bytes += data.len() as u64;
                            }
                        }
                        Err(_) => break,
                    }
                }
                full(
                    StatusCode::OK,
                    "application/json",
                    format!("{{\"bytes\":{bytes}}}"),
                )
            }
            (Method::GET, "/slow") => {
                let wait = query_number(&request, "ms").unwrap_or(1000).min(120_000);
                tokio::time::sleep(Duration::from_millis(wait)).await;
                full(StatusCode::OK, "text/plain", "slow answer")
            }
            (Method::GET, "/headers") => {
                let headers: serde_json::Map<String, serde_json::Value> = request
                    .headers()
                    .iter()
                    .map(|(name, value)| {
                        (
                            name.as_str().to_owned(),
                            String::from_utf8_lossy(value.as_bytes())
                                .into_owned()
                                .into(),
                        )
                    })
                    .collect();
                full(
                    StatusCode::OK,
                    "application/json",
                    serde_json::Value::Object(headers).to_string(),
                )
            }
            (Method::GET, "/set-cookie") => {
                let mut response = full(StatusCode::OK, "text/plain", "cookies set");
                for cookie in [
                    "dms_session=1; Path=/; HttpOnly",
                    "neighbour=1; Domain=remote.localhost; Path=/",
                ] {
                    response
                        .headers_mut()
                        .append(header::SET_COOKIE, header::HeaderValue::from_static(cookie));
                }
                response
            }
            (Method::GET, "/counter") => counter(request),
            _ => full(StatusCode::NOT_FOUND, "text/plain", "not found on this DMS"),
        }
    }

    fn home(&self) -> String {
        let notes = self
            .notes
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .iter()
            .map(|note| format!("<li class=\"note\">{}</li>", text(note)))
            .collect::<String>();
        let name = text(&self.name);
        format!(
            "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">\
             <title>{name} · DataMiner</title><script src=\"/app.js\" defer></script></head>\
             <body><h1 id=\"dms-name\">{name}</h1><p>DataMiner Cube web (simulated)</p>\
             <h2>Active alarms</h2><table id=\"alarms\"><tr><th>Severity</th><th>Element</th>\
             <th>Parameter</th></tr>{ALARMS}</table>\
             <h2>Live counter</h2><p>Updates over a WebSocket: <strong id=\"counter\">–</strong></p>\
             <h2>Notes</h2><form method=\"post\" action=\"/notes\"><input name=\"note\" \
             id=\"note\" aria-label=\"Note\"><button id=\"post-note\">Post</button></form>\
             <ul id=\"notes\">{notes}</ul><p><a href=\"/link\">Link my Stratus account</a></p>\
             </body></html>"
        )
    }

    fn link_page(&self, result: Option<&LinkAccountResult>) -> String {
        let outcome = result.map_or_else(String::new, |result| {
            format!(
                "<p id=\"link-result\" class=\"{}\">{}</p>",
                if result.linked { "linked" } else { "refused" },
                text(&result.message)
            )
        });
        format!(
            "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">\
             <title>Link Stratus · {name}</title></head><body><h1>Link your Stratus account</h1>\
             <p>Enter the code Stratus shows on this DMS's page under <em>My DMS account</em>.</p>\
             <form method=\"post\" action=\"/link\"><label>DMS user <input name=\"user\" \
             id=\"user\"></label> <label>Code <input name=\"code\" id=\"code\"></label> \
             <button id=\"link\">Link</button></form>{outcome}</body></html>",
            name = text(&self.name)
        )
    }

    async fn link(&self, code: String, dms_user: String) -> LinkAccountResult {
        let refused = |message: &str| LinkAccountResult {
            request_id: 0,
            linked: false,
            account_email: None,
            message: message.to_owned(),
        };
        let (answer, answered) = oneshot::channel();
        let job = LinkJob {
            code,
            dms_user,
            answer,
        };
        if self.links.send(job).await.is_err() {
            return refused("The DMS is not connected to Stratus.");
        }
        match tokio::time::timeout(Duration::from_secs(10), answered).await {
            Ok(Ok(result)) => result,
            _ => refused("Stratus did not answer; try again."),
        }
    }
}

const ALARMS: &str =
    "<tr class=\"critical\"><td>Critical</td><td>Encoder 3</td><td>Input signal lost</td></tr>\
<tr class=\"major\"><td>Major</td><td>Uplink A</td><td>Carrier-to-noise 6.1 dB</td></tr>\
<tr class=\"minor\"><td>Minor</td><td>Headend PSU 2</td><td>Fan speed 4100 rpm</td></tr>";

const APP_JS: &str = "const counter = document.getElementById('counter');\n\
const scheme = location.protocol === 'https:' ? 'wss' : 'ws';\n\
const socket = new WebSocket(scheme + '://' + location.host + '/counter');\n\
socket.onmessage = (event) => { counter.textContent = event.data; };\n\
socket.onclose = () => { counter.dataset.closed = 'true'; };\n";

async fn read_body(request: Request<Incoming>) -> Bytes {
    match http_body_util::Limited::new(request.into_body(), 64 * 1024)
        .collect()
        .await
    {
        Ok(collected) => collected.to_bytes(),
        Err(_) => Bytes::new(),
    }
}

/// `bytes` bytes of a repeating pattern, in 64 KiB chunks.
fn download(bytes: u64) -> Response<Body> {
    let bytes = bytes.min(MAX_DOWNLOAD);
    let chunk = Bytes::from((0..64 * 1024).map(|i| (i % 251) as u8).collect::<Vec<u8>>());
    let chunks = futures_util::stream::unfold(bytes, move |left| {
        let chunk = chunk.clone();
        async move {
            (left > 0).then(|| {
                let size = left.min(chunk.len() as u64);
                let piece = chunk.slice(..size as usize);
                (Ok::<_, std::io::Error>(Frame::data(piece)), left - size)
            })
        }
    });
    Response::builder()
        .header(header::CONTENT_TYPE, "application/octet-stream")
        .header(header::CONTENT_LENGTH, bytes)
        .body(BodyExt::boxed(StreamBody::new(chunks)))
        .unwrap_or_default()
}

/// A WebSocket that sends 1, 2, 3, … every 250 ms.
fn counter(mut request: Request<Incoming>) -> Response<Body> {
    let Some(key) = request.headers().get(header::SEC_WEBSOCKET_KEY).cloned() else {
        return full(StatusCode::BAD_REQUEST, "text/plain", "a WebSocket only");
    };
    let upgrade = hyper::upgrade::on(&mut request);
    tokio::spawn(async move {
        let Ok(upgraded) = upgrade.await else {
            return;
        };
        let mut socket = tokio_tungstenite::WebSocketStream::from_raw_socket(
            TokioIo::new(upgraded),
            Role::Server,
            None,
        )
        .await;
        let mut ticker = tokio::time::interval(Duration::from_millis(250));
        let mut count: u64 = 0;
        loop {
            tokio::select! {
                _ = ticker.tick() => {
                    count += 1;
                    if socket.send(Message::text(count.to_string())).await.is_err() {
                        return;
                    }
                }
                message = socket.next() => match message {
                    Some(Ok(Message::Close(_))) | None | Some(Err(_)) => return,
                    Some(Ok(_)) => {}
                },
            }
        }
    });
    Response::builder()
        .status(StatusCode::SWITCHING_PROTOCOLS)
        .header(header::CONNECTION, "upgrade")
        .header(header::UPGRADE, "websocket")
        .header(
            header::SEC_WEBSOCKET_ACCEPT,
            derive_accept_key(key.as_bytes()),
        )
        .body(
            Full::new(Bytes::new())
                .map_err(|never: Infallible| match never {})
                .boxed(),
        )
        .unwrap_or_default()
}
