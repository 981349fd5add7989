//! Journey: when Stratus loses its own database it cannot tell any DMS's state, and the
//! overview shows the warning state instead of the last known colours. Needs a database that
//! can go away: PostgreSQL (`TEST_DATABASE_URL`, always set by `.ci/run`).

use e2e::account::{sign_in, sign_up};
use e2e::gateway::Gateway;
use e2e::portal::{create_organization, register_dms};
use e2e::postgres::TestPostgres;
use e2e::{Browser, Server};
use thirtyfour::prelude::*;

const PASSWORD: &str = "purple stapler orbit";

// Multi-threaded: thirtyfour cleans up its session on a runtime thread when a step fails.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lost_database_turns_every_dms_into_the_warning_state() {
    let Some(database) = TestPostgres::create() else {
        eprintln!("SKIPPED: TEST_DATABASE_URL is not set (this journey needs PostgreSQL)");
        return;
    };
    let server = Server::start_with_database(&database.url);
    let browser = Browser::start().await;
    let outcome = journey(&server, &browser, &database).await;
    if let Err(error) = outcome {
        let saved = browser.save_artifacts("unknown_state").await;
        browser.quit().await;
        panic!(
            "journey unknown_state failed: {error}\nartifacts: {}.*",
            saved.display()
        );
    }
    browser.quit().await;
}

async fn journey(
    server: &Server,
    browser: &Browser,
    database: &TestPostgres,
) -> WebDriverResult<()> {
    let fail = |message: String| WebDriverError::FatalError(message);
    let email = format!("unknown-{}@skyline.be", std::process::id());
    let token = sign_up(server, &email, PASSWORD).await.map_err(fail)?;
    let organization_id = create_organization(server, &token, "Acme")
        .await
        .map_err(fail)?;
    let code = register_dms(server, &token, &organization_id, "Main DMS")
        .await
        .map_err(fail)?;
    let mut gateway = Gateway::connect(&server.base_url, &code)
        .await
        .map_err(fail)?;
    gateway.open().await.map_err(fail)?;
    gateway.heartbeat(true).await.map_err(fail)?;

    sign_in(browser, server, &email, PASSWORD).await?;
    browser
        .wait_for(".system-row .state-icon[data-state=connected]")
        .await?;

    assert!(database.drop_now(), "the database could not be taken away");

    let icon = browser
        .wait_for(".system-row .state-icon[data-state=unknown]")
        .await?;
    let tooltip = icon
        .find(By::Css(".tooltip"))
        .await?
        .prop("textContent")
        .await?
        .unwrap_or_default();
    assert_eq!(
        tooltip,
        "Something is wrong in the cloud: the connection state cannot be determined"
    );
    assert_eq!(
        icon.attr("aria-label").await?.as_deref(),
        Some("State unknown")
    );
    let artifacts = e2e::artifacts_dir();
    let _ = std::fs::create_dir_all(&artifacts);
    browser
        .driver
        .execute(
            "document.querySelector('#systems-heading').scrollIntoView();",
            vec![],
        )
        .await?;
    browser
        .driver
        .screenshot(&artifacts.join("overview-unknown.png"))
        .await?;
    gateway.close().await;
    Ok(())
}
