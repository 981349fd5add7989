//! Token confusion: every kind of token (a person's access token, a DMS token, session refresh
//! tokens, DMS refresh keys, connect codes, mailed links) presented where another kind is
//! expected, and JWTs forged every way a verifier is known to slip: `alg: none`, asymmetric
//! or other HMAC algorithms, foreign audience or issuer, expiry, `nbf`, missing claims, a
//! payload changed under its old signature, a cut or stretched token, another key.
//!
//! The forgeries sign with the test server's real keys (read from its data directory) where the
//! attack needs them, so each refusal shows the check named in the test, not a bad signature.
//! Covered elsewhere and not repeated here: a person's access token on the gateway WebSocket
//! (`gateway::the_websocket_refuses_missing_forged_and_people_tokens` and
//! `gateway::refused_upgrades_get_the_usual_json_errors_and_no_other_path_serves_a_websocket`),
//! a reused session refresh token ending its session
//! (`auth::refresh_rotates_and_a_reused_token_ends_the_session`,
//! `attacks::sessions::a_reused_refresh_token_voids_the_sessions_access_tokens`) and a DMS refresh
//! key spent twice (`gateway::a_refresh_key_renews_once_and_its_reuse_revokes_the_dms_until_a_new_connect_code`,
//! `gateway::of_concurrent_renewals_with_one_refresh_key_at_most_one_wins`).

use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::Engine;
use hmac_sha256::HMAC;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde_json::{json, Value};
use stratus_backend::secrets::Secrets;
use stratus_shared::api::gateway::DmsCredentials;
use stratus_shared::{ApiError, ErrorCode};

use crate::helpers::{open_gateway, spawn_app, unique_email, SignedIn, TestApp};

const PASSWORD: &str = "correct horse battery staple";

/// A server with a signed-up person who owns an organization with one connected DMS, and the
/// server's signing keys.
struct Scene {
    app: TestApp,
    keys: Secrets,
    person: SignedIn,
    organization: String,
    system: String,
    dms: DmsCredentials,
}

impl Scene {
    async fn new() -> Self {
        let app = spawn_app().await;
        let person = app.signed_up(&unique_email("skyline.be"), PASSWORD).await;
        let organization = app
            .create_organization(&person.grant.access_token, "Acme")
            .await;
        let (system, code) = app
            .create_system(&person.grant.access_token, &organization, "Main DMS")
            .await;
        let dms = app.connect_dms(&code).await;
        let keys = Secrets::load_or_generate(app.data_dir.path(), None, None).unwrap();
        let scene = Self {
            app,
            keys,
            person,
            organization,
            system,
            dms,
        };
        // The forging itself is sound: the real claims re-signed with the real key pass, so
        // every refusal below comes from the one thing each case changes.
        let person = scene.forge(&scene.person_claims(), scene.session_key());
        scene.person_accepted(&person).await;
        let dms = scene.forge(&scene.dms_claims(), scene.gateway_key());
        scene.gateway_accepted(&dms).await;
        scene
    }

    fn session_key(&self) -> &[u8] {
        self.keys.session_key.expose()
    }

    fn gateway_key(&self) -> &[u8] {
        self.keys.gateway_key.expose()
    }

    /// The claims of the person's real access token (with its session id).
    fn person_claims(&self) -> Value {
        payload_of(&self.person.grant.access_token)
    }

    /// The claims of the DMS's real token (with its organization and generation).
    fn dms_claims(&self) -> Value {
        payload_of(&self.dms.token)
    }

    /// `claims` signed HS256 with `key`, with a plain header.
    fn forge(&self, claims: &Value, key: &[u8]) -> String {
        sign_hs256(&json!({"alg": "HS256", "typ": "JWT"}), claims, key)
    }

    async fn person_accepted(&self, token: &str) {
        let response = self.app.get_as(token, "/api/me").await;
        assert_eq!(response.status(), 200, "a well-formed person token passes");
    }

    async fn gateway_accepted(&self, token: &str) {
        assert!(
            open_gateway(&self.app, Some(token)).await.is_ok(),
            "a well-formed DMS token opens the gateway"
        );
    }

