//! Mutual TLS: present a client certificate (elasticsearch-py: `client_cert=`, `client_key=`).
//!
//! ```text
//! ES_URL=https://localhost:9200 ES_CA_CERTS=ca.crt ES_CLIENT_CERT=client.crt ES_CLIENT_KEY=client.key \
//!     cargo run -p es-transport --example client_cert
//! ```

use es_transport::{Request, Transport};

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    tracing_subscriber::fmt()
        .with_env_filter(std::env::var("RUST_LOG").unwrap_or_else(|_| "warn".into()))
        .init();
    let url = std::env::var("ES_URL").unwrap_or_else(|_| "https://localhost:9200".into());
    let transport = Transport::builder(url.as_str())
        .ca_certs_file(std::env::var("ES_CA_CERTS").map_err(|_| "set ES_CA_CERTS")?)
        .client_cert_files(
            std::env::var("ES_CLIENT_CERT").map_err(|_| "set ES_CLIENT_CERT")?,
            std::env::var("ES_CLIENT_KEY").map_err(|_| "set ES_CLIENT_KEY")?,
        )
        .build()?;

    let info: serde_json::Value = transport.send(Request::get("/")).await?.json()?;
    println!(
        "connected to cluster {} (version {})",
        info["cluster_name"], info["version"]["number"]
    );
    Ok(())
}
