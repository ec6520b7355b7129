//! Search, msearch, scroll, count, clear scroll, open/close point in time, and the
//! by-query answers (`delete_by_query`, `update_by_query`, `reindex`).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::ErrorCause;

/// The body of `search` and `scroll`, with hits' `_source` read as `T`.
///
/// Aggregations are kept as JSON (`es-dsl` reads them typed).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(bound(deserialize = "T: Deserialize<'de>"))]
#[non_exhaustive]
pub struct SearchResponse<T = Value> {
    /// Milliseconds the search took on the server.
    #[serde(default)]
    pub took: u64,
    /// True if the search timed out (partial results).
    #[serde(default)]
    pub timed_out: bool,
    /// Shards that answered.
    #[serde(rename = "_shards", default)]
    pub shards: ShardStatistics,
    /// The hits.
    #[serde(default = "HitsMetadata::empty")]
    pub hits: HitsMetadata<T>,
    /// Aggregation results by name, as JSON.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub aggregations: Option<Map<String, Value>>,
    /// Suggestions, as JSON.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub suggest: Option<Value>,
    /// The scroll id, when scrolling.
    #[serde(
        rename = "_scroll_id",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub scroll_id: Option<String>,
    /// The point in time id, when searching a point in time.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pit_id: Option<String>,
    /// True if the search stopped early (`terminate_after`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub terminated_early: Option<bool>,
}

/// The `hits` object.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(bound(deserialize = "T: Deserialize<'de>"))]
#[non_exhaustive]
pub struct HitsMetadata<T = Value> {
    /// The total, absent with `track_total_hits: false`.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "total_hits"
    )]
    pub total: Option<TotalHits>,
    /// Best score.
    #[serde(default)]
    pub max_score: Option<f64>,
    /// This page of hits.
    #[serde(default = "Vec::new")]
    pub hits: Vec<Hit<T>>,
}

impl<T> HitsMetadata<T> {
    fn empty() -> Self {
        HitsMetadata {
            total: None,
            max_score: None,
            hits: Vec::new(),
        }
    }
}

/// `total` is `{"value": n, "relation": "eq"}`, or a bare number with `rest_total_hits_as_int`.
fn total_hits<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<TotalHits>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Either {
        Object(TotalHits),
        Int(u64),
    }
    Ok(Option::<Either>::deserialize(d)?.map(|e| match e {
        Either::Object(t) => t,
        Either::Int(value) => TotalHits {
            value,
            relation: TotalHitsRelation::Eq,
        },
    }))
}

/// How many documents matched.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct TotalHits {
    /// The count (a lower bound when `relation` is `gte`).
    pub value: u64,
    /// Exact or lower bound.
    pub relation: TotalHitsRelation,
}

/// Whether [`TotalHits::value`] is exact.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
#[non_exhaustive]
pub enum TotalHitsRelation {
    /// Exact.
    Eq,
    /// At least `value`.
    Gte,
}

/// One hit.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(bound(deserialize = "T: Deserialize<'de>"))]
#[non_exhaustive]
pub struct Hit<T = Value> {
    /// Index.
    #[serde(rename = "_index", default)]
    pub index: String,
    /// Document id.
    #[serde(rename = "_id", default)]
    pub id: Option<String>,
    /// Score (absent when sorting without scores).
    #[serde(rename = "_score", default)]
    pub score: Option<f64>,
    /// The document, when `_source` is returned.
    #[serde(
        rename = "_source",
        default = "Option::default",
        skip_serializing_if = "Option::is_none"
    )]
    pub source: Option<T>,
    /// Routing.
    #[serde(rename = "_routing", default, skip_serializing_if = "Option::is_none")]
    pub routing: Option<String>,
    /// Version, with `version: true`.
    #[serde(rename = "_version", default, skip_serializing_if = "Option::is_none")]
    pub version: Option<i64>,
    /// Sequence number, with `seq_no_primary_term: true`.
    #[serde(rename = "_seq_no", default, skip_serializing_if = "Option::is_none")]
    pub seq_no: Option<i64>,
    /// Primary term, with `seq_no_primary_term: true`.
    #[serde(
        rename = "_primary_term",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub primary_term: Option<i64>,
    /// Sort values, what `search_after` continues from: present when the server sent them
    /// (a sorted search). Hits read by `es_helpers::scan` in plain scroll mode (without
    /// `preserve_order`, sorted by `_doc`) have `None` here even though the server sent
    /// values: the helper skips them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sort: Option<Vec<Value>>,
    /// Requested `fields`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fields: Option<Map<String, Value>>,
    /// Highlighted fragments by field.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub highlight: Option<BTreeMap<String, Vec<String>>>,
    /// Inner hits, as JSON.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub inner_hits: Option<Value>,
    /// Named queries that matched, as JSON.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub matched_queries: Option<Value>,
}

