//! Bulk actions (index / create / update / delete) with their metadata, and their NDJSON
//! rendering straight into a request buffer.

use bytes::Bytes;
use serde::Serialize;

/// The operation of a bulk action.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum OpType {
    /// Index (create or replace) a document.
    Index,
    /// Create a document; fails with 409 when the id exists.
    Create,
    /// Update a document (partial `doc`, script, upsert).
    Update,
    /// Delete a document.
    Delete,
}

impl OpType {
    /// The wire name: `index`, `create`, `update`, `delete`.
    pub fn as_str(self) -> &'static str {
        match self {
            OpType::Index => "index",
            OpType::Create => "create",
            OpType::Update => "update",
            OpType::Delete => "delete",
        }
    }

    pub(crate) fn from_wire(s: &str) -> Option<Self> {
        Some(match s {
            "index" => OpType::Index,
            "create" => OpType::Create,
            "update" => OpType::Update,
            "delete" => OpType::Delete,
            _ => return None,
        })
    }
}

/// The `version_type` of an action.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum VersionType {
    /// `internal`.
    Internal,
    /// `external`: the given version must be greater than the stored one.
    External,
    /// `external_gte`: the given version must be greater than or equal to the stored one.
    ExternalGte,
}

impl VersionType {
    fn as_str(self) -> &'static str {
        match self {
            VersionType::Internal => "internal",
            VersionType::External => "external",
            VersionType::ExternalGte => "external_gte",
        }
    }
}

/// A document body that can be written into a bulk request: any `Serialize` type, or
/// [`RawJson`] bytes written as they are.
pub trait BulkSource {
    /// Appends this document as compact JSON (no newline) to `out`.
    ///
    /// # Errors
    /// When the document cannot be serialized.
    fn write_json(&self, out: &mut Vec<u8>) -> Result<(), serde_json::Error>;
}

impl<T: Serialize + ?Sized> BulkSource for T {
    #[inline]
    fn write_json(&self, out: &mut Vec<u8>) -> Result<(), serde_json::Error> {
        let start = out.len();
        serde_json::to_writer(&mut *out, self)?;
        // serde_json escapes newlines inside strings, but a `RawValue` (a `_source` read
        // from a pretty-printed document) is written as it came: its raw `\n` / `\r` can
        // only be whitespace between tokens, so a space in their place is the same JSON,
        // and the NDJSON framing cannot break. Looked for with `memchr` (SIMD; the crate is
        // serde_json's own dependency), so a document without one costs a fast scan.
        let written = &mut out[start..];
        if memchr::memchr(b'\n', written).is_some() {
            for b in written.iter_mut() {
                if *b == b'\n' || *b == b'\r' {
                    *b = b' ';
                }
            }
        }
        Ok(())
    }
}

/// A document already serialized as one line of JSON: written to the request as it is.
///
/// The bytes must be a compact JSON object without newlines (a newline would break the
/// NDJSON framing: such a document is rejected before sending).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RawJson(Bytes);

impl RawJson {
    /// Wraps already serialized JSON.
    pub fn new(json: impl Into<Bytes>) -> Self {
        RawJson(json.into())
    }

    /// The bytes.
    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }
}

impl BulkSource for RawJson {
    fn write_json(&self, out: &mut Vec<u8>) -> Result<(), serde_json::Error> {
        if self.0.contains(&b'\n') {
            return Err(serde::ser::Error::custom(
                "raw JSON document contains a newline",
            ));
        }
        out.extend_from_slice(&self.0);
        Ok(())
    }
}

/// Rarely set metadata, boxed to keep actions small.
#[derive(Debug, Clone, Default)]
struct Extra {
    routing: Option<String>,
    version: Option<i64>,
    version_type: Option<VersionType>,
    if_seq_no: Option<i64>,
    if_primary_term: Option<i64>,
    pipeline: Option<String>,
    require_alias: Option<bool>,
    retry_on_conflict: Option<u32>,
    doc_as_upsert: bool,
}

