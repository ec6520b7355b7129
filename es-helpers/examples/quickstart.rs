//! The README's quick start: create an index, bulk-load, search, scan.
//!
//! `ES_URL=http://localhost:9200 cargo run -p es-helpers --example quickstart`

use es_api::Client;
use es_api::response::SearchResponse;
use es_helpers::bulk::{Bulk, BulkAction};
use es_helpers::scan::Scan;
use futures_util::StreamExt;
use serde_json::{Value, json};

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let url = std::env::var("ES_URL").unwrap_or_else(|_| "http://localhost:9200".into());
    let client = Client::from_url(&url)?;
    let _ = client
        .indices()
        .delete("books")
        .ignore_status([404])
        .await?;
    client
        .indices()
        .create("books")
        .body(json!({"mappings": {"properties": {"title": {"type": "text"}}}}))
        .await?;

    // Bulk: any iterator or stream of actions, chunked, 4 requests in flight, 429s retried.
    let docs = (0..10_000)
        .map(|i| BulkAction::index(json!({"title": format!("book {i}")})).id(i.to_string()));
    let summary = Bulk::new(&client)
        .index("books")
        .concurrency(4)
        .refresh(true)
        .run_iter(docs)
        .await?;
    println!(
        "{} indexed, {} failed",
        summary.succeeded(),
        summary.failed()
    );

    let found: SearchResponse<Value> = client
        .search()
        .index("books")
        .body(json!({"query": {"match": {"title": "book"}}}))
        .await?
        .json()?;
    println!("{} hits", found.hits.total.map_or(0, |t| t.value));

    // Scan the whole index (scroll, or point in time + search_after with slices).
    let mut hits = Scan::new(&client, "books").size(1000).stream::<Value>();
    let mut n = 0;
    while let Some(hit) = hits.next().await {
        hit?;
        n += 1;
    }
    println!("scanned {n} documents");
    Ok(())
}
