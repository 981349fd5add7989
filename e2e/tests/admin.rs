//! Journeys of the Admin app: an Owner invites a colleague, who accepts on the home page and
//! then sees the organization's DMS; an Owner with two organizations picks one in the header and switches
//! its remote access off, which forces every DMS's switch off and lands in the audit log.

use e2e::account::{sign_in, sign_out, sign_up};
use e2e::portal::{create_organization, register_dms};
use e2e::{journey, Browser, Server};
use thirtyfour::prelude::*;

const PASSWORD: &str = "purple stapler orbit";

// Multi-threaded: thirtyfour cleans up its session on a runtime thread when a step fails.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_owner_invites_a_colleague_who_accepts_and_then_sees_the_dms() {
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
        sign_in(browser, server, &colleague_email, PASSWORD).await?;
        browser
            .wait_for_text(".empty-state", "No DataMiner System")
            .await?;
        sign_out(browser).await?;

        // The Owner invites the colleague in the Admin app: nobody joins without consent.
        sign_in(browser, server, &owner_email, PASSWORD).await?;
        browser.driver.goto(server.url("/admin")).await?;
        browser.fill("#add-user-email", &colleague_email).await?;
        browser.click(".inline-form button[type=submit]").await?;
        browser
            .wait_for_text(
                "[data-testid=admin-message]",
                "They join once they accept it",
            )
            .await?;
        browser
            .wait_for_text("[data-testid=invitation-row]", &colleague_email)
            .await?;
        sign_out(browser).await?;

        // The colleague finds the invitation on the home page and accepts it; the DMS then
        // shows without a reload.
        sign_in(browser, server, &colleague_email, PASSWORD).await?;
        browser
            .wait_for_text(
                "[data-testid=pending-invitation]",
                "Acme invites you as Member",
            )
            .await?;
        browser
            .click("[data-testid=pending-invitation] button:not(.button-quiet)")
            .await?;
        browser
            .wait_for_text(
                "[data-testid=invitation-message]",
                "You are now a member of Acme",
            )
            .await?;
        browser
            .wait_for_text("[data-testid=system-row]", "Acme main DMS")
            .await?;
        Ok(())
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_owner_switches_remote_access_off_for_the_organization_and_every_dms_follows() {
    journey(
        "admin-settings",
        async |server: &Server, browser: &Browser| {
            let fail = |message: String| WebDriverError::FatalError(message);
            let owner_email = format!("settings-{}@acme.example", std::process::id());
            let owner = sign_up(server, &owner_email, PASSWORD)
                .await
                .map_err(fail)?;
            let acme = create_organization(server, &owner, "Acme")
                .await
                .map_err(fail)?;
            register_dms(server, &owner, &acme, "Core DMS")
                .await
                .map_err(fail)?;
            let beta = create_organization(server, &owner, "Beta")
                .await
                .map_err(fail)?;

            // Two organizations: the header offers a choice, and the Admin app follows it.
            sign_in(browser, server, &owner_email, PASSWORD).await?;
            browser.driver.goto(server.url("/admin")).await?;
            browser
                .wait_for_text("[data-testid=admin-title]", "Acme")
                .await?;
            browser
                .click(&format!(
                    "[data-testid=organization-selector] option[value='{beta}']"
                ))
                .await?;
            browser
                .wait_for_text("[data-testid=admin-title]", "Beta")
                .await?;
            browser
                .click(&format!(
                    "[data-testid=organization-selector] option[value='{acme}']"
                ))
                .await?;
            browser
                .wait_for_text("[data-testid=admin-title]", "Acme")
                .await?;

            // Settings: remote access off for the whole organization.
            browser.click("[data-testid=tab-settings]").await?;
            browser
                .click("[data-testid=organization-remote-access]")
                .await?;
            browser
                .click("[data-testid=organization-settings] button[type=submit]")
                .await?;
            browser
                .wait_for_text("[data-testid=admin-message]", "Saved")
                .await?;

            // The DMS's own switch shows as forced off and cannot be used.
            browser.click("[data-testid=tab-systems]").await?;
            browser.click("[data-testid=admin-system]").await?;
            browser
                .wait_for_text("[data-testid=system-remote-access-forced]", "Forced off")
                .await?;
            let switch = browser
                .wait_for("[data-testid=system-remote-access]")
                .await?;
            if switch.is_enabled().await? || switch.is_selected().await? {
                return Err(fail("the DMS switch is not forced off".into()));
            }
            browser.save_artifacts("admin-systems").await;

            // And the change is in the audit log.
            browser.click("[data-testid=tab-audit-log]").await?;
            browser
                .wait_for_text("[data-testid=audit-row]", "Switched remote access off")
                .await?;
            Ok(())
        },
    )
    .await;
}
