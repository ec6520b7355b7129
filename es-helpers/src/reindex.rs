//! Reindex: scan from one client/index, bulk into another client/index, with an optional
//! per-document transform.

use std::fmt;
use std::sync::{Arc, Mutex};

use es_api::Client;
use futures_util::StreamExt;
use serde_json::Value;
use serde_json::value::RawValue;

use crate::bulk::{Bulk, BulkAction, BulkSummary, OpType};
use crate::error::{Error, Result};
use crate::scan::{Hit, Scan};

type Transform = Arc<dyn Fn(Hit<Value>) -> Option<Hit<Value>> + Send + Sync>;

/// The reindex helper: every hit of a [`Scan`] of the source, bulk-indexed into the target.
///
/// Hits keep their `_id` and `_routing`; their `_index` becomes the target index. Without a
/// transform the `_source` bytes are copied as they are (never parsed into values).
///
/// A hit without `_source` (excluded by the query's `_source`, or not stored by the mapping)
/// cannot be copied: it is a failed item of the summary (status 0, `error.type`
/// `missing_source`), and with the bulk's `raise_on_error` (the default) it ends the run with
/// [`ErrorKind::BulkItems`](crate::ErrorKind::BulkItems), like any failed item. A hit the
/// transform drops (`None`) is not copied and not counted.
///
/// # Example
/// ```no_run
/// # async fn run(old: es_api::Client, new: es_api::Client) -> es_helpers::Result<()> {
/// use es_helpers::bulk::OpType;
/// use es_helpers::reindex::Reindex;
/// use serde_json::json;
///
/// let summary = Reindex::new(&old, "logs-2024", &new, "logs")
///     .query(json!({"query": {"range": {"level": {"gte": 3}}}}))
///     .op_type(OpType::Create)
///     .transform(|mut hit| {
///         if let Some(src) = hit.source.as_mut() {
///             src["migrated"] = json!(true);
///         }
///         Some(hit)
///     })
///     .bulk_with(|b| b.concurrency(2).chunk_size(1_000))
///     .run()
///     .await?;
/// println!("{} copied", summary.succeeded());
/// # Ok(()) }
/// ```
#[derive(Clone)]
#[must_use]
pub struct Reindex {
    scan: Scan,
    bulk: Bulk,
    target_index: String,
    op_type: OpType,
    transform: Option<Transform>,
}

impl fmt::Debug for Reindex {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Reindex")
            .field("scan", &self.scan)
            .field("bulk", &self.bulk)
            .field("target_index", &self.target_index)
            .field("op_type", &self.op_type)
            .field("transform", &self.transform.is_some())
            .finish()
    }
}

impl Reindex {
    /// Copies `source_index` through `source` into `target_index` through `target` (the two
    /// clients may be the same).
    pub fn new(
        source: &Client,
        source_index: impl Into<String>,
        target: &Client,
        target_index: impl Into<String>,
    ) -> Self {
        Reindex {
            scan: Scan::new(source, source_index),
            bulk: Bulk::new(target),
            target_index: target_index.into(),
            op_type: OpType::Index,
            transform: None,
        }
    }

    /// The query selecting the documents to copy (a search body).
    pub fn query(mut self, body: impl serde::Serialize) -> Self {
        self.scan = self.scan.query(body);
        self
    }

    /// `index` (default: replace) or `create` (keep existing documents; their items fail
    /// with 409, so combine with `bulk_with(|b| b.ignore_status([409]))` if that is fine).
    pub fn op_type(mut self, op: OpType) -> Self {
        self.op_type = op;
        self
    }

    /// Changes each document before it is written, or drops it (`None`). The hit arrives
    /// with its `_index` set to the target index; whatever index, id, routing
    /// (`hit.routing`) and source it leaves are written (a hit left without a source
    /// is a failed item).
    pub fn transform(
        mut self,
        f: impl Fn(Hit<Value>) -> Option<Hit<Value>> + Send + Sync + 'static,
    ) -> Self {
        self.transform = Some(Arc::new(f));
        self
    }

    /// Adjusts the scan (size, mode, slices, keep-alive, …).
    pub fn scan_with(mut self, f: impl FnOnce(Scan) -> Scan) -> Self {
        self.scan = f(self.scan);
        self
    }

    /// Adjusts the bulk helper (chunk size, concurrency, retries, progress, …).
    pub fn bulk_with(mut self, f: impl FnOnce(Bulk) -> Bulk) -> Self {
        self.bulk = f(self.bulk);
        self
    }

    /// The failed item standing for a hit without `_source`.
    fn missing_source<D>(&self, index: String, id: Option<String>) -> BulkAction<D> {
        let why = "has no _source to copy (excluded by the query's _source, or not stored)";
        self.rejected(index, id, "missing_source", why)
    }

    /// The failed item standing for a source that could not be put on one line.
    fn invalid_source<D>(&self, index: String, id: Option<String>) -> BulkAction<D> {
        let why = "has a _source that cannot be written as one line";
        self.rejected(index, id, "invalid_source", why)
    }

