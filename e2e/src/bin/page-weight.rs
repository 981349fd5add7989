//! Benchmark of the home page's first load over the wire: a fresh headless Chromium (empty
//! cache) opens the portal, signs in, and waits until the overview shows the person's DMSs.
//! Every request it made is listed with the bytes it moved. Prints figures; asserts nothing
//! (a benchmark, not a test).
//!
//! Chromium offers brotli only over HTTPS, so on this plain-HTTP loopback server it takes
//! gzip. Each file is therefore fetched again the way a browser does over HTTPS
//! (`Accept-Encoding: gzip, deflate, br, zstd`) and its size printed beside the first.
//!
//! `cargo run --release -p e2e --bin page-weight -- [DMS count, default 5]` with `STRATUS_BIN`
//! and `STRATUS_DIST_DIR` naming the server and web app to measure (`scripts/bench.sh web`).

use e2e::account::{sign_up, submit_sign_in_form};
use e2e::gateway::Gateway;
use e2e::portal::{create_organization, register_dms};
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
    encoded_body_size: f64,
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
    let mut first_code = String::new();
    for index in 0..count {
        let code = register_dms(&server, &token, &organization_id, &format!("DMS {index}")).await?;
        if index == 0 {
            first_code = code;
        }
    }
    let mut gateway = Gateway::connect(&server.base_url, &first_code).await?;
    gateway.open().await?;
    gateway.heartbeat(true).await?;

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
               transferSize: e.transferSize, encodedBodySize: e.encodedBodySize,
               decodedBodySize: e.decodedBodySize }));",
            vec![],
        )
        .await?;
    let transfers: Vec<Transfer> = serde_json::from_value(entries.json().clone())?;
    browser.quit().await;

    // The same files as a browser on HTTPS would get them: reqwest decodes nothing here, so
    // the body is what travelled.
    let client = reqwest::Client::new();
    println!(
        "home page, first load (empty cache), {count} DMSs, headless Chromium over plain HTTP"
    );
    println!(
        "  {:<44} {:>10} {:>12} {:>12} {:>12}",
        "request", "kind", "raw B", "wire B", "https-br B"
    );
    let (mut wire_total, mut brotli_total, mut raw_total) = (0.0, 0.0, 0.0);
    for transfer in &transfers {
        let path = transfer
            .name
            .strip_prefix(&server.base_url)
            .unwrap_or(&transfer.name);
        let is_asset = !path.starts_with("/api/");
        let brotli = if is_asset && transfer.initiator_type != "fetch" {
            let response = client
                .get(&transfer.name)
                .header("Accept-Encoding", "gzip, deflate, br, zstd")
                .send()
                .await?;
            // Header bytes as the browser counted them: its wire size minus its body.
            let headers = transfer.transfer_size - transfer.encoded_body_size;
            headers + response.bytes().await?.len() as f64
        } else {
            transfer.transfer_size
        };
        wire_total += transfer.transfer_size;
        brotli_total += brotli;
        raw_total += transfer.decoded_body_size;
        println!(
            "  {:<44} {:>10} {:>12.0} {:>12.0} {:>12.0}",
            truncate(path, 44),
            transfer.initiator_type,
            transfer.decoded_body_size,
            transfer.transfer_size,
            brotli
        );
    }
    println!(
        "  {:<44} {:>10} {:>12.0} {:>12.0} {:>12.0}",
        "total",
        transfers.len(),
        raw_total,
        wire_total,
        brotli_total
    );
    println!(
        "  over the wire: {:.1} KB as served here (gzip), {:.1} KB over HTTPS (brotli); target ≤ 250 KB",
        wire_total / 1000.0,
        brotli_total / 1000.0
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
