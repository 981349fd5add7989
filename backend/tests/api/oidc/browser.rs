//! A browser for the provider sign-in tests: its own cookies for Stratus and the provider, no
//! automatic redirects, and the URL helpers the tests read redirects with.

use stratus_shared::api::auth::{SessionGrant, CLIENT_HEADER};
use stratus_shared::api::oidc::LinkedIdentity;

use crate::helpers::{TestApp, TEST_PROVIDER};

/// One browser: its own cookies for Stratus and the provider, no automatic redirects.
pub(super) struct Browser {
    pub(super) client: reqwest::Client,
}

impl Browser {
    pub(super) fn new() -> Self {
        Self {
            client: reqwest::Client::builder()
                .cookie_store(true)
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .expect("http client"),
        }
    }

    pub(super) async fn get(&self, url: &str) -> reqwest::Response {
        self.client.get(url).send().await.expect("an answer")
    }

    /// Starts a sign-in at Stratus; returns the provider's authorization URL.
    pub(super) async fn start(&self, app: &TestApp) -> String {
        let response = self
            .get(&format!(
                "{}/api/auth/oidc/{TEST_PROVIDER}/start",
                app.address
            ))
            .await;
        assert_eq!(response.status(), 303);
        location(&response)
    }

    /// At the provider: follows redirects to its interaction page, submits `form` there, and
    /// follows on until the provider sends the browser back to Stratus. Returns that URL.
    pub(super) async fn at_provider(
        &self,
        app: &TestApp,
        authorization_url: &str,
        form: &[(&str, &str)],
    ) -> String {
        let mut url = authorization_url.to_owned();
        let mut submitted = false;
        for _ in 0..10 {
            if url.starts_with(&app.address) {
                return url;
            }
            let response = if url.contains("/interaction/") && !submitted {
                let page = self.get(&url).await;
                assert_eq!(page.status(), 200, "the interaction page");
                submitted = true;
                self.client
                    .post(&url)
                    .form(form)
                    .send()
                    .await
                    .expect("an answer")
            } else {
                self.get(&url).await
            };
            assert!(
                response.status().is_redirection(),
                "{url} answered {}: {}",
                response.status(),
                response.text().await.unwrap_or_default()
            );
            url = absolute(&url, &location(&response));
        }
        panic!("the provider never sent the browser back");
    }

    /// Signs in at the provider as `login`; returns the callback URL (code and state).
    pub(super) async fn callback_url(&self, app: &TestApp, login: &str) -> String {
        let authorization_url = self.start(app).await;
        self.at_provider(app, &authorization_url, &[("login", login)])
            .await
    }

    /// Opens the callback; returns where Stratus sends the browser next.
    pub(super) async fn land(&self, callback_url: &str) -> String {
        let response = self.get(callback_url).await;
        assert_eq!(response.status(), 303, "the callback redirects");
        let target = location(&response);
        assert!(
            !target.contains("code="),
            "no secrets in the next URL: {target}"
        );
        target
    }

    /// What the web app does on `/login/complete`: restore the session from the cookie.
    pub(super) async fn refresh(&self, app: &TestApp) -> reqwest::Response {
        self.client
            .post(format!("{}/api/auth/refresh", app.address))
            .header(CLIENT_HEADER, "web")
            .send()
            .await
            .expect("an answer")
    }

    pub(super) async fn session(&self, app: &TestApp) -> SessionGrant {
        let response = self.refresh(app).await;
        assert_eq!(
            response.status(),
            200,
            "a session after the provider sign-in"
        );
        response.json().await.expect("a session grant")
    }

    /// The whole sign-in as `login`; returns where it ended.
    pub(super) async fn sign_in(&self, app: &TestApp, login: &str) -> String {
        let callback = self.callback_url(app, login).await;
        self.land(&callback).await
    }
}

pub(super) fn location(response: &reqwest::Response) -> String {
    response.headers()["location"]
        .to_str()
        .expect("a location")
        .to_owned()
}

fn absolute(base: &str, location: &str) -> String {
    if location.starts_with("http") {
        return location.to_owned();
    }
    let origin: String = base.splitn(4, '/').take(3).collect::<Vec<_>>().join("/");
    format!("{origin}{location}")
}

pub(super) fn query_param(url: &str, name: &str) -> Option<String> {
    let query = url.split_once('?')?.1;
    query.split('&').find_map(|pair| {
        let (key, value) = pair.split_once('=')?;
        (key == name).then(|| value.to_owned())
    })
}

pub(super) fn with_param(url: &str, name: &str, value: &str) -> String {
    let (base, query) = url.split_once('?').expect("a query");
    let query: Vec<String> = query
        .split('&')
        .map(|pair| match pair.split_once('=') {
            Some((key, _)) if key == name => format!("{key}={value}"),
            _ => pair.to_owned(),
        })
        .collect();
    format!("{base}?{}", query.join("&"))
}

pub(super) async fn identities(app: &TestApp, access_token: &str) -> Vec<LinkedIdentity> {
    let response = app.get_as(access_token, "/api/me/identities").await;
    assert_eq!(response.status(), 200);
    response.json().await.expect("identities")
}

pub(super) fn error_page(reason: &str) -> String {
    format!("/login/error?reason={reason}&provider={TEST_PROVIDER}")
}
