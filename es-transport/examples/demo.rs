//! Demo: index a few documents and search them through the transport.
//!
//! `cargo xtask demo` starts a test server and runs this with `ES_URL` set;
//! to use your own cluster: `ES_URL=http://localhost:9200 cargo run -p es-transport --example demo`.

use es_transport::{Request, Transport};
use serde_json::{Value, json};

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    tracing_subscriber::fmt()
        .with_env_filter(std::env::var("RUST_LOG").unwrap_or_else(|_| "warn".into()))
        .init();
    let url = std::env::var("ES_URL").unwrap_or_else(|_| "http://localhost:9200".into());
    let transport = Transport::builder(url.as_str())
        .http_compress(true)
        .build()?;
    let ser = transport.serializer_arc();

    let info: Value = transport.send(Request::get("/")).await?.json()?;
    println!(
        "connected to {} {}",
        info["version"]["distribution"]
            .as_str()
            .unwrap_or("elasticsearch"),
        info["version"]["number"]
    );

    // Start clean, ignoring "index not found".
    transport
        .send(
            Request::delete("/demo-books")
                .with_options(es_transport::RequestOptions::new().ignore_status([404])),
        )
        .await?;
    let mapping = json!({"mappings": {"properties": {"title": {"type": "text"}, "year": {"type": "integer"}}}});
    transport
        .send(Request::put("/demo-books").with_json_body(ser.to_vec(&mapping)?))
        .await?;

    let books = [
        ("1", "The Rust Programming Language", 2018),
        ("2", "Programming Rust", 2021),
        ("3", "Elasticsearch: The Definitive Guide", 2015),
        ("4", "Relevant Search", 2016),
    ];
    let mut bulk = Vec::new();
    for (id, title, year) in books {
        ser.ndjson_line(
            &json!({"index": {"_index": "demo-books", "_id": id}}),
            &mut bulk,
        )?;
        ser.ndjson_line(&json!({"title": title, "year": year}), &mut bulk)?;
    }
    let resp: Value = transport
        .send(Request::post("/_bulk?refresh=true").with_ndjson_body(bulk))
        .await?
        .json()?;
    println!(
        "indexed {} documents (errors: {})",
        resp["items"].as_array().map_or(0, Vec::len),
        resp["errors"]
    );

    let query = json!({"query": {"match": {"title": "rust"}}, "sort": [{"year": "asc"}]});
    let resp = transport
        .send(Request::post("/demo-books/_search").with_json_body(ser.to_vec(&query)?))
        .await?;
    let hits: Value = resp.json()?;
    println!(
        "search for \"rust\": {} hits from {} in {:?}",
        hits["hits"]["total"]["value"],
        resp.meta().node(),
        resp.meta().duration()
    );
    for hit in hits["hits"]["hits"].as_array().into_iter().flatten() {
        println!(
            "  {} ({})",
            hit["_source"]["title"].as_str().unwrap_or("?"),
            hit["_source"]["year"]
        );
    }
    Ok(())
}
