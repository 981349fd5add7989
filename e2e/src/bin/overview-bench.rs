//! Benchmark of the home page with many DMSs: how long the overview takes to show them all,
//! and how long one state change takes from the gateway's heartbeat to the row on screen.
//! Prints figures; asserts nothing about them (a benchmark, not a test).
//!
//! `cargo run -p e2e --bin overview-bench -- [DMS count, default 1000]` after
//! `scripts/test.sh` (or `trunk build --release` and `cargo build -p stratus-backend`).

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use e2e::account::sign_up;
use e2e::portal::{create_organization, register_dmss_and_connect_first};
use e2e::{Browser, Server};

const PASSWORD: &str = "benchmark passphrase";
const CHANGES: usize = 7;

fn epoch_ms() -> f64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default()
        .as_secs_f64()
        * 1000.0
}

fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    values[values.len() / 2]
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let count: usize = std::env::args()
        .nth(1)
        .and_then(|arg| arg.parse().ok())
        .unwrap_or(1000);
    let server = Server::start();
    let token = sign_up(&server, "bench@skyline.be", PASSWORD).await?;
    let organization_id = create_organization(&server, &token, "Benchmark").await?;
    let mut gateway =
        register_dmss_and_connect_first(&server, &token, &organization_id, count).await?;

    let browser = Browser::start().await;
    let driver = &browser.driver;
    driver.goto(server.url("/login")).await?;
    browser.fill("#email", "bench@skyline.be").await?;
    browser.fill("#password", PASSWORD).await?;
    browser.click("button[type=submit]").await?;
    browser.wait_for("[data-testid=system-row]").await?;

    // First render: a fresh page load until every row is in the DOM.
    driver.goto(server.url("/")).await?;
    let first_render = driver
        .execute_async(
            "const done = arguments[arguments.length - 1]; const want = arguments[0];
             (function check() {
               if (document.querySelectorAll('[data-testid=system-row]').length >= want) {
                 done(performance.now());
               } else { requestAnimationFrame(check); }
             })();",
            vec![serde_json::json!(count)],
        )
        .await?;
    let first_render_ms = first_render.json().as_f64().unwrap_or_default();

    // One change: from the heartbeat leaving the gateway to the row's icon changing.
    let system_id = gateway.credentials.system_id.clone();
    let mut latencies = Vec::new();
    for round in 0..CHANGES {
        let responding = round % 2 == 1;
        let want = if responding {
            "connected"
        } else {
            "dms_not_responding"
        };
        driver
            .execute(
                "const [id, want] = arguments;
                 window.__changedAt = null;
                 const icon = document.querySelector(`[data-system-id='${id}'] .state-icon`);
                 new MutationObserver((_, observer) => {
                   if (icon.dataset.state === want) { window.__changedAt = Date.now(); observer.disconnect(); }
                 }).observe(icon, { attributes: true, attributeFilter: ['data-state'] });",
                vec![serde_json::json!(system_id), serde_json::json!(want)],
            )
            .await?;
        let sent_at = epoch_ms();
        gateway.heartbeat(responding).await?;
        let mut shown_at = None;
        for _ in 0..200 {
            let value = driver.execute("return window.__changedAt;", vec![]).await?;
            if let Some(at) = value.json().as_f64() {
                shown_at = Some(at);
                break;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        if let Some(shown_at) = shown_at {
            latencies.push(shown_at - sent_at);
        }
    }
    browser.quit().await;

    println!(
        "overview benchmark: {count} DMSs, headless Chromium, release web app, server {}",
        server_binary()
    );
    println!("  first render (navigation start → all rows in the DOM): {first_render_ms:.0} ms");
    if latencies.is_empty() {
        println!("  one change: not observed");
    } else {
        println!(
            "  one change (heartbeat sent → row updated), median of {}: {:.0} ms (min {:.0}, max {:.0})",
            latencies.len(),
            median(latencies.clone()),
            latencies.iter().copied().fold(f64::INFINITY, f64::min),
            latencies.iter().copied().fold(0.0, f64::max),
        );
    }
    Ok(())
}

/// The server binary measured: `STRATUS_BIN` (the benchmark suite's release build), else the
/// debug build the tests use.
fn server_binary() -> String {
    std::env::var("STRATUS_BIN").unwrap_or_else(|_| "target/debug/stratus (debug)".into())
}
