//! The test OpenID provider (`e2e/oidc/provider.mjs`, oidc-provider from npm): its issuer URL
//! (`TEST_OIDC_ISSUER`, set by `scripts/test.sh`; without it the provider is started once per
//! test binary from the tools folder), client registration per test server, and a small
//! cookie-keeping driver that signs in through its interaction page over HTTP.

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::sync::OnceLock;

/// The issuer URL of the running test provider.
pub fn issuer() -> String {
    if let Ok(issuer) = std::env::var("TEST_OIDC_ISSUER") {
        if !issuer.trim().is_empty() {
            return issuer.trim().trim_end_matches('/').to_owned();
        }
    }
    static STARTED: OnceLock<String> = OnceLock::new();
    STARTED.get_or_init(|| start_provider(false)).clone()
}

/// A second test provider, started by this test binary, that keeps the email claims for its
/// UserInfo endpoint instead of the ID token (what the specification prefers).
pub fn issuer_with_claims_in_userinfo() -> String {
    static STARTED: OnceLock<String> = OnceLock::new();
    STARTED.get_or_init(|| start_provider(true)).clone()
}

fn start_provider(claims_in_userinfo: bool) -> String {
    let tools = std::env::var_os("STRATUS_TOOLS_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(std::env::var_os("HOME").expect("HOME")).join(".cache/stratus/tools")
        });
    let module = tools.join("oidc/node_modules/oidc-provider/lib/index.js");
    assert!(
        module.exists(),
        "the test OpenID provider is not installed ({}): run scripts/test.sh once",
        module.display()
    );
    let script = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("oidc/provider.mjs");
    let mut child = Command::new("node")
        .arg(script)
        .env("OIDC_PROVIDER_MODULE", module)
        .env("PORT", "0")
        // The provider exits when this test binary does (its stdin closes).
        .env("EXIT_WITH_STDIN", "1")
        .env(
            "TEST_OIDC_CLAIMS_IN_USERINFO",
            if claims_in_userinfo { "1" } else { "0" },
        )
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("node starts the test OpenID provider");
    let stdout = child.stdout.take().expect("provider stdout");
    let mut lines = BufReader::new(stdout).lines();
    let issuer = loop {
        let line = lines
            .next()
            .expect("the provider prints its issuer")
            .expect("provider output");
        if let Some(issuer) = line.strip_prefix("oidc-provider listening on ") {
            break issuer.trim().to_owned();
        }
    };
    // Keep the pipes open for the rest of the test binary's life.
    std::mem::forget(lines);
    std::mem::forget(child);
    issuer
}

/// A client registered at the test provider for one exact redirect URI.
#[derive(Debug, Clone)]
pub struct RegisteredClient {
    pub client_id: String,
    pub client_secret: String,
}

/// Registers a client (OpenID Connect Dynamic Client Registration) for `redirect_uri`.
pub async fn register_client(issuer: &str, redirect_uri: &str) -> RegisteredClient {
    let response: serde_json::Value = reqwest::Client::new()
        .post(format!("{issuer}/reg"))
        .json(&serde_json::json!({
            "redirect_uris": [redirect_uri],
            "response_types": ["code"],
            "grant_types": ["authorization_code"],
            "token_endpoint_auth_method": "client_secret_basic",
        }))
        .send()
        .await
        .expect("the provider answers registration")
        .error_for_status()
        .expect("registration accepted")
        .json()
        .await
        .expect("registration JSON");
    RegisteredClient {
        client_id: response["client_id"]
            .as_str()
            .expect("client_id")
            .to_owned(),
        client_secret: response["client_secret"]
            .as_str()
            .expect("client_secret")
            .to_owned(),
    }
}

/// A free port on 127.0.0.1 (for servers that must know their URL before they start).
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .map(|address| address.port())
        .expect("a free local port")
}
