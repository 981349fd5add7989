//! Sign-in through a real OpenID provider (oidc-provider from npm, `e2e/oidc/provider.mjs`):
//! the tests play the browser with a cookie jar, following every redirect by hand.

mod browser;

use rand::distr::{Alphanumeric, SampleString};
use serde_json::json;
use stratus_backend::config::OidcProviderSettings;
use stratus_shared::api::auth::SessionGrant;
use stratus_shared::api::oidc::ProviderSummary;
use stratus_shared::{ApiError, ErrorCode};

use browser::{error_page, identities, location, query_param, with_param, Browser};

use crate::helpers::{
    spawn_app, spawn_app_with, spawn_app_with_identity_provider,
    spawn_app_with_identity_provider_at, TEST_PROVIDER,
};

const PASSWORD: &str = "correct horse battery staple";

fn unique(prefix: &str) -> String {
    format!(
        "{prefix}-{}@corp.test",
        Alphanumeric
            .sample_string(&mut rand::rng(), 10)
            .to_lowercase()
    )
}

#[tokio::test]
async fn only_providers_with_credentials_are_listed() {
    let app = spawn_app_with_identity_provider().await;
    let providers: Vec<ProviderSummary> =
        app.get("/api/auth/providers").await.json().await.unwrap();
    assert_eq!(providers.len(), 1);
    assert_eq!(providers[0].id, TEST_PROVIDER);
    assert_eq!(providers[0].name, "Test ID");

    let app = spawn_app_with(|settings| {
        settings.oidc_google_client_id = Some("id-without-secret".into());
    })
    .await;
    let providers: Vec<ProviderSummary> =
        app.get("/api/auth/providers").await.json().await.unwrap();
    assert!(providers.is_empty());
}

