//! Journey: platform staff (granted at the command line) open the staff console, link an
//! address that has no account yet to an organization, and see it in the audit log; someone
//! who is not staff is told the console is not for them. Staff also look after every
//! organization's projects in Project Collaboration.

use e2e::account::{sign_in, sign_out, sign_up};
use e2e::portal::{create_organization, create_project};
use e2e::{journey, Browser, Server};
use thirtyfour::prelude::*;

const PASSWORD: &str = "purple stapler orbit";

// Multi-threaded: thirtyfour cleans up its session on a runtime thread when a step fails.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn staff_link_an_address_and_see_it_in_the_audit_log() {
    journey("staff", async |server: &Server, browser: &Browser| {
        let fail = |message: String| WebDriverError::FatalError(message);
        let id = std::process::id();
        let staff_email = format!("staff-{id}@stratus.example");
        let owner_email = format!("owner-{id}@acme.example");
        let newcomer = format!("newcomer-{id}@acme.example");
        sign_up(server, &staff_email, PASSWORD)
            .await
            .map_err(fail)?;
        let owner = sign_up(server, &owner_email, PASSWORD)
            .await
            .map_err(fail)?;
        let organization_id = create_organization(server, &owner, "Acme")
            .await
            .map_err(fail)?;
        create_project(server, &owner, &organization_id, "Headend refresh")
            .await
            .map_err(fail)?;

        // Not staff yet: no link in the header, and the page says so.
        sign_in(browser, server, &owner_email, PASSWORD).await?;
        browser.driver.goto(server.url("/staff")).await?;
        browser
            .wait_for_text("[data-testid=staff-only]", "platform staff only")
            .await?;
        assert!(browser
            .driver
            .find_all(By::Css("[data-testid=staff-link]"))
            .await?
            .is_empty());
        sign_out(browser).await?;

        server
            .run_command(&["staff", "grant", &staff_email])
            .map_err(fail)?;
        sign_in(browser, server, &staff_email, PASSWORD).await?;
        browser.click("[data-testid=staff-link]").await?;
        browser.wait_for_path("/staff").await?;

        browser.fill("#staff-link-email", &newcomer).await?;
        browser
            .click(&format!(
                "#staff-link-organization option[value='{organization_id}']"
            ))
            .await?;
        browser
            .click("[data-testid=staff-link-form] button[type=submit]")
            .await?;
        browser
            .wait_for_text("[data-testid=staff-message]", "no verified account yet")
            .await?;
        browser
            .wait_for_text("[data-testid=staff-audit]", &newcomer)
            .await?;
        browser
            .wait_for_text("[data-testid=staff-audit]", "staff.link_created")
            .await?;
        browser
            .wait_for_text("[data-testid=staff-audit]", &staff_email)
            .await?;

        // The search shows the pending link.
        browser
            .fill("#staff-search", &format!("newcomer-{id}"))
            .await?;
        browser
            .click("section[aria-labelledby=staff-accounts-title] button[type=submit]")
            .await?;
        browser
            .wait_for_text("[data-testid=staff-pending-row]", "Acme")
            .await?;
        browser.save_artifacts("staff-console").await;

        // Project Collaboration: staff belong to no organization, yet may look after every
        // organization's projects.
        browser.driver.goto(server.url("/collaboration")).await?;
        browser
            .wait_for("[data-testid=collaboration-guest]")
            .await?;
        browser.click("[data-testid=every-organization]").await?;
        browser
            .wait_for_text("[data-testid=organization-projects]", "Headend refresh")
            .await?;
        Ok(())
    })
    .await;
}
