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
//!   hits as `T` and the aggregation results typed ([`SearchResults`], [`Aggs`]).
//!
//! ```no_run
//! # async fn run() -> Result<(), es_dsl::Error> {
//! use es_dsl::{Agg, Query, Search, Sort};
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
//! for tag in response.aggs().terms("by_tag")? {
//!     println!("{}: {}", tag.key, tag.doc_count);
//! }
//! # Ok(())
//! # }
//! ```
#![cfg_attr(docsrs, feature(doc_cfg))]

pub use es_api;

mod agg;
mod document;
mod error;
mod faceted;
mod index;
pub mod mapping;
mod ops;
mod query;
mod results;
mod script;
mod search;

pub use agg::{Agg, Terms};
pub use document::{Doc, DocSave, DocUpdate, Document, Save, refresh};
pub use error::{Error, ErrorKind};
/// `#[derive(Document)]`: see [`Document`] (feature `derive`, on by default).
#[cfg(feature = "derive")]
pub use es_dsl_derive::Document;
/// `#[derive(InnerDoc)]`: a struct stored inside documents (an `object`, or `nested` with
/// `#[es(nested)]` on the field holding it).
#[cfg(feature = "derive")]
pub use es_dsl_derive::InnerDoc;
pub use faceted::{Facet, FacetValue, FacetedResults, FacetedSearch};
pub use index::{Index, Migration};
pub use mapping::FieldPath;
pub use ops::{MultiSearch, MultiSearchResults, Slot, UpdateByQuery};
pub use query::{Bool, Query, Range};
pub use results::{Aggs, Bucket, SearchResults};
pub use script::InlineScript;
/// The iterator of [`Search::scan_blocking`] (feature `blocking`).
#[cfg(feature = "blocking")]
pub use search::ScanIter;
pub use search::{Search, Sort};
