//! Serves the web app built by Trunk: fingerprinted assets cached for a year (their brotli or
//! gzip copy when the build made one and the browser takes it), `index.html` (never cached)
//! for every client-side route, and the Content-Security-Policy that lets exactly Trunk's
//! start-up script run.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use actix_files::{Files, NamedFile};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{
    self, AcceptEncoding, ContentEncoding, Encoding, Header, HeaderValue,
};
use actix_web::{web, HttpRequest, HttpResponse};
use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine;
use sha2::{Digest, Sha256};

/// The built web app, as found at start-up.
#[derive(Debug, Clone)]
pub struct WebApp {
    dist_dir: PathBuf,
    /// `None` when the web app has not been built: the API still works, pages explain.
    index_html: Option<Arc<str>>,
    content_security_policy: String,
    /// Files with a compressed copy beside them (`app.wasm.br`, `app.wasm.gz`).
    precompressed: Vec<Arc<PrecompressedFile>>,
}

/// A file of the web app and the compressed copies the build wrote next to it.
#[derive(Debug)]
struct PrecompressedFile {
    /// Its URL path (`/name.ext`).
    url_path: String,
    path: PathBuf,
    content_type: mime::Mime,
    brotli: Option<PathBuf>,
    gzip: Option<PathBuf>,
}

impl PrecompressedFile {
    /// The copy to send for the request's `Accept-Encoding` (brotli first, then gzip, else the
    /// file itself, which the compression middleware may still gzip).
    fn choose(&self, request: &HttpRequest) -> (&Path, ContentEncoding) {
        let mut offered = Vec::with_capacity(3);
        if self.brotli.is_some() {
            offered.push(Encoding::brotli());
        }
        if self.gzip.is_some() {
            offered.push(Encoding::gzip());
        }
        offered.push(Encoding::identity());
        let chosen = AcceptEncoding::parse(request)
            .ok()
            .and_then(|accepted| accepted.negotiate(offered.iter()));
        match (chosen, &self.brotli, &self.gzip) {
            (Some(encoding), Some(brotli), _) if encoding == Encoding::brotli() => {
                (brotli, ContentEncoding::Brotli)
            }
            (Some(encoding), _, Some(gzip)) if encoding == Encoding::gzip() => {
                (gzip, ContentEncoding::Gzip)
            }
            _ => (&self.path, ContentEncoding::Identity),
        }
    }

    async fn respond(&self, request: &HttpRequest) -> actix_web::Result<HttpResponse> {
        let (path, encoding) = self.choose(request);
        let mut file = NamedFile::open_async(path)
            .await?
            .set_content_type(self.content_type.clone())
            .use_etag(true)
            .use_last_modified(true);
        if encoding != ContentEncoding::Identity {
            file = file.set_content_encoding(encoding);
        }
        let mut response = file.into_response(request);
        response
            .headers_mut()
            .insert(header::VARY, HeaderValue::from_static("accept-encoding"));
        Ok(response)
    }
}

/// The files of `dist_dir` that the build compressed: `name.br` and `name.gz` beside `name`.
fn find_precompressed(dist_dir: &Path) -> Vec<Arc<PrecompressedFile>> {
    let Ok(entries) = std::fs::read_dir(dist_dir) else {
        return Vec::new();
    };
    let mut found = Vec::new();
    for entry in entries.flatten() {
        let path = entry.path();
        let Some(name) = path.file_name().and_then(|name| name.to_str()) else {
            continue;
        };
        if name.ends_with(".br") || name.ends_with(".gz") || !path.is_file() {
            continue;
        }
        let sibling = |suffix: &str| {
            let copy = dist_dir.join(format!("{name}{suffix}"));
            copy.is_file().then_some(copy)
        };
        let (brotli, gzip) = (sibling(".br"), sibling(".gz"));
        if brotli.is_none() && gzip.is_none() {
            continue;
        }
        let extension = path
            .extension()
            .and_then(|extension| extension.to_str())
            .unwrap_or_default();
        found.push(Arc::new(PrecompressedFile {
            url_path: format!("/{name}"),
            content_type: actix_files::file_extension_to_mime(extension),
            path,
            brotli,
            gzip,
        }));
    }
    found
}

