//! The pages a person sees on a DMS's remote host when Stratus, not the DMS, answers: why the
//! request was refused or failed, and what to do. Plain HTML with every value escaped, no
//! script, and a CSP that allows nothing but its own inline style.

use actix_web::http::StatusCode;
use actix_web::HttpResponse;
use chrono::{DateTime, Utc};
use html_escape::encode_text as text;
use stratus_shared::ConnectionState;

/// What went wrong, with what the page needs to say it.
#[derive(Debug, Clone)]
pub enum Failure {
    /// No session on this host: open the DMS from the portal (also unknown hosts).
    NoSession { portal: String },
    /// The ticket posted was unknown, spent, expired or for another DMS.
    BadTicket { portal: String },
    /// Not (or no longer) a member allowed to open the DMS.
    NotMember { portal: String },
    /// Remote access is switched off.
    Off {
        dms: String,
        by_organization: bool,
        managers: Vec<String>,
        settings: String,
    },
    /// The DMS's gateway is not connected (or offers no tunnel).
    Offline {
        dms: String,
        state: ConnectionState,
        last_online_at: Option<DateTime<Utc>>,
        no_tunnel: bool,
        detail: String,
    },
    /// The DMS's web server did not answer in time.
    TooSlow { dms: String, seconds: u64 },
    /// The request's body is larger than remote access carries.
    TooLarge { limit_bytes: u64 },
    /// The DMS has its most requests in flight already.
    Busy { dms: String },
    /// The tunnel broke while the request was on its way.
    Broken { dms: String },
}

/// The CSP of these pages: nothing loads, nothing runs.
const PAGE_CSP: &str = "default-src 'none'; style-src 'unsafe-inline'; form-action 'none'; frame-ancestors 'none'; base-uri 'none'";

impl Failure {
    /// The HTTP status the page is sent with.
    pub fn status(&self) -> StatusCode {
        match self {
            Failure::NoSession { .. } | Failure::BadTicket { .. } => StatusCode::UNAUTHORIZED,
            Failure::NotMember { .. } | Failure::Off { .. } => StatusCode::FORBIDDEN,
            Failure::Offline { .. } | Failure::Broken { .. } => StatusCode::BAD_GATEWAY,
            Failure::TooSlow { .. } => StatusCode::GATEWAY_TIMEOUT,
            Failure::TooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
            Failure::Busy { .. } => StatusCode::SERVICE_UNAVAILABLE,
        }
    }

