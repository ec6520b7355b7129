//! Per-item outcomes of a bulk request, and their parsing from the bulk response.

use std::borrow::Cow;
use std::fmt;

use bytes::Bytes;
use serde::Deserialize;
use serde::de::{self, MapAccess, Visitor};
use serde_json::value::RawValue;

use super::action::OpType;

/// The outcome of one bulk action: what the server answered for it (or why it was not sent).
///
/// Three outcomes: succeeded ([`BulkItem::is_ok`]), failed, or **unknown**
/// ([`BulkItem::is_unknown`]): its request may have reached the server and been executed,
/// but the answer was lost (a connection cut after writing, a 502/503/504 from a gateway, a
/// timeout, an unreadable answer), and it was not resent because a resend could change the
/// outcome. An unknown item is neither counted as succeeded nor as failed
/// ([`BulkStats::unknown`](super::BulkStats::unknown)); its `error.type` is
/// `outcome_unknown`, its status that of the failed request (0 without one).
///
/// A status of 0 otherwise means the action never got an answer: it could not be
/// serialized, its request failed before reaching the server (with `raise_on_exception`
/// off), or (in a reindex) its hit had no `_source` to copy (`error.type`
/// `missing_source`); [`BulkItem::error`] says why.
#[derive(Debug, Clone)]
pub struct BulkItem {
    pub(crate) op: OpType,
    pub(crate) index: Option<String>,
    pub(crate) id: Option<String>,
    pub(crate) status: u16,
    pub(crate) ok: bool,
    /// Its request may have been executed, the answer was lost.
    pub(crate) unknown: bool,
    pub(crate) result: Option<String>,
    pub(crate) error: Option<serde_json::Value>,
    pub(crate) version: Option<i64>,
    pub(crate) seq_no: Option<i64>,
    pub(crate) primary_term: Option<i64>,
    pub(crate) attempts: u32,
    pub(crate) action: Option<Bytes>,
}

impl BulkItem {
    /// The operation.
    pub fn op(&self) -> OpType {
        self.op
    }

    /// `_index` as answered.
    pub fn index(&self) -> Option<&str> {
        self.index.as_deref()
    }

    /// `_id` as answered (the generated id for actions sent without one).
    pub fn id(&self) -> Option<&str> {
        self.id.as_deref()
    }

    /// The item's HTTP status (0: no answer, see the type's docs).
    pub fn status(&self) -> u16 {
        self.status
    }

    /// Whether the item succeeded (2xx, or a status the helper was told to ignore).
    pub fn is_ok(&self) -> bool {
        self.ok
    }

    /// Whether the item's outcome is unknown: its request may have been executed, but no
    /// answer says so (see the type's docs). Check the document at the server (by id)
    /// before sending it again.
    pub fn is_unknown(&self) -> bool {
        self.unknown
    }

    /// Whether the action may have been executed by the server: `true` for an item with an
    /// answer and for an unknown one, `false` for an item that was never sent.
    pub fn may_have_reached_server(&self) -> bool {
        self.unknown || self.status != 0
    }

    /// `result`: `created`, `updated`, `deleted`, `noop`, `not_found`.
    pub fn result(&self) -> Option<&str> {
        self.result.as_deref()
    }

    /// The item's `error` object (or a helper-made one for status 0).
    pub fn error(&self) -> Option<&serde_json::Value> {
        self.error.as_ref()
    }

    /// `error.type`, when present.
    pub fn error_type(&self) -> Option<&str> {
        self.error.as_ref()?.get("type")?.as_str()
    }

    /// `error.reason`, when present.
    pub fn error_reason(&self) -> Option<&str> {
        self.error.as_ref()?.get("reason")?.as_str()
    }

    /// `_version`.
    pub fn version(&self) -> Option<i64> {
        self.version
    }

    /// `_seq_no`.
    pub fn seq_no(&self) -> Option<i64> {
        self.seq_no
    }

    /// `_primary_term`.
    pub fn primary_term(&self) -> Option<i64> {
        self.primary_term
    }

    /// How many requests carried this action (1 when it was not retried).
    pub fn attempts(&self) -> u32 {
        self.attempts
    }

