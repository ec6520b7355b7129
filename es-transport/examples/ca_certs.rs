//! Verify the cluster's certificate with its CA (elasticsearch-py: `ca_certs="/path/to/http_ca.crt"`).
//!
//! ```text
//! ES_URL=https://localhost:9200 ES_CA_CERTS=/path/to/http_ca.crt ES_USER=elastic ES_PASSWORD=... \
//!     cargo run -p es-transport --example ca_certs
//! ```
//!
//! `ca_certs_dir` (the seed's `capath`) and `ca_certs_pem` (`cadata`) work the same way.

use es_transport::{Request, Transport};

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    tracing_subscriber::fmt()
        .with_env_filter(std::env::var("RUST_LOG").unwrap_or_else(|_| "warn".into()))
        .init();
    let url = std::env::var("ES_URL").unwrap_or_else(|_| "https://localhost:9200".into());
    let ca = std::env::var("ES_CA_CERTS").map_err(|_| "set ES_CA_CERTS")?;
    let transport = Transport::builder(url.as_str())
        .ca_certs_file(ca)
        .basic_auth(
            std::env::var("ES_USER").unwrap_or_else(|_| "elastic".into()),
            std::env::var("ES_PASSWORD").map_err(|_| "set ES_PASSWORD")?,
        )
        .build()?;

    let info: serde_json::Value = transport.send(Request::get("/")).await?.json()?;
    println!(
        "connected to cluster {} (version {})",
        info["cluster_name"], info["version"]["number"]
    );
    Ok(())
}
