//! Accounts for journeys that are not about signing up: made through the API and the mail,
//! and the browser steps every journey shares (sign in, sign out, sign up in the page).

use thirtyfour::prelude::*;

use crate::{Browser, Server};

/// Signs a new account up and verifies it through the mailed link; returns an access token.
pub async fn sign_up(server: &Server, email: &str, password: &str) -> Result<String, String> {
    let client = reqwest::Client::new();
    let signup = serde_json::json!({ "email": email, "password": password });
    client
        .post(server.url("/api/auth/signup"))
        .json(&signup)
        .send()
        .await
        .map_err(|e| e.to_string())?;
    let mail = server.mailbox.wait_for_message(email, 1).await?;
    let token = mail
        .link_token("/verify-email")
        .ok_or("no link in the mail")?;
    let grant: serde_json::Value = client
        .post(server.url("/api/auth/verify-email"))
        .json(&serde_json::json!({ "token": token, "password": password }))
        .send()
        .await
        .map_err(|e| e.to_string())?
        .json()
        .await
        .map_err(|e| e.to_string())?;
    grant["access_token"]
        .as_str()
        .map(str::to_owned)
        .ok_or_else(|| format!("no access token in {grant}"))
}

/// Fills the sign-in form on the current page with `email` and `password` and submits it;
/// waits for nothing, so the caller says where the browser should land.
pub async fn submit_sign_in_form(
    browser: &Browser,
    email: &str,
    password: &str,
) -> WebDriverResult<()> {
    browser.fill("#email", email).await?;
    browser.fill("#password", password).await?;
    browser.click("button[type=submit]").await
}

/// Opens the sign-in page, signs in with `email` and `password`, and waits until the header
/// shows a signed-in account.
pub async fn sign_in(
    browser: &Browser,
    server: &Server,
    email: &str,
    password: &str,
) -> WebDriverResult<()> {
    browser.driver.goto(server.url("/login")).await?;
    submit_sign_in_form(browser, email, password).await?;
    browser
        .wait_for("[data-testid=signed-in-as]")
        .await
        .map(|_| ())
}

/// Signs out with the header's button and waits until the header offers sign-in again.
pub async fn sign_out(browser: &Browser) -> WebDriverResult<()> {
    browser
        .driver
        .find(By::XPath("//button[text()='Sign out']"))
        .await?
        .click()
        .await?;
    browser
        .wait_for_text(".site-header", "Sign in")
        .await
        .map(|_| ())
}

/// Submits the filled sign-up form and waits for the page to say the verification mail is on
/// its way.
pub async fn submit_sign_up_form(browser: &Browser) -> WebDriverResult<()> {
    browser.click("button[type=submit]").await?;
    browser
        .wait_for_text("[data-testid=form-message]", "message is on its way")
        .await
        .map(|_| ())
}

/// The verification link mailed to `email` (the first mail it received).
pub async fn verification_link(server: &Server, email: &str) -> WebDriverResult<String> {
    let mail = server
        .mailbox
        .wait_for_message(email, 1)
        .await
        .map_err(WebDriverError::FatalError)?;
    mail.link("http")
        .ok_or_else(|| WebDriverError::FatalError(format!("no link in the mail to {email}")))
}

/// Signs a new account up in the browser, opens the mailed verification link, sets the
/// password there, and waits until the home page shows the account signed in.
pub async fn sign_up_in_browser(
    browser: &Browser,
    server: &Server,
    email: &str,
    password: &str,
) -> WebDriverResult<()> {
    browser.driver.goto(server.url("/signup")).await?;
    browser.fill("#email", email).await?;
    browser.fill("#password", password).await?;
    submit_sign_up_form(browser).await?;
    let link = verification_link(server, email).await?;
    browser.driver.goto(&link).await?;
    browser.fill("#password", password).await?;
    browser.click("button[type=submit]").await?;
    browser.wait_for_path("/").await?;
    browser
        .wait_for_text("[data-testid=signed-in-as]", email)
        .await
        .map(|_| ())
}
