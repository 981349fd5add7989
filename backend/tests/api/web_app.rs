//! The server as host of the web app: routes, caching, security headers, API 404s.

use stratus_shared::{ApiError, ErrorCode};

use crate::helpers::{spawn_app, spawn_app_with, HASHED_ASSET, INLINE_SCRIPT};

#[tokio::test]
async fn unknown_api_paths_get_a_json_404_not_the_web_app() {
    let app = spawn_app().await;

    let response = app.get("/api/no/such/endpoint").await;

    assert_eq!(response.status(), 404);
    assert!(response.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("application/json"));
    let error: ApiError = response.json().await.unwrap();
    assert_eq!(error.code, ErrorCode::NotFound);
    assert!(error.message.contains("/api/no/such/endpoint"));
}

#[tokio::test]
async fn client_side_routes_get_index_html_uncached() {
    let app = spawn_app().await;

    for path in ["/", "/login", "/systems/123", "/no/such/page"] {
        let response = app.get(path).await;
        assert_eq!(response.status(), 200, "{path}");
        assert_eq!(response.headers()["cache-control"], "no-cache", "{path}");
        assert!(
            response.text().await.unwrap().contains(INLINE_SCRIPT),
            "{path}"
        );
    }
}

#[tokio::test]
async fn fingerprinted_assets_are_cached_for_a_year_and_missing_files_are_404() {
    let app = spawn_app().await;

    let asset = app.get(&format!("/{HASHED_ASSET}")).await;
    assert_eq!(asset.status(), 200);
    assert_eq!(
        asset.headers()["cache-control"],
        "public, max-age=31536000, immutable"
    );

    let missing = app.get("/frontend-ffffffffffffffff.js").await;
    assert_eq!(missing.status(), 404);
}

#[tokio::test]
async fn every_answer_carries_the_security_headers() {
    let app = spawn_app().await;

    for path in ["/", "/api/health", "/api/nope"] {
        let response = app.get(path).await;
        let headers = response.headers();
        let csp = headers["content-security-policy"].to_str().unwrap();
        assert!(csp.contains("frame-ancestors 'none'"), "{path}: {csp}");
        assert!(csp.contains("'wasm-unsafe-eval'"), "{path}: {csp}");
        assert!(!csp.contains("'unsafe-inline'"), "{path}: {csp}");
        assert_eq!(headers["x-content-type-options"], "nosniff", "{path}");
        assert_eq!(headers["referrer-policy"], "same-origin", "{path}");
        assert_eq!(headers["x-frame-options"], "DENY", "{path}");
    }
}

#[tokio::test]
async fn the_policy_allows_exactly_the_inline_start_up_script() {
    use base64::Engine;
    use sha2::Digest;
    let app = spawn_app().await;

    let response = app.get("/").await;

    let csp = response.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .to_owned();
    let hash = base64::engine::general_purpose::STANDARD
        .encode(sha2::Sha256::digest(INLINE_SCRIPT.as_bytes()));
    assert!(csp.contains(&format!("'sha256-{hash}'")), "{csp}");
}

#[tokio::test]
async fn a_known_api_path_with_another_method_gets_405_with_allow() {
    let app = spawn_app().await;

    let response = app.get("/api/auth/login").await;

    assert_eq!(response.status(), 405);
    assert_eq!(response.headers()["allow"], "POST");
    let error: ApiError = response.json().await.unwrap();
    assert_eq!(error.code, ErrorCode::MethodNotAllowed);
    let unknown = app.get("/api/auth/no-such-thing").await;
    assert_eq!(unknown.status(), 404);
}

#[tokio::test]
async fn sign_out_without_the_client_header_is_refused() {
    let app = spawn_app().await;

    let response = app
        .client
        .post(format!("{}/api/auth/logout", app.address))
        .send()
        .await
        .unwrap();

    assert_eq!(response.status(), 400);
}

#[tokio::test]
async fn no_api_answer_may_be_stored_by_a_cache() {
    let app = spawn_app().await;
    let (_, token) = app.create_user("owner@acme.example").await;
    app.create_organization(&token, "Acme").await;
    let document: serde_json::Value = app.get("/api/openapi.json").await.json().await.unwrap();
    let paths = document["paths"].as_object().unwrap();
    let mut checked = 0;
    for (path, operations) in paths {
        if path.contains('{') || operations.get("get").is_none() || path == "/api/live" {
            continue;
        }
        let response = app.get_as(&token, path).await;
        assert_eq!(
            response.headers()["cache-control"],
            "no-store",
            "GET {path} answered {}",
            response.status()
        );
        checked += 1;
    }
    assert!(checked >= 8, "only {checked} paths checked");
    for refused in ["/api/me", "/api/nope"] {
        let response = app.get(refused).await;
        assert_eq!(response.headers()["cache-control"], "no-store", "{refused}");
    }
}

#[tokio::test]
async fn hsts_covers_the_subdomains_where_the_portal_is_https() {
    let app = spawn_app_with(|settings| {
        settings.public_url = "https://portal.example.com".into();
    })
    .await;
    let response = app.get("/api/health").await;
    assert_eq!(
        response.headers()["strict-transport-security"],
        "max-age=31536000; includeSubDomains"
    );
    let plain = spawn_app().await;
    let response = plain.get("/api/health").await;
    assert!(response
        .headers()
        .get("strict-transport-security")
        .is_none());
}
