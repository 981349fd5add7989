//! Password guessing and sign-up floods: limits that hold under parallel requests, behind a
//! reverse proxy, on every place a password is checked, and a lock a reset lifts.

use futures_util::future::join_all;
use serde_json::json;
use stratus_shared::ErrorCode;

use crate::helpers::{spawn_app_with, unique_email, TestApp};

const PASSWORD: &str = "correct horse battery staple";

async fn login(app: &TestApp, email: &str, password: &str, forwarded_for: Option<&str>) -> u16 {
    let mut request = app
        .client
        .post(format!("{}/api/auth/login", app.address))
        .json(&json!({"email": email, "password": password}));
    if let Some(address) = forwarded_for {
        request = request.header("X-Forwarded-For", address);
    }
    request.send().await.unwrap().status().as_u16()
}

fn count(statuses: &[u16], status: u16) -> usize {
    statuses.iter().filter(|s| **s == status).count()
}

#[tokio::test]
async fn parallel_wrong_passwords_cannot_pass_the_account_limit() {
    let app = spawn_app_with(|settings| {
        settings.login_attempts_per_account = 5;
        settings.login_attempts_per_address = 1000;
    })
    .await;
    let email = unique_email("skyline.be");
    app.signed_up(&email, PASSWORD).await;

    let statuses = join_all((0..40).map(|n| {
        let (app, email) = (&app, &email);
        async move { login(app, email, &format!("wrong guess {n}"), None).await }
    }))
    .await;
    assert_eq!(count(&statuses, 401), 5, "{statuses:?}");
    assert_eq!(count(&statuses, 429), 35, "{statuses:?}");
    assert_eq!(login(&app, &email, PASSWORD, None).await, 429, "locked");
}

#[tokio::test]
async fn parallel_guesses_over_many_accounts_cannot_pass_the_address_limit() {
    let app = spawn_app_with(|settings| settings.login_attempts_per_address = 8).await;
    let statuses = join_all((0..30).map(|_| {
        let app = &app;
        async move { login(app, &unique_email("skyline.be"), "guessing", None).await }
    }))
    .await;
    assert_eq!(count(&statuses, 401), 8, "{statuses:?}");
    assert_eq!(count(&statuses, 429), 22, "{statuses:?}");
}

#[tokio::test]
async fn a_right_password_does_not_count_against_the_address() {
    let app = spawn_app_with(|settings| settings.login_attempts_per_address = 3).await;
    let email = unique_email("skyline.be");
    app.signed_up(&email, PASSWORD).await;
    for _ in 0..10 {
        assert_eq!(login(&app, &email, PASSWORD, None).await, 200);
    }
}

#[tokio::test]
async fn behind_a_trusted_proxy_each_client_has_its_own_bucket() {
    let app = spawn_app_with(|settings| {
        settings.login_attempts_per_address = 3;
        settings.trusted_proxies = "127.0.0.1".into();
    })
    .await;
    // Client A uses up its guesses; client B, behind the same proxy, is not locked out.
    for _ in 0..3 {
        let status = login(
            &app,
            &unique_email("a.example"),
            "x-guess",
            Some("192.0.2.10"),
        )
        .await;
        assert_eq!(status, 401);
    }
    let a = login(
        &app,
        &unique_email("a.example"),
        "x-guess",
        Some("192.0.2.10"),
    )
    .await;
    assert_eq!(a, 429);
    let b = login(
        &app,
        &unique_email("b.example"),
        "x-guess",
        Some("192.0.2.20"),
    )
    .await;
    assert_eq!(b, 401);
    // A forged leftmost entry does not pick the bucket: the proxy appended the real address.
    let forged = login(
        &app,
        &unique_email("a.example"),
        "x-guess",
        Some("198.51.100.1, 192.0.2.10"),
    )
    .await;
    assert_eq!(forged, 429);
}

