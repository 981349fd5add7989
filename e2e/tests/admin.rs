//! Journey: an Owner adds a colleague in the Admin app; the colleague signs in and sees the
//! organization's DMS.

use e2e::account::sign_up;
use e2e::portal::{create_organization, register_dms};
use e2e::{journey, Browser, Server};
use thirtyfour::prelude::*;

const PASSWORD: &str = "purple stapler orbit";

async fn sign_in(browser: &Browser, server: &Server, email: &str) -> WebDriverResult<()> {
    browser.driver.goto(server.url("/login")).await?;
    browser.fill("#email", email).await?;
    browser.fill("#password", PASSWORD).await?;
    browser.click("button[type=submit]").await?;
    browser
        .wait_for("[data-testid=signed-in-as]")
        .await
        .map(|_| ())
}

// Multi-threaded: thirtyfour cleans up its session on a runtime thread when a step fails.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_owner_adds_a_colleague_who_then_sees_the_dms() {
    journey("admin", async |server: &Server, browser: &Browser| {
        let fail = |message: String| WebDriverError::FatalError(message);
        let id = std::process::id();
        let owner_email = format!("owner-{id}@acme.example");
        let colleague_email = format!("colleague-{id}@acme.example");
        let owner = sign_up(server, &owner_email, PASSWORD)
            .await
            .map_err(fail)?;
        sign_up(server, &colleague_email, PASSWORD)
            .await
            .map_err(fail)?;
        let organization_id = create_organization(server, &owner, "Acme")
            .await
            .map_err(fail)?;
        register_dms(server, &owner, &organization_id, "Acme main DMS")
            .await
            .map_err(fail)?;

        // The colleague is a guest: no organization data yet.
        sign_in(browser, server, &colleague_email).await?;
        browser
            .wait_for_text(".empty-state", "No DataMiner System")
            .await?;
        browser.click("button.button-quiet").await?; // Sign out
        browser.wait_for_text(".site-header", "Sign in").await?;

        // The Owner adds the colleague in the Admin app.
        sign_in(browser, server, &owner_email).await?;
        browser.driver.goto(server.url("/admin")).await?;
        browser.fill("#add-user-email", &colleague_email).await?;
        browser.click(".inline-form button[type=submit]").await?;
        browser
            .wait_for_text(
                "[data-testid=admin-message]",
                "now belongs to the organization",
            )
            .await?;
        browser
            .wait_for_text("[data-testid=member-row]", &colleague_email)
            .await?;
        browser.click("button.button-quiet").await?; // Sign out
        browser.wait_for_text(".site-header", "Sign in").await?;

        // The colleague now sees the organization's DMS.
        sign_in(browser, server, &colleague_email).await?;
        browser
            .wait_for_text("[data-testid=system-row]", "Acme main DMS")
            .await?;
        Ok(())
    })
    .await;
}
