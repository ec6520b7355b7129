//! The blocking facade (feature `blocking`): the same builders, `send_blocking()` instead of
//! `.await`, no async runtime in your code.
//!
//! `cargo xtask demo` runs it; against your own cluster:
//! `ES_URL=http://localhost:9200 cargo run -p es-api --features blocking --example blocking`.

use es_api::response::SearchResponse;
use es_api::{Client, ErrorExt};
use serde_json::{Value, json};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let url = std::env::var("ES_URL").unwrap_or_else(|_| "http://localhost:9200".into());
    let client = Client::from_url(&url)?;
    let index = "example-blocking";
    client
        .indices()
        .delete(index)
        .ignore_status([404])
        .send_blocking()?;

    client
        .index(index)
        .id("1")
        .refresh(true)
        .body(json!({"title": "written without async"}))
        .send_blocking()?;
    let exists = client.exists(index, "1").send_blocking()?;
    let found: SearchResponse<Value> = client
        .search()
        .index(index)
        .body(json!({"query": {"match": {"title": "async"}}}))
        .send_blocking()?
        .json()?;
    println!("exists: {exists}; hits: {}", found.hits.hits.len());
    match client.get(index, "2").send_blocking() {
        Err(e) if e.is_not_found() => println!("document 2: not found"),
        other => println!("document 2: {other:?}"),
    }
    Ok(())
}
