//! Accounts: sign-up, verification by mail (real SMTP server), sign-in, throttling, sessions
//! with single-use refresh, sign-out, password reset and change, access-token checks.

use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::Engine;
use serde_json::json;
use stratus_shared::api::auth::{Account, AccountKind, Notice, SessionSummary};
use stratus_shared::{ApiError, ErrorCode};

use crate::helpers::{refresh_cookie, spawn_app, unique_email, SignedIn, TestApp};

const PASSWORD: &str = "correct horse battery staple";

async fn error_of(response: reqwest::Response) -> ApiError {
    response.json().await.expect("an error body")
}

async fn login(app: &TestApp, email: &str, password: &str) -> reqwest::Response {
    app.post_json(
        None,
        "/api/auth/login",
        &json!({"email": email, "password": password}),
    )
    .await
}

#[tokio::test]
async fn sign_up_verify_and_sign_in_as_a_guest() {
    let app = spawn_app().await;
    let email = unique_email("skyline.be");

    let signed_in = app
        .signed_up(&format!("  {}  ", email.to_uppercase()), PASSWORD)
        .await;

    assert_eq!(
        signed_in.grant.account.email, email,
        "trimmed and lower-cased"
    );
    assert_eq!(signed_in.grant.account.kind, AccountKind::Guest);
    let me: Account = app
        .get_as(&signed_in.grant.access_token, "/api/me")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(me.email, email);
    assert!(me.organizations.is_empty());

    let response = login(&app, &email, PASSWORD).await;
    assert_eq!(response.status(), 200);
    let cookie = response.headers()["set-cookie"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(cookie.contains("HttpOnly"), "{cookie}");
    assert!(cookie.contains("SameSite=Strict"), "{cookie}");
    assert!(cookie.contains("Path=/api/auth"), "{cookie}");
}

#[tokio::test]
async fn an_unverified_account_cannot_sign_in_and_is_told_apart_from_no_wrong_password() {
    let app = spawn_app().await;
    let email = unique_email("skyline.be");
    app.post_json(
        None,
        "/api/auth/signup",
        &json!({"email": email, "password": PASSWORD}),
    )
    .await;

    let response = login(&app, &email, PASSWORD).await;
    assert_eq!(response.status(), 401);
    let right_password = error_of(response).await;
    assert_eq!(right_password.code, ErrorCode::InvalidCredentials);

    // A wrong password answers exactly the same: nothing tells verification apart.
    let response = login(&app, &email, "not the password at all").await;
    assert_eq!(response.status(), 401);
    assert_eq!(error_of(response).await, right_password);
}

#[tokio::test]
async fn the_verification_link_needs_the_password_and_works_once() {
    let app = spawn_app().await;
    let email = unique_email("skyline.be");
    app.post_json(
        None,
        "/api/auth/signup",
        &json!({"email": email, "password": PASSWORD}),
    )
    .await;
    let mail = app
        .mailbox
        .wait_for_message(&email, 1)
        .await
        .expect("the mail arrives");
    assert!(mail.subject.contains("Verify"));
    let link = mail.link("http").unwrap();
    assert!(
        link.contains("/verify-email#token="),
        "token in the fragment: {link}"
    );
    let token = mail.link_token("/verify-email").unwrap();

    let wrong = app
        .post_json(
            None,
            "/api/auth/verify-email",
            &json!({"token": token, "password": "someone else's"}),
        )
        .await;
    assert_eq!(wrong.status(), 401);

    let right = app
        .post_json(
            None,
            "/api/auth/verify-email",
            &json!({"token": token, "password": PASSWORD}),
        )
        .await;
    assert_eq!(right.status(), 200);

    let again = app
        .post_json(
            None,
            "/api/auth/verify-email",
            &json!({"token": token, "password": PASSWORD}),
        )
        .await;
    assert_eq!(again.status(), 400);
    assert_eq!(error_of(again).await.code, ErrorCode::LinkInvalid);
}

#[tokio::test]
async fn a_duplicate_sign_up_answers_the_same_and_mails_the_owner() {
    let app = spawn_app().await;
    let email = unique_email("skyline.be");
    app.signed_up(&email, PASSWORD).await;
    let fresh = unique_email("skyline.be");

    let duplicate = app
        .post_json(
            None,
            "/api/auth/signup",
            &json!({"email": email, "password": "another long password"}),
        )
        .await;
    let new = app
        .post_json(
            None,
            "/api/auth/signup",
            &json!({"email": fresh, "password": "another long password"}),
        )
        .await;

    assert_eq!(duplicate.status(), new.status());
    let duplicate: Notice = duplicate.json().await.unwrap();
    let new: Notice = new.json().await.unwrap();
    assert_eq!(duplicate, new);
    let mail = app
        .mailbox
        .wait_for_message(&email, 2)
        .await
        .expect("the mail arrives");
    assert!(mail.subject.contains("already have"), "{}", mail.subject);
    // The existing account keeps its password.
    assert_eq!(login(&app, &email, PASSWORD).await.status(), 200);
}

#[tokio::test]
async fn weak_passwords_and_bad_emails_are_refused_with_stable_codes() {
    let app = spawn_app().await;
    let email = unique_email("skyline.be");
    let cases = [
        (
            email.clone(),
            "short".to_owned(),
            ErrorCode::PasswordTooShort,
        ),
        (email.clone(), "x".repeat(129), ErrorCode::PasswordTooLong),
        (
            email.clone(),
            email.to_uppercase(),
            ErrorCode::PasswordSameAsEmail,
        ),
        (
            email.clone(),
            "Password123".to_owned(),
            ErrorCode::PasswordTooCommon,
        ),
        (
            "not-an-email".to_owned(),
            PASSWORD.to_owned(),
            ErrorCode::EmailInvalid,
        ),
    ];
    for (email, password, code) in cases {
        let response = app
            .post_json(
                None,
                "/api/auth/signup",
                &json!({"email": email, "password": password}),
            )
            .await;
        assert_eq!(response.status(), 422, "{code:?}");
        let error = error_of(response).await;
        assert_eq!(error.code, code);
        assert!(!error.message.is_empty());
    }
    assert!(
        app.mailbox.messages_to(&email).is_empty(),
        "no account was created"
    );

    let malformed = app
        .client
        .post(format!("{}/api/auth/signup", app.address))
        .header("content-type", "application/json")
        .body("{\"email\": ")
        .send()
        .await
        .unwrap();
    assert_eq!(malformed.status(), 400);
    assert_eq!(error_of(malformed).await.code, ErrorCode::InvalidRequest);
}

#[tokio::test]
async fn wrong_password_and_unknown_email_get_identical_answers() {
    let app = spawn_app().await;
    let email = unique_email("skyline.be");
    app.signed_up(&email, PASSWORD).await;

    let wrong_password = login(&app, &email, "not the password").await;
    let unknown_email = login(&app, &unique_email("skyline.be"), "not the password").await;

    assert_eq!(wrong_password.status(), 401);
    assert_eq!(unknown_email.status(), 401);
    assert_eq!(
        wrong_password.bytes().await.unwrap(),
        unknown_email.bytes().await.unwrap()
    );
}

#[tokio::test]
async fn repeated_failures_for_an_account_get_429_with_retry_after() {
    let app = spawn_app().await;
    let email = unique_email("skyline.be");
    app.signed_up(&email, PASSWORD).await;

    for attempt in 1..=5 {
        let response = login(&app, &email, "guessing wrong").await;
        assert_eq!(response.status(), 401, "attempt {attempt}");
    }
    let response = login(&app, &email, PASSWORD).await;
    assert_eq!(response.status(), 429, "even the right password waits");
    let retry_after: i64 = response.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=15 * 60).contains(&retry_after), "{retry_after}");
    assert_eq!(error_of(response).await.code, ErrorCode::TooManyRequests);
}

