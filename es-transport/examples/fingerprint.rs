//! Pin the certificate by its SHA-256 fingerprint (elasticsearch-py: `ssl_assert_fingerprint=`),
//! e.g. the "HTTP CA certificate SHA-256 fingerprint" Elasticsearch 8 prints at first start, or
//! `openssl x509 -fingerprint -sha256 -noout -in http_ca.crt`. No CA file is needed.
//!
//! ```text
//! ES_URL=https://localhost:9200 ES_FINGERPRINT=E8:3C:...:9B ES_PASSWORD=... cargo run -p es-transport --example fingerprint
//! ```

use es_transport::{Request, Transport};

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    tracing_subscriber::fmt()
        .with_env_filter(std::env::var("RUST_LOG").unwrap_or_else(|_| "warn".into()))
        .init();
    let url = std::env::var("ES_URL").unwrap_or_else(|_| "https://localhost:9200".into());
    let transport = Transport::builder(url.as_str())
        .ssl_assert_fingerprint(std::env::var("ES_FINGERPRINT").map_err(|_| "set ES_FINGERPRINT")?)
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
