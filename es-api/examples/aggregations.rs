//! Aggregations: a terms aggregation with an average per bucket, and a stats aggregation,
//! read from the response without fetching hits (`size: 0`).
//!
//! `cargo xtask demo` runs it; against your own cluster:
//! `ES_URL=http://localhost:9200 cargo run -p es-api --example aggregations`.
//! (es-dsl's `Agg` builder and typed results do the same with types: `es-dsl/examples`.)

use es_api::Client;
use es_api::response::SearchResponse;
use serde_json::{Value, json};

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let url = std::env::var("ES_URL").unwrap_or_else(|_| "http://localhost:9200".into());
    let client = Client::from_url(&url)?;
    let index = "example-sales";
    client.indices().delete(index).ignore_status([404]).await?;
    client
        .indices()
        .create(index)
        .body(json!({"mappings": {"properties": {
            "shop": {"type": "keyword"}, "amount": {"type": "double"}
        }}}))
        .await?;
    let sales = [
        ("north", 10.0),
        ("north", 30.0),
        ("south", 5.0),
        ("south", 7.0),
        ("west", 100.0),
    ];
    let mut lines = Vec::new();
    for (shop, amount) in sales {
        lines.push(json!({"index": {}}));
        lines.push(json!({"shop": shop, "amount": amount}));
    }
    // `refresh(true)`: the documents are searchable when the call returns.
    client
        .bulk()
        .index(index)
        .refresh(true)
        .body(&lines)
        .await?;

    let resp: SearchResponse = client
        .search()
        .index(index)
        .body(json!({
            "size": 0,
            "aggs": {
                "by_shop": {
                    "terms": {"field": "shop", "order": {"_key": "asc"}},
                    "aggs": {"avg_amount": {"avg": {"field": "amount"}}}
                },
                "amounts": {"stats": {"field": "amount"}}
            }
        }))
        .await?
        .json()?;
    let aggs = resp.aggregations.unwrap_or_default();
    for bucket in aggs["by_shop"]["buckets"].as_array().into_iter().flatten() {
        println!(
            "{:>6}: {} sales, average {}",
            bucket["key"].as_str().unwrap_or("?"),
            bucket["doc_count"],
            bucket["avg_amount"]["value"]
        );
    }
    let stats: &Value = &aggs["amounts"];
    println!(
        "all sales: count {} sum {} max {}",
        stats["count"], stats["sum"], stats["max"]
    );
    assert_eq!(stats["count"], json!(5));
    Ok(())
}