/// The `_shards` header of search-like responses.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
#[non_exhaustive]
pub struct ShardStatistics {
    /// Shards asked.
    pub total: u64,
    /// Shards that answered.
    pub successful: u64,
    /// Shards skipped (pre-filter).
    pub skipped: u64,
    /// Shards that failed.
    pub failed: u64,
    /// Failure details, as JSON.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub failures: Vec<Value>,
}

/// The body of `count`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
#[non_exhaustive]
pub struct CountResponse {
    /// Matching documents.
    pub count: u64,
    /// Shards that answered.
    #[serde(rename = "_shards")]
    pub shards: ShardStatistics,
}

/// The body of `clear_scroll`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
#[non_exhaustive]
pub struct ClearScrollResponse {
    /// True if the scrolls were freed.
    pub succeeded: bool,
    /// How many search contexts were freed.
    pub num_freed: u64,
}

/// The body of `open_point_in_time`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
#[non_exhaustive]
pub struct OpenPointInTimeResponse {
    /// The point in time id, for `search` bodies' `pit.id` (also read from OpenSearch's
    /// `pit_id`, the answer of `POST /{index}/_search/point_in_time`).
    #[serde(alias = "pit_id")]
    pub id: String,
    /// When the point in time was created, in milliseconds since the epoch (OpenSearch only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub creation_time: Option<i64>,
    /// Shards that answered.
    #[serde(rename = "_shards")]
    pub shards: ShardStatistics,
}

/// The body of `msearch` (and `msearch_template`), with hits' `_source` read as `T`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(bound(deserialize = "T: Deserialize<'de>"))]
#[non_exhaustive]
pub struct MsearchResponse<T = Value> {
    /// Milliseconds the whole request took on the server.
    #[serde(default)]
    pub took: u64,
    /// One answer per search, in request order.
    #[serde(default = "Vec::new")]
    pub responses: Vec<MsearchItem<T>>,
}

/// One answer of [`MsearchResponse`]: a search response, or an error with its status.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(bound(deserialize = "T: Deserialize<'de>"))]
#[non_exhaustive]
pub struct MsearchItem<T = Value> {
    /// HTTP status of this search (Elasticsearch sends it on every item).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<u16>,
    /// Why this search failed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<ErrorCause>,
    /// The search response (empty when `error` is set).
    #[serde(flatten)]
    pub response: SearchResponse<T>,
}

impl<T> MsearchItem<T> {
    /// The response, or the error of a failed search.
    pub fn result(&self) -> std::result::Result<&SearchResponse<T>, &ErrorCause> {
        match &self.error {
            Some(e) => Err(e),
            None => Ok(&self.response),
        }
    }
}

/// The body of `delete_by_query`, `update_by_query` and `reindex` (without
/// `wait_for_completion=false`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
#[non_exhaustive]
pub struct ByQueryResponse {
    /// Milliseconds the operation took.
    pub took: u64,
    /// True if a request timed out.
    pub timed_out: bool,
    /// Documents processed.
    pub total: u64,
    /// Documents deleted.
    pub deleted: u64,
    /// Documents updated.
    pub updated: u64,
    /// Documents created (`reindex`).
    pub created: u64,
    /// Scroll batches pulled.
    pub batches: u64,
    /// Version conflicts met.
    pub version_conflicts: u64,
    /// Documents the script left unchanged.
    pub noops: u64,
    /// Failures, as JSON.
    pub failures: Vec<Value>,
    /// The task id, with `wait_for_completion=false`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub task: Option<String>,
}

