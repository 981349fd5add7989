//! Ending a session ends everything it holds at once: its access tokens (valid JWTs for up to
//! 15 minutes more) and the live streams they opened, on every way a session ends, and still
//! after a restart.

use serde_json::json;
use stratus_shared::api::auth::SessionSummary;

use crate::helpers::{restart, spawn_app, unique_email, SignedIn, SseReader, TestApp};

const PASSWORD: &str = "correct horse battery staple";

async fn sign_in(app: &TestApp, email: &str, password: &str) -> SignedIn {
    let response = app
        .post_json(
            None,
            "/api/auth/login",
            &json!({"email": email, "password": password}),
        )
        .await;
    assert_eq!(response.status(), 200);
    SignedIn::from_response(response).await
}

async fn me_status(app: &TestApp, token: &str) -> u16 {
    app.get_as(token, "/api/me").await.status().as_u16()
}

/// Two sessions of one account, each with its live stream open.
async fn two_sessions(app: &TestApp) -> (String, SignedIn, SignedIn, SseReader, SseReader) {
    let email = unique_email("skyline.be");
    let first = app.signed_up(&email, PASSWORD).await;
    let second = sign_in(app, &email, PASSWORD).await;
    let mut first_stream = SseReader::open(app, &first.grant.access_token, None).await;
    let mut second_stream = SseReader::open(app, &second.grant.access_token, None).await;
    assert_eq!(first_stream.next().await.event, "snapshot");
    assert_eq!(second_stream.next().await.event, "snapshot");
    (email, first, second, first_stream, second_stream)
}

#[tokio::test]
async fn signing_out_everywhere_voids_every_access_token_and_closes_every_stream() {
    let app = spawn_app().await;
    let (_, first, second, mut first_stream, mut second_stream) = two_sessions(&app).await;
    let response = app
        .post_json(
            Some(&first.grant.access_token),
            "/api/me/sessions/revoke-all",
            &json!({}),
        )
        .await;
    assert_eq!(response.status(), 204);
    assert_eq!(me_status(&app, &first.grant.access_token).await, 401);
    assert_eq!(me_status(&app, &second.grant.access_token).await, 401);
    first_stream.ended().await;
    second_stream.ended().await;
    let reopened = app
        .client
        .get(format!("{}/api/live", app.address))
        .bearer_auth(&second.grant.access_token)
        .send()
        .await
        .unwrap();
    assert_eq!(
        reopened.status(),
        401,
        "a stream cannot be reopened with it"
    );
}

#[tokio::test]
async fn a_revoked_session_loses_its_token_and_stream_while_the_others_go_on() {
    let app = spawn_app().await;
    let (_, first, second, _first_stream, mut second_stream) = two_sessions(&app).await;
    let sessions: Vec<SessionSummary> = app
        .read_as(&first.grant.access_token, "/api/me/sessions")
        .await;
    let other = sessions.iter().find(|s| !s.current).unwrap();
    let response = app
        .delete_as(
            &first.grant.access_token,
            &format!("/api/me/sessions/{}", other.id),
        )
        .await;
    assert_eq!(response.status(), 204);
    assert_eq!(me_status(&app, &second.grant.access_token).await, 401);
    second_stream.ended().await;
    assert_eq!(me_status(&app, &first.grant.access_token).await, 200);
}

#[tokio::test]
async fn signing_out_voids_that_sessions_access_token() {
    let app = spawn_app().await;
    let (_, first, second, mut first_stream, _) = two_sessions(&app).await;
    let response = app
        .post_with_refresh_cookie("/api/auth/logout", &first.refresh_token)
        .await;
    assert_eq!(response.status(), 204);
    assert_eq!(me_status(&app, &first.grant.access_token).await, 401);
    first_stream.ended().await;
    assert_eq!(me_status(&app, &second.grant.access_token).await, 200);
}

