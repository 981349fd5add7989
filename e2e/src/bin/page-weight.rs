//! Benchmark of the home page's first load over the wire: a fresh headless Chromium (empty
//! cache) opens the portal, signs in, and waits until the overview shows the person's DMSs.
//! Every request it made is listed with the bytes it moved (Resource Timing's `transferSize`:
//! headers and encoded body; Chromium offers brotli to 127.0.0.1 as to any HTTPS origin).
//! Prints figures; asserts nothing (a benchmark, not a test).
//!
//! `cargo run --release -p e2e --bin page-weight -- [DMS count, default 5]` with `STRATUS_BIN`
//! and `STRATUS_DIST_DIR` naming the server and web app to measure (`scripts/bench.sh web`).

use e2e::account::{sign_up, submit_sign_in_form};
use e2e::portal::{create_organization, register_dmss_and_connect_first};
use e2e::{Browser, Server};
use serde::Deserialize;

const EMAIL: &str = "weight@skyline.be";
const PASSWORD: &str = "benchmark passphrase";

/// One request of the page, as the browser's Resource Timing saw it.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Transfer {
    name: String,
    initiator_type: String,
    /// Bytes on the wire: headers and the encoded body.
    transfer_size: f64,
    decoded_body_size: f64,
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let count: usize = std::env::args()
        .nth(1)
        .and_then(|arg| arg.parse().ok())
        .unwrap_or(5);
    let server = Server::start();
    let token = sign_up(&server, EMAIL, PASSWORD).await?;
    let organization_id = create_organization(&server, &token, "Skyline").await?;
    let _gateway =
        register_dmss_and_connect_first(&server, &token, &organization_id, count).await?;

    let browser = Browser::start().await;
    let driver = &browser.driver;
    driver.goto(server.url("/login")).await?;
    submit_sign_in_form(&browser, EMAIL, PASSWORD).await?;
    browser.wait_for("[data-testid=system-row]").await?;
    // Let the overview's last requests finish (the live stream stays open and is not listed).
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    let entries = driver
        .execute(
            "return [...performance.getEntriesByType('navigation'),
                     ...performance.getEntriesByType('resource')].map(e => ({
               name: e.name, initiatorType: e.initiatorType || 'navigation',
               transferSize: e.transferSize, decodedBodySize: e.decodedBodySize }));",
            vec![],
        )
        .await?;
    let transfers: Vec<Transfer> = serde_json::from_value(entries.json().clone())?;
    browser.quit().await;

    println!("home page, first load (empty cache), {count} DMSs, headless Chromium");
    println!(
        "  {:<44} {:>10} {:>12} {:>12}",
        "request", "kind", "raw B", "wire B"
    );
    let (mut wire_total, mut raw_total) = (0.0, 0.0);
    for transfer in &transfers {
        let path = transfer
            .name
            .strip_prefix(&server.base_url)
            .unwrap_or(&transfer.name);
        wire_total += transfer.transfer_size;
        raw_total += transfer.decoded_body_size;
        println!(
            "  {:<44} {:>10} {:>12.0} {:>12.0}",
            truncate(path, 44),
            transfer.initiator_type,
            transfer.decoded_body_size,
            transfer.transfer_size,
        );
    }
    println!(
        "  {:<44} {:>10} {:>12.0} {:>12.0}",
        "total",
        transfers.len(),
        raw_total,
        wire_total
    );
    println!(
        "  over the wire: {:.1} KB (target ≤ 250 KB)",
        wire_total / 1000.0
    );
    Ok(())
}

fn truncate(text: &str, width: usize) -> String {
    if text.chars().count() <= width {
        text.to_owned()
    } else {
        let kept: String = text.chars().take(width - 1).collect();
        format!("{kept}…")
    }
}
