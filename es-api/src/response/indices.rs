//! `indices.create`, `indices.delete` (and other acknowledged answers), `indices.get_mapping`,
//! `indices.get_alias`, `indices.get_settings`,
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

/// The aliases of one index.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
#[non_exhaustive]
pub struct IndexAliases {
    /// Alias name → its definition (`filter`, `routing`, `is_write_index`, …), as JSON.
    pub aliases: BTreeMap<String, Value>,
}

/// The body of `indices.get_alias`: index name → aliases.
pub type GetAliasResponse = BTreeMap<String, IndexAliases>;

/// The settings of one index.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
#[non_exhaustive]
pub struct IndexSettings {
    /// The settings (`{"index": {"number_of_shards": "1", …}}`, or flat with
    /// `flat_settings=true`), as JSON; Elasticsearch writes the values as strings.
    pub settings: Value,
    /// Default settings, with `include_defaults=true`, as JSON.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub defaults: Option<Value>,
}

/// The body of `indices.get_settings`: index name → settings.
pub type GetSettingsResponse = BTreeMap<String, IndexSettings>;

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
        let a: GetAliasResponse = serde_json::from_str(
            r#"{"i":{"aliases":{"a":{},"f":{"filter":{"term":{"t":"x"}},"is_write_index":true}}},"j":{"aliases":{}}}"#,
        )
        .unwrap();
        assert_eq!(a["i"].aliases.keys().collect::<Vec<_>>(), ["a", "f"]);
        assert_eq!(a["i"].aliases["f"]["is_write_index"], true);
        assert!(a["j"].aliases.is_empty());
        let s: GetSettingsResponse = serde_json::from_str(
            r#"{"i":{"settings":{"index":{"number_of_shards":"1"}},"defaults":{"index":{"codec":"default"}}}}"#,
        )
        .unwrap();
        assert_eq!(s["i"].settings["index"]["number_of_shards"], "1");
        assert_eq!(
            s["i"].defaults.as_ref().unwrap()["index"]["codec"],
            "default"
        );
    }
}
