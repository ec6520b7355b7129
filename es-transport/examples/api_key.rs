//! API key authentication (elasticsearch-py: `api_key=("id", "api_key")` or
//! `api_key="<base64 encoded>"`): sent as `Authorization: ApiKey base64(id:api_key)`.
//!
//! ```text
//! ES_URL=https://localhost:9200 ES_CA_CERTS=http_ca.crt ES_API_KEY_ID=VuaCfGcBCdbkQm-e5aOx ES_API_KEY=ui2lp2axTNmsyakw9tvNnw \
//!     cargo run -p es-transport --example api_key
//! # or, with the encoded form Kibana shows:
//! ES_URL=... ES_API_KEY_ENCODED=VnVhQ2ZHY0JDZGJrUW0tZTVhT3g6dWkybHAyYXhUTm1zeWFrdzl0dk5udw== cargo run -p es-transport --example api_key
//! ```

use es_transport::{Credentials, Request, Transport};

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    tracing_subscriber::fmt()
        .with_env_filter(std::env::var("RUST_LOG").unwrap_or_else(|_| "warn".into()))
        .init();
    let url = std::env::var("ES_URL").unwrap_or_else(|_| "https://localhost:9200".into());
    let mut builder = Transport::builder(url.as_str());
    builder = match std::env::var("ES_API_KEY_ENCODED") {
        Ok(encoded) => builder.auth(Credentials::encoded_api_key(encoded)),
        Err(_) => builder.api_key(
            std::env::var("ES_API_KEY_ID").map_err(|_| "set ES_API_KEY_ID")?,
            std::env::var("ES_API_KEY").map_err(|_| "set ES_API_KEY")?,
        ),
    };
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
