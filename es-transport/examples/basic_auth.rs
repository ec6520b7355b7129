//! HTTP basic authentication (elasticsearch-py: `basic_auth=("elastic", "<password>")`, or
//! `"https://elastic:<password>@localhost:9200"`).
//!
//! ```text
//! ES_URL=https://localhost:9200 ES_CA_CERTS=http_ca.crt ES_USER=elastic ES_PASSWORD=... \
//!     cargo run -p es-transport --example basic_auth
//! ```

use es_transport::{Request, Transport};

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    tracing_subscriber::fmt()
        .with_env_filter(std::env::var("RUST_LOG").unwrap_or_else(|_| "warn".into()))
        .init();
    let url = std::env::var("ES_URL").unwrap_or_else(|_| "https://localhost:9200".into());
    let (user, password) = (
        std::env::var("ES_USER").unwrap_or_else(|_| "elastic".into()),
        std::env::var("ES_PASSWORD").map_err(|_| "set ES_PASSWORD")?,
    );
    let mut builder = Transport::builder(url.as_str()).basic_auth(user, password);
    if let Ok(ca) = std::env::var("ES_CA_CERTS") {
        builder = builder.ca_certs_file(ca);
    }
    let transport = builder.build()?;
    // The same credentials in the URL work too (percent-encode special characters):
    // Transport::new("https://elastic:p%40ssword@localhost:9200")

    let info: serde_json::Value = transport.send(Request::get("/")).await?.json()?;
    println!(
        "connected to cluster {} (version {})",
        info["cluster_name"], info["version"]["number"]
    );
    Ok(())
}