    /// For a failed item: the action as it was sent (its NDJSON lines), to log or resend.
    pub fn action(&self) -> Option<&Bytes> {
        self.action.as_ref()
    }

    pub(crate) fn unsent(
        op: OpType,
        index: Option<String>,
        id: Option<String>,
        kind: &str,
        reason: String,
        action: Option<Bytes>,
    ) -> Self {
        BulkItem {
            op,
            index,
            id,
            status: 0,
            ok: false,
            unknown: false,
            result: None,
            error: Some(serde_json::json!({"type": kind, "reason": reason})),
            version: None,
            seq_no: None,
            primary_term: None,
            attempts: 0,
            action,
        }
    }
}

impl fmt::Display for BulkItem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} [{}]/[{}] status {}",
            self.op.as_str(),
            self.index().unwrap_or("-"),
            self.id().unwrap_or("-"),
            self.status
        )?;
        if let Some(t) = self.error_type() {
            write!(f, ", {t}")?;
        }
        if let Some(r) = self.error_reason() {
            write!(f, ": {r}")?;
        }
        Ok(())
    }
}

// ===== response parsing =====

/// Just the `errors` flag: serde skips `items` without building anything.
#[derive(Deserialize)]
pub(crate) struct ErrorsOnly {
    #[serde(default = "yes")]
    pub(crate) errors: bool,
}

fn yes() -> bool {
    true
}

/// The top-level `errors` flag, read from the head of the body when it comes before `items`
/// (as Elasticsearch and OpenSearch write it): no need to scan the items to learn that every
/// one succeeded. `None` when not found there (the caller parses the body).
pub(crate) fn errors_flag_in_head(body: &[u8]) -> Option<bool> {
    fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
        hay.windows(needle.len()).position(|w| w == needle)
    }
    let head = &body[..body.len().min(256)];
    let items_at = find(head, b"\"items\"").unwrap_or(head.len());
    let at = find(&head[..items_at], b"\"errors\"")?;
    let rest = head[at + 8..]
        .trim_ascii_start()
        .strip_prefix(b":")?
        .trim_ascii_start();
    if rest.starts_with(b"false") {
        Some(false)
    } else if rest.starts_with(b"true") {
        Some(true)
    } else {
        None
    }
}

/// Whether every `"status":` number in the body passes `ok`, and there are at least `items`
/// of them: a byte scan, no parsing. A `"status"` key other than the items' own (inside an
/// error object, say) can only make it answer `false` (the caller then parses the items), so
/// `true` means every item passed. (Inside a JSON string a quote is escaped, so the bytes
/// `"status"` followed by `:` can only be a key.)
pub(crate) fn statuses_all_ok(body: &[u8], items: usize, ok: impl Fn(u16) -> bool) -> bool {
    const KEY: &[u8] = b"\"status\"";
    let mut seen = 0usize;
    // `memmem` (SIMD) finds each `"status"`; the matches do not overlap.
    for start in memchr::memmem::find_iter(body, KEY) {
        let rest = body[start + KEY.len()..].trim_ascii_start();
        let Some(rest) = rest.strip_prefix(b":") else {
            continue;
        };
        let rest = rest.trim_ascii_start();
        let digits = rest.iter().take_while(|b| b.is_ascii_digit()).count();
        let status = std::str::from_utf8(&rest[..digits])
            .ok()
            .and_then(|d| d.parse::<u16>().ok());
        match status {
            Some(s) if ok(s) => seen += 1,
            _ => return false,
        }
    }
    seen >= items
}

/// The bulk response, borrowing from the body.
#[derive(Deserialize)]
pub(crate) struct ResponseBody<'a> {
    #[serde(borrow, default)]
    pub(crate) items: Vec<RespItem<'a>>,
}

pub(crate) struct RespItem<'a> {
    pub(crate) op: Option<OpType>,
    pub(crate) body: ItemBody<'a>,
}

