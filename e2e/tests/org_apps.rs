//! Journey: an Owner creates a project, adds a task, moves it along and shares a dashboard of
//! the organization's DMS, all in the browser; a Member then sees all of it, read only.

use e2e::account::{sign_in, sign_out, sign_up};
use e2e::portal::{add_member, create_organization, register_dms};
use e2e::{journey, Browser, Server};
use thirtyfour::components::SelectElement;
use thirtyfour::prelude::*;

const PASSWORD: &str = "purple stapler orbit";

// Multi-threaded: thirtyfour cleans up its session on a runtime thread when a step fails.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_owner_plans_and_shares_and_a_member_reads() {
    journey("org_apps", async |server: &Server, browser: &Browser| {
        let fail = |message: String| WebDriverError::FatalError(message);
        let driver = &browser.driver;
        let id = std::process::id();
        let owner_email = format!("owner-{id}@acme.example");
        let member_email = format!("member-{id}@acme.example");
        let owner = sign_up(server, &owner_email, PASSWORD)
            .await
            .map_err(fail)?;
        let member = sign_up(server, &member_email, PASSWORD)
            .await
            .map_err(fail)?;
        let organization = create_organization(server, &owner, "Acme")
            .await
            .map_err(fail)?;
        register_dms(server, &owner, &organization, "Acme main DMS")
            .await
            .map_err(fail)?;
        add_member(
            server,
            &owner,
            &organization,
            &member_email,
            "member",
            &member,
        )
        .await
        .map_err(fail)?;

        // The Owner creates a project and a task, and starts the task.
        sign_in(browser, server, &owner_email, PASSWORD).await?;
        driver.goto(server.url("/collaboration")).await?;
        browser
            .fill(
                "[data-testid=new-project] input[id^=new-project-name]",
                "Stadium upgrade",
            )
            .await?;
        browser
            .click("[data-testid=new-project] button[type=submit]")
            .await?;
        browser
            .wait_for_text("[data-testid=project]", "Stadium upgrade")
            .await?;
        browser
            .wait_for_text("[data-testid=project] .badge", "Planned")
            .await?;
        browser
            .fill(
                "[data-testid=project] input[id^=new-task]",
                "Order the cameras",
            )
            .await?;
        browser
            .click("[data-testid=project] form.inline-form button[type=submit]")
            .await?;
        browser
            .wait_for_text("[data-testid=task]", "Order the cameras")
            .await?;
        let status =
            SelectElement::new(&browser.wait_for("[data-testid=task] select").await?).await?;
        status.select_by_value("in_progress").await?;
        browser
            .wait_for_text("[data-testid=app-message]", "Task updated")
            .await?;

        // ... and shares a dashboard of the DMS.
        driver.goto(server.url("/sharing")).await?;
        browser
            .fill(
                "[data-testid=share-dashboard] input[id^=share-name]",
                "Stadium feed",
            )
            .await?;
        browser
            .fill(
                "[data-testid=share-dashboard] input[id^=share-with]",
                "Everyone at Acme",
            )
            .await?;
        browser
            .click("[data-testid=share-dashboard] button[type=submit]")
            .await?;
        let row = browser
            .wait_for_text("[data-testid=shared-dashboard]", "Stadium feed")
            .await?;
        assert!(row.text().await?.contains("Acme main DMS"));
        sign_out(browser).await?;

        // The Member sees it all, without the means to change it.
        sign_in(browser, server, &member_email, PASSWORD).await?;
        driver.goto(server.url("/collaboration")).await?;
        browser
            .wait_for_text("[data-testid=project]", "Stadium upgrade")
            .await?;
        browser
            .wait_for_text("[data-testid=task]", "In progress")
            .await?;
        assert!(driver
            .find_all(By::Css("[data-testid=new-project]"))
            .await?
            .is_empty());
        assert!(driver
            .find_all(By::Css("[data-testid=task] select"))
            .await?
            .is_empty());
        assert!(driver.find_all(By::Css(".edit-project")).await?.is_empty());
        browser.save_artifacts("collaboration-member").await;
        driver.goto(server.url("/sharing")).await?;
        browser
            .wait_for_text("[data-testid=shared-dashboard]", "Everyone at Acme")
            .await?;
        assert!(driver
            .find_all(By::Css("[data-testid=share-dashboard]"))
            .await?
            .is_empty());
        assert!(driver
            .find_all(By::XPath("//button[text()='Stop sharing']"))
            .await?
            .is_empty());

        let errors = browser.console_errors().await;
        assert!(errors.is_empty(), "browser console errors: {errors:#?}");
        Ok(())
    })
    .await;
}
