//! Journey: someone opens Stratus, sees the apps and the service status, follows an app tile,
//! and lands on the 404 page for a mistyped address.

use e2e::{journey, Browser, Server};
use thirtyfour::prelude::*;

const APP_TITLES: [&str; 5] = [
    "Project Collaboration",
    "DataMiner Catalog",
    "DataMiner Sharing",
    "DataMiner Community",
    "Admin",
];

// Multi-threaded: thirtyfour cleans up its session on a runtime thread when a step fails.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn home_shows_apps_and_health_then_routes_and_404() {
    journey("home", async |server: &Server, browser: &Browser| {
        let driver = &browser.driver;
        driver.goto(server.url("/")).await?;

        browser
            .wait_for_text("[data-testid=health]", "Service online")
            .await?;
        let tiles = driver.find_all(By::Css(".app-tile-title")).await?;
        let mut titles = Vec::new();
        for tile in tiles {
            titles.push(tile.text().await?);
        }
        assert_eq!(
            titles, APP_TITLES,
            "the home page shows every app tile in order"
        );

        // A router link changes the route without a page load.
        driver
            .find(By::LinkText("DataMiner Catalog"))
            .await
            .or(driver.find(By::PartialLinkText("DataMiner Catalog")).await)?
            .click()
            .await?;
        browser.wait_for_path("/catalog").await?;
        browser.wait_for_text("h1", "DataMiner Catalog").await?;

        // A deep link to an unknown route shows the web app's own 404 page.
        driver.goto(server.url("/no/such/page")).await?;
        browser.wait_for_text("h1", "Page not found").await?;
        browser.wait_for_text("main code", "/no/such/page").await?;

        let errors = browser.console_errors().await;
        assert!(errors.is_empty(), "browser console errors: {errors:#?}");
        Ok(())
    })
    .await;
}