#[derive(Deserialize)]
pub(crate) struct ItemBody<'a> {
    #[serde(rename = "_index", borrow, default)]
    pub(crate) index: Option<Cow<'a, str>>,
    #[serde(rename = "_id", borrow, default)]
    pub(crate) id: Option<Cow<'a, str>>,
    #[serde(default)]
    pub(crate) status: u16,
    #[serde(borrow, default)]
    pub(crate) error: Option<&'a RawValue>,
    #[serde(borrow, default)]
    pub(crate) result: Option<Cow<'a, str>>,
    #[serde(rename = "_version", default)]
    pub(crate) version: Option<i64>,
    #[serde(rename = "_seq_no", default)]
    pub(crate) seq_no: Option<i64>,
    #[serde(rename = "_primary_term", default)]
    pub(crate) primary_term: Option<i64>,
}

impl<'de: 'a, 'a> Deserialize<'de> for RespItem<'a> {
    fn deserialize<De: de::Deserializer<'de>>(d: De) -> Result<Self, De::Error> {
        struct V<'a>(std::marker::PhantomData<&'a ()>);
        impl<'de: 'a, 'a> Visitor<'de> for V<'a> {
            type Value = RespItem<'a>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a bulk response item {\"<op>\": {...}}")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
                let Some(key) = map.next_key::<Cow<'de, str>>()? else {
                    return Err(de::Error::custom("empty bulk response item"));
                };
                let body: ItemBody<'a> = map.next_value()?;
                while map.next_key::<de::IgnoredAny>()?.is_some() {
                    map.next_value::<de::IgnoredAny>()?;
                }
                Ok(RespItem {
                    op: OpType::from_wire(&key),
                    body,
                })
            }
        }
        d.deserialize_map(V(std::marker::PhantomData))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errors_flag_from_the_head() {
        assert_eq!(
            errors_flag_in_head(br#"{"took":3,"errors":false,"items":[]}"#),
            Some(false)
        );
        assert_eq!(
            errors_flag_in_head(br#"{"errors" : true, "items":[]}"#),
            Some(true)
        );
        // After the items, or absent: unknown.
        assert_eq!(
            errors_flag_in_head(br#"{"items":[{"index":{"errors":false}}],"errors":true}"#),
            None
        );
        assert_eq!(errors_flag_in_head(br#"{"took":1}"#), None);
        assert_eq!(errors_flag_in_head(b""), None);
    }

    #[test]
    fn statuses_scan() {
        let ok = |s: u16| (200..300).contains(&s);
        let body = br#"{"errors":false,"items":[{"index":{"_id":"a\"status\":500","status":201}},{"delete":{"status" : 200,"result":"status"}}]}"#;
        assert!(statuses_all_ok(body, 2, ok));
        assert!(!statuses_all_ok(body, 3, ok), "fewer statuses than items");
        let missing = br#"{"errors":false,"items":[{"index":{"status":201}},{"delete":{"_id":"x","result":"not_found","status":404}}]}"#;
        assert!(!statuses_all_ok(missing, 2, ok));
        assert!(statuses_all_ok(missing, 2, |s| ok(s) || s == 404));
        assert!(!statuses_all_ok(
            br#"{"items":[{"index":{"status":"x"}}]}"#,
            1,
            ok
        ));
    }

    #[test]
    fn parses_items_borrowed() {
        let body = br#"{"took":3,"errors":true,"items":[
            {"index":{"_index":"i","_id":"1","_version":1,"result":"created","_seq_no":0,"_primary_term":1,"status":201}},
            {"create":{"_index":"i","_id":"a\"b","status":409,"error":{"type":"version_conflict_engine_exception","reason":"exists"}}}
        ]}"#;
        let e: ErrorsOnly = serde_json::from_slice(body).unwrap();
        assert!(e.errors);
        let r: ResponseBody<'_> = serde_json::from_slice(body).unwrap();
        assert_eq!(r.items.len(), 2);
        assert_eq!(r.items[0].op, Some(OpType::Index));
        assert_eq!(r.items[0].body.status, 201);
        assert_eq!(r.items[0].body.seq_no, Some(0));
        assert_eq!(r.items[1].body.id.as_deref(), Some("a\"b"));
        assert!(r.items[1].body.error.unwrap().get().contains("exists"));
    }
}
