//! Journey: a signed-in member registers a DMS from the empty overview, its gateway connects,
//! and the row follows every state change live — green, orange, red, green — with the right
//! icon, tooltip and last-online time; the stream survives a server restart; names are text.

use std::time::{Duration, Instant};

use e2e::account::{sign_in, sign_up};
use e2e::gateway::Gateway;
use e2e::portal::register_dms;
use e2e::{journey, Browser, Server};
use thirtyfour::prelude::*;

const PASSWORD: &str = "purple stapler orbit";
const HOSTILE_NAME: &str = "<script>alert(1)</script>";

/// Waits until the DMS row shows `state`; returns the row.
async fn row_in_state(browser: &Browser, state: &str) -> WebDriverResult<WebElement> {
    let css = format!("[data-testid=system-row] .state-icon[data-state={state}]");
    browser.wait_for(&css).await?;
    browser.wait_for("[data-testid=system-row]").await
}

async fn tooltip_text(row: &WebElement) -> WebDriverResult<String> {
    let tooltip = row.find(By::Css(".tooltip")).await?;
    // Hidden tooltips have no rendered text; read the DOM text instead.
    let text = tooltip.prop("textContent").await?.unwrap_or_default();
    Ok(text)
}

fn fail(message: impl Into<String>) -> WebDriverError {
    WebDriverError::FatalError(message.into())
}