    /// A stable code (also in the `X-Stratus-Remote-Error` header, for scripts and tests).
    pub fn code(&self) -> &'static str {
        match self {
            Failure::NoSession { .. } => "remote_no_session",
            Failure::BadTicket { .. } => "remote_bad_ticket",
            Failure::NotMember { .. } => "remote_not_member",
            Failure::Off { .. } => "remote_access_off",
            Failure::Offline { .. } => "remote_dms_offline",
            Failure::TooSlow { .. } => "remote_dms_too_slow",
            Failure::TooLarge { .. } => "remote_request_too_large",
            Failure::Busy { .. } => "remote_dms_busy",
            Failure::Broken { .. } => "remote_tunnel_broken",
        }
    }

    /// The page's title and body (HTML, values escaped).
    fn content(&self) -> (String, String) {
        match self {
            Failure::NoSession { portal } => (
                "Open this DMS from Stratus".into(),
                format!(
                    "<p>This address shows a DataMiner System's web apps through Stratus. \
                     Open the DMS from its page in the portal (<em>Open remotely</em>) to \
                     continue; the session you had here ended or never started.</p>\
                     <p><a href=\"{}\">Go to Stratus</a></p>",
                    text(portal)
                ),
            ),
            Failure::BadTicket { portal } => (
                "This link has expired".into(),
                format!(
                    "<p>The ticket that opened this page was already used, is more than a \
                     minute old, or belongs to another DMS. Open the DMS again from the \
                     portal.</p><p><a href=\"{}\">Go to Stratus</a></p>",
                    text(portal)
                ),
            ),
            Failure::NotMember { portal } => (
                "You no longer have access to this DMS".into(),
                format!(
                    "<p>Remote access to a DMS is for members of its organization. Ask an \
                     Owner or Admin of the organization to add you again.</p>\
                     <p><a href=\"{}\">Go to Stratus</a></p>",
                    text(portal)
                ),
            ),
            Failure::Off {
                dms,
                by_organization,
                managers,
                settings,
            } => {
                let why = if *by_organization {
                    "Its organization has switched remote access off for all of its DMSs."
                } else {
                    "Remote access is switched off for this DMS."
                };
                let who = if managers.is_empty() {
                    "an Owner or Admin of the organization".to_owned()
                } else {
                    managers
                        .iter()
                        .map(|email| format!("<strong>{}</strong>", text(email)))
                        .collect::<Vec<_>>()
                        .join(", ")
                };
                (
                    format!("Remote access to {} is off", text(dms)),
                    format!(
                        "<p>{why}</p><p>It can be switched on by {who}, in the DMS's \
                         settings in Stratus.</p><p><a href=\"{}\">Open the DMS in Stratus</a></p>",
                        text(settings)
                    ),
                )
            }
            Failure::Offline {
                dms,
                state,
                last_online_at,
                no_tunnel,
                detail,
            } => {
                let last = last_online_at.map_or_else(
                    || "never".to_owned(),
                    |at| at.format("%Y-%m-%d %H:%M:%S UTC").to_string(),
                );
                let what = if *no_tunnel {
                    "Its gateway is connected but does not offer remote access (it needs a \
                     gateway version that carries the remote-access tunnel)."
                        .to_owned()
                } else {
                    format!(
                        "Stratus cannot reach it now: its state is <strong>{}</strong>.",
                        text(state.label())
                    )
                };
                (
                    format!("{} is not reachable", text(dms)),
                    format!(
                        "<p>{what}</p><p>Last online: <strong>{}</strong>.</p>\
                         <p><a href=\"{}\">See the DMS in Stratus</a></p>",
                        text(&last),
                        text(detail)
                    ),
                )
            }
            Failure::TooSlow { dms, seconds } => (
                format!("{} took too long to answer", text(dms)),
                format!(
                    "<p>The DMS's web server did not answer within {seconds} seconds. It may \
                     be busy; try again in a moment.</p>"
                ),
            ),
            Failure::TooLarge { limit_bytes } => (
                "The request is too large".into(),
                format!(
                    "<p>Remote access carries requests of at most {} MiB. Upload large \
                     files on the DMS's own network.</p>",
                    limit_bytes / (1024 * 1024)
                ),
            ),
            Failure::Busy { dms } => (
                format!("{} is busy", text(dms)),
                "<p>Too many requests to this DMS are in progress through Stratus. Try again \
                 in a few seconds.</p>"
                    .into(),
            ),
            Failure::Broken { dms } => (
                format!("The connection to {} broke", text(dms)),
                "<p>The DMS's gateway connection dropped while the request was on its way. \
                 Try again; if it keeps happening, check the DMS's state in Stratus.</p>"
                    .into(),
            ),
        }
    }

    /// The page as a response.
    pub fn response(&self) -> HttpResponse {
        let (title, body) = self.content();
        let mut response = HttpResponse::build(self.status());
        response
            .content_type("text/html; charset=utf-8")
            .insert_header(("Cache-Control", "no-store"))
            .insert_header(("Content-Security-Policy", PAGE_CSP))
            .insert_header(("X-Stratus-Remote-Error", self.code()));
        if matches!(self, Failure::Busy { .. }) {
            response.insert_header(("Retry-After", "5"));
        }
        response.body(format!(
            "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">\
             <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
             <title>{title} · Stratus remote access</title><style>{STYLE}</style></head>\
             <body><main><p class=\"brand\">Stratus remote access</p><h1>{title}</h1>{body}\
             </main></body></html>"
        ))
    }
}

const STYLE: &str =
    "body{font-family:system-ui,sans-serif;margin:0;background:#f4f6f8;color:#1c2430}\
main{max-width:40rem;margin:4rem auto;padding:2rem;background:#fff;border-radius:8px;\
box-shadow:0 1px 4px #0002}.brand{color:#5b6b7f;font-size:.9rem;margin:0}h1{font-size:1.4rem}\
a{color:#0b5cad}@media(prefers-color-scheme:dark){body{background:#11161d;color:#e6ebf1}\
main{background:#1a212b}a{color:#7ab8ff}}";

#[cfg(test)]
mod tests {
    use super::*;

    #[actix_web::test]
    async fn names_are_escaped_and_codes_are_stable() {
        let page = Failure::Off {
            dms: "<script>alert(1)</script>".into(),
            by_organization: false,
            managers: vec!["o'wner@acme.example".into()],
            settings: "http://portal/systems/1".into(),
        }
        .response();
        assert_eq!(page.status(), StatusCode::FORBIDDEN);
        let body = actix_web::body::to_bytes(page.into_body()).await.unwrap();
        let body = String::from_utf8(body.to_vec()).unwrap();
        assert!(!body.contains("<script>"), "{body}");
        assert!(body.contains("&lt;script&gt;"));
        assert_eq!(
            Failure::TooLarge { limit_bytes: 1 }.status(),
            StatusCode::PAYLOAD_TOO_LARGE
        );
        assert_eq!(
            Failure::TooSlow {
                dms: "x".into(),
                seconds: 1
            }
            .code(),
            "remote_dms_too_slow"
        );
    }
}