    /// `/api/me` answers 401 `unauthorized` with a Bearer challenge.
    async fn person_refused(&self, token: &str, case: &str) {
        let response = self.app.get_as(token, "/api/me").await;
        assert_eq!(response.status(), 401, "{case}");
        assert_eq!(
            response
                .headers()
                .get("www-authenticate")
                .and_then(|value| value.to_str().ok()),
            Some("Bearer"),
            "{case}"
        );
        assert_eq!(error_of(response).await, ErrorCode::Unauthorized, "{case}");
    }

    /// The gateway socket refuses the upgrade with 401, and the plain request to it answers
    /// 401 `invalid_dms_credentials`.
    async fn gateway_refused(&self, token: &str, case: &str) {
        assert_eq!(
            open_gateway(&self.app, Some(token)).await.err(),
            Some(401),
            "{case}"
        );
        let response = self.app.get_as(token, "/api/gateway/ws").await;
        assert_eq!(response.status(), 401, "{case}");
        assert_eq!(
            error_of(response).await,
            ErrorCode::InvalidDmsCredentials,
            "{case}"
        );
    }
}

async fn error_of(response: reqwest::Response) -> ErrorCode {
    response
        .json::<ApiError>()
        .await
        .expect("an error body")
        .code
}

fn encode(part: &Value) -> String {
    URL_SAFE_NO_PAD.encode(part.to_string())
}

fn payload_of(token: &str) -> Value {
    let payload = token.split('.').nth(1).expect("a JWT payload");
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(payload).unwrap()).unwrap()
}

fn sign_hs256(header: &Value, claims: &Value, key: &[u8]) -> String {
    let signing_input = format!("{}.{}", encode(header), encode(claims));
    let signature = URL_SAFE_NO_PAD.encode(HMAC::mac(signing_input.as_bytes(), key));
    format!("{signing_input}.{signature}")
}

fn now() -> i64 {
    chrono::Utc::now().timestamp()
}

/// `claims` with `changes` applied (a `null` removes the claim).
fn with(claims: &Value, changes: Value) -> Value {
    let mut changed = claims.clone();
    for (name, value) in changes.as_object().expect("an object of changes") {
        if value.is_null() {
            changed.as_object_mut().unwrap().remove(name);
        } else {
            changed[name] = value.clone();
        }
    }
    changed
}

async fn gateway_refresh(app: &TestApp, key: &str) -> reqwest::Response {
    app.post_json(None, "/api/gateway/refresh", &json!({ "refresh_key": key }))
        .await
}

#[tokio::test]
async fn a_dms_token_from_a_real_connect_code_is_refused_on_every_person_endpoint() {
    let scene = Scene::new().await;
    let (app, token, system) = (&scene.app, &scene.dms.token, &scene.system);
    let organization = &scene.organization;
    use reqwest::Method;
    let cases = [
        (Method::GET, "/api/me".to_owned(), None),
        (Method::GET, "/api/me/sessions".to_owned(), None),
        (Method::GET, "/api/organizations".to_owned(), None),
        (
            Method::GET,
            format!("/api/organizations/{organization}"),
            None,
        ),
        (
            Method::GET,
            format!("/api/organizations/{organization}/members"),
            None,
        ),
        (Method::GET, "/api/systems".to_owned(), None),
        // Its own record: the DMS token's `sub` is this very id.
        (Method::GET, format!("/api/systems/{system}"), None),
        (Method::GET, "/api/live".to_owned(), None),
        (Method::GET, "/api/projects".to_owned(), None),
        (Method::GET, "/api/staff/accounts".to_owned(), None),
        (
            Method::POST,
            "/api/organizations".to_owned(),
            Some(json!({"name": "Taken over"})),
        ),
        (
            Method::PATCH,
            format!("/api/systems/{system}"),
            Some(json!({"name": "Renamed by its gateway"})),
        ),
        (
            Method::POST,
            format!("/api/systems/{system}/connect-codes"),
            Some(json!({})),
        ),
        (
            Method::POST,
            "/api/me/sessions/revoke-all".to_owned(),
            Some(json!({})),
        ),
        (Method::DELETE, format!("/api/systems/{system}"), None),
    ];
    for (method, path, body) in cases {
        let case = format!("{method} {path}");
        let response = app.send(method, token, &path, body.as_ref()).await;
        assert_eq!(response.status(), 401, "{case}");
        assert_eq!(error_of(response).await, ErrorCode::Unauthorized, "{case}");
    }
    // Nothing it tried took effect: the DMS is still there, named as before, and still
    // connects with the same token.
    let response = app
        .get_as(
            &scene.person.grant.access_token,
            &format!("/api/systems/{system}"),
        )
        .await;
    assert_eq!(response.status(), 200);
    let detail: Value = response.json().await.unwrap();
    assert_eq!(detail["system"]["name"], "Main DMS");
    scene.gateway_accepted(token).await;
}

