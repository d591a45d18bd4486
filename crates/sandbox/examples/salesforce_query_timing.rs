//! A measurement, not a test: how long the simulated Salesforce takes to generate an org
//! and to serve the Global accounts query in full (every page, every child page) to the
//! real `sfdc-client` over loopback HTTP, at 1k / 10k / 100k accounts.
//!
//! ```text
//! cargo run --release -p sandbox --example salesforce_query_timing [ACCOUNTS...]
//! ```
//!
//! Prints one line per size: generation time, rows read, requests by kind and wall time.

use std::time::Instant;

use futures::StreamExt;
use sandbox::salesforce::{GenerateConfig, SalesforceConfig, SalesforceSim, Store};
use sfdc_client::{Client, Credentials};

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let sizes: Vec<usize> = match std::env::args().skip(1).map(|a| a.parse()).collect() {
        Ok(v) if !Vec::is_empty(&v) => v,
        Ok(_) => vec![1_000, 10_000, 100_000],
        Err(e) => anyhow::bail!("arguments must be account counts: {e}"),
    };
    println!(
        "| accounts | generate | rows read | query + query_more requests | read time | rows/s |"
    );
    println!("|---:|---:|---:|---:|---:|---:|");
    for accounts in sizes {
        let started = Instant::now();
        let store = Store::generate(&GenerateConfig {
            accounts,
            seed: 1,
            today: time::macros::date!(2026 - 11 - 25),
        });
        let generated = started.elapsed();

        let sim = SalesforceSim::new(store, SalesforceConfig::default());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let url = format!("http://{}", listener.local_addr()?);
        let router = sim.router();
        let server = tokio::spawn(async move { axum::serve(listener, router).await });

        let client = Client::builder()
            .login_url(url)
            .credentials(Credentials::ClientCredentials {
                client_id: "timing".into(),
                client_secret: "timing".to_owned().into(),
            })
            .build()?;
        client.authenticate().await?;
        let started = Instant::now();
        let mut rows = 0usize;
        let mut stream =
            std::pin::pin!(client.query::<serde_json::Value>(sync_core::soql::GLOBAL_ACCOUNTS));
        while let Some(item) = stream.next().await {
            item?.map_err(|e| anyhow::anyhow!("{e}"))?;
            rows += 1;
        }
        let read = started.elapsed();
        let counts = client.call_counts();
        println!(
            "| {accounts} | {generated:.2?} | {rows} | {} + {} | {read:.2?} | {:.0} |",
            counts["query"],
            counts["query_more"],
            rows as f64 / read.as_secs_f64()
        );
        server.abort();
    }
    Ok(())
}
