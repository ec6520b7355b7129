//! Bearer token authentication (elasticsearch-py: `bearer_auth="<token>"`), for service account
//! tokens and OAuth2 / JWT access tokens.
//!
//! ```text
//! ES_URL=https://localhost:9200 ES_CA_CERTS=http_ca.crt ES_BEARER_TOKEN=AAEAAWVsYXN0aWMv... \
//!     cargo run -p es-transport --example bearer
//! ```

use es_transport::{Request, Transport};

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    tracing_subscriber::fmt()
        .with_env_filter(std::env::var("RUST_LOG").unwrap_or_else(|_| "warn".into()))
        .init();
    let url = std::env::var("ES_URL").unwrap_or_else(|_| "https://localhost:9200".into());
    let mut builder = Transport::builder(url.as_str())
        .bearer_auth(std::env::var("ES_BEARER_TOKEN").map_err(|_| "set ES_BEARER_TOKEN")?);
    if let Ok(ca) = std::env::var("ES_CA_CERTS") {
        builder = builder.ca_certs_file(ca);
    }
    let transport = builder.build()?;

    let info: serde_json::Value = transport.send(Request::get("/")).await?.json()?;
    println!(
        "connected to cluster {} (version {})",
        info["cluster_name"], info["version"]["number"]
    );
    Ok(())
}
