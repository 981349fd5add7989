//! Journey: signing in through an identity provider (the real test OpenID provider,
//! oidc-provider from npm): cancelling and an admin-approval error each end on their own page,
//! then a first sign-in creates the account and the account page lists the provider; and an
//! existing password account links the provider only after its owner enters the password.

use e2e::oidc::{free_port, issuer, register_client};
use e2e::{journey_on, Browser, Server};

/// A server with the test provider configured as `test` (client registered for its exact
/// redirect URI, from a config file's `[[oidc_providers]]`).
async fn server_with_provider() -> (Server, String, tempfile::TempDir) {
    let issuer = issuer();
    let port = free_port();
    let base_url = format!("http://127.0.0.1:{port}");
    let client = register_client(&issuer, &format!("{base_url}/api/auth/oidc/test/callback")).await;
    let config_dir = tempfile::tempdir().expect("config dir");
    let config = config_dir.path().join("stratus.toml");
    std::fs::write(
        &config,
        format!(
            "[[oidc_providers]]\nid = \"test\"\nname = \"Test ID\"\nissuer = \"{issuer}\"\n\
             client_id = \"{}\"\nclient_secret = \"{}\"\n",
            client.client_id, client.client_secret
        ),
    )
    .expect("write the config file");
    let bind = format!("127.0.0.1:{port}");
    let server = Server::start_with(&[
        ("STRATUS_BIND", &bind),
        ("STRATUS_CONFIG", config.to_str().expect("utf-8 path")),
    ]);
    (server, issuer, config_dir)
}

#[tokio::test]
async fn sign_in_with_a_provider() {
    let (server, issuer, _config_dir) = server_with_provider().await;
    let provider_origin = issuer.clone();
    journey_on(
        "provider-sign-in",
        server,
        async |server: &Server, browser: &Browser| {
            let driver = &browser.driver;
            let email = format!("e2e-provider-{}@corp.test", std::process::id());

            // Cancelled at the provider: its own page, in plain words, only a code in the URL.
            driver.goto(server.url("/login")).await?;
            browser.click("#provider-test").await?;
            browser.wait_for_text("h1", "Test ID sign-in").await?;
            browser.click("#cancel").await?;
            browser
                .wait_for_text("[data-testid=sign-in-error]", "You cancelled")
                .await?;
            let url = driver.current_url().await?;
            assert_eq!(url.path(), "/login/error");
            assert_eq!(url.query(), Some("reason=cancelled&provider=test"));

            // The organization needs an administrator's approval (Microsoft AADSTS65001).
            driver.goto(server.url("/login")).await?;
            browser.click("#provider-test").await?;
            browser.wait_for_text("h1", "Test ID sign-in").await?;
            browser.click("#needs-admin").await?;
            browser
                .wait_for_text(
                    "[data-testid=sign-in-error-title]",
                    "administrator must approve",
                )
                .await?;

            // A first sign-in with a verified address creates the account and signs in.
            driver.goto(server.url("/login")).await?;
            browser.click("#provider-test").await?;
            browser.wait_for_text("h1", "Test ID sign-in").await?;
            browser.fill("#login", &email).await?;
            browser.click("#sign-in").await?;
            browser.wait_for_path("/").await?;
            browser
                .wait_for_text("[data-testid=signed-in-as]", &email)
                .await?;

            // The account page lists the provider; a reload keeps the session.
            driver.goto(server.url("/account")).await?;
            browser
                .wait_for_text("[data-testid=linked-providers]", "Test ID")
                .await?;
            driver.refresh().await?;
            browser
                .wait_for_text("[data-testid=account-email]", &email)
                .await?;

            // The test provider's own pages (no favicon) are not the web app's business.
            let errors: Vec<String> = browser
                .console_errors()
                .await
                .into_iter()
                .filter(|error| !error.starts_with(&provider_origin))
                .collect();
            assert!(errors.is_empty(), "browser console errors: {errors:#?}");
            Ok(())
        },
    )
    .await;
}

#[tokio::test]
async fn an_existing_account_links_the_provider_after_the_password() {
    let (server, issuer, _config_dir) = server_with_provider().await;
    let email = format!("e2e-link-{}@corp.test", std::process::id());
    let password = "amber lantern quarry";
    // A password account made through the API (sign-up, mailed link, verification).
    let http = reqwest::Client::new();
    http.post(server.url("/api/auth/signup"))
        .json(&serde_json::json!({"email": email, "password": password}))
        .send()
        .await
        .expect("sign-up");
    let mail = server
        .mailbox
        .wait_for_message(&email, 1)
        .await
        .expect("the mail arrives");
    let token = mail
        .link_token("/verify-email")
        .expect("a verification link");
    let verified = http
        .post(server.url("/api/auth/verify-email"))
        .json(&serde_json::json!({"token": token, "password": password}))
        .send()
        .await
        .expect("verification");
    assert_eq!(verified.status(), 200);

    let provider_origin = issuer.clone();
    journey_on(
        "provider-link",
        server,
        async |server: &Server, browser: &Browser| {
            let driver = &browser.driver;
            driver.goto(server.url("/login")).await?;
            browser.click("#provider-test").await?;
            browser.wait_for_text("h1", "Test ID sign-in").await?;
            browser.fill("#login", &email).await?;
            browser.click("#sign-in").await?;

            // Not linked silently: the owner is asked for the password first.
            browser.wait_for_path("/login/link").await?;
            browser
                .wait_for_text("[data-testid=link-notice]", "Test ID")
                .await?;
            browser.fill("#email", &email).await?;
            browser.fill("#password", password).await?;
            browser.click("form button[type=submit]").await?;
            browser
                .wait_for_text("[data-testid=signed-in-as]", &email)
                .await?;

            driver.goto(server.url("/account")).await?;
            browser
                .wait_for_text("[data-testid=linked-providers]", "Test ID")
                .await?;

            let errors: Vec<String> = browser
                .console_errors()
                .await
                .into_iter()
                .filter(|error| !error.starts_with(&provider_origin))
                .collect();
            assert!(errors.is_empty(), "browser console errors: {errors:#?}");
            Ok(())
        },
    )
    .await;
}
