//! Turn certificate verification off (elasticsearch-py: `verify_certs=False`). For test
//! clusters only: any server can then pretend to be yours, and a WARN is logged each time a
//! transport is built this way.
//!
//! ```text
//! ES_URL=https://localhost:9200 ES_USER=elastic ES_PASSWORD=... cargo run -p es-transport --example verify_certs_off
//! ```

use es_transport::{Request, Transport};

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    tracing_subscriber::fmt()
        .with_env_filter(std::env::var("RUST_LOG").unwrap_or_else(|_| "warn".into()))
        .init();
    let url = std::env::var("ES_URL").unwrap_or_else(|_| "https://localhost:9200".into());
    let transport = Transport::builder(url.as_str())
        .verify_certs(false)
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
