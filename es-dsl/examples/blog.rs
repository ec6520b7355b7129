//! The persistence quick start (as elasticsearch-dsl's): a blog post document with nested
//! comments and a custom analyzer, saved, read, updated under optimistic concurrency, and
//! found with a faceted search.
//!
//! `ES_URL=http://localhost:9200 cargo run -p es-dsl --example blog` (or `cargo xtask demo`).

use es_dsl::es_api::Client;
use es_dsl::es_api::types::analysis::{Analyzer, CustomAnalyzer};
use es_dsl::es_api::types::indices::IndexSettingsAnalysis;
use es_dsl::{Document, Facet, FacetedSearch, InnerDoc, Query};
use indexmap::IndexMap;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Serialize, Deserialize, InnerDoc)]
struct Comment {
    #[es(keyword)]
    author: String,
    #[es(analyzer = "snowball")]
    content: String,
    stars: i32,
}

#[derive(Debug, Clone, Serialize, Deserialize, Document)]
#[es(
    index = "blog",
    replicas = 0,
    validate = "Article::check",
    analysis = "Article::analysis"
)]
struct Article {
    #[es(analyzer = "snowball", fields(raw = "keyword"))]
    title: String,
    #[es(analyzer = "snowball")]
    body: String,
    #[es(keyword)]
    tags: Vec<String>,
    published: bool,
    lines: i32,
    #[es(nested)]
    comments: Vec<Comment>,
}

impl Article {
    /// The custom analyzer the fields use, from the generated analysis types: the index is
    /// created with it by `Article::init`.
    fn analysis() -> IndexSettingsAnalysis {
        let mut analyzers = IndexMap::new();
        analyzers.insert(
            "snowball".to_string(),
            Analyzer::Custom(CustomAnalyzer {
                tokenizer: "standard".into(),
                filter: Some(vec!["lowercase".into(), "stop".into()].into()),
                ..Default::default()
            }),
        );
        IndexSettingsAnalysis {
            analyzer: Some(analyzers),
            ..Default::default()
        }
    }

    fn check(&self) -> Result<(), String> {
        if self.title.trim().is_empty() {
            return Err("an article needs a title".into());
        }
        Ok(())
    }
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let url = std::env::var("ES_URL").unwrap_or_else(|_| "http://localhost:9200".into());
    let client = Client::from_url(&url)?;
    let _ = client.indices().delete("blog").ignore_status([404]).await?;

    // The index: the custom analyzer of `#[es(analysis = ...)]` and the mapping of the
    // document type.
    Article::init(&client).await?;

    let mut first = Article {
        title: "Hello world!".into(),
        body: "Looong text about the world".into(),
        tags: vec!["test".into(), "intro".into()],
        published: true,
        lines: 1,
        comments: vec![Comment {
            author: "bob".into(),
            content: "Nice to read".into(),
            stars: 4,
        }],
    }
    .create(&client, "42")
    .await?;
    Article {
        title: "Second post".into(),
        body: "More about Rust".into(),
        tags: vec!["rust".into()],
        published: false,
        lines: 10,
        comments: vec![],
    }
    .save(&client)
    .await?;

    // Read it back, change it, save: refused if someone else saved it meanwhile.
    let read = Article::get(&client, "42").await?.expect("just saved");
    println!("read {:?} (seq_no {:?})", read.title, read.seq_no);
    first.lines += 1;
    first.save(&client).await?;
    first.refresh(&client).await?;

    // A typed search with typed field paths.
    let hits = Article::search()
        .query(Query::match_(Article::fields().title, "hello"))
        .filter(Query::nested(
            "comments",
            Query::term(Article::fields().comments.author, "bob"),
        ))
        .execute(&client)
        .await?;
    for a in hits.documents() {
        println!("found: {} ({} lines)", a.title, a.lines);
    }

    // A faceted search: tags and published, with "rust" selected.
    let faceted = FacetedSearch::<Article>::new("blog", ["title", "body"])
        .facet("tags", Facet::terms("tags", 10))
        .facet("published", Facet::terms("published", 2))
        .select("tags", "rust")
        .execute(&client)
        .await?;
    for (facet, values) in &faceted.facets {
        for v in values {
            let mark = if v.selected { "*" } else { " " };
            let label = v.label.clone().unwrap_or_else(|| v.value.to_string());
            println!("facet {facet}: {mark} {label} ({})", v.count);
        }
    }
    for a in faceted.results.documents() {
        println!("selected: {}", a.title);
    }
    Ok(())
}