#[derive(Debug, Clone)]
enum Source<D> {
    None,
    Doc(D),
    UpdateDoc(D),
    /// Never sent: reported as a failed item with this error (type, reason).
    Rejected(Box<(&'static str, String)>),
}

/// The document type of an action without a document ([`BulkAction::delete`]): it has no
/// values, so a `BulkAction<NoDoc>` never carries one. [`BulkAction::cast`] turns it into an
/// action of any document type, to sit beside index and update actions.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum NoDoc {}

impl BulkAction<NoDoc> {
    /// Delete the document with this id. No type annotation is needed; beside actions with
    /// documents (in one `Vec`, or the arms of a `match`), add [`BulkAction::cast`].
    ///
    /// # Example
    /// ```
    /// use es_helpers::bulk::BulkAction;
    /// use serde_json::{Value, json};
    ///
    /// let deletes = ["a", "b"].map(BulkAction::delete);
    /// let mixed: Vec<BulkAction<Value>> = vec![
    ///     BulkAction::index(json!({"n": 1})).id("c"),
    ///     BulkAction::delete("d").cast(),
    /// ];
    /// # let _ = (deletes, mixed);
    /// ```
    pub fn delete(id: impl Into<String>) -> Self {
        let mut a = Self::new(OpType::Delete, Source::None);
        a.id = Some(id.into());
        a
    }

    /// The same action, typed as an action of documents `D` (it still has none).
    pub fn cast<D>(self) -> BulkAction<D> {
        BulkAction {
            op: self.op,
            index: self.index,
            id: self.id,
            extra: self.extra,
            source: match self.source {
                Source::None => Source::None,
                Source::Rejected(r) => Source::Rejected(r),
                Source::Doc(never) | Source::UpdateDoc(never) => match never {},
            },
        }
    }
}

/// One bulk action: an operation, its metadata and its document.
///
/// Metadata setters follow the bulk API's names (`_index` is [`BulkAction::in_index`] since
/// `index` is the constructor). The document is serialized only when the action is written
/// into a chunk, directly into the request buffer.
///
/// # Example
/// ```
/// use es_helpers::bulk::{BulkAction, RawJson, VersionType};
/// use serde_json::json;
///
/// let a = BulkAction::index(json!({"title": "hello"})).in_index("docs").id("1");
/// let b = BulkAction::create(json!({"n": 2})).in_index("docs").id("2").routing("r1");
/// let c = BulkAction::update_doc(json!({"n": 3})).in_index("docs").id("3").doc_as_upsert(true);
/// let d = BulkAction::delete("4").in_index("docs").version(7).version_type(VersionType::External);
/// let e = BulkAction::index(RawJson::new(r#"{"title":"raw"}"#)).in_index("docs");
/// assert_eq!(a.id_str(), Some("1"));
/// # let _ = (b, c, d, e);
/// ```
#[derive(Debug, Clone)]
pub struct BulkAction<D> {
    op: OpType,
    index: Option<String>,
    id: Option<String>,
    extra: Option<Box<Extra>>,
    source: Source<D>,
}

impl<D> BulkAction<D> {
    fn new(op: OpType, source: Source<D>) -> Self {
        BulkAction {
            op,
            index: None,
            id: None,
            extra: None,
            source,
        }
    }

    /// Index `doc` (create or replace).
    pub fn index(doc: D) -> Self {
        Self::new(OpType::Index, Source::Doc(doc))
    }

    /// Create `doc`; the item fails with 409 if the id exists.
    pub fn create(doc: D) -> Self {
        Self::new(OpType::Create, Source::Doc(doc))
    }

    /// Update with a full update body (`{"doc": ..}`, `{"script": ..}`, `{"upsert": ..}`).
    pub fn update(body: D) -> Self {
        Self::new(OpType::Update, Source::Doc(body))
    }

    /// Update with a partial document: written as `{"doc": <doc>}` (see
    /// [`BulkAction::doc_as_upsert`]).
    pub fn update_doc(doc: D) -> Self {
        Self::new(OpType::Update, Source::UpdateDoc(doc))
    }

    /// An action that is never sent: the chunker reports it as a failed item (status 0)
    /// with this error type and reason, in the order of the input.
    pub(crate) fn rejected(op: OpType, kind: &'static str, reason: impl Into<String>) -> Self {
        Self::new(op, Source::Rejected(Box::new((kind, reason.into()))))
    }

    /// For [`BulkAction::rejected`]: the error type and reason.
    pub(crate) fn rejection(&self) -> Option<(&'static str, &str)> {
        match &self.source {
            Source::Rejected(r) => Some((r.0, r.1.as_str())),
            _ => None,
        }
    }

    fn extra(&mut self) -> &mut Extra {
        self.extra.get_or_insert_with(Box::default)
    }

    /// The target index (`_index`); without it, the helper's default index is used.
    #[must_use]
    pub fn in_index(mut self, index: impl Into<String>) -> Self {
        self.index = Some(index.into());
        self
    }

    /// The document id (`_id`). Give ids when the helper may retry: a retried action with an
    /// id overwrites, one without may be indexed twice.
    #[must_use]
    pub fn id(mut self, id: impl Into<String>) -> Self {
        self.id = Some(id.into());
        self
    }

    /// `routing`.
    #[must_use]
    pub fn routing(mut self, routing: impl Into<String>) -> Self {
        self.extra().routing = Some(routing.into());
        self
    }

    /// `version`.
    #[must_use]
    pub fn version(mut self, version: i64) -> Self {
        self.extra().version = Some(version);
        self
    }

    /// `version_type`.
    #[must_use]
    pub fn version_type(mut self, version_type: VersionType) -> Self {
        self.extra().version_type = Some(version_type);
        self
    }

    /// `if_seq_no` (optimistic concurrency, with [`BulkAction::if_primary_term`]).
    #[must_use]
    pub fn if_seq_no(mut self, seq_no: i64) -> Self {
        self.extra().if_seq_no = Some(seq_no);
        self
    }

    /// `if_primary_term`.
    #[must_use]
    pub fn if_primary_term(mut self, term: i64) -> Self {
        self.extra().if_primary_term = Some(term);
        self
    }

    /// `pipeline` (ingest pipeline).
    #[must_use]
    pub fn pipeline(mut self, pipeline: impl Into<String>) -> Self {
        self.extra().pipeline = Some(pipeline.into());
        self
    }

    /// `require_alias`.
    #[must_use]
    pub fn require_alias(mut self, yes: bool) -> Self {
        self.extra().require_alias = Some(yes);
        self
    }

    /// `retry_on_conflict` (update only).
    #[must_use]
    pub fn retry_on_conflict(mut self, n: u32) -> Self {
        self.extra().retry_on_conflict = Some(n);
        self
    }

    /// For [`BulkAction::update_doc`]: insert the document when it does not exist.
    #[must_use]
    pub fn doc_as_upsert(mut self, yes: bool) -> Self {
        self.extra().doc_as_upsert = yes;
        self
    }

    /// The operation.
    pub fn op(&self) -> OpType {
        self.op
    }

    /// The target index, if set on the action.
    pub fn index_str(&self) -> Option<&str> {
        self.index.as_deref()
    }

    /// The id, if set.
    pub fn id_str(&self) -> Option<&str> {
        self.id.as_deref()
    }

    /// Whether sending this action again after a lost answer cannot change its outcome:
    /// an `index` or `delete` with an id, or an `update` of a partial document (or a full
    /// update body without `script` or `upsert`), none of them conditional (`version`, `if_seq_no`,
    /// `if_primary_term`, which a resend turns into a 409). `create` (a resend answers 409)
    /// and id-less `index` (a resend stores a second document) are not. `rendered` is the
    /// action's NDJSON lines, read for an update body's `script`.
    pub(crate) fn resend_safe(&self, rendered: &[u8]) -> bool {
        let conditional = self.extra.as_ref().is_some_and(|e| {
            e.version.is_some() || e.if_seq_no.is_some() || e.if_primary_term.is_some()
        });
        if conditional || self.id.is_none() {
            return false;
        }
        match (self.op, &self.source) {
            (OpType::Index | OpType::Delete, _) | (OpType::Update, Source::UpdateDoc(_)) => true,
            (OpType::Update, Source::Doc(_)) => {
                // The second line is the update body.
                let body = rendered
                    .iter()
                    .position(|&b| b == b'\n')
                    .map_or(&[][..], |i| &rendered[i + 1..]);
                es_api::update_body_may_be_resent(body.strip_suffix(b"\n").unwrap_or(body))
            }
            _ => false,
        }
    }
}

impl<D: BulkSource> BulkAction<D> {
    /// Appends the action line and, except for deletes, the document line to `out`.
    ///
    /// On error, `out` may hold a partial action: the caller truncates it.
    pub(crate) fn render(&self, out: &mut Vec<u8>) -> Result<(), serde_json::Error> {
        out.push(b'{');
        out.push(b'"');
        out.extend_from_slice(self.op.as_str().as_bytes());
        out.extend_from_slice(b"\":{");
        let mut first = true;
        let mut key = |out: &mut Vec<u8>, k: &str| {
            if !first {
                out.push(b',');
            }
            first = false;
            out.push(b'"');
            out.extend_from_slice(k.as_bytes());
            out.extend_from_slice(b"\":");
        };
        if let Some(index) = &self.index {
            key(out, "_index");
            write_str(out, index)?;
        }
        if let Some(id) = &self.id {
            key(out, "_id");
            write_str(out, id)?;
        }
        if let Some(x) = &self.extra {
            if let Some(v) = &x.routing {
                key(out, "routing");
                write_str(out, v)?;
            }
            if let Some(v) = x.version {
                key(out, "version");
                write_int(out, v);
            }
            if let Some(v) = x.version_type {
                key(out, "version_type");
                write_str(out, v.as_str())?;
            }
            if let Some(v) = x.if_seq_no {
                key(out, "if_seq_no");
                write_int(out, v);
            }
            if let Some(v) = x.if_primary_term {
                key(out, "if_primary_term");
                write_int(out, v);
            }
            if let Some(v) = &x.pipeline {
                key(out, "pipeline");
                write_str(out, v)?;
            }
            if let Some(v) = x.require_alias {
                key(out, "require_alias");
                out.extend_from_slice(if v { b"true" } else { b"false" });
            }
            if let Some(v) = x.retry_on_conflict {
                key(out, "retry_on_conflict");
                write_int(out, i64::from(v));
            }
        }
        out.extend_from_slice(b"}}\n");
        match &self.source {
            Source::Rejected(r) => return Err(serde::ser::Error::custom(&r.1)),
            Source::None => {}
            Source::Doc(d) => {
                d.write_json(out)?;
                out.push(b'\n');
            }
            Source::UpdateDoc(d) => {
                out.extend_from_slice(b"{\"doc\":");
                d.write_json(out)?;
                if self.extra.as_ref().is_some_and(|x| x.doc_as_upsert) {
                    out.extend_from_slice(b",\"doc_as_upsert\":true");
                }
                out.extend_from_slice(b"}\n");
            }
        }
        Ok(())
    }
}

#[inline]
fn write_str(out: &mut Vec<u8>, s: &str) -> Result<(), serde_json::Error> {
    if s.bytes().all(|b| b >= 0x20 && b != b'"' && b != b'\\') {
        out.reserve(s.len() + 2);
        out.push(b'"');
        out.extend_from_slice(s.as_bytes());
        out.push(b'"');
        Ok(())
    } else {
        serde_json::to_writer(out, s)
    }
}

fn write_int(out: &mut Vec<u8>, v: i64) {
    use std::io::Write;
    let _ = write!(out, "{v}");
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn safe<D: BulkSource>(a: BulkAction<D>) -> bool {
        let mut out = Vec::new();
        a.render(&mut out).unwrap();
        a.resend_safe(&out)
    }

    #[test]
    fn a_raw_value_with_newlines_stays_on_its_line() {
        let raw: Box<serde_json::value::RawValue> =
            serde_json::from_str("{\r\n  \"a\": \"x\\ny\",\n  \"n\": 1\n}").unwrap();
        let line = render(&BulkAction::index(raw).id("1"));
        assert_eq!(
            line,
            "{\"index\":{\"_id\":\"1\"}}\n{    \"a\": \"x\\ny\",   \"n\": 1 }\n"
        );
        let doc: serde_json::Value = serde_json::from_str(line.lines().nth(1).unwrap()).unwrap();
        assert_eq!(doc, json!({"a": "x\ny", "n": 1}));
    }

    #[test]
    fn which_actions_may_be_resent() {
        assert!(safe(BulkAction::index(json!({"a": 1})).id("1")));
        assert!(safe(BulkAction::delete("1")));
        assert!(safe(BulkAction::update_doc(json!({"a": 1})).id("1")));
        assert!(safe(
            BulkAction::update_doc(json!({"a": 1}))
                .id("1")
                .doc_as_upsert(true)
        ));
        assert!(safe(BulkAction::update(json!({"doc": {"a": 1}})).id("1")));
        // A second copy, a false 409, a script run twice, an upsert merged into.
        assert!(!safe(BulkAction::index(json!({"a": 1}))));
        assert!(!safe(BulkAction::create(json!({"a": 1})).id("1")));
        assert!(!safe(
            BulkAction::index(json!({"a": 1}))
                .id("1")
                .if_seq_no(3)
                .if_primary_term(1)
        ));
        assert!(!safe(BulkAction::index(json!({"a": 1})).id("1").version(4)));
        assert!(!safe(
            BulkAction::update(json!({"script": "ctx._source.n++"})).id("1")
        ));
        assert!(!safe(
            BulkAction::update(json!({"doc": {"a": 1}, "upsert": {"a": 0}})).id("1")
        ));
    }

    fn render<D: BulkSource>(a: &BulkAction<D>) -> String {
        let mut out = Vec::new();
        a.render(&mut out).unwrap();
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn renders_every_op_and_metadata() {
        assert_eq!(
            render(&BulkAction::index(json!({"a": 1})).in_index("i").id("1")),
            "{\"index\":{\"_index\":\"i\",\"_id\":\"1\"}}\n{\"a\":1}\n"
        );
        assert_eq!(
            render(&BulkAction::create(json!({}))),
            "{\"create\":{}}\n{}\n"
        );
        assert_eq!(
            render(
                &BulkAction::delete("x\"y")
                    .routing("r")
                    .version(3)
                    .version_type(VersionType::External)
                    .if_seq_no(5)
                    .if_primary_term(1)
                    .pipeline("p")
                    .require_alias(true)
            ),
            "{\"delete\":{\"_id\":\"x\\\"y\",\"routing\":\"r\",\"version\":3,\"version_type\":\"external\",\
             \"if_seq_no\":5,\"if_primary_term\":1,\"pipeline\":\"p\",\"require_alias\":true}}\n"
        );
        assert_eq!(
            render(
                &BulkAction::update_doc(json!({"n": 1}))
                    .id("1")
                    .doc_as_upsert(true)
                    .retry_on_conflict(2)
            ),
            "{\"update\":{\"_id\":\"1\",\"retry_on_conflict\":2}}\n{\"doc\":{\"n\":1},\"doc_as_upsert\":true}\n"
        );
        assert_eq!(
            render(&BulkAction::update(json!({"script": {"source": "x"}})).id("1")),
            "{\"update\":{\"_id\":\"1\"}}\n{\"script\":{\"source\":\"x\"}}\n"
        );
        assert_eq!(
            render(&BulkAction::index(RawJson::new("{\"r\":1}"))),
            "{\"index\":{}}\n{\"r\":1}\n"
        );
    }

    #[test]
    fn raw_json_with_newline_is_rejected() {
        let mut out = Vec::new();
        assert!(
            BulkAction::index(RawJson::new("{\"a\":\n1}"))
                .render(&mut out)
                .is_err()
        );
    }

    #[test]
    fn non_string_map_key_fails() {
        let mut m = std::collections::HashMap::new();
        m.insert(vec![1u8], 1);
        let mut out = Vec::new();
        assert!(BulkAction::index(m).render(&mut out).is_err());
    }
}
