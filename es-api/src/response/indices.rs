//! `indices.create`, `indices.delete` (and other acknowledged answers), `indices.get_mapping`,
//! `indices.refresh`.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::ShardStatistics;

/// The body of `indices.create`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
#[non_exhaustive]
pub struct CreateIndexResponse {
    /// The cluster state was updated.
    pub acknowledged: bool,
    /// The required shard copies started in time.
    pub shards_acknowledged: bool,
    /// The index name.
    pub index: String,
}

/// `{"acknowledged": true}`: `indices.delete`, `indices.put_mapping`, `indices.put_settings`, …
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
#[non_exhaustive]
pub struct AcknowledgedResponse {
    /// The cluster state was updated.
    pub acknowledged: bool,
}

/// The mappings of one index.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
#[non_exhaustive]
pub struct IndexMappings {
    /// The mapping (`properties`, `dynamic`, …), as JSON.
    pub mappings: Value,
}

/// The body of `indices.get_mapping`: index name → mappings.
pub type GetMappingResponse = BTreeMap<String, IndexMappings>;

/// The body of `indices.refresh`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
#[non_exhaustive]
pub struct RefreshResponse {
    /// Shards refreshed.
    #[serde(rename = "_shards")]
    pub shards: ShardStatistics,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_index_answers() {
        let c: CreateIndexResponse =
            serde_json::from_str(r#"{"acknowledged":true,"shards_acknowledged":true,"index":"i"}"#)
                .unwrap();
        assert_eq!(c.index, "i");
        let m: GetMappingResponse =
            serde_json::from_str(r#"{"i":{"mappings":{"properties":{"t":{"type":"text"}}}}}"#)
                .unwrap();
        assert_eq!(m["i"].mappings["properties"]["t"]["type"], "text");
        let r: RefreshResponse =
            serde_json::from_str(r#"{"_shards":{"total":2,"successful":1,"failed":0}}"#).unwrap();
        assert_eq!(r.shards.successful, 1);
    }
}