// Multi-threaded: thirtyfour cleans up its session on a runtime thread when a step fails.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dms_goes_green_orange_red_green_live() {
    journey("overview", async |server: &Server, browser: &Browser| {
        let driver = &browser.driver;
        let email = format!("owner-{}@skyline.be", std::process::id());
        let owner_token = sign_up(server, &email, PASSWORD).await.map_err(fail)?;

        sign_in(browser, server, &email, PASSWORD).await?;

        // The empty overview explains how to connect a DMS, and registers one.
        browser.wait_for_text(".empty-state", "connect code").await?;
        browser.fill("#connect-organization-name", "Acme").await?;
        browser.fill("#connect-name", HOSTILE_NAME).await?;
        browser.click(".connect-form button[type=submit]").await?;
        let code = browser.wait_for("[data-testid=connect-code]").await?.text().await?;
        assert!(code.starts_with("scc_"), "{code}");

        // The name is text, not markup.
        let row = row_in_state(browser, "never_connected").await?;
        let name = row.find(By::Css(".system-name")).await?.text().await?;
        assert_eq!(name, HOSTILE_NAME);

        // Green: the gateway connects and the DMS responds.
        let mut gateway = Gateway::connect(&server.base_url, &code).await.map_err(fail)?;
        gateway.open().await.map_err(fail)?;
        gateway.heartbeat(true).await.map_err(fail)?;
        let row = row_in_state(browser, "connected").await?;
        assert_eq!(tooltip_text(&row).await?, "Connected to Stratus, DMS online");
        browser.wait_for("[data-testid=teams-bot-tile]").await?;

        // Orange: the cloud connection holds, the DMS does not respond.
        gateway.heartbeat(false).await.map_err(fail)?;
        let row = row_in_state(browser, "dms_not_responding").await?;
        let tooltip = tooltip_text(&row).await?;
        assert!(
            tooltip.starts_with("Cloud connection valid, DMS not responding"),
            "{tooltip}"
        );
        assert!(tooltip.contains("Last online just now"), "{tooltip}");
        browser
            .wait_for_text("[data-testid=system-time]", "Last online just now")
            .await?;

        // Red: the gateway's connection is gone.
        gateway.close().await;
        let row = row_in_state(browser, "disconnected").await?;
        assert!(tooltip_text(&row).await?.starts_with("No connection to Stratus"));
        let exact = row
            .find(By::Css("[data-testid=system-time]"))
            .await?
            .attr("title")
            .await?
            .unwrap_or_default();
        assert!(!exact.is_empty(), "the exact last-online time shows on hover");

        // Keyboard focus opens the tooltip.
        driver
            .execute("document.querySelector('.state-icon').focus();", vec![])
            .await?;
        let visibility = driver
            .execute(
                "return getComputedStyle(document.querySelector('.state-icon .tooltip')).visibility;",
                vec![],
            )
            .await?;
        assert_eq!(visibility.json(), &serde_json::json!("visible"));

        // Green again, without a reload.
        gateway.open().await.map_err(fail)?;
        gateway.heartbeat(true).await.map_err(fail)?;
        row_in_state(browser, "connected").await?;

        // The server goes away: the page says so instead of showing stale green; when it is
        // back, the page catches up by itself.
        server_restart(server, browser).await?;
        row_in_state(browser, "disconnected").await?;
        gateway.open().await.map_err(fail)?;
        gateway.heartbeat(true).await.map_err(fail)?;
        row_in_state(browser, "connected").await?;

        // Someone of another organization never sees this DMS.
        let stranger = sign_up(
            server,
            &format!("other-{}@example.org", std::process::id()),
            PASSWORD,
        )
            .await
            .map_err(fail)?;
        let systems: serde_json::Value = reqwest::Client::new()
            .get(server.url("/api/systems"))
            .bearer_auth(stranger)
            .send()
            .await
            .map_err(|e| fail(e.to_string()))?
            .json()
            .await
            .map_err(|e| fail(e.to_string()))?;
        assert_eq!(systems, serde_json::json!([]));

        // More DMSs, one per state, for the picture of the overview.
        let organization_id = reqwest::Client::new()
            .get(server.url("/api/organizations"))
            .bearer_auth(&owner_token)
            .send()
            .await
            .map_err(|e| fail(e.to_string()))?
            .json::<serde_json::Value>()
            .await
            .map_err(|e| fail(e.to_string()))?[0]["id"]
            .as_str()
            .unwrap_or_default()
            .to_owned();
        let mut gateways = Vec::new();
        for (name, plan) in [("Antwerp lab", "orange"), ("Ghent edge", "red"), ("Spare", "never")] {
            let code = register_dms(server, &owner_token, &organization_id, name)
                .await
                .map_err(fail)?;
            if plan == "never" {
                continue;
            }
            let mut gateway = Gateway::connect(&server.base_url, &code).await.map_err(fail)?;
            gateway.open().await.map_err(fail)?;
            gateway.heartbeat(plan != "orange").await.map_err(fail)?;
            if plan == "red" {
                tokio::time::sleep(Duration::from_millis(300)).await;
                gateway.close().await;
            }
            gateways.push(gateway);
        }
        for state in ["connected", "dms_not_responding", "disconnected", "never_connected"] {
            browser
                .wait_for(&format!(".system-row .state-icon[data-state={state}]"))
                .await?;
        }
        // Problems sort first: the disconnected DMS leads the list.
        let first = browser.wait_for(".system-row .state-icon").await?;
        assert_eq!(first.attr("data-state").await?.as_deref(), Some("disconnected"));
        let artifacts = e2e::artifacts_dir();
        let _ = std::fs::create_dir_all(&artifacts);
        browser
            .driver
            .execute("document.querySelector('#systems-heading').scrollIntoView();", vec![])
            .await?;
        driver.screenshot(&artifacts.join("overview-states.png")).await?;
        // And on a phone-sized screen.
        driver.set_window_rect(0, 0, 360, 800).await?;
        driver
            .execute("document.querySelector('#systems-heading').scrollIntoView();", vec![])
            .await?;
        driver.screenshot(&artifacts.join("overview-360.png")).await?;

        let errors = browser.console_errors().await;
        let unexpected: Vec<_> = errors
            .iter()
            .filter(|e| !e.contains("/api/live") && !e.contains("ERR_CONNECTION_REFUSED"))
            .collect();
        assert!(unexpected.is_empty(), "browser console errors: {unexpected:#?}");
        Ok(())
    })
    .await;
}

/// Stops the server, checks the banner, starts it again and waits for the banner to go.
async fn server_restart(server: &Server, browser: &Browser) -> WebDriverResult<()> {
    server.stop();
    browser.wait_for("[data-testid=live-banner]").await?;
    server.start_again();
    let deadline = Instant::now() + Duration::from_secs(20);
    while Instant::now() < deadline {
        if browser
            .driver
            .find_all(By::Css("[data-testid=live-banner]"))
            .await?
            .is_empty()
        {
            return Ok(());
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    Err(fail("the live banner stayed after the server came back"))
}
