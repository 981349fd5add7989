//! Every request to a DMS's remote host (`<label>.<remote domain>`), except WebSocket
//! upgrades (`routes::upgrade`): the ticket post that opens a session, then any method on any
//! path, carried to the DMS's web server and back (see `remote`).

use std::sync::atomic::AtomicBool;
use std::sync::Arc;

use actix_web::body::SizedStream;
use actix_web::cookie::{Cookie, SameSite};
use actix_web::http::{header, Method, StatusCode};
use actix_web::{web, FromRequest, HttpRequest, HttpResponse};
use serde::Deserialize;

use crate::auth::browser::client_ip;
use crate::remote::{self, Failure, RemoteAccess};

/// The ticket form the portal posts to [`remote::ENTER_PATH`].
#[derive(Deserialize)]
struct Enter {
    ticket: String,
}

/// Serves a request on a remote host; the guard in `startup` sends only those here.
pub async fn serve(
    request: HttpRequest,
    payload: web::Payload,
    remote: web::Data<RemoteAccess>,
) -> HttpResponse {
    let Some(label) = remote.label_in(request.headers()) else {
        return HttpResponse::NotFound().finish();
    };
    if request.path() == remote::ENTER_PATH && request.method() == Method::POST {
        return enter(&request, payload, &remote, &label).await;
    }
    match forward(&request, payload, &remote, &label).await {
        Ok(response) => response,
        Err(failure) => failure.response(),
    }
}

/// Spends the posted ticket and sets the host's session cookie, then sends the browser to
/// the DMS's start page.
async fn enter(
    request: &HttpRequest,
    payload: web::Payload,
    remote: &RemoteAccess,
    label: &str,
) -> HttpResponse {
    let mut payload = payload.into_inner();
    let form = match web::Form::<Enter>::from_request(request, &mut payload).await {
        Ok(form) => form.into_inner(),
        Err(_) => {
            return Failure::BadTicket {
                portal: String::new(),
            }
            .response()
        }
    };
    match remote.enter(label, form.ticket).await {
        Ok(secret) => {
            let cookie = Cookie::build(remote::COOKIE, secret)
                .path("/")
                .http_only(true)
                .secure(remote.hosts().is_https())
                // Lax: the cookie must come along on the redirect that follows this
                // cross-site post, and on the links a person follows into the DMS.
                .same_site(SameSite::Lax)
                .finish();
            HttpResponse::SeeOther()
                .insert_header((header::LOCATION, "/"))
                .insert_header((header::CACHE_CONTROL, "no-store"))
                .cookie(cookie)
                .finish()
        }
        Err(failure) => failure.response(),
    }
}

/// Carries the request to the DMS and its answer back.
async fn forward(
    request: &HttpRequest,
    payload: web::Payload,
    remote: &RemoteAccess,
    label: &str,
) -> Result<HttpResponse, Failure> {
    let forwarded = remote.is_forwarded(request.headers());
    let admission = remote
        .admit(label, remote::session_cookie(request.headers()))
        .await?;
    let limit = remote.limits().max_request_bytes;
    let declared: Option<u64> = request
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.parse().ok());
    if declared.is_some_and(|length| length > limit) {
        return Err(Failure::TooLarge { limit_bytes: limit });
    }
    let too_large = Arc::new(AtomicBool::new(false));
    let body = remote::limited_body(payload, limit, too_large.clone());
    let path = request
        .uri()
        .path_and_query()
        .map_or("/", |path| path.as_str());
    let outgoing = remote::outgoing_request(
        request.method(),
        path,
        request.headers(),
        client_ip(request),
        forwarded,
        remote.hosts().is_https(),
        false,
        body,
    )?;
    let answer = remote
        .send(&admission, forwarded, outgoing, Some(&too_large))
        .await?;
    let (parts, body) = answer.into_parts();
    let mut response = HttpResponse::build(
        StatusCode::from_u16(parts.status.as_u16()).unwrap_or(StatusCode::BAD_GATEWAY),
    );
    let mut length = None;
    let mut encoded = false;
    for (name, value) in &parts.headers {
        if name == http::header::CONTENT_LENGTH {
            length = value
                .to_str()
                .ok()
                .and_then(|value| value.parse::<u64>().ok());
            continue;
        }
        encoded |= name == http::header::CONTENT_ENCODING;
        if let Some(value) = remote::incoming_header(name.as_str(), value.as_bytes()) {
            response.append_header((name.as_str(), value));
        }
    }
    let has = |name: &http::header::HeaderName| parts.headers.contains_key(name);
    // What the portal's own pages carry (its CSP, frame denial, cache rule) is the portal's:
    // a DMS's pages get neutral values unless they set their own.
    if !has(&http::header::CONTENT_SECURITY_POLICY) {
        response.insert_header((header::CONTENT_SECURITY_POLICY, "frame-ancestors 'self'"));
    }
    if !has(&http::header::X_FRAME_OPTIONS) {
        response.insert_header((header::X_FRAME_OPTIONS, "SAMEORIGIN"));
    }
    if !has(&http::header::CACHE_CONTROL) {
        response.insert_header((header::CACHE_CONTROL, "private, no-cache"));
    }
    if !encoded {
        // The DMS chose not to compress: the server's compression must not either (it
        // would buffer a stream and spend the CPU that carries the tunnel).
        response.insert_header((header::CONTENT_ENCODING, "identity"));
    }
    let cut = admission.in_use.cancelled();
    let chunks = remote::body_stream(body, cut, admission);
    Ok(match length {
        Some(length) if request.method() != Method::HEAD => {
            response.body(SizedStream::new(length, chunks))
        }
        _ => response.streaming(chunks),
    })
}