#[tokio::test]
async fn a_persons_access_and_refresh_tokens_are_refused_as_dms_refresh_keys_and_connect_codes() {
    let scene = Scene::new().await;
    let app = &scene.app;
    let access_token = &scene.person.grant.access_token;
    let refresh_token = &scene.person.refresh_token;

    // A JWT is longer than any DMS secret: refused before any look-up.
    let response = gateway_refresh(app, access_token).await;
    assert_eq!(response.status(), 400);
    assert_eq!(error_of(response).await, ErrorCode::InvalidRequest);
    let response = gateway_refresh(app, refresh_token).await;
    assert_eq!(response.status(), 401);
    assert_eq!(error_of(response).await, ErrorCode::InvalidDmsCredentials);
    // A person's bearer token does not stand in for the key.
    let response = app
        .post_json(
            Some(access_token),
            "/api/gateway/refresh",
            &json!({ "refresh_key": "srk_not-a-key" }),
        )
        .await;
    assert_eq!(response.status(), 401);
    assert_eq!(error_of(response).await, ErrorCode::InvalidDmsCredentials);
    let response = app
        .post_json(
            None,
            "/api/gateway/connect",
            &json!({ "connect_code": refresh_token }),
        )
        .await;
    assert_eq!(response.status(), 401);
    assert_eq!(error_of(response).await, ErrorCode::InvalidConnectCode);

    // None of it spent or revoked anything: the DMS renews, the person refreshes.
    assert_eq!(
        gateway_refresh(app, &scene.dms.refresh_key).await.status(),
        200
    );
    assert_eq!(
        app.post_with_refresh_cookie("/api/auth/refresh", refresh_token)
            .await
            .status(),
        200
    );
}

#[tokio::test]
async fn dms_credentials_refresh_tokens_and_mailed_links_are_refused_as_a_persons_tokens() {
    let scene = Scene::new().await;
    let app = &scene.app;
    let email = scene.person.grant.account.email.clone();
    app.post_json(None, "/api/auth/forgot-password", &json!({"email": email}))
        .await;
    let mail = app.mailbox.wait_for_message(&email, 2).await.unwrap();
    let reset_link = mail.link_token("/reset-password").unwrap();

    for (case, secret) in [
        ("DMS refresh key", scene.dms.refresh_key.as_str()),
        ("DMS token", scene.dms.token.as_str()),
        ("session refresh token", scene.person.refresh_token.as_str()),
        ("mailed link", reset_link.as_str()),
    ] {
        scene
            .person_refused(secret, &format!("{case} as bearer"))
            .await;
        if case.starts_with("DMS") {
            let response = app
                .post_with_refresh_cookie("/api/auth/refresh", secret)
                .await;
            assert_eq!(response.status(), 401, "{case} as refresh cookie");
            assert_eq!(
                error_of(response).await,
                ErrorCode::SessionExpired,
                "{case} as refresh cookie"
            );
        }
    }
    // The person's session and the DMS's credentials are untouched.
    scene
        .person_accepted(&scene.person.grant.access_token)
        .await;
    assert_eq!(
        gateway_refresh(app, &scene.dms.refresh_key).await.status(),
        200
    );
}

#[tokio::test]
async fn each_signing_key_signs_only_its_own_kind_of_token() {
    let scene = Scene::new().await;
    // Whoever learnt one key forges nothing of the other kind, whatever the claims say.
    let person = scene.forge(&scene.person_claims(), scene.gateway_key());
    scene
        .person_refused(&person, "person claims, gateway key")
        .await;
    let dms = scene.forge(&scene.dms_claims(), scene.session_key());
    scene.gateway_refused(&dms, "DMS claims, session key").await;
    // Nor does the audience of the other kind, with the other kind's key.
    let person_as_dms = scene.forge(
        &with(&scene.person_claims(), json!({"aud": "stratus-gateway"})),
        scene.session_key(),
    );
    scene
        .gateway_refused(&person_as_dms, "person token with the gateway audience")
        .await;
    let dms_as_person = scene.forge(
        &with(&scene.dms_claims(), json!({"aud": "stratus-api"})),
        scene.gateway_key(),
    );
    scene
        .person_refused(&dms_as_person, "DMS token with the person audience")
        .await;
}

