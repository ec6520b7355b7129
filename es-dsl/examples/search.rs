//! The README's DSL example: a mapping from the generated types, documents, a search with
//! a bool query, a filter, an aggregation with a sub-aggregation, and typed results.
//!
//! `ES_URL=http://localhost:9200 cargo run -p es-dsl --example search` (or `cargo xtask
//! demo`, which starts a local test server and runs it).

use es_dsl::es_api::Client;
use es_dsl::es_api::params::Refresh;
use es_dsl::es_api::types::mapping::{
    DoubleNumberProperty, KeywordProperty, Property, TextProperty, TypeMapping,
};
use es_dsl::{Agg, Query, Search, Sort};
use serde::{Deserialize, Serialize};
use serde_json::json;

#[derive(Debug, Serialize, Deserialize)]
struct Post {
    title: String,
    tags: Vec<String>,
    price: f64,
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let url = std::env::var("ES_URL").unwrap_or_else(|_| "http://localhost:9200".into());
    let client = Client::from_url(&url)?;
    let _ = client
        .indices()
        .delete("dsl-posts")
        .ignore_status([404])
        .await?;
    let mapping = TypeMapping {
        properties: Some(
            [
                ("title", Property::Text(TextProperty::default())),
                ("tags", Property::Keyword(KeywordProperty::default())),
                ("price", Property::Double(DoubleNumberProperty::default())),
            ]
            .into_iter()
            .map(|(k, v)| (k.to_string(), v))
            .collect(),
        ),
        ..Default::default()
    };
    client
        .indices()
        .create("dsl-posts")
        .body(json!({ "mappings": mapping }))
        .await?;
    let posts = [
        ("Rust async in practice", &["rust", "async"][..], 10.0),
        ("Rust ownership", &["rust"][..], 20.0),
        ("Python typing", &["python"][..], 30.0),
    ];
    for (i, (title, tags, price)) in posts.into_iter().enumerate() {
        let post = Post {
            title: title.into(),
            tags: tags.iter().map(|t| t.to_string()).collect(),
            price,
        };
        client
            .index("dsl-posts")
            .id(i.to_string())
            .body(&post)
            .refresh(Refresh::True)
            .await?;
    }

    let search = Search::<Post>::new()
        .index("dsl-posts")
        .query(Query::match_("title", "rust") | Query::match_("title", "python"))
        .filter(Query::range("price").lt(25))
        .agg(
            "by_tag",
            Agg::terms("tags")
                .size(10)
                .agg("avg_price", Agg::avg("price")),
        )
        .sort(Sort::desc("price"));
    println!("request body: {}", search.to_json());
    let results = search.execute(&client).await?;
    println!(
        "{} hits in {} ms",
        results.total().unwrap_or(0),
        results.took()
    );
    for post in results.documents() {
        println!("  {} ({:.2})", post.title, post.price);
    }
    for tag in results.aggs().terms("by_tag")? {
        let avg = tag.aggs().value("avg_price")?.unwrap_or(0.0);
        println!(
            "  tag {}: {} posts, avg price {avg:.2}",
            tag.key, tag.doc_count
        );
    }
    Ok(())
}
