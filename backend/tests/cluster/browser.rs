//! Journey: the overview in headless Chromium against the cluster, through nginx. The rows
//! follow DMSs whose gateways are on different backends, and stay live through the loss of
//! a backend: its DMS turns red, then green when its gateway is back, without a reload.

use std::time::Duration;

use e2e::Browser;
use thirtyfour::prelude::*;

use crate::harness::{Cluster, Engines, Gateway};

const PASSWORD: &str = "purple stapler orbit";

/// The state icon of the row named `name`, if the row is there.
async fn state_of_row(browser: &Browser, name: &str) -> WebDriverResult<Option<String>> {
    for row in browser
        .driver
        .find_all(By::Css("[data-testid=system-row]"))
        .await?
    {
        let Ok(label) = row.find(By::Css(".system-name")).await else {
            continue;
        };
        if label.text().await? == name {
            let icon = row.find(By::Css(".state-icon")).await?;
            return icon.attr("data-state").await;
        }
    }
    Ok(None)
}

async fn wait_for_row(browser: &Browser, name: &str, state: &str) -> WebDriverResult<()> {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    loop {
        let shown = state_of_row(browser, name).await?;
        if shown.as_deref() == Some(state) {
            return Ok(());
        }
        if tokio::time::Instant::now() > deadline {
            return Err(WebDriverError::FatalError(format!(
                "the row {name} shows {shown:?}, not {state}"
            )));
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

// Multi-threaded: thirtyfour cleans up its session on a runtime thread when a step fails.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_overview_stays_live_through_the_loss_of_a_backend() {
    let Some(engines) = Engines::find("browser::overview") else {
        return;
    };
    let Some(mut cluster) = Cluster::start_with_web_app(&engines, 3, "browser::overview").await
    else {
        return;
    };
    let email = "owner@skyline.be";
    let (_, owner) = cluster.create_user_with_password(email, PASSWORD).await;
    let organization = cluster.create_organization(&owner, "Acme").await;
    let alpha = cluster.register_dms(&owner, &organization, "Alpha").await;
    let beta = cluster.register_dms(&owner, &organization, "Beta").await;
    // Each gateway on a backend of its own; the browser wherever nginx sends it.
    let alpha_gateway = Gateway::connect(&cluster.backends[0].address(), &alpha.token).await;
    let beta_gateway = Gateway::connect(&cluster.backends[1].address(), &beta.token).await;

    let browser = Browser::start().await;
    let outcome = async {
        browser
            .driver
            .goto(format!("{}/login", cluster.address()))
            .await?;
        e2e::account::submit_sign_in_form(&browser, email, PASSWORD).await?;
        browser.wait_for("[data-testid=signed-in-as]").await?;
        wait_for_row(&browser, "Alpha", "connected").await?;
        wait_for_row(&browser, "Beta", "connected").await?;
        // Marks this page: a reload would lose the mark.
        browser
            .driver
            .execute("window.stratusJourney = 'same page';", Vec::new())
            .await?;

        beta_gateway.set_responding(false);
        wait_for_row(&browser, "Beta", "dms_not_responding").await?;

        // Alpha's backend dies: its lease runs out, a survivor records Alpha disconnected.
        cluster.kill_backend(0);
        wait_for_row(&browser, "Alpha", "disconnected").await?;
        assert_eq!(
            state_of_row(&browser, "Beta").await?.as_deref(),
            Some("dms_not_responding")
        );

        // Alpha's gateway comes back through nginx, to a survivor.
        let _alpha_again = Gateway::connect(&cluster.address(), &alpha.token).await;
        wait_for_row(&browser, "Alpha", "connected").await?;
        beta_gateway.set_responding(true);
        wait_for_row(&browser, "Beta", "connected").await?;
        let mark = browser
            .driver
            .execute("return window.stratusJourney;", Vec::new())
            .await?;
        assert_eq!(mark.json(), &serde_json::json!("same page"), "no reload");
        drop(alpha_gateway);
        Ok::<(), WebDriverError>(())
    }
    .await;
    if let Err(error) = outcome {
        let saved = browser.save_artifacts("cluster_overview").await;
        let page = browser.visible_text().await;
        let console = browser.console_errors().await;
        browser.quit().await;
        panic!(
            "journey cluster_overview failed: {error}\npage text: {page:?}\n\
             console errors: {console:?}\nartifacts: {}.*",
            saved.display()
        );
    }
    browser.quit().await;
}
