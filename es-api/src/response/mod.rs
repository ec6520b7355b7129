//! What `send()` answers: [`Response`] (status, headers, meta, body readers), and typed
//! bodies for the core endpoints to read with [`Response::json`].
//!
//! The typed bodies are lenient: missing fields take their defaults, unknown fields are
//! ignored, so they read answers from servers that send less (or more) than Elasticsearch.

mod bulk;
mod cat;
mod cluster;
mod document;
mod indices;
mod info;
mod search;

use std::time::Duration;

use bytes::Bytes;
use http::{HeaderMap, StatusCode};
use serde::de::DeserializeOwned;

pub use bulk::{BulkItem, BulkItemResult, BulkOperation, BulkResponse};
pub use cat::CatRows;
pub use cluster::{ClusterHealthResponse, HealthStatus};
pub use document::{ErrorCause, GetResponse, MgetResponse, WriteResponse, WriteResult};
pub use indices::{
    AcknowledgedResponse, CreateIndexResponse, GetAliasResponse, GetMappingResponse,
    GetSettingsResponse, IndexAliases, IndexMappings, IndexSettings, RefreshResponse,
};
pub use info::{InfoResponse, VersionInfo};
pub use search::{
    ByQueryResponse, ClearScrollResponse, ClosePointInTimeResponse, CountResponse, Hit,
    HitsMetadata, MsearchItem, MsearchResponse, OpenPointInTimeResponse, SearchResponse,
    ShardStatistics, TotalHits, TotalHitsRelation,
};

use crate::Result;

/// A response: status, headers, the node that answered, and the complete body.
///
/// Statuses >= 400 only arrive here when ignored (`.ignore_status([404])`); otherwise
/// `send()` answers an error.
#[derive(Debug, Clone)]
pub struct Response {
    inner: es_transport::Response,
}

impl Response {
    pub(crate) fn new(inner: es_transport::Response) -> Self {
        Response { inner }
    }

    /// The status.
    pub fn status(&self) -> StatusCode {
        self.inner.status()
    }

    /// The headers.
    pub fn headers(&self) -> &HeaderMap {
        self.inner.headers()
    }

    /// The node that answered (its URL).
    pub fn node(&self) -> &str {
        self.inner.meta().node()
    }

    /// How long the request took, retries included.
    pub fn duration(&self) -> Duration {
        self.inner.meta().duration()
    }

    /// How many attempts were made.
    pub fn attempts(&self) -> u32 {
        self.inner.meta().attempts()
    }

    /// Node, attempts and duration together.
    pub fn meta(&self) -> &es_transport::ResponseMeta {
        self.inner.meta()
    }

    /// The body bytes (already decompressed).
    pub fn bytes(&self) -> &Bytes {
        self.inner.body()
    }

    /// The body bytes, owned.
    pub fn into_bytes(self) -> Bytes {
        self.inner.into_body()
    }

    /// The body as text (invalid UTF-8 replaced).
    pub fn text(&self) -> String {
        self.inner.text()
    }

    /// The body deserialized as `T`, e.g. [`SearchResponse<MyDoc>`] or `serde_json::Value`.
    ///
    /// # Errors
    /// `ErrorKind::Serialization` when the body is not a valid `T`.
    pub fn json<T: DeserializeOwned>(&self) -> Result<T> {
        self.inner.json()
    }

    /// The transport's response.
    pub fn into_inner(self) -> es_transport::Response {
        self.inner
    }
}