impl WebApp {
    /// Looks for `index.html` in `dist_dir` and derives the CSP from its inline scripts.
    pub fn load(dist_dir: &Path) -> Self {
        let index_html: Option<Arc<str>> = std::fs::read_to_string(dist_dir.join("index.html"))
            .ok()
            .map(Into::into);
        if index_html.is_none() {
            tracing::warn!(
                dist_dir = %dist_dir.display(),
                "the web app is not built; pages answer 503 until it is (see README)"
            );
        }
        let hashes = index_html
            .as_deref()
            .map(inline_script_hashes)
            .unwrap_or_default();
        let precompressed = find_precompressed(dist_dir);
        Self {
            dist_dir: dist_dir.to_owned(),
            content_security_policy: content_security_policy(&hashes),
            index_html,
            precompressed,
        }
    }

    /// The Content-Security-Policy header value for every response.
    pub fn content_security_policy(&self) -> &str {
        &self.content_security_policy
    }

    /// Registers the static files and the client-side-route fallback (after the API).
    pub fn configure(&self, config: &mut web::ServiceConfig) {
        match &self.index_html {
            Some(index_html) => {
                // Ahead of the directory: files with compressed copies answer with one.
                for file in &self.precompressed {
                    let serve = {
                        let file = file.clone();
                        move |request: HttpRequest| {
                            let file = file.clone();
                            async move { file.respond(&request).await }
                        }
                    };
                    config.route(&file.url_path, web::get().to(serve.clone()));
                    config.route(&file.url_path, web::head().to(serve));
                }
                let index_html = index_html.clone();
                config.service(
                    Files::new("/", &self.dist_dir)
                        .index_file("index.html")
                        .prefer_utf8(true)
                        .use_etag(true)
                        .use_last_modified(true)
                        .default_handler(web::to(move |request: HttpRequest| {
                            let index_html = index_html.clone();
                            async move { client_route(&request, &index_html) }
                        })),
                );
            }
            None => {
                config.default_service(web::to(not_built));
            }
        }
    }
}

/// Every path that is not a file: a route of the web app, handled by its router
/// (which shows the 404 page for unknown ones). Missing files with an extension get a real
/// 404, so a stale asset link is not answered with HTML.
fn client_route(request: &HttpRequest, index_html: &str) -> HttpResponse {
    let last_segment = request.path().rsplit('/').next().unwrap_or_default();
    if last_segment.contains('.') {
        return HttpResponse::NotFound()
            .content_type("text/plain; charset=utf-8")
            .body("Not found");
    }
    HttpResponse::Ok()
        .content_type("text/html; charset=utf-8")
        .insert_header((header::CACHE_CONTROL, "no-cache"))
        .body(index_html.to_owned())
}

async fn not_built() -> HttpResponse {
    HttpResponse::ServiceUnavailable()
        .content_type("text/plain; charset=utf-8")
        .body(
            "The Stratus web app has not been built. Start the portal with \
             `bash scripts/run.sh`, or build it with `trunk build --release`.",
        )
}

/// Sets caching per kind of answer: API answers are never stored; Trunk's fingerprinted
/// assets never change under their name; everything else (index.html, unhashed files) must
/// be revalidated.
pub fn set_cache_headers<B>(request_path: &str, response: &mut ServiceResponse<B>) {
    if response.headers().contains_key(header::CACHE_CONTROL) {
        return;
    }
    if request_path.starts_with("/api/") || request_path == "/api" {
        // API answers are about someone (their DMSs, their sessions) or change with every
        // heartbeat: no cache, shared or private, may keep one.
        response
            .headers_mut()
            .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
        return;
    }
    let name = request_path.rsplit('/').next().unwrap_or_default();
    let value = if response.status().is_success() && is_fingerprinted(name) {
        "public, max-age=31536000, immutable"
    } else {
        "no-cache"
    };
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static(value));
}