    fn rejected<D>(
        &self,
        index: String,
        id: Option<String>,
        kind: &'static str,
        why: &str,
    ) -> BulkAction<D> {
        let reason = format!("hit [{index}]/[{}] {why}", id.as_deref().unwrap_or(""));
        let a = BulkAction::rejected(self.op_type, kind, reason).in_index(index);
        match id {
            Some(id) => a.id(id),
            None => a,
        }
    }

    fn action<D>(
        &self,
        doc: D,
        index: String,
        id: Option<String>,
        routing: Option<String>,
    ) -> BulkAction<D> {
        let a = match self.op_type {
            OpType::Create => BulkAction::create(doc),
            _ => BulkAction::index(doc),
        };
        let a = a.in_index(index);
        let a = match id {
            Some(id) => a.id(id),
            None => a,
        };
        match routing {
            Some(r) => a.routing(r),
            None => a,
        }
    }

    /// Runs the copy.
    ///
    /// # Errors
    /// A scan error (the copy stops; what was sent stays written), or a bulk error as
    /// [`Bulk::run`]. A scroll page lost on its way back (the scan's default mode: a
    /// scroll continuation is never resent, see [`crate::scan::ScanPages`]) is such an
    /// error, never a shorter success: [`Error::documents_yielded`] says how many documents
    /// were read before it; a point-in-time scan
    /// ([`Scan::point_in_time`](crate::scan::Scan::point_in_time), through
    /// [`Reindex::scan_with`]) resends a lost page instead.
    pub async fn run(&self) -> Result<BulkSummary> {
        let scan_error: Arc<Mutex<Option<Error>>> = Arc::default();
        let summary = match &self.transform {
            None => {
                let this = self.clone();
                let hits = until_error(self.scan.stream::<Box<RawValue>>(), scan_error.clone());
                let actions = hits.map(move |hit| {
                    let index = this.target_index.clone();
                    let (id, routing) = (hit.id, hit.routing);
                    match hit.source {
                        Some(src) => match one_line(src) {
                            Some(src) => this.action(src, index, id, routing),
                            None => this.invalid_source(index, id),
                        },
                        None => this.missing_source(index, id),
                    }
                });
                self.bulk.run(actions).await
            }
            Some(transform) => {
                let this = self.clone();
                let transform = transform.clone();
                let hits = until_error(self.scan.stream::<Value>(), scan_error.clone());
                let actions = hits.filter_map(move |mut hit| {
                    hit.index.clone_from(&this.target_index);
                    let action = transform(hit).map(|hit| {
                        let (index, id, routing) = (hit.index, hit.id, hit.routing);
                        match hit.source {
                            Some(src) => this.action(src, index, id, routing),
                            None => this.missing_source(index, id),
                        }
                    });
                    std::future::ready(action)
                });
                self.bulk.run(actions).await
            }
        };
        if let Some(e) = scan_error.lock().expect("scan error slot").take() {
            return Err(e);
        }
        summary
    }
}

/// `source` with its raw line breaks turned into spaces, so that it is one line of the bulk
/// body (whose lines are its framing). Lossless: a `RawValue` is valid JSON, where a raw
/// `\n` or `\r` can only be whitespace between tokens (inside a string it is escaped); a
/// server returns `_source` as it was sent, pretty-printed sources included.
/// (`None` would mean the replacement broke the JSON, which valid JSON rules out.)
fn one_line(source: Box<RawValue>) -> Option<Box<RawValue>> {
    let json = source.get();
    if !json.contains(['\n', '\r']) {
        return Some(source);
    }
    RawValue::from_string(json.replace(['\n', '\r'], " ")).ok()
}

/// The hits of `scan` until its first error, which goes into `slot`.
fn until_error<T: Send + 'static>(
    scan: crate::scan::ScanStream<T>,
    slot: Arc<Mutex<Option<Error>>>,
) -> impl futures_util::Stream<Item = Hit<T>> + Send + 'static {
    scan.map(move |r| match r {
        Ok(h) => Some(h),
        Err(e) => {
            *slot.lock().expect("scan error slot") = Some(e);
            None
        }
    })
    .take_while(|h| std::future::ready(h.is_some()))
    .filter_map(std::future::ready)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_line_keeps_the_value_and_escaped_breaks() {
        let pretty = "{\r\n  \"a\": \"x\\ny\\r\",\n  \"b\": [\n 1,\r 2\n ]\n}";
        let raw = RawValue::from_string(pretty.to_owned()).unwrap();
        let flat = one_line(raw).unwrap();
        assert!(!flat.get().contains(['\n', '\r']), "{}", flat.get());
        let a: Value = serde_json::from_str(pretty).unwrap();
        let b: Value = serde_json::from_str(flat.get()).unwrap();
        assert_eq!(a, b);
        assert_eq!(b["a"], "x\ny\r");
        // Already one line: the same bytes.
        let compact = RawValue::from_string(r#"{"a":"x\ny"}"#.to_owned()).unwrap();
        assert_eq!(one_line(compact).unwrap().get(), r#"{"a":"x\ny"}"#);
    }
}
