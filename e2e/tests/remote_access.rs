//! Journey: an Owner opens a DMS remotely from its page. The DMS is `stratus simulate` with
//! its web app behind a real gateway socket and tunnel; the new tab is on the DMS's own origin
//! (`*.remote.localhost`, which Chromium resolves to this machine). The Owner sees the DMS's
//! page, posts its form, watches its WebSocket counter, then switches remote access off in
//! Admin: the counter stops at once and the remote tab is refused with a page saying why.

use e2e::account::{sign_in, sign_up};
use e2e::portal::{create_organization, register_dms};
use e2e::{journey, Browser, Server};
use thirtyfour::prelude::*;

const PASSWORD: &str = "purple stapler orbit";

/// The counter's value in the remote tab, once it shows a number.
async fn counter(browser: &Browser) -> WebDriverResult<u64> {
    for _ in 0..100 {
        let text = browser.wait_for("#counter").await?.text().await?;
        if let Ok(value) = text.trim().parse() {
            return Ok(value);
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    Err(WebDriverError::FatalError(
        "the counter never showed a number".into(),
    ))
}

// Multi-threaded: thirtyfour cleans up its session on a runtime thread when a step fails.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn open_a_dms_remotely_use_its_web_app_and_lose_access_when_switched_off() {
    journey(
        "remote-access",
        async |server: &Server, browser: &Browser| {
            let fail = |message: String| WebDriverError::FatalError(message);
            let driver = &browser.driver;
            let email = format!("owner-{}@acme.example", std::process::id());
            let token = sign_up(server, &email, PASSWORD).await.map_err(fail)?;
            let organization = create_organization(server, &token, "Acme")
                .await
                .map_err(fail)?;
            let code = register_dms(server, &token, &organization, "Main DMS")
                .await
                .map_err(fail)?;
            let _simulator = server
                .spawn_command(&[
                    "simulate",
                    "--url",
                    &server.base_url,
                    "--connect-code",
                    &code,
                    "--name",
                    "Main DMS",
                    "--scenario",
                    "steady",
                    "--interval-seconds",
                    "1",
                ])
                .map_err(fail)?;

            // The overview row offers remote access once the DMS is connected.
            sign_in(browser, server, &email, PASSWORD).await?;
            driver.goto(server.url("/")).await?;
            browser
                .wait_for("[data-testid=system-row].state-connected [data-testid=open-remotely]")
                .await?;
            browser
                .click("[data-testid=system-row] .system-name")
                .await?;
            browser
                .wait_for_text(
                    "[data-testid=remote-access] code",
                    "main-dms-acme.remote.localhost",
                )
                .await?;
            let portal = driver.window().await?;
            browser
                .click("[data-testid=remote-access] [data-testid=open-remotely]")
                .await?;

            // A new tab on the DMS's own origin shows the DMS's own page.
            let mut remote = None;
            for _ in 0..50 {
                let windows = driver.windows().await?;
                remote = windows.into_iter().find(|window| *window != portal);
                if remote.is_some() {
                    break;
                }
                tokio::time::sleep(std::time::Duration::from_millis(100)).await;
            }
            let remote = remote.ok_or_else(|| fail("no remote tab opened".into()))?;
            driver.switch_to_window(remote.clone()).await?;
            browser.wait_for_text("#dms-name", "Main DMS").await?;
            let address = driver.current_url().await?;
            if address.host_str() != Some("main-dms-acme.remote.localhost")
                || address.path() != "/"
                || address.query().is_some()
            {
                return Err(fail(format!("the remote tab is at {address}")));
            }
            browser
                .wait_for_text("#alarms", "Input signal lost")
                .await?;

            // Its form posts through the tunnel, and its WebSocket streams a counter.
            browser.fill("#note", "Checked the uplink").await?;
            browser.click("#post-note").await?;
            browser
                .wait_for_text("#notes", "Checked the uplink")
                .await?;
            let first = counter(browser).await?;
            tokio::time::sleep(std::time::Duration::from_millis(800)).await;
            let later = counter(browser).await?;
            if later <= first {
                return Err(fail(format!(
                    "the counter did not move: {first} then {later}"
                )));
            }
            // The portal's session is nowhere on this origin.
            let cookies: serde_json::Value = driver
                .execute("return document.cookie;", vec![])
                .await?
                .json()
                .clone();
            if cookies
                .as_str()
                .is_some_and(|cookies| cookies.contains("stratus"))
            {
                return Err(fail(format!(
                    "a Stratus cookie is readable here: {cookies}"
                )));
            }
            browser.save_artifacts("remote-access-dms").await;

            // The Owner switches remote access off for the DMS in Admin, in the portal's tab.
            driver.switch_to_window(portal).await?;
            driver.goto(server.url("/admin")).await?;
            browser.click("[data-testid=tab-systems]").await?;
            browser.click("[data-testid=admin-system]").await?;
            browser.click("[data-testid=system-remote-access]").await?;

            // The remote tab's WebSocket is cut at once, and the tab is refused on reload.
            driver.switch_to_window(remote).await?;
            let mut closed = false;
            for _ in 0..50 {
                let element = browser.wait_for("#counter").await?;
                if element.attr("data-closed").await?.as_deref() == Some("true") {
                    closed = true;
                    break;
                }
                tokio::time::sleep(std::time::Duration::from_millis(100)).await;
            }
            if !closed {
                return Err(fail("the remote WebSocket was not cut".into()));
            }
            driver.refresh().await?;
            browser
                .wait_for_text("h1", "Remote access to Main DMS is off")
                .await?;
            browser.wait_for_text("main", &email).await?;
            browser.save_artifacts("remote-access-off").await;
            Ok(())
        },
    )
    .await;
}