#[tokio::test]
async fn a_verify_email_link_used_as_a_password_reset_link_is_refused_and_stays_good() {
    let app = spawn_app().await;
    let email = unique_email("skyline.be");
    let response = app
        .post_json(
            None,
            "/api/auth/signup",
            &json!({"email": email, "password": PASSWORD}),
        )
        .await;
    assert_eq!(response.status(), 202);
    let mail = app.mailbox.wait_for_message(&email, 1).await.unwrap();
    let verify_link = mail.link_token("/verify-email").unwrap();

    let response = app
        .post_json(
            None,
            "/api/auth/reset-password",
            &json!({"token": verify_link, "password": "the attacker's new passphrase"}),
        )
        .await;
    assert_eq!(response.status(), 400);
    assert_eq!(error_of(response).await, ErrorCode::LinkInvalid);

    // The password is unchanged and the link still does its own job, once.
    let response = app
        .post_json(
            None,
            "/api/auth/verify-email",
            &json!({"token": verify_link, "password": PASSWORD}),
        )
        .await;
    assert_eq!(response.status(), 200);
    let response = app
        .post_json(
            None,
            "/api/auth/login",
            &json!({"email": email, "password": "the attacker's new passphrase"}),
        )
        .await;
    assert_eq!(response.status(), 401);
}

#[tokio::test]
async fn a_password_reset_link_used_as_a_verify_email_link_is_refused_and_stays_good() {
    let app = spawn_app().await;
    let email = unique_email("skyline.be");
    app.post_json(
        None,
        "/api/auth/signup",
        &json!({"email": email, "password": PASSWORD}),
    )
    .await;
    app.mailbox.wait_for_message(&email, 1).await.unwrap();
    let response = app
        .post_json(None, "/api/auth/forgot-password", &json!({"email": email}))
        .await;
    assert_eq!(response.status(), 202);
    let mail = app.mailbox.wait_for_message(&email, 2).await.unwrap();
    let reset_link = mail.link_token("/reset-password").unwrap();

    // With the right password, even: the purpose alone refuses it, and no session starts.
    let response = app
        .post_json(
            None,
            "/api/auth/verify-email",
            &json!({"token": reset_link, "password": PASSWORD}),
        )
        .await;
    assert_eq!(response.status(), 400);
    assert!(response.headers().get("set-cookie").is_none());
    assert_eq!(error_of(response).await, ErrorCode::LinkInvalid);
    let response = app
        .post_json(
            None,
            "/api/auth/login",
            &json!({"email": email, "password": PASSWORD}),
        )
        .await;
    // Still unverified: refused like a wrong password (which never tells verification apart).
    assert_eq!(response.status(), 401, "the address is still unverified");
    assert_eq!(error_of(response).await, ErrorCode::InvalidCredentials);

    let response = app
        .post_json(
            None,
            "/api/auth/reset-password",
            &json!({"token": reset_link, "password": "a brand new passphrase"}),
        )
        .await;
    assert_eq!(response.status(), 200, "the link still does its own job");
}

#[tokio::test]
async fn alg_none_tokens_are_refused_in_every_spelling_with_or_without_a_signature() {
    let scene = Scene::new().await;
    let person = scene.person_claims();
    let dms = scene.dms_claims();
    let person_signature = scene.person.grant.access_token.rsplit('.').next().unwrap();
    let dms_signature = scene.dms.token.rsplit('.').next().unwrap();
    for alg in ["none", "None", "NONE", "nOnE", ""] {
        let header = json!({"alg": alg, "typ": "JWT"});
        for (shape, person_token, dms_token) in [
            (
                "empty signature",
                format!("{}.{}.", encode(&header), encode(&person)),
                format!("{}.{}.", encode(&header), encode(&dms)),
            ),
            (
                "no signature segment",
                format!("{}.{}", encode(&header), encode(&person)),
                format!("{}.{}", encode(&header), encode(&dms)),
            ),
            (
                "the real signature kept",
                format!("{}.{}.{person_signature}", encode(&header), encode(&person)),
                format!("{}.{}.{dms_signature}", encode(&header), encode(&dms)),
            ),
        ] {
            let case = format!("alg {alg:?}, {shape}");
            scene.person_refused(&person_token, &case).await;
            scene.gateway_refused(&dms_token, &case).await;
        }
    }
    // A header without any `alg` at all.
    let header = json!({"typ": "JWT"});
    scene
        .person_refused(&sign_hs256(&header, &person, scene.session_key()), "no alg")
        .await;
}

