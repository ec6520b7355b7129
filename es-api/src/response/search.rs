//! Search, scroll, count, clear scroll, open/close point in time.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

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
    /// Sort values (for `search_after`).
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
    /// The point in time id, for `search` bodies' `pit.id`.
    pub id: String,
    /// Shards that answered.
    #[serde(rename = "_shards")]
    pub shards: ShardStatistics,
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
    fn total_as_int_and_missing_sections() {
        let r: SearchResponse =
            serde_json::from_str(r#"{"hits":{"total":7,"hits":[]},"_scroll_id":"abc"}"#).unwrap();
        assert_eq!(r.hits.total.unwrap().value, 7);
        assert_eq!(r.scroll_id.as_deref(), Some("abc"));
        let r: SearchResponse = serde_json::from_str(r#"{"took":1}"#).unwrap();
        assert!(r.hits.hits.is_empty());
    }
}
