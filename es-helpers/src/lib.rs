//! Bulk, scan and reindex helpers for Elasticsearch: where applications move millions of
//! documents, fast, in bounded memory, losing nothing.
//!
//! - [`bulk::Bulk`]: chunked (by count and bytes), streaming, concurrent bulk indexing with
//!   429 retries and backoff, per-item outcomes, a summary and a progress callback
//!   (elasticsearch-py's `bulk`, `streaming_bulk` and `parallel_bulk`).
//! - [`scan::Scan`]: every hit of a query as a `Stream`, by scroll or by point in time +
//!   `search_after` (Elasticsearch's `/_pit` and OpenSearch's `/_search/point_in_time`), in
//!   parallel slices; the scroll or point in time is cleared at the end, on error, and when
//!   the stream is dropped early.
//! - [`reindex::Reindex`]: scan from one client/index, bulk into another, with an optional
//!   per-document transform.
//!
//! Every helper needs a Tokio runtime (they spawn their requests) and talks to the cluster
//! through the [`es_api::Client`]'s transport, sending raw `_bulk` / `_search` / scroll /
//! point-in-time requests, with the client's options ([`es_api::Client::options`]) and, on top
//! of them, each helper's own (`request_options`).
//!
//! # Example
//! ```no_run
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! use es_helpers::bulk::{Bulk, BulkAction};
//! use es_helpers::scan::Scan;
//! use futures_util::TryStreamExt;
//! use serde::{Deserialize, Serialize};
//!
//! #[derive(Serialize, Deserialize)]
//! struct Doc { title: String }
//!
//! let client = es_api::Client::from_url("http://localhost:9200")?;
//! let actions = (0..10_000).map(|i| BulkAction::index(Doc { title: format!("doc {i}") }).id(i.to_string()));
//! let summary = Bulk::new(&client).index("docs").concurrency(2).run_iter(actions).await?;
//! println!("{} indexed, {} failed in {:?}", summary.succeeded(), summary.failed(), summary.elapsed());
//!
//! let hits: Vec<_> = Scan::new(&client, "docs").size(1_000).stream::<Doc>().try_collect().await?;
//! assert_eq!(hits.len(), 10_000);
//! # Ok(()) }
//! ```
//!
//! # Crate organization
//! - The [`bulk`] module: [`bulk::Bulk`], [`bulk::BulkAction`], [`bulk::BulkItem`],
//!   [`bulk::BulkStream`].
//! - The [`scan`] module: [`scan::Scan`], [`scan::Hit`], [`scan::ScanStream`] (hits one by one),
//!   [`scan::ScanPages`] (a page at a time).
//! - The [`reindex`] module: [`reindex::Reindex`].
//! - The errors: [`Error`], [`ErrorKind`], [`Result`].
#![cfg_attr(docsrs, feature(doc_cfg))]

pub mod bulk;
mod error;
pub mod reindex;
pub mod scan;
mod task;

pub use error::{Error, ErrorKind, Result};
pub use es_api;

/// The one place the helpers reach the transport: switch here to take another client type.
pub(crate) fn transport_of(client: &es_api::Client) -> &es_api::es_transport::Transport {
    client.transport()
}
