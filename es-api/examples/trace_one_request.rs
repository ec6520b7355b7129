//! Turn on the curl trace (target `elasticsearch.trace`) for one request only: a subscriber
//! scoped to that request's future, while the rest of the program logs as usual.
//!
//! `cargo xtask demo` runs it; against your own cluster:
//! `ES_URL=http://localhost:9200 cargo run -p es-api --example trace_one_request`.
//!
//! The trace prints the request as a curl command against `localhost:9200` (on purpose, so
//! that it can be shared and rerun anywhere), a `# node: ...` line with the node that
//! answered, and the response as `#` comments. Secret body fields are redacted.

use es_api::Client;
use serde_json::json;
use tracing::instrument::WithSubscriber;
use tracing_subscriber::EnvFilter;

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let url = std::env::var("ES_URL").unwrap_or_else(|_| "http://localhost:9200".into());
    let client = Client::from_url(&url)?;
    client
        .indices()
        .delete("example-trace")
        .ignore_status([404])
        .await?;

    // Not traced: no subscriber is set for this one.
    client
        .index("example-trace")
        .id("1")
        .refresh(true)
        .body(json!({"msg": "hello"}))
        .await?;

    // Traced: a subscriber that enables `elasticsearch.trace` at DEBUG, for this future only.
    let tracer = tracing_subscriber::fmt()
        .with_env_filter(EnvFilter::new("elasticsearch.trace=debug"))
        .with_target(false)
        .without_time()
        .finish();
    let resp = client
        .search()
        .index("example-trace")
        .body(json!({"query": {"match": {"msg": "hello"}}}))
        .send()
        .with_subscriber(tracer)
        .await?;
    println!("answered by {} with {}", resp.node(), resp.status());
    Ok(())
}