#[tokio::test]
async fn rs256_es256_and_other_asymmetric_headers_are_refused_even_signed_with_the_hmac_secret() {
    let scene = Scene::new().await;
    let person = scene.person_claims();
    let dms = scene.dms_claims();
    let garbage = |length: usize| URL_SAFE_NO_PAD.encode(vec![0x5a_u8; length]);
    for alg in ["RS256", "RS512", "PS256", "ES256", "ES384", "EdDSA"] {
        let header = json!({"alg": alg, "typ": "JWT"});
        // The HMAC secret used as if it were the verification key (the classic confusion).
        let case = format!("{alg} signed with the HMAC secret");
        scene
            .person_refused(&sign_hs256(&header, &person, scene.session_key()), &case)
            .await;
        scene
            .gateway_refused(&sign_hs256(&header, &dms, scene.gateway_key()), &case)
            .await;
        // A signature of the right size for the algorithm, but made of nothing.
        let length = match alg {
            "ES256" | "EdDSA" => 64,
            "ES384" => 96,
            _ => 256,
        };
        let case = format!("{alg} with a garbage signature");
        let person_token = format!(
            "{}.{}.{}",
            encode(&header),
            encode(&person),
            garbage(length)
        );
        scene.person_refused(&person_token, &case).await;
        let dms_token = format!("{}.{}.{}", encode(&header), encode(&dms), garbage(length));
        scene.gateway_refused(&dms_token, &case).await;
    }
    // Headers that point the verifier at the attacker's own key are ignored: signed with that
    // key, the token fails like any other foreign signature.
    let attacker_key = b"the attacker's very own signing key, 32+ bytes";
    for extra in [
        json!({"kid": "../../secrets.json"}),
        json!({"jku": "https://attacker.example/jwks.json"}),
        json!({"jwk": {"kty": "oct", "k": URL_SAFE_NO_PAD.encode(attacker_key)}}),
    ] {
        let header = with(&json!({"alg": "HS256", "typ": "JWT"}), extra.clone());
        let case = format!("header {extra}");
        scene
            .person_refused(&sign_hs256(&header, &person, attacker_key), &case)
            .await;
        scene
            .gateway_refused(&sign_hs256(&header, &dms, attacker_key), &case)
            .await;
    }
}

#[tokio::test]
async fn hs384_and_hs512_tokens_signed_with_the_real_secret_are_refused() {
    let scene = Scene::new().await;
    for alg in [Algorithm::HS384, Algorithm::HS512] {
        let case = format!("{alg:?} with the real key");
        let person = jsonwebtoken::encode(
            &Header::new(alg),
            &scene.person_claims(),
            &EncodingKey::from_secret(scene.session_key()),
        )
        .unwrap();
        scene.person_refused(&person, &case).await;
        let dms = jsonwebtoken::encode(
            &Header::new(alg),
            &scene.dms_claims(),
            &EncodingKey::from_secret(scene.gateway_key()),
        )
        .unwrap();
        scene.gateway_refused(&dms, &case).await;
    }
}

#[tokio::test]
async fn tokens_for_another_audience_or_issuer_are_refused() {
    let scene = Scene::new().await;
    let issuer = scene.app.public_url.clone();
    for (case, change) in [
        ("empty audience", json!({"aud": ""})),
        ("foreign audience", json!({"aud": "another-service"})),
        (
            "audience list without ours",
            json!({"aud": ["another-service"]}),
        ),
        ("audience in other case", json!({"aud": "STRATUS-API"})),
        ("foreign issuer", json!({"iss": "https://attacker.example"})),
        (
            "issuer with a trailing slash",
            json!({"iss": format!("{issuer}/")}),
        ),
        (
            "issuer on another port",
            json!({"iss": "http://127.0.0.1:1"}),
        ),
        (
            "issuer list without ours",
            json!({"iss": ["https://attacker.example"]}),
        ),
    ] {
        let person = scene.forge(
            &with(&scene.person_claims(), change.clone()),
            scene.session_key(),
        );
        scene.person_refused(&person, case).await;
        let change = if case.starts_with("audience in") {
            json!({"aud": "STRATUS-GATEWAY"})
        } else {
            change
        };
        let dms = scene.forge(&with(&scene.dms_claims(), change), scene.gateway_key());
        scene.gateway_refused(&dms, case).await;
    }
}