/// The body of `close_point_in_time`.
pub type ClosePointInTimeResponse = ClearScrollResponse;

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, Deserialize, PartialEq)]
    struct Doc {
        title: String,
    }

    #[test]
    fn reads_typed_hits_and_keeps_aggregations_as_json() {
        let body = r#"{"took":3,"timed_out":false,"_shards":{"total":1,"successful":1,"skipped":0,"failed":0},
            "hits":{"total":{"value":2,"relation":"gte"},"max_score":1.0,"hits":[
              {"_index":"i","_id":"1","_score":1.0,"_source":{"title":"a"}},
              {"_index":"i","_id":"2","_score":null,"sort":[5],"_source":{"title":"b"}}]},
            "aggregations":{"by_tag":{"buckets":[{"key":"x","doc_count":1}]}}}"#;
        let r: SearchResponse<Doc> = serde_json::from_str(body).unwrap();
        assert_eq!(
            r.hits.total,
            Some(TotalHits {
                value: 2,
                relation: TotalHitsRelation::Gte
            })
        );
        assert_eq!(r.hits.hits[1].source, Some(Doc { title: "b".into() }));
        assert_eq!(r.hits.hits[1].score, None);
        assert_eq!(
            r.aggregations.unwrap()["by_tag"]["buckets"][0]["doc_count"],
            1
        );
    }

    #[test]
    fn reads_msearch_items_and_errors() {
        let r: MsearchResponse<Doc> = serde_json::from_str(
            r#"{"took":4,"responses":[
              {"took":1,"timed_out":false,"hits":{"total":{"value":1,"relation":"eq"},"max_score":1.0,
                "hits":[{"_index":"i","_id":"1","_score":1.0,"_source":{"title":"a"}}]},"status":200},
              {"error":{"type":"index_not_found_exception","reason":"no such index [x]","index":"x"},"status":404}]}"#,
        )
        .unwrap();
        assert_eq!(r.took, 4);
        let ok = r.responses[0].result().unwrap();
        assert_eq!(ok.hits.hits[0].source, Some(Doc { title: "a".into() }));
        assert_eq!(r.responses[0].status, Some(200));
        let err = r.responses[1].result().unwrap_err();
        assert_eq!(err.error_type, "index_not_found_exception");
        assert_eq!(r.responses[1].status, Some(404));
        assert!(r.responses[1].response.hits.hits.is_empty());
    }

    #[test]
    fn reads_by_query_and_both_pit_answers() {
        let r: ByQueryResponse = serde_json::from_str(
            r#"{"took":147,"timed_out":false,"total":119,"deleted":119,"batches":1,"version_conflicts":0,
                "noops":0,"retries":{"bulk":0,"search":0},"throttled_millis":0,"requests_per_second":-1.0,
                "throttled_until_millis":0,"failures":[]}"#,
        )
        .unwrap();
        assert_eq!((r.total, r.deleted, r.updated), (119, 119, 0));
        let task: ByQueryResponse =
            serde_json::from_str(r#"{"task":"oTUltX4IQMOUUVeiohTt8A:12345"}"#).unwrap();
        assert_eq!(task.task.as_deref(), Some("oTUltX4IQMOUUVeiohTt8A:12345"));
        // Elasticsearch: `POST /{index}/_pit`.
        let es: OpenPointInTimeResponse = serde_json::from_str(
            r#"{"id":"46ToAwMDaWR5","_shards":{"total":1,"successful":1,"skipped":0,"failed":0}}"#,
        )
        .unwrap();
        assert_eq!(es.id, "46ToAwMDaWR5");
        assert_eq!(es.creation_time, None);
        // OpenSearch: `POST /{index}/_search/point_in_time`.
        let os: OpenPointInTimeResponse = serde_json::from_str(
            r#"{"pit_id":"o463QQEB","_shards":{"total":1,"successful":1,"skipped":0,"failed":0},"creation_time":1658146050064}"#,
        )
        .unwrap();
        assert_eq!(os.id, "o463QQEB");
        assert_eq!(os.creation_time, Some(1_658_146_050_064));
    }

    #[test]
    fn total_as_int_and_missing_sections() {
        let r: SearchResponse =
            serde_json::from_str(r#"{"hits":{"total":7,"hits":[]},"_scroll_id":"abc"}"#).unwrap();
        assert_eq!(r.hits.total.unwrap().value, 7);
        assert_eq!(r.scroll_id.as_deref(), Some("abc"));
        let r: SearchResponse = serde_json::from_str(r#"{"took":1}"#).unwrap();
        assert!(r.hits.hits.is_empty());
    }
}
