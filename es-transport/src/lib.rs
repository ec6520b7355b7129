//! A pooled, failing-over, sniffing HTTP transport for Elasticsearch.
//!
//! The transport knows nothing of endpoints: it sends [`Request`]s (method, path, body) to
//! a pool of nodes and gives back complete [`Response`]s. What it does for each request:
//!
//! - picks a live node (round-robin on a shuffled list by default), over persistent
//!   keep-alive connections, at most [`TransportBuilder::connections_per_node`] per node;
//! - marks a node dead on a connection error for `min(factor·2^(n-1), max)` and brings it back
//!   when that time ends;
//! - retries on another node (connection errors; timeouts if enabled; 429/502/503/504 after
//!   a jittered backoff honouring `Retry-After`);
//! - sniffs the cluster's nodes on start, on an interval, after a failure (see [`sniff`]
//!   for when not to);
//! - gzips bodies, sets headers and credentials, logs with `tracing` (targets
//!   `elasticsearch` and, as curl commands, `elasticsearch.trace`), counts per node.
//!
//! # Example
//! ```no_run
//! # async fn run() -> es_transport::Result<()> {
//! use es_transport::{Request, Transport};
//!
//! let transport = Transport::new("http://localhost:9200")?;
//! let resp = transport
//!     .send(Request::put("/my-index/_doc/1?refresh=true").with_json_body(r#"{"title":"hello"}"#))
//!     .await?;
//! assert!(resp.status().is_success());
//! # Ok(()) }
//! ```
//!
//! # Crate organization
//! - [`Transport`], [`TransportBuilder`]: the façade.
//! - [`Request`], [`RequestOptions`], [`Response`], [`Error`]: what goes in and out.
//! - [`layer`]: the tower layers, one concern each, and their order.
//! - [`SelectNode`], [`Serializer`], [`Clock`]: the extension points.
#![cfg_attr(docsrs, feature(doc_cfg))]

#[cfg(feature = "aws")]
pub mod aws;
pub mod layer;
pub mod redact;
pub mod sniff;

#[cfg(any(test, feature = "fuzzing"))]
#[doc(hidden)]
pub mod fuzz_entry;
#[cfg(test)]
mod fuzz_tests;

mod auth;
mod cloud;
mod conn;
mod error;
mod metrics;
mod node;
mod pool;
mod request;
mod response;
mod serializer;
mod time;
#[cfg(feature = "rustls")]
mod tls;
mod transport;

pub use auth::Credentials;
pub use cloud::CloudId;
pub use error::{ApiError, Error, ErrorKind, Result};
pub use metrics::NodeStats;
pub use node::{IntoNodeUrls, NodeUrl};
pub use pool::{Random, RoundRobin, SelectNode};
pub use request::{Request, RequestOptions};
pub use response::{Response, ResponseMeta};
pub use serializer::{JsonSerializer, Serializer};
pub use sniff::SniffedNode;
pub use time::{Clock, ManualClock, SystemClock, civil_from_days};
#[cfg(feature = "rustls")]
pub use tls::TlsOptions;
pub use transport::{BoxedService, SendGetBodyAs, Transport, TransportBuilder};

pub use bytes::Bytes;
pub use http;