#[tokio::test]
async fn tokens_expired_beyond_the_leeway_are_refused() {
    let scene = Scene::new().await;
    // The leeway is five seconds: six past expiry is refused whatever the timing.
    for (case, exp) in [
        ("just past the leeway", now() - 6),
        ("an hour ago", now() - 3600),
        ("at the epoch", 0),
    ] {
        let person = scene.forge(
            &with(
                &scene.person_claims(),
                json!({"exp": exp, "iat": exp - 900}),
            ),
            scene.session_key(),
        );
        scene.person_refused(&person, case).await;
        let dms = scene.forge(
            &with(&scene.dms_claims(), json!({"exp": exp, "iat": exp - 900})),
            scene.gateway_key(),
        );
        scene.gateway_refused(&dms, case).await;
    }
}

#[tokio::test]
async fn tokens_missing_a_required_claim_or_with_malformed_times_are_refused() {
    let scene = Scene::new().await;
    let far = now() + 3600;
    for (case, change) in [
        // Without `exp` a token would never expire.
        ("no exp", json!({"exp": null})),
        ("no iat", json!({"iat": null})),
        ("no iss", json!({"iss": null})),
        ("no aud", json!({"aud": null})),
        ("no sub", json!({"sub": null})),
        ("no jti", json!({"jti": null})),
        ("exp as text", json!({"exp": far.to_string()})),
        ("negative exp", json!({"exp": -1})),
        ("exp as an object", json!({"exp": {"seconds": far}})),
        ("sub as a number", json!({"sub": 1})),
    ] {
        let person = scene.forge(
            &with(&scene.person_claims(), change.clone()),
            scene.session_key(),
        );
        scene.person_refused(&person, case).await;
        let dms = scene.forge(&with(&scene.dms_claims(), change), scene.gateway_key());
        scene.gateway_refused(&dms, case).await;
    }
    for (case, change) in [
        ("no org", json!({"org": null})),
        ("no gen", json!({"gen": null})),
        ("gen as text", json!({"gen": "0"})),
    ] {
        let dms = scene.forge(&with(&scene.dms_claims(), change), scene.gateway_key());
        scene.gateway_refused(&dms, case).await;
    }
}

#[tokio::test]
async fn tokens_not_yet_valid_are_refused() {
    let scene = Scene::new().await;
    // `nbf` in the past (or within the leeway) is fine; later than that, not yet.
    let person = scene.forge(
        &with(&scene.person_claims(), json!({"nbf": now() - 60})),
        scene.session_key(),
    );
    scene.person_accepted(&person).await;
    let dms = scene.forge(
        &with(&scene.dms_claims(), json!({"nbf": now() - 60})),
        scene.gateway_key(),
    );
    scene.gateway_accepted(&dms).await;

    for (case, nbf) in [
        ("nbf in a minute", now() + 60),
        ("nbf next year", now() + 365 * 24 * 3600),
    ] {
        let person = scene.forge(
            &with(&scene.person_claims(), json!({"nbf": nbf})),
            scene.session_key(),
        );
        scene.person_refused(&person, case).await;
        let dms = scene.forge(
            &with(&scene.dms_claims(), json!({"nbf": nbf})),
            scene.gateway_key(),
        );
        scene.gateway_refused(&dms, case).await;
    }
    let malformed = scene.forge(
        &with(&scene.person_claims(), json!({"nbf": "soon"})),
        scene.session_key(),
    );
    scene.person_refused(&malformed, "nbf as text").await;
}

