//! The body of `bulk`: per-item results.

use std::fmt;

use serde::de::{self, MapAccess, Visitor};
use serde::{Deserialize, Deserializer, Serialize};

use super::{ErrorCause, ShardStatistics, WriteResult};

/// The body of `bulk`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
#[non_exhaustive]
pub struct BulkResponse {
    /// Milliseconds the request took on the server.
    pub took: u64,
    /// True if at least one item failed.
    pub errors: bool,
    /// One entry per action, in request order.
    pub items: Vec<BulkItem>,
}

impl BulkResponse {
    /// The items that failed.
    pub fn failed(&self) -> impl Iterator<Item = &BulkItem> {
        self.items.iter().filter(|i| i.result.error.is_some())
    }
}

/// The action of a bulk item.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
#[non_exhaustive]
pub enum BulkOperation {
    /// `index`
    Index,
    /// `create`
    Create,
    /// `update`
    Update,
    /// `delete`
    Delete,
}

/// One bulk item: its action and result (`{"index": {...}}` on the wire, both ways).
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct BulkItem {
    /// The action.
    pub operation: BulkOperation,
    /// Its result.
    pub result: BulkItemResult,
}

impl Serialize for BulkItem {
    /// As Elasticsearch writes it: `{"<operation>": <result>}` (found by `cargo fuzz`: the
    /// derived form, `{"operation": .., "result": ..}`, did not read back).
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let mut m = s.serialize_map(Some(1))?;
        m.serialize_entry(&self.operation, &self.result)?;
        m.end()
    }
}

impl<'de> Deserialize<'de> for BulkItem {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct ItemVisitor;
        impl<'de> Visitor<'de> for ItemVisitor {
            type Value = BulkItem;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a map with one key: index, create, update or delete")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<BulkItem, A::Error> {
                let (operation, result) = map
                    .next_entry::<BulkOperation, BulkItemResult>()?
                    .ok_or_else(|| de::Error::custom("empty bulk item"))?;
                Ok(BulkItem { operation, result })
            }
        }
        d.deserialize_map(ItemVisitor)
    }
}

/// The result of one bulk action.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
#[non_exhaustive]
pub struct BulkItemResult {
    /// Index.
    #[serde(rename = "_index")]
    pub index: String,
    /// Document id.
    #[serde(rename = "_id")]
    pub id: Option<String>,
    /// HTTP status of this item.
    pub status: u16,
    /// What happened, when it succeeded.
    pub result: Option<WriteResult>,
    /// Why it failed.
    pub error: Option<ErrorCause>,
    /// New version.
    #[serde(rename = "_version")]
    pub version: Option<i64>,
    /// Sequence number.
    #[serde(rename = "_seq_no")]
    pub seq_no: Option<i64>,
    /// Primary term.
    #[serde(rename = "_primary_term")]
    pub primary_term: Option<i64>,
    /// Shards written.
    #[serde(rename = "_shards")]
    pub shards: Option<ShardStatistics>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_item_is_written_as_it_is_read() {
        let body = r#"{"took":3,"errors":false,"items":[{"create":{"_index":"i","_id":"7","status":201,"result":"created","_version":1}}]}"#;
        let r: BulkResponse = serde_json::from_str(body).unwrap();
        let again = serde_json::to_value(&r).unwrap();
        assert_eq!(again["items"][0]["create"]["_id"], "7");
        assert_eq!(again["items"][0]["create"]["status"], 201);
        let back: BulkResponse = serde_json::from_value(again).unwrap();
        assert_eq!(back, r);
    }

    #[test]
    fn reads_items_with_their_operation() {
        let r: BulkResponse = serde_json::from_str(
            r#"{"took":5,"errors":true,"items":[
              {"index":{"_index":"i","_id":"1","_version":1,"result":"created","status":201}},
              {"create":{"_index":"i","_id":"1","status":409,"error":{"type":"version_conflict_engine_exception","reason":"exists"}}},
              {"delete":{"_index":"i","_id":"2","result":"not_found","status":404}}]}"#,
        )
        .unwrap();
        assert_eq!(r.items.len(), 3);
        assert_eq!(r.items[0].operation, BulkOperation::Index);
        assert_eq!(r.items[0].result.result, Some(WriteResult::Created));
        assert_eq!(r.items[1].result.status, 409);
        assert_eq!(r.failed().count(), 1);
        assert_eq!(r.items[2].result.result, Some(WriteResult::NotFound));
    }
}