#[tokio::test]
async fn repeated_failures_from_one_address_get_429() {
    let app = spawn_app().await;
    // 20 failures over many accounts from this client's address.
    for _ in 0..20 {
        let response = login(&app, &unique_email("skyline.be"), "guessing wrong").await;
        assert_eq!(response.status(), 401);
    }
    let response = login(&app, &unique_email("skyline.be"), "guessing wrong").await;
    assert_eq!(response.status(), 429);
}

#[tokio::test]
async fn refresh_rotates_and_a_reused_token_ends_the_session() {
    let app = spawn_app().await;
    let SignedIn { refresh_token, .. } = app.signed_up(&unique_email("skyline.be"), PASSWORD).await;

    let first = app
        .post_with_refresh_cookie("/api/auth/refresh", &refresh_token)
        .await;
    assert_eq!(first.status(), 200);
    let rotated = refresh_cookie(&first).unwrap();
    assert_ne!(rotated, refresh_token);

    // The old token again: reuse. The session ends, so the rotated token dies too.
    let reuse = app
        .post_with_refresh_cookie("/api/auth/refresh", &refresh_token)
        .await;
    assert_eq!(reuse.status(), 401);
    assert_eq!(
        refresh_cookie(&reuse).as_deref(),
        Some(""),
        "cookie removed"
    );
    assert_eq!(error_of(reuse).await.code, ErrorCode::SessionExpired);
    let after = app
        .post_with_refresh_cookie("/api/auth/refresh", &rotated)
        .await;
    assert_eq!(after.status(), 401);
}

