//! Journey: an organization has a DMS and a project; a guest (an account linked to no
//! organization) signs up, finds the Community open to them, sees Project Collaboration
//! explain why it is empty without showing the organization's project, and sees none of the
//! organization's DMSs. Then the public Catalog filters by category.

use e2e::account::{sign_up, sign_up_in_browser};
use e2e::portal::{create_organization, create_project, register_dms};
use e2e::{journey, Browser, Server};
use thirtyfour::components::SelectElement;
use thirtyfour::prelude::*;

const PASSWORD: &str = "purple stapler orbit";
const PROJECT: &str = "Apollo headend rollout";
const DMS: &str = "Acme main DMS";

async fn page_text(browser: &Browser) -> WebDriverResult<String> {
    browser.driver.find(By::Css("main")).await?.text().await
}

// Multi-threaded: thirtyfour cleans up its session on a runtime thread when a step fails.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_guest_sees_open_apps_but_no_organization_data() {
    journey("guest", async |server: &Server, browser: &Browser| {
        let fail = |message: String| WebDriverError::FatalError(message);
        let driver = &browser.driver;
        let id = std::process::id();
        let owner = sign_up(server, &format!("owner-{id}@acme.example"), PASSWORD)
            .await
            .map_err(fail)?;
        let organization = create_organization(server, &owner, "Acme")
            .await
            .map_err(fail)?;
        register_dms(server, &owner, &organization, DMS)
            .await
            .map_err(fail)?;
        create_project(server, &owner, &organization, PROJECT)
            .await
            .map_err(fail)?;

        // A guest signs up in the browser and is signed in once the address is verified.
        let guest = format!("guest-{id}@example.org");
        sign_up_in_browser(browser, server, &guest, PASSWORD).await?;

        // The home page shows no DMS of the organization.
        browser
            .wait_for_text(".empty-state", "No DataMiner System")
            .await?;
        assert!(driver
            .find_all(By::Css("[data-testid=system-row]"))
            .await?
            .is_empty());
        assert!(!page_text(browser).await?.contains(DMS));

        // Community is open to guests: the welcome and the community's links.
        driver.goto(server.url("/community")).await?;
        browser
            .wait_for_text(
                "[data-testid=community-welcome]",
                "Welcome to the DataMiner community",
            )
            .await?;
        browser
            .wait_for_text("[data-testid=community-link]", "DataMiner Dojo")
            .await?;
        let links = driver
            .find_all(By::Css("[data-testid=community-link] a"))
            .await?;
        assert!(links.len() >= 5, "{} community links", links.len());

        // Collaboration explains itself and shows nothing of the organization's.
        driver.goto(server.url("/collaboration")).await?;
        browser
            .wait_for_text(
                "[data-testid=collaboration-guest]",
                "once your account is linked to an organization",
            )
            .await?;
        browser
            .wait_for_text("[data-testid=collaboration-guest]", "Skyline")
            .await?;
        let text = page_text(browser).await?;
        assert!(
            !text.contains(PROJECT),
            "the guest sees the project: {text}"
        );
        assert!(driver
            .find_all(By::Css("[data-testid=project]"))
            .await?
            .is_empty());

        // The Catalog filters by category, and the URL keeps the choice.
        driver
            .goto(server.url("/catalog?category=Satellite"))
            .await?;
        browser.wait_for("[data-testid=catalog-item]").await?;
        let satellite = driver
            .find_all(By::Css("[data-testid=catalog-item]"))
            .await?;
        assert!(!satellite.is_empty());
        for item in &satellite {
            assert_eq!(
                item.attr("data-category").await?.as_deref(),
                Some("Satellite")
            );
        }
        let select = SelectElement::new(&browser.wait_for("#catalog-category").await?).await?;
        select.select_by_value("Cloud").await?;
        browser
            .wait_for_text("[data-testid=catalog-item]", "AWS Elemental MediaLive")
            .await?;
        let cloud = driver
            .find_all(By::Css("[data-testid=catalog-item]"))
            .await?;
        for item in &cloud {
            assert_eq!(item.attr("data-category").await?.as_deref(), Some("Cloud"));
        }
        let url = driver.current_url().await?;
        assert_eq!(url.query(), Some("category=Cloud"), "{url}");
        browser.save_artifacts("catalog-cloud").await;
        browser
            .wait_for_text(
                "[data-testid=catalog-count]",
                &format!("{} items", cloud.len()),
            )
            .await?;

        let errors = browser.console_errors().await;
        assert!(errors.is_empty(), "browser console errors: {errors:#?}");
        Ok(())
    })
    .await;
}