#[tokio::test]
async fn changing_the_password_voids_the_other_sessions_tokens_but_not_this_one() {
    let app = spawn_app().await;
    let (_, first, second, _, mut second_stream) = two_sessions(&app).await;
    let response = app
        .post_json(
            Some(&first.grant.access_token),
            "/api/me/password",
            &json!({"current_password": PASSWORD, "new_password": "a whole new passphrase"}),
        )
        .await;
    assert_eq!(response.status(), 204);
    assert_eq!(me_status(&app, &second.grant.access_token).await, 401);
    second_stream.ended().await;
    assert_eq!(me_status(&app, &first.grant.access_token).await, 200);
}

#[tokio::test]
async fn a_password_reset_voids_every_access_token() {
    let app = spawn_app().await;
    let (email, first, second, mut first_stream, _) = two_sessions(&app).await;
    app.post_json(None, "/api/auth/forgot-password", &json!({"email": email}))
        .await;
    let mail = app.mailbox.wait_for_message(&email, 2).await.unwrap();
    let token = mail.link_token("/reset-password").unwrap();
    let response = app
        .post_json(
            None,
            "/api/auth/reset-password",
            &json!({"token": token, "password": "a brand new passphrase"}),
        )
        .await;
    assert_eq!(response.status(), 200);
    assert_eq!(me_status(&app, &first.grant.access_token).await, 401);
    assert_eq!(me_status(&app, &second.grant.access_token).await, 401);
    first_stream.ended().await;
}

#[tokio::test]
async fn a_reused_refresh_token_voids_the_sessions_access_tokens() {
    let app = spawn_app().await;
    let email = unique_email("skyline.be");
    let victim = app.signed_up(&email, PASSWORD).await;
    // The legitimate client refreshes; a thief replays the old refresh token.
    let rotated = app
        .post_with_refresh_cookie("/api/auth/refresh", &victim.refresh_token)
        .await;
    assert_eq!(rotated.status(), 200);
    let current = SignedIn::from_response(rotated).await;
    let replay = app
        .post_with_refresh_cookie("/api/auth/refresh", &victim.refresh_token)
        .await;
    assert_eq!(replay.status(), 401);
    assert_eq!(me_status(&app, &victim.grant.access_token).await, 401);
    assert_eq!(me_status(&app, &current.grant.access_token).await, 401);
}

#[tokio::test]
async fn ended_sessions_stay_void_after_a_restart() {
    let app = spawn_app().await;
    let email = unique_email("skyline.be");
    let signed_in = app.signed_up(&email, PASSWORD).await;
    let response = app
        .post_json(
            Some(&signed_in.grant.access_token),
            "/api/me/sessions/revoke-all",
            &json!({}),
        )
        .await;
    assert_eq!(response.status(), 204);
    let app = restart(app).await;
    assert_eq!(me_status(&app, &signed_in.grant.access_token).await, 401);
}

#[tokio::test]
async fn signing_in_in_a_loop_keeps_the_account_at_its_session_limit_and_ends_the_oldest() {
    let app = crate::helpers::spawn_app_with(|settings| settings.sessions_per_account = 3).await;
    let email = unique_email("skyline.be");
    let first = app.signed_up(&email, PASSWORD).await;
    let mut first_stream = SseReader::open(&app, &first.grant.access_token, None).await;
    assert_eq!(first_stream.next().await.event, "snapshot");
    let mut later = Vec::new();
    for _ in 0..4 {
        later.push(sign_in(&app, &email, PASSWORD).await);
    }

    let newest = later.last().expect("signed in");
    let sessions: Vec<SessionSummary> = app
        .read_as(&newest.grant.access_token, "/api/me/sessions")
        .await;
    assert_eq!(sessions.len(), 3, "five sign-ins, three sessions kept");
    // The two least recently used ended as any revoked session does: tokens, refresh
    // cookies and streams.
    for ended in [&first, &later[0]] {
        assert_eq!(me_status(&app, &ended.grant.access_token).await, 401);
        let refreshed = app
            .post_with_refresh_cookie("/api/auth/refresh", &ended.refresh_token)
            .await;
        assert_eq!(refreshed.status(), 401);
    }
    first_stream.ended().await;
    for kept in &later[1..] {
        assert_eq!(me_status(&app, &kept.grant.access_token).await, 200);
    }
}