#[tokio::test]
async fn without_trusted_proxies_a_forwarding_header_cannot_dodge_the_limit() {
    let app = spawn_app_with(|settings| settings.login_attempts_per_address = 3).await;
    for n in 0..3 {
        let status = login(
            &app,
            &unique_email("a.example"),
            "x-guess",
            Some(&format!("192.0.2.{n}")),
        )
        .await;
        assert_eq!(status, 401);
    }
    let status = login(
        &app,
        &unique_email("a.example"),
        "x-guess",
        Some("192.0.2.99"),
    )
    .await;
    assert_eq!(status, 429, "every header value is the same peer");
}

#[tokio::test]
async fn the_current_password_of_a_password_change_is_throttled_like_a_sign_in() {
    let app = spawn_app_with(|settings| settings.login_attempts_per_account = 4).await;
    let email = unique_email("skyline.be");
    let signed_in = app.signed_up(&email, PASSWORD).await;
    let change = |current: &'static str| {
        let (app, token) = (&app, signed_in.grant.access_token.clone());
        async move {
            app.post_json(
                Some(&token),
                "/api/me/password",
                &json!({"current_password": current, "new_password": "a whole new passphrase"}),
            )
            .await
            .status()
            .as_u16()
        }
    };
    // Wrong guesses here and at the sign-in form count together.
    assert_eq!(login(&app, &email, "wrong one", None).await, 401);
    let statuses = join_all((0..10).map(|_| change("not the password"))).await;
    assert_eq!(count(&statuses, 403), 3, "{statuses:?}");
    assert_eq!(count(&statuses, 429), 7, "{statuses:?}");
    assert_eq!(
        change(PASSWORD).await,
        429,
        "locked, even with the right one"
    );
    assert_eq!(login(&app, &email, PASSWORD, None).await, 429);
}

#[tokio::test]
async fn a_password_reset_lifts_the_account_lock() {
    let app = spawn_app_with(|settings| settings.login_attempts_per_account = 3).await;
    let email = unique_email("skyline.be");
    app.signed_up(&email, PASSWORD).await;
    for _ in 0..3 {
        assert_eq!(login(&app, &email, "wrong", None).await, 401);
    }
    assert_eq!(login(&app, &email, PASSWORD, None).await, 429);

    let asked = app
        .post_json(None, "/api/auth/forgot-password", &json!({"email": email}))
        .await;
    assert_eq!(asked.status(), 202);
    let mail = app
        .mailbox
        .wait_for_message(&email, 2)
        .await
        .expect("the reset mail arrives");
    let token = mail.link_token("/reset-password").expect("a reset link");
    let reset = app
        .post_json(
            None,
            "/api/auth/reset-password",
            &json!({"token": token, "password": "a brand new passphrase"}),
        )
        .await;
    assert_eq!(reset.status(), 200);
    assert_eq!(
        login(&app, &email, "a brand new passphrase", None).await,
        200
    );
}

#[tokio::test]
async fn parallel_sign_ups_from_one_address_stop_at_the_limit_before_hashing() {
    let app = spawn_app_with(|settings| settings.signups_per_address_per_hour = 4).await;
    let responses = join_all((0..12).map(|_| {
        let app = &app;
        async move {
            app.post_json(
                None,
                "/api/auth/signup",
                &json!({"email": unique_email("skyline.be"), "password": PASSWORD}),
            )
            .await
        }
    }))
    .await;
    let statuses: Vec<u16> = responses.iter().map(|r| r.status().as_u16()).collect();
    assert_eq!(count(&statuses, 202), 4, "{statuses:?}");
    assert_eq!(count(&statuses, 429), 8, "{statuses:?}");
    let refused = responses.into_iter().find(|r| r.status() == 429).unwrap();
    let retry_after: i64 = refused.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=3600).contains(&retry_after), "{retry_after}");
    let body: stratus_shared::ApiError = refused.json().await.unwrap();
    assert_eq!(body.code, ErrorCode::TooManyRequests);
}
