//! Typed query, aggregation and search builders for Elasticsearch: what
//! `elasticsearch.dsl` is to Python users, over the specification's generated types
//! ([`es_api::types`]).
//!
//! - [`Query`]: constructors for the common kinds (`Query::match_`, `term`, `range`,
//!   `bool`, …), any generated query type through `From`, [`Query::raw`] for JSON, and the
//!   `&`, `|`, `!` operators with elasticsearch-dsl's merging rules.
//! - [`Agg`]: aggregations with sub-aggregations by name and pipeline aggregations by bucket
//!   path.
//! - [`Search<T>`]: the search request as a value; [`Search::execute`] sends it and reads
//!   hits as `T` and aggregation results as the typed [`es_api::types::aggregations::Aggregate`].
//!
//! ```no_run
//! # async fn run() -> Result<(), es_dsl::Error> {
//! use es_dsl::{Agg, Query, Search, Sort};
//! use es_dsl::es_api::types::aggregations::Aggregate;
//!
//! #[derive(serde::Deserialize)]
//! struct Post {
//!     title: String,
//! }
//!
//! let client = es_dsl::es_api::Client::from_url("http://localhost:9200")?;
//! let response = Search::<Post>::new()
//!     .index("blog-posts")
//!     .query(Query::match_("title", "rust") | Query::match_("title", "tokio"))
//!     .filter(Query::range("published").gte("now-1y/d"))
//!     .agg("by_tag", Agg::terms("tags").size(10))
//!     .sort("-published")
//!     .size(20)
//!     .execute(&client)
//!     .await?;
//! for post in response.documents() {
//!     println!("{}", post.title);
//! }
//! if let Some(Aggregate::StringTerms(tags)) = response.aggregation("by_tag") {
//!     println!("{:?}", tags.buckets);
//! }
//! # Ok(())
//! # }
//! ```

pub use es_api;

mod agg;
mod error;
mod query;
mod search;

pub use agg::{Agg, Terms};
pub use error::{Error, ErrorKind};
pub use query::{Bool, Query, Range};
pub use search::{Response, Search, Sort};
