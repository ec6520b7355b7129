//! Connect to Elastic Cloud with a Cloud ID (elasticsearch-py: `cloud_id="cluster-1:dXMa5Fx..."`),
//! with basic auth or an API key. A Cloud ID implies https, request compression on and
//! sniffing off; later builder calls can override those.
//!
//! ```text
//! ES_CLOUD_ID='my-deployment:dXMtZWFzdC0x...' ES_API_KEY_ENCODED=... cargo run -p es-transport --example cloud_id
//! ES_CLOUD_ID='my-deployment:dXMtZWFzdC0x...' ES_USER=elastic ES_PASSWORD=... cargo run -p es-transport --example cloud_id
//! ```

use es_transport::{CloudId, Credentials, Request, Transport};

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    tracing_subscriber::fmt()
        .with_env_filter(std::env::var("RUST_LOG").unwrap_or_else(|_| "warn".into()))
        .init();
    let cloud_id = std::env::var("ES_CLOUD_ID").map_err(|_| "set ES_CLOUD_ID")?;
    println!(
        "deployment endpoint: {}",
        CloudId::parse(&cloud_id)?.es_url()
    );
    let builder = Transport::builder_from_cloud_id(&cloud_id);
    let builder = match std::env::var("ES_API_KEY_ENCODED") {
        Ok(key) => builder.auth(Credentials::encoded_api_key(key)),
        Err(_) => builder.basic_auth(
            std::env::var("ES_USER").unwrap_or_else(|_| "elastic".into()),
            std::env::var("ES_PASSWORD").map_err(|_| "set ES_PASSWORD")?,
        ),
    };
    let transport = builder.build()?;

    let info: serde_json::Value = transport.send(Request::get("/")).await?.json()?;
    println!(
        "connected to cluster {} (version {})",
        info["cluster_name"], info["version"]["number"]
    );
    Ok(())
}
