//! Single-document endpoints: get, mget, and the write results of index/create/update/delete.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::ShardStatistics;

/// The body of `get` (and each item of `mget`), with `_source` read as `T`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(bound(deserialize = "T: Deserialize<'de>"))]
#[non_exhaustive]
pub struct GetResponse<T = Value> {
    /// Index.
    #[serde(rename = "_index", default)]
    pub index: String,
    /// Document id.
    #[serde(rename = "_id", default)]
    pub id: String,
    /// False when the document does not exist.
    #[serde(default)]
    pub found: bool,
    /// The document.
    #[serde(
        rename = "_source",
        default = "Option::default",
        skip_serializing_if = "Option::is_none"
    )]
    pub source: Option<T>,
    /// Version.
    #[serde(rename = "_version", default, skip_serializing_if = "Option::is_none")]
    pub version: Option<i64>,
    /// Sequence number.
    #[serde(rename = "_seq_no", default, skip_serializing_if = "Option::is_none")]
    pub seq_no: Option<i64>,
    /// Primary term.
    #[serde(
        rename = "_primary_term",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub primary_term: Option<i64>,
    /// Routing.
    #[serde(rename = "_routing", default, skip_serializing_if = "Option::is_none")]
    pub routing: Option<String>,
    /// Stored fields.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fields: Option<Map<String, Value>>,
    /// For `mget` items that failed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<ErrorCause>,
}

/// The body of `mget`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(bound(deserialize = "T: Deserialize<'de>"))]
#[non_exhaustive]
pub struct MgetResponse<T = Value> {
    /// One entry per requested id, in order.
    #[serde(default = "Vec::new")]
    pub docs: Vec<GetResponse<T>>,
}

/// What a write did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum WriteResult {
    /// A new document.
    Created,
    /// An existing document was replaced or updated.
    Updated,
    /// The document was deleted.
    Deleted,
    /// Nothing to delete.
    NotFound,
    /// The update changed nothing.
    Noop,
}

/// The body of `index`, `create`, `update` and `delete`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct WriteResponse {
    /// Index.
    #[serde(rename = "_index", default)]
    pub index: String,
    /// Document id.
    #[serde(rename = "_id", default)]
    pub id: String,
    /// New version.
    #[serde(rename = "_version", default)]
    pub version: i64,
    /// What happened.
    pub result: WriteResult,
    /// Shards written.
    #[serde(rename = "_shards", default)]
    pub shards: ShardStatistics,
    /// Sequence number.
    #[serde(rename = "_seq_no", default, skip_serializing_if = "Option::is_none")]
    pub seq_no: Option<i64>,
    /// Primary term.
    #[serde(
        rename = "_primary_term",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub primary_term: Option<i64>,
    /// True if the write forced a refresh (`refresh=true`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub forced_refresh: Option<bool>,
    /// The updated document (`update` with `_source`), as JSON.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub get: Option<Value>,
}

/// An error object as the server writes it inside bodies (`error` of bulk items and mget docs).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct ErrorCause {
    /// `version_conflict_engine_exception`, …
    #[serde(rename = "type", default)]
    pub error_type: String,
    /// Human-readable reason.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// Other fields (`caused_by`, `index`, `shard`, …).
    #[serde(flatten)]
    pub other: Map<String, Value>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_write_get_and_mget() {
        let w: WriteResponse = serde_json::from_str(
            r#"{"_index":"i","_id":"1","_version":1,"result":"created","_shards":{"total":2,"successful":1,"failed":0},"_seq_no":0,"_primary_term":1}"#,
        )
        .unwrap();
        assert_eq!(w.result, WriteResult::Created);
        let g: GetResponse<Value> =
            serde_json::from_str(r#"{"_index":"i","_id":"9","found":false}"#).unwrap();
        assert!(!g.found && g.source.is_none());
        let m: MgetResponse = serde_json::from_str(
            r#"{"docs":[{"_index":"i","_id":"1","found":true,"_source":{"a":1}},{"_index":"x","_id":"2","error":{"type":"index_not_found_exception","reason":"no such index [x]","index":"x"}}]}"#,
        )
        .unwrap();
        assert_eq!(m.docs[0].source.as_ref().unwrap()["a"], 1);
        let e = m.docs[1].error.as_ref().unwrap();
        assert_eq!(e.error_type, "index_not_found_exception");
        assert_eq!(e.other["index"], "x");
    }
}