#[tokio::test]
async fn refresh_needs_the_client_header() {
    let app = spawn_app().await;
    let signed_in = app.signed_up(&unique_email("skyline.be"), PASSWORD).await;

    let response = app
        .client
        .post(format!("{}/api/auth/refresh", app.address))
        .header(
            "Cookie",
            format!("stratus_refresh={}", signed_in.refresh_token),
        )
        .send()
        .await
        .unwrap();

    assert_eq!(response.status(), 401);
    // The token was not spent by the refused request.
    let proper = app
        .post_with_refresh_cookie("/api/auth/refresh", &signed_in.refresh_token)
        .await;
    assert_eq!(proper.status(), 200);
}

#[tokio::test]
async fn sign_out_ends_one_session_and_sign_out_everywhere_ends_all() {
    let app = spawn_app().await;
    let email = unique_email("skyline.be");
    let first = app.signed_up(&email, PASSWORD).await;
    let second = SignedIn::from_response(login(&app, &email, PASSWORD).await).await;
    let third = SignedIn::from_response(login(&app, &email, PASSWORD).await).await;

    let sessions: Vec<SessionSummary> = app
        .get_as(&second.grant.access_token, "/api/me/sessions")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(sessions.len(), 3);
    assert_eq!(sessions.iter().filter(|s| s.current).count(), 1);

    let logout = app
        .post_with_refresh_cookie("/api/auth/logout", &first.refresh_token)
        .await;
    assert_eq!(logout.status(), 204);
    assert_eq!(
        app.post_with_refresh_cookie("/api/auth/refresh", &first.refresh_token)
            .await
            .status(),
        401
    );
    assert_eq!(
        app.post_with_refresh_cookie("/api/auth/refresh", &second.refresh_token)
            .await
            .status(),
        200,
        "other sessions go on"
    );

    let everywhere = app
        .post_json(
            Some(&third.grant.access_token),
            "/api/me/sessions/revoke-all",
            &json!({}),
        )
        .await;
    assert_eq!(everywhere.status(), 204);
    assert_eq!(
        app.post_with_refresh_cookie("/api/auth/refresh", &third.refresh_token)
            .await
            .status(),
        401
    );
}

#[tokio::test]
async fn password_reset_changes_the_password_and_ends_every_session() {
    let app = spawn_app().await;
    let email = unique_email("skyline.be");
    let signed_in = app.signed_up(&email, PASSWORD).await;

    let unknown = app
        .post_json(
            None,
            "/api/auth/forgot-password",
            &json!({"email": unique_email("skyline.be")}),
        )
        .await;
    let known = app
        .post_json(None, "/api/auth/forgot-password", &json!({"email": email}))
        .await;
    assert_eq!(unknown.status(), 202);
    assert_eq!(known.status(), 202);
    assert_eq!(unknown.bytes().await.unwrap(), known.bytes().await.unwrap());

    let mail = app
        .mailbox
        .wait_for_message(&email, 2)
        .await
        .expect("the mail arrives");
    let token = mail.link_token("/reset-password").expect("a reset link");
    let weak = app
        .post_json(
            None,
            "/api/auth/reset-password",
            &json!({"token": token, "password": "short"}),
        )
        .await;
    assert_eq!(weak.status(), 422, "the link survives a refused password");
    let reset = app
        .post_json(
            None,
            "/api/auth/reset-password",
            &json!({"token": token, "password": "a brand new passphrase"}),
        )
        .await;
    assert_eq!(reset.status(), 200);

    assert_eq!(
        app.post_with_refresh_cookie("/api/auth/refresh", &signed_in.refresh_token)
            .await
            .status(),
        401,
        "sessions ended"
    );
    assert_eq!(login(&app, &email, PASSWORD).await.status(), 401);
    assert_eq!(
        login(&app, &email, "a brand new passphrase").await.status(),
        200
    );
    let again = app
        .post_json(
            None,
            "/api/auth/reset-password",
            &json!({"token": token, "password": "yet another passphrase"}),
        )
        .await;
    assert_eq!(error_of(again).await.code, ErrorCode::LinkInvalid);
}

