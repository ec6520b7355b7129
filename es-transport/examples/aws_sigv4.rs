//! Amazon OpenSearch Service / OpenSearch Serverless with AWS SigV4 request signing (the seed
//! uses `requests-aws4auth`'s `AWS4Auth(access_key, secret_key, region, "es")` or opensearch-py's
//! `AWSV4SignerAuth(credentials, region, service)`). Needs the `aws` feature.
//!
//! ```text
//! ES_URL=https://search-my-domain-abc123.us-east-1.es.amazonaws.com AWS_REGION=us-east-1 \
//!   AWS_ACCESS_KEY_ID=... AWS_SECRET_ACCESS_KEY=... [AWS_SESSION_TOKEN=...] [AWS_SERVICE=aoss] \
//!   cargo run -p es-transport --features aws --example aws_sigv4
//! ```
//!
//! For credentials that expire (STS, instance roles, SSO), pass the AWS SDK's provider:
//! `aws_config::load_defaults(..).await.credentials_provider()` is a
//! [`es_transport::aws::SharedCredentialsProvider`].

use es_transport::aws::{Credentials, SharedCredentialsProvider, SigV4Layer};
use es_transport::{Request, Transport};

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    tracing_subscriber::fmt()
        .with_env_filter(std::env::var("RUST_LOG").unwrap_or_else(|_| "warn".into()))
        .init();
    let url = std::env::var("ES_URL").map_err(|_| "set ES_URL")?;
    let credentials = Credentials::new(
        std::env::var("AWS_ACCESS_KEY_ID").map_err(|_| "set AWS_ACCESS_KEY_ID")?,
        std::env::var("AWS_SECRET_ACCESS_KEY").map_err(|_| "set AWS_SECRET_ACCESS_KEY")?,
        std::env::var("AWS_SESSION_TOKEN").ok(),
        None,
        "environment",
    );
    let signer = SigV4Layer::new(
        std::env::var("AWS_REGION").unwrap_or_else(|_| "us-east-1".into()),
        SharedCredentialsProvider::new(credentials),
    )
    .service(std::env::var("AWS_SERVICE").unwrap_or_else(|_| "es".into()));
    let transport = Transport::builder(url.as_str())
        .aws_sigv4(signer)
        // The signature covers the gzipped bytes: signing runs after compression.
        .http_compress(true)
        .product_check(false) // Amazon OpenSearch does not send X-Elastic-Product
        .build()?;

    let info: serde_json::Value = transport.send(Request::get("/")).await?.json()?;
    println!(
        "connected to cluster {} (version {})",
        info["cluster_name"], info["version"]["number"]
    );
    Ok(())
}