#[tokio::test]
async fn a_payload_switched_to_another_real_user_or_dms_under_the_old_signature_is_refused() {
    let scene = Scene::new().await;
    let app = &scene.app;
    let (other_user, other_token) = app.create_user(&unique_email("skyline.be")).await;
    let (_, other_code) = app
        .create_system(
            &scene.person.grant.access_token,
            &scene.organization,
            "Second DMS",
        )
        .await;
    let other_dms = app.connect_dms(&other_code).await;
    let me: Value = app
        .get_as(&other_token, "/api/me")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(me["id"], other_user.as_str(), "the other user is real");

    let resigned = |token: &str, claims: &Value| {
        let (header, _) = token.split_once('.').unwrap();
        let signature = token.rsplit('.').next().unwrap();
        format!("{header}.{}.{signature}", encode(claims))
    };
    let person = &scene.person.grant.access_token;
    for (case, change) in [
        ("sub of another real user", json!({"sub": other_user})),
        // Dropping the session id would dodge the check for ended sessions.
        ("sid removed", json!({"sid": null})),
        ("exp a year later", json!({"exp": now() + 365 * 24 * 3600})),
    ] {
        let tampered = resigned(person, &with(&scene.person_claims(), change));
        scene.person_refused(&tampered, case).await;
    }
    let dms = &scene.dms.token;
    for (case, change) in [
        (
            "sub of another real DMS",
            json!({"sub": other_dms.system_id}),
        ),
        ("gen raised", json!({"gen": 1000})),
        ("org changed", json!({"org": "another-organization"})),
    ] {
        let tampered = resigned(dms, &with(&scene.dms_claims(), change));
        scene.gateway_refused(&tampered, case).await;
    }
    // The payload re-encoded with other whitespace is a different payload too.
    let claims = serde_json::to_string_pretty(&scene.person_claims()).unwrap();
    let (header, _) = person.split_once('.').unwrap();
    let signature = person.rsplit('.').next().unwrap();
    let pretty = format!("{header}.{}.{signature}", URL_SAFE_NO_PAD.encode(claims));
    scene
        .person_refused(&pretty, "same claims, other bytes")
        .await;
}

#[tokio::test]
async fn truncated_tokens_and_tokens_with_extra_segments_are_refused() {
    let scene = Scene::new().await;
    for token in [
        scene.person.grant.access_token.clone(),
        scene.dms.token.clone(),
    ] {
        let segments: Vec<&str> = token.split('.').collect();
        let [header, payload, signature] = segments[..] else {
            panic!("a JWT has three segments: {token}");
        };
        let cases = [
            ("signature cut by one", token[..token.len() - 1].to_owned()),
            ("signature cut by four", token[..token.len() - 4].to_owned()),
            ("signature removed", format!("{header}.{payload}.")),
            ("header and payload only", format!("{header}.{payload}")),
            ("header only", header.to_owned()),
            ("cut mid-payload", token[..header.len() + 10].to_owned()),
            ("an empty segment appended", format!("{token}.")),
            ("a segment appended", format!("{token}.{signature}")),
            ("a segment prepended", format!("{header}.{token}")),
            (
                "five segments (JWE shape)",
                format!("{header}.{payload}.{signature}.{payload}.{signature}"),
            ),
            ("padding on the signature", format!("{token}=")),
            (
                "standard base64 payload",
                format!(
                    "{header}.{}.{signature}",
                    STANDARD.encode(URL_SAFE_NO_PAD.decode(payload).unwrap())
                ),
            ),
            ("signature doubled", format!("{token}{signature}")),
        ];
        let is_person = token == scene.person.grant.access_token;
        for (case, forged) in cases {
            if forged == token {
                continue;
            }
            if is_person {
                scene.person_refused(&forged, case).await;
            } else {
                scene.gateway_refused(&forged, case).await;
            }
        }
    }
}

#[tokio::test]
async fn tokens_signed_with_another_secret_are_refused() {
    let scene = Scene::new().await;
    let mut random = [0u8; 64];
    rand::RngCore::fill_bytes(&mut rand::rng(), &mut random);
    let session_text = STANDARD.encode(scene.session_key());
    let gateway_text = STANDARD.encode(scene.gateway_key());
    let mut near = scene.session_key().to_vec();
    near[0] ^= 1;
    for (case, person_key, dms_key) in [
        ("a random key", &random[..], &random[..]),
        ("an empty key", &b""[..], &b""[..]),
        (
            "the key's base64 text, as stored",
            session_text.as_bytes(),
            gateway_text.as_bytes(),
        ),
        ("the key with one bit flipped", &near[..], &near[..]),
        (
            "the key's first half",
            &scene.session_key()[..32],
            &scene.gateway_key()[..32],
        ),
    ] {
        let person = scene.forge(&scene.person_claims(), person_key);
        scene.person_refused(&person, case).await;
        let dms = scene.forge(&scene.dms_claims(), dms_key);
        scene.gateway_refused(&dms, case).await;
    }
}
