//! Journey: a new user signs up, verifies the address from the mail (real SMTP server), is
//! signed in, stays signed in across a reload, and signs out.

use e2e::account::{sign_out, submit_sign_in_form, submit_sign_up_form, verification_link};
use e2e::{journey, Browser, Server};

const PASSWORD: &str = "purple stapler orbit";

// Multi-threaded: thirtyfour cleans up its session on a runtime thread when a step fails.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sign_up_verify_reload_and_sign_out() {
    journey("account", async |server: &Server, browser: &Browser| {
        let driver = &browser.driver;
        let email = format!("e2e-{}@skyline.be", std::process::id());

        // Sign up, with inline validation first.
        driver.goto(server.url("/signup")).await?;
        browser.fill("#email", &email).await?;
        browser.fill("#password", "short").await?;
        browser.click("button[type=submit]").await?;
        browser.wait_for_text("#password-error", "at least 10").await?;
        browser.fill("#password", PASSWORD).await?;
        submit_sign_up_form(browser).await?;

        // The mail arrives; its link (token in the fragment) opens the verification page.
        let link = verification_link(server, &email).await?;
        assert!(link.starts_with(&server.base_url), "{link}");
        driver.goto(&link).await?;
        browser.wait_for_text("h1", "Verify your email").await?;
        let address_bar = driver.current_url().await?;
        assert!(address_bar.fragment().is_none(), "the token left the address bar: {address_bar}");
        browser.fill("#password", PASSWORD).await?;
        browser.click("button[type=submit]").await?;

        // Signed in: the header shows the account, the home page says guests need a link.
        browser.wait_for_path("/").await?;
        browser.wait_for_text("[data-testid=signed-in-as]", &email).await?;
        browser.wait_for_text(".app-tile-note", "linked to your organization").await?;

        // A reload keeps the session (refresh cookie), without the token in any storage.
        driver.refresh().await?;
        browser.wait_for_text("[data-testid=signed-in-as]", &email).await?;
        let stored: serde_json::Value = driver
            .execute("return JSON.stringify(localStorage) + JSON.stringify(sessionStorage) + document.cookie;", vec![])
            .await?
            .json()
            .clone();
        let stored = stored.as_str().unwrap_or_default().to_owned();
        assert!(!stored.contains("ey"), "no token in web storage or readable cookies: {stored}");

        // The account page shows who is signed in.
        driver.goto(server.url("/account")).await?;
        browser.wait_for_text("[data-testid=account-email]", &email).await?;
        browser.wait_for_text("[data-testid=account-kind]", "Guest").await?;

        // Sign out: the header offers sign-in again, and a reload does not bring the session back.
        sign_out(browser).await?;
        driver.refresh().await?;
        browser.wait_for_text(".site-header", "Create account").await?;

        // A protected page sends a signed-out visitor to sign in, and back after.
        driver.goto(server.url("/account")).await?;
        browser.wait_for_path("/login").await?;
        submit_sign_in_form(browser, &email, PASSWORD).await?;
        browser.wait_for_path("/account").await?;
        browser.wait_for_text("[data-testid=account-email]", &email).await?;

        let errors = browser.console_errors().await;
        assert!(errors.is_empty(), "browser console errors: {errors:#?}");
        Ok(())
    })
    .await;
}