#[tokio::test]
async fn changing_the_password_needs_the_current_one_and_ends_other_sessions() {
    let app = spawn_app().await;
    let email = unique_email("skyline.be");
    let this = app.signed_up(&email, PASSWORD).await;
    let other = SignedIn::from_response(login(&app, &email, PASSWORD).await).await;

    let wrong = app
        .post_json(
            Some(&this.grant.access_token),
            "/api/me/password",
            &json!({"current_password": "not it", "new_password": "a brand new passphrase"}),
        )
        .await;
    assert_eq!(wrong.status(), 403);
    assert_eq!(error_of(wrong).await.code, ErrorCode::CurrentPasswordWrong);

    let right = app
        .post_json(
            Some(&this.grant.access_token),
            "/api/me/password",
            &json!({"current_password": PASSWORD, "new_password": "a brand new passphrase"}),
        )
        .await;
    assert_eq!(right.status(), 204);
    assert_eq!(
        app.post_with_refresh_cookie("/api/auth/refresh", &other.refresh_token)
            .await
            .status(),
        401
    );
    assert_eq!(
        app.post_with_refresh_cookie("/api/auth/refresh", &this.refresh_token)
            .await
            .status(),
        200,
        "this session goes on"
    );
}

/// Signs claims with the server's own session key, as an attacker who had it would not be
/// able to; used to show every other check still applies.
fn sign(app: &TestApp, header: &str, claims: &serde_json::Value) -> String {
    use hmac_sha256::HMAC;
    let secrets: serde_json::Value =
        serde_json::from_slice(&std::fs::read(app.data_dir.path().join("secrets.json")).unwrap())
            .unwrap();
    let key = STANDARD
        .decode(secrets["session_key"].as_str().unwrap())
        .unwrap();
    let signing_input = format!(
        "{}.{}",
        URL_SAFE_NO_PAD.encode(header),
        URL_SAFE_NO_PAD.encode(claims.to_string())
    );
    let signature = URL_SAFE_NO_PAD.encode(HMAC::mac(signing_input.as_bytes(), &key));
    format!("{signing_input}.{signature}")
}

#[tokio::test]
async fn expired_tampered_unsigned_and_foreign_audience_tokens_get_401() {
    let app = spawn_app().await;
    let signed_in = app.signed_up(&unique_email("skyline.be"), PASSWORD).await;
    let user_id = signed_in.grant.account.id.clone();
    let now = chrono::Utc::now().timestamp();
    let issuer = app.access_tokens.issuer().to_owned();
    let claims = |aud: &str, exp: i64| json!({"iss": issuer, "aud": aud, "sub": user_id, "iat": now - 60, "exp": exp, "jti": "x"});
    let hs256 = r#"{"alg":"HS256","typ":"JWT"}"#;

    // Sanity: a well-formed token signed the same way passes.
    let good = sign(&app, hs256, &claims("stratus-api", now + 600));
    assert_eq!(app.get_as(&good, "/api/me").await.status(), 200);

    let expired = sign(&app, hs256, &claims("stratus-api", now - 600));
    let foreign_audience = sign(&app, hs256, &claims("stratus-gateway", now + 600));
    let unsigned = format!(
        "{}.{}.",
        URL_SAFE_NO_PAD.encode(r#"{"alg":"none","typ":"JWT"}"#),
        URL_SAFE_NO_PAD.encode(claims("stratus-api", now + 600).to_string())
    );
    let mut tampered = signed_in.grant.access_token.clone();
    let last = tampered.pop().unwrap();
    tampered.push(if last == 'A' { 'B' } else { 'A' });

    for (name, token) in [
        ("expired", expired),
        ("foreign audience", foreign_audience),
        ("alg none", unsigned),
        ("tampered", tampered),
        ("garbage", "not.a.jwt".to_owned()),
    ] {
        let response = app.get_as(&token, "/api/me").await;
        assert_eq!(response.status(), 401, "{name}");
        assert_eq!(response.headers()["www-authenticate"], "Bearer", "{name}");
        assert_eq!(
            error_of(response).await.code,
            ErrorCode::Unauthorized,
            "{name}"
        );
    }
    assert_eq!(app.get("/api/me").await.status(), 401, "no token");
}
