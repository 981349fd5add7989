//! Journey: every name a person or a DMS can set (organization, DMS, project, task, shared
//! dashboard and whom it is shared with, the DMS's version string) carries an HTML/script
//! payload, and every page that shows it shows the payload as text: it is in the page's
//! visible text character for character, no element or handler came from it, and no script
//! ran. (The CSP would block an injected script anyway; these checks do not rely on it.)

use e2e::account::{sign_in, sign_up};
use e2e::gateway::Gateway;
use e2e::portal::{create_organization, create_project, post, register_dms};
use e2e::{journey, Browser, Server};
use thirtyfour::prelude::*;

const PASSWORD: &str = "purple stapler orbit";
const ORGANIZATION: &str = "<img src=x onerror=window.__xss=1>Org";
const DMS: &str = "<svg onload=window.__xss=2>DMS</svg>";
const VERSION: &str = "<img src=x onerror=window.__xss=3>";
const PROJECT: &str = "\"><script>window.__xss=4</script>";
const TASK: &str = "<iframe srcdoc=\"<script>parent.__xss=5</script>\">";
const DASHBOARD: &str = "<details open ontoggle=window.__xss=6>";
const SHARED_WITH: &str = "<a href=\"javascript:window.__xss=7\">ops</a>";

/// Waits until `path` shows every one of `payloads` as text, then checks that nothing of them
/// became markup or ran.
async fn shows_inert(browser: &Browser, payloads: &[&str]) -> WebDriverResult<()> {
    for payload in payloads {
        browser.wait_for_text("body", payload).await?;
    }
    let injected = browser
        .driver
        .execute(
            "return {
                ran: window.__xss === undefined ? null : window.__xss,
                handlers: document.querySelectorAll(
                    '[onerror],[onload],[ontoggle],[srcdoc],a[href^=javascript]').length,
                frames: document.querySelectorAll('iframe, img[src=x], svg[onload]').length,
                scripts: Array.from(document.scripts).filter(s => s.text.includes('__xss')).length,
            };",
            vec![],
        )
        .await?
        .json()
        .clone();
    let expected = serde_json::json!({ "ran": null, "handlers": 0, "frames": 0, "scripts": 0 });
    if injected != expected {
        return Err(WebDriverError::FatalError(format!(
            "a payload became markup or ran: {injected}"
        )));
    }
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn names_with_markup_are_shown_as_text_on_every_page() {
    journey("xss", async |server: &Server, browser: &Browser| {
        let fail = |message: String| WebDriverError::FatalError(message);
        let email = format!("owner-{}@xss.example", std::process::id());
        let token = sign_up(server, &email, PASSWORD).await.map_err(fail)?;
        server
            .run_command(&["staff", "grant", &email])
            .map_err(fail)?;
        let organization = create_organization(server, &token, ORGANIZATION)
            .await
            .map_err(fail)?;
        let code = register_dms(server, &token, &organization, DMS)
            .await
            .map_err(fail)?;
        let mut gateway = Gateway::connect(&server.base_url, &code)
            .await
            .map_err(fail)?;
        gateway.open().await.map_err(fail)?;
        gateway.heartbeat_as(true, VERSION).await.map_err(fail)?;
        let system_id = gateway.credentials.system_id.clone();
        let project = create_project(server, &token, &organization, PROJECT)
            .await
            .map_err(fail)?;
        post(
            server,
            &token,
            &format!("/api/projects/{project}/tasks"),
            serde_json::json!({ "title": TASK }),
        )
        .await
        .map_err(fail)?;
        post(
            server,
            &token,
            &format!("/api/organizations/{organization}/shared-dashboards"),
            serde_json::json!({ "name": DASHBOARD, "system_id": system_id, "shared_with": SHARED_WITH }),
        )
        .await
        .map_err(fail)?;

        sign_in(browser, server, &email, PASSWORD).await?;
        let driver = &browser.driver;
        // The home page: the overview's row (the organization's name shows only when the
        // person belongs to several).
        shows_inert(browser, &[DMS]).await?;
        driver
            .goto(server.url(&format!("/systems/{system_id}")))
            .await?;
        shows_inert(browser, &[DMS, VERSION]).await?;
        driver.goto(server.url("/collaboration")).await?;
        shows_inert(browser, &[PROJECT, TASK]).await?;
        driver.goto(server.url("/sharing")).await?;
        shows_inert(browser, &[DASHBOARD, SHARED_WITH]).await?;
        driver.goto(server.url("/admin")).await?;
        shows_inert(browser, &[ORGANIZATION]).await?;
        browser.click("[data-testid=tab-systems]").await?;
        shows_inert(browser, &[DMS]).await?;
        browser.click("[data-testid=tab-audit-log]").await?;
        // The audit log's details quote the names.
        shows_inert(browser, &[DMS, PROJECT, TASK]).await?;
        driver.goto(server.url("/staff")).await?;
        shows_inert(browser, &[ORGANIZATION]).await?;
        gateway.close().await;
        Ok(())
    })
    .await;
}