/// Whether a file name carries Trunk's content hash: `name-<hex>.ext` or `name-<hex>_bg.wasm`.
pub fn is_fingerprinted(file_name: &str) -> bool {
    let Some((_, after_dash)) = file_name.rsplit_once('-') else {
        return false;
    };
    let hash: &str = after_dash.split(['.', '_']).next().unwrap_or_default();
    (8..=16).contains(&hash.len())
        && hash.bytes().all(|b| b.is_ascii_hexdigit())
        && after_dash.len() > hash.len()
}

/// CSP hashes (`'sha256-…'`) of each inline `<script>` in the page, so exactly those run.
pub fn inline_script_hashes(html: &str) -> Vec<String> {
    let mut hashes = Vec::new();
    let mut rest = html;
    while let Some(start) = rest.find("<script") {
        let after_tag_name = &rest[start + "<script".len()..];
        let Some(tag_end) = after_tag_name.find('>') else {
            break;
        };
        let attributes = &after_tag_name[..tag_end];
        let body_and_rest = &after_tag_name[tag_end + 1..];
        let Some(close) = body_and_rest.find("</script>") else {
            break;
        };
        let body = &body_and_rest[..close];
        if !attributes.contains("src=") && !body.trim().is_empty() {
            let digest = Sha256::digest(body.as_bytes());
            hashes.push(format!("'sha256-{}'", BASE64.encode(digest)));
        }
        rest = &body_and_rest[close + "</script>".len()..];
    }
    hashes
}

/// The policy: only our own origin, wasm compilation, and the listed inline scripts.
pub fn content_security_policy(inline_script_hashes: &[String]) -> String {
    let mut script_src = String::from("'self' 'wasm-unsafe-eval'");
    for hash in inline_script_hashes {
        script_src.push(' ');
        script_src.push_str(hash);
    }
    format!(
        "default-src 'self'; script-src {script_src}; style-src 'self'; img-src 'self' data:; \
         font-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'none'; \
         form-action 'self'; frame-ancestors 'none'"
    )
}

/// Applies [`set_cache_headers`] to every response (for `middleware::from_fn`).
pub async fn cache_headers_middleware(
    request: ServiceRequest,
    next: actix_web::middleware::Next<impl actix_web::body::MessageBody + 'static>,
) -> Result<ServiceResponse<impl actix_web::body::MessageBody>, actix_web::Error> {
    let path = request.path().to_owned();
    let mut response = next.call(request).await?;
    set_cache_headers(&path, &mut response);
    Ok(response)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trunk_asset_names_are_fingerprinted() {
        assert!(is_fingerprinted("frontend-3f2a1b9c8d7e6f50.js"));
        assert!(is_fingerprinted("frontend-3f2a1b9c8d7e6f50_bg.wasm"));
        assert!(is_fingerprinted("style-9a8b7c6d5e4f.css"));
        assert!(!is_fingerprinted("index.html"));
        assert!(!is_fingerprinted("favicon.svg"));
        assert!(!is_fingerprinted("my-logo.png"));
        assert!(!is_fingerprinted("frontend-3f2a1b9c8d7e6f50"));
    }

    #[test]
    fn only_inline_scripts_are_hashed() {
        let html = r#"<html><head>
<script type="module" src="/a.js"></script>
<script type="module">import init from '/x.js';</script>
</head></html>"#;
        let hashes = inline_script_hashes(html);
        assert_eq!(hashes.len(), 1);
        let expected = BASE64.encode(Sha256::digest(b"import init from '/x.js';"));
        assert_eq!(hashes[0], format!("'sha256-{expected}'"));
    }

    #[test]
    fn policy_forbids_framing_and_foreign_scripts() {
        let policy = content_security_policy(&["'sha256-abc'".into()]);
        assert!(policy.contains("frame-ancestors 'none'"));
        assert!(policy.contains("script-src 'self' 'wasm-unsafe-eval' 'sha256-abc';"));
        assert!(!policy.contains("unsafe-inline"));
    }
}
