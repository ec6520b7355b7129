//! Index a few documents, refresh, and search with highlighting, reading the hits as a typed
//! struct.
//!
//! `cargo xtask demo` runs it against a test server it starts; against your own cluster:
//! `ES_URL=http://localhost:9200 cargo run -p es-api --example search_highlight`.

use es_api::Client;
use es_api::response::SearchResponse;
use serde::{Deserialize, Serialize};
use serde_json::json;

#[derive(Debug, Serialize, Deserialize)]
struct Article {
    title: String,
    body: String,
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let url = std::env::var("ES_URL").unwrap_or_else(|_| "http://localhost:9200".into());
    let client = Client::from_url(&url)?;
    let index = "example-articles";
    client.indices().delete(index).ignore_status([404]).await?;

    let articles = [
        (
            "1",
            "Rust for search",
            "Elasticsearch clients written in Rust are fast.",
        ),
        (
            "2",
            "Python tips",
            "The Python client has helpers for bulk and scan.",
        ),
        (
            "3",
            "Typed search",
            "Typed hits make Rust search code safe.",
        ),
    ];
    for (id, title, body) in articles {
        let doc = Article {
            title: title.into(),
            body: body.into(),
        };
        client.index(index).id(id).body(&doc).await?;
    }
    // Searches see what the last refresh made visible: refresh before searching.
    client.indices().refresh().index(index).await?;

    let found: SearchResponse<Article> = client
        .search()
        .index(index)
        .body(json!({
            "query": {"match": {"body": "rust"}},
            "highlight": {"fields": {"body": {}}, "pre_tags": ["["], "post_tags": ["]"]}
        }))
        .await?
        .json()?;
    let total = found.hits.total.as_ref().map_or(0, |t| t.value);
    println!("{total} articles match \"rust\"");
    for hit in &found.hits.hits {
        let title = hit.source.as_ref().map_or("?", |a| a.title.as_str());
        let fragments = hit
            .highlight
            .as_ref()
            .and_then(|h| h.get("body"))
            .map(|f| f.join(" … "))
            .unwrap_or_default();
        println!("- {title}: {fragments}");
    }
    assert_eq!(total, 2, "two bodies mention rust");
    Ok(())
}