#[tokio::test]
async fn the_authorization_request_uses_pkce_state_nonce_and_the_exact_redirect_uri() {
    let app = spawn_app_with_identity_provider().await;
    let response = app
        .get(&format!("/api/auth/oidc/{TEST_PROVIDER}/start"))
        .await;
    assert_eq!(response.status(), 303);
    let cookie = response.headers()["set-cookie"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(cookie.starts_with("stratus_oidc="), "{cookie}");
    assert!(cookie.contains("HttpOnly"), "{cookie}");
    assert!(cookie.contains("SameSite=Lax"), "{cookie}");
    assert!(cookie.contains("Path=/api/auth/oidc"), "{cookie}");
    let url = location(&response);
    assert_eq!(query_param(&url, "response_type").as_deref(), Some("code"));
    assert_eq!(
        query_param(&url, "code_challenge_method").as_deref(),
        Some("S256")
    );
    assert!(query_param(&url, "code_challenge").is_some());
    assert!(query_param(&url, "state").is_some_and(|s| s.len() >= 16));
    assert!(query_param(&url, "nonce").is_some_and(|s| s.len() >= 16));
    let redirect_uri = format!("{}/api/auth/oidc/{TEST_PROVIDER}/callback", app.address);
    assert_eq!(
        query_param(&url, "redirect_uri"),
        Some(redirect_uri.replace(':', "%3A").replace('/', "%2F"))
    );
}

#[tokio::test]
async fn a_first_sign_in_with_a_verified_email_creates_the_account() {
    let app = spawn_app_with_identity_provider().await;
    let email = unique("new");
    let browser = Browser::new();

    assert_eq!(browser.sign_in(&app, &email).await, "/login/complete");
    let grant = browser.session(&app).await;
    assert_eq!(grant.account.email, email);
    let linked = identities(&app, &grant.access_token).await;
    assert_eq!(linked.len(), 1);
    assert_eq!(linked[0].provider_id, TEST_PROVIDER);
    assert_eq!(linked[0].provider_name, "Test ID");

    // Signing in again, in another browser, reaches the same account.
    let other = Browser::new();
    assert_eq!(other.sign_in(&app, &email).await, "/login/complete");
    assert_eq!(other.session(&app).await.account.id, grant.account.id);

    // The only way in cannot be unlinked.
    let response = app
        .delete_as(
            &grant.access_token,
            &format!("/api/me/identities/{}", linked[0].id),
        )
        .await;
    assert_eq!(response.status(), 409);
    let error: ApiError = response.json().await.unwrap();
    assert_eq!(error.code, ErrorCode::LastSignInMethod);
}

#[tokio::test]
async fn an_existing_password_account_is_linked_only_after_its_owner_signs_in() {
    let app = spawn_app_with_identity_provider().await;
    let email = unique("owner");
    let owner = app.signed_up(&email, PASSWORD).await;
    let browser = Browser::new();

    let landed = browser.sign_in(&app, &email).await;
    assert_eq!(landed, format!("/login/link?provider={TEST_PROVIDER}"));
    // Not signed in, and nothing linked yet.
    assert_eq!(browser.refresh(&app).await.status(), 401);
    assert!(identities(&app, &owner.grant.access_token).await.is_empty());

    // A wrong password proves nothing.
    let response = browser
        .client
        .post(format!("{}/api/auth/login", app.address))
        .json(&json!({"email": email, "password": "not the password at all"}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 401);
    assert!(identities(&app, &owner.grant.access_token).await.is_empty());

    // The owner's password in the same browser links the identity.
    let response = browser
        .client
        .post(format!("{}/api/auth/login", app.address))
        .json(&json!({"email": email, "password": PASSWORD}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let linked = identities(&app, &owner.grant.access_token).await;
    assert_eq!(linked.len(), 1);

    // From now on the provider signs straight in, to the same account.
    let later = Browser::new();
    assert_eq!(later.sign_in(&app, &email).await, "/login/complete");
    assert_eq!(later.session(&app).await.account.id, owner.grant.account.id);

    // With a password left, the provider can be unlinked.
    let response = app
        .delete_as(
            &owner.grant.access_token,
            &format!("/api/me/identities/{}", linked[0].id),
        )
        .await;
    assert_eq!(response.status(), 204);
    assert!(identities(&app, &owner.grant.access_token).await.is_empty());
}

#[tokio::test]
async fn the_mailed_link_links_only_in_the_browser_that_signed_in_at_the_provider() {
    let app = spawn_app_with_identity_provider().await;
    let email = unique("mailed");
    let owner = app.signed_up(&email, PASSWORD).await;
    let browser = Browser::new();
    assert_eq!(
        browser.sign_in(&app, &email).await,
        format!("/login/link?provider={TEST_PROVIDER}")
    );
    let mail = app
        .mailbox
        .wait_for_message(&email, 2)
        .await
        .expect("the mail arrives");
    assert!(mail.subject.contains("Test ID"), "{}", mail.subject);
    let token = mail
        .link_token("/link-identity")
        .expect("a link with a token");

    // Someone else's browser (no cookie of this sign-in) cannot use it.
    let response = app
        .post_json(None, "/api/auth/link-identity", &json!({"token": token}))
        .await;
    assert_eq!(response.status(), 400);
    assert!(identities(&app, &owner.grant.access_token).await.is_empty());

    // A wrong token in the right browser neither.
    let response = browser
        .client
        .post(format!("{}/api/auth/link-identity", app.address))
        .json(&json!({"token": "not-the-token"}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 400);

    // The owner's browser with the mailed token: linked and signed in.
    let response = browser
        .client
        .post(format!("{}/api/auth/link-identity", app.address))
        .json(&json!({"token": token}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let grant: SessionGrant = response.json().await.unwrap();
    assert_eq!(grant.account.id, owner.grant.account.id);
    assert_eq!(identities(&app, &owner.grant.access_token).await.len(), 1);
}

#[tokio::test]
async fn a_password_sign_in_in_another_browser_links_nothing() {
    let app = spawn_app_with_identity_provider().await;
    let email = unique("victim");
    let owner = app.signed_up(&email, PASSWORD).await;
    let attacker = Browser::new();
    assert_eq!(
        attacker.sign_in(&app, &email).await,
        format!("/login/link?provider={TEST_PROVIDER}")
    );
    let response = app
        .post_json(
            None,
            "/api/auth/login",
            &json!({"email": email, "password": PASSWORD}),
        )
        .await;
    assert_eq!(response.status(), 200);
    assert!(identities(&app, &owner.grant.access_token).await.is_empty());
}

#[tokio::test]
async fn the_email_comes_from_userinfo_when_the_id_token_has_none() {
    let app =
        spawn_app_with_identity_provider_at(e2e::oidc::issuer_with_claims_in_userinfo()).await;
    let email = unique("userinfo");
    let browser = Browser::new();
    assert_eq!(browser.sign_in(&app, &email).await, "/login/complete");
    assert_eq!(browser.session(&app).await.account.email, email);
    // UserInfo's email_verified counts the same way.
    let landed = Browser::new().sign_in(&app, &unique("unverified")).await;
    assert_eq!(landed, error_page("email_unverified"));
}

#[tokio::test]
async fn an_unverified_email_is_refused() {
    let app = spawn_app_with_identity_provider().await;
    let browser = Browser::new();
    let landed = browser.sign_in(&app, &unique("unverified")).await;
    assert_eq!(landed, error_page("email_unverified"));
    assert_eq!(browser.refresh(&app).await.status(), 401);
}

#[tokio::test]
async fn a_tampered_state_is_refused() {
    let app = spawn_app_with_identity_provider().await;
    let browser = Browser::new();
    let callback = browser.callback_url(&app, &unique("tamper")).await;
    let tampered = with_param(&callback, "state", "forged-state-value");
    assert_eq!(browser.land(&tampered).await, error_page("state_mismatch"));
    // The refused answer also used up the sign-in: the genuine one cannot follow it.
    assert_eq!(browser.land(&callback).await, error_page("state_expired"));
    assert_eq!(browser.refresh(&app).await.status(), 401);
}

#[tokio::test]
async fn an_answer_naming_another_issuer_is_refused() {
    let app = spawn_app_with_identity_provider().await;
    let browser = Browser::new();
    let callback = browser.callback_url(&app, &unique("mixup")).await;
    assert!(
        query_param(&callback, "iss").is_some(),
        "the provider names itself (RFC 9207)"
    );
    let mixed_up = with_param(&callback, "iss", "https%3A%2F%2Fevil.example");
    assert_eq!(browser.land(&mixed_up).await, error_page("state_mismatch"));
}

#[tokio::test]
async fn an_oauth2_provider_with_a_profile_endpoint_signs_in_like_amazon() {
    // Login with Amazon's shape (no ID token; a profile read with the access token), played by
    // the test provider's authorization, token and userinfo endpoints.
    let issuer = e2e::oidc::issuer();
    let port = e2e::oidc::free_port();
    let redirect_uri = format!("http://127.0.0.1:{port}/api/auth/oidc/{TEST_PROVIDER}/callback");
    let client = e2e::oidc::register_client(&issuer, &redirect_uri).await;
    let app = spawn_app_with(move |settings| {
        settings.bind = format!("127.0.0.1:{port}").parse().unwrap();
        settings.oidc_providers = vec![OidcProviderSettings {
            id: TEST_PROVIDER.into(),
            name: "Profile ID".into(),
            issuer: String::new(),
            authorization_url: format!("{issuer}/auth"),
            token_url: format!("{issuer}/token"),
            profile_url: format!("{issuer}/me"),
            scopes: vec!["openid".into(), "email".into()],
            client_id: client.client_id,
            client_secret: client.client_secret,
            ..OidcProviderSettings::default()
        }];
    })
    .await;
    let email = unique("profile");
    let browser = Browser::new();
    assert_eq!(browser.sign_in(&app, &email).await, "/login/complete");
    assert_eq!(browser.session(&app).await.account.email, email);
    // The profile's email_verified is honoured too.
    let landed = Browser::new().sign_in(&app, &unique("unverified")).await;
    assert_eq!(landed, error_page("email_unverified"));
}

#[tokio::test]
async fn an_answer_in_a_browser_that_did_not_start_the_sign_in_is_refused() {
    let app = spawn_app_with_identity_provider().await;
    let victim_browser = Browser::new();
    let callback = Browser::new().callback_url(&app, &unique("fixation")).await;
    assert_eq!(
        victim_browser.land(&callback).await,
        error_page("state_expired")
    );
}

#[tokio::test]
async fn a_replayed_code_is_refused() {
    let app = spawn_app_with_identity_provider().await;
    let email = unique("replay");
    let browser = Browser::new();
    let first = browser.callback_url(&app, &email).await;
    assert_eq!(browser.land(&first).await, "/login/complete");

    // The same answer again: its sign-in is used up.
    assert_eq!(browser.land(&first).await, error_page("state_expired"));

    // The old code smuggled into a fresh sign-in of the same browser: the provider refuses it
    // (used, and bound to another PKCE verifier).
    let second = browser.callback_url(&app, &email).await;
    let old_code = query_param(&first, "code").unwrap();
    let smuggled = with_param(&second, "code", &old_code);
    assert_eq!(browser.land(&smuggled).await, error_page("provider_error"));
}

#[tokio::test]
async fn provider_errors_get_their_own_pages() {
    let app = spawn_app_with_identity_provider().await;
    let browser = Browser::new();

    let authorization_url = browser.start(&app).await;
    let callback = browser
        .at_provider(&app, &authorization_url, &[("error", "access_denied")])
        .await;
    assert_eq!(browser.land(&callback).await, error_page("cancelled"));

    let authorization_url = browser.start(&app).await;
    let callback = browser
        .at_provider(
            &app,
            &authorization_url,
            &[
                ("error", "consent_required"),
                (
                    "error_description",
                    "AADSTS65001: The user or administrator has not consented",
                ),
            ],
        )
        .await;
    assert_eq!(
        browser.land(&callback).await,
        error_page("admin_consent_required")
    );
}

#[tokio::test]
async fn a_provider_that_is_down_gets_its_own_page() {
    let closed_port = e2e::oidc::free_port();
    let app = spawn_app_with(move |settings| {
        settings.oidc_providers = vec![OidcProviderSettings {
            id: "down".into(),
            name: "Down".into(),
            issuer: format!("http://127.0.0.1:{closed_port}"),
            client_id: "id".into(),
            client_secret: "secret".into(),
            ..OidcProviderSettings::default()
        }];
    })
    .await;
    let response = app.get("/api/auth/oidc/down/start").await;
    assert_eq!(response.status(), 303);
    assert_eq!(
        location(&response),
        "/login/error?reason=provider_unavailable&provider=down"
    );

    let response = app.get("/api/auth/oidc/nope/start").await;
    assert_eq!(location(&response), "/login/error?reason=unknown_provider");
}

#[tokio::test]
async fn identities_need_a_signed_in_user() {
    let app = spawn_app().await;
    assert_eq!(app.get("/api/me/identities").await.status(), 401);
}

#[tokio::test]
async fn an_account_made_through_a_provider_can_accept_its_invitation() {
    let app = spawn_app_with_identity_provider().await;
    let (_, owner) = app.create_user("owner@example.com").await;
    let organization = app.create_organization(&owner, "Acme").await;
    let email = unique("invited");
    let invited = app
        .post_json(
            Some(&owner),
            &format!("/api/organizations/{organization}/members"),
            &json!({ "email": email, "role": "member" }),
        )
        .await;
    assert_eq!(invited.status(), 201);

    let browser = Browser::new();
    assert_eq!(browser.sign_in(&app, &email).await, "/login/complete");

    // The provider proved the address, so the invitation is there to answer; nothing
    // joined by itself.
    let grant = browser.session(&app).await;
    assert!(grant.account.organizations.is_empty());
    let waiting: Vec<stratus_shared::api::members::PendingInvitation> = app
        .read_as(&grant.access_token, "/api/me/invitations")
        .await;
    assert_eq!(waiting.len(), 1);
    let accepted = app
        .post_json(
            Some(&grant.access_token),
            &format!("/api/me/invitations/{}/accept", waiting[0].id),
            &json!({}),
        )
        .await;
    assert_eq!(accepted.status(), 204);
    let me: stratus_shared::api::auth::Account = app.read_as(&grant.access_token, "/api/me").await;
    assert_eq!(me.kind, stratus_shared::api::auth::AccountKind::Member);
    assert_eq!(me.organizations[0].name, "Acme");
}
