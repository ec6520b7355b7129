//! Scan: every hit of a query as a `Stream`, by scroll or by point in time + `search_after`,
//! optionally in parallel slices; the server-side context is always released.

use std::fmt;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::Duration;

use es_api::Client;
use es_api::es_transport::{Request, RequestOptions, Transport};
use es_api::params::encode::encode;
use futures_util::stream::{self, BoxStream};
use futures_util::{Stream, StreamExt};
use serde::Deserialize;
use serde::de::{
    self as de, DeserializeOwned, DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess,
    Visitor,
};
use serde_json::{Map, Value, json};

use crate::error::{Error, Result};
use crate::task::Task;

/// How a [`Scan`] pages through the results.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum ScanMode {
    /// The scroll API (`?scroll=` then `/_search/scroll`), cleared at the end.
    Scroll,
    /// A point in time and `search_after`, closed at the end.
    PointInTime,
}

/// Which point-in-time API the cluster speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum PitApi {
    /// Try Elasticsearch's, then OpenSearch's if the cluster has no `/{index}/_pit`.
    Auto,
    /// Elasticsearch: `POST /{index}/_pit`, `DELETE /_pit`.
    Elasticsearch,
    /// OpenSearch: `POST /{index}/_search/point_in_time`, `DELETE /_search/point_in_time`.
    OpenSearch,
}

/// One search hit with its `_source` as `T`: the same type as a search response's hits
/// ([`es_api::response::Hit`]), so code that reads hits works on both. Its fields are public;
/// a [`crate::reindex::Reindex`] transform edits `index`, `id`, `routing` and `source` in place.
///
/// `sort` is filled where it carries information: in point-in-time mode (the values of the
/// query's sort, or `_shard_doc`, the ones `search_after` continues from) and in scroll mode
/// with [`Scan::preserve_order`] (the query's sort values). In scroll mode without
/// `preserve_order` the helper sorts by `_doc`, whose values say nothing to the reader, so
/// they are skipped while parsing and `sort` is `None`.
pub use es_api::response::Hit;

/// A search or scroll page. Read by [`PageSeed`]; the derived `Deserialize` (every field of
/// every hit, the hits `Vec` grown as it fills) is the fallback that words the error when a
/// page cannot be read.
#[derive(Deserialize)]
#[serde(bound(deserialize = "T: DeserializeOwned"))]
struct Page<T> {
    #[serde(rename = "_scroll_id", default)]
    scroll_id: Option<String>,
    #[serde(default)]
    pit_id: Option<String>,
    #[serde(rename = "_shards", default)]
    shards: Option<Shards>,
    /// Whether the search ran out of time: its hits may be partial.
    #[serde(default)]
    timed_out: bool,
    hits: Hits<T>,
}

#[derive(Deserialize)]
#[serde(bound(deserialize = "T: DeserializeOwned"))]
struct Hits<T> {
    #[serde(default = "Vec::new")]
    hits: Vec<Hit<T>>,
}

/// How the hits of a page are read: the page's hits `Vec` is given `capacity` up front
/// (no reallocation that moves the large `Hit<T>` elements; a page that fills less than half
/// of it is shrunk to fit), and the hits' `sort` values are skipped unless `keep_sort` (see
/// [`Hit`] for when they are kept).
#[derive(Clone, Copy)]
struct HitsSpec {
    capacity: usize,
    keep_sort: bool,
}

impl HitsSpec {
    /// The most hits whose room is reserved before a page is read: a larger `size` grows the
    /// `Vec` as usual past it, so that a huge `size` with a short page reserves no more.
    const MAX_CAPACITY: usize = 10_000;

    /// Bytes of a page's body counted per hit when reserving room: a hit as a server sends it
    /// (`_index`, `_id`, `_score`, …) is well over this, so a body of `n` bytes holds fewer
    /// than `n / MIN_HIT_BYTES` hits. (Shorter hits, such as `{}`, only make the `Vec` grow
    /// as usual.)
    const MIN_HIT_BYTES: usize = 16;

    fn new(size: u32, keep_sort: bool) -> Self {
        HitsSpec {
            capacity: (size as usize).min(Self::MAX_CAPACITY),
            keep_sort,
        }
    }

    /// The spec for reading a body of `len` bytes: the capacity capped by what it can hold.
    fn for_body(self, len: usize) -> Self {
        HitsSpec {
            capacity: self.capacity.min(len / Self::MIN_HIT_BYTES),
            ..self
        }
    }
}

/// Reads a [`Page`] as [`HitsSpec`] says; otherwise the same as its derived `Deserialize`
/// (unknown fields ignored, `hits` required, `hits.hits` defaulting to empty).
struct PageSeed<T> {
    spec: HitsSpec,
    _t: std::marker::PhantomData<fn() -> T>,
}

impl<T> PageSeed<T> {
    fn new(spec: HitsSpec) -> Self {
        PageSeed {
            spec,
            _t: std::marker::PhantomData,
        }
    }
}

#[derive(Deserialize)]
#[serde(field_identifier)]
enum PageKey {
    #[serde(rename = "_scroll_id")]
    ScrollId,
    #[serde(rename = "pit_id")]
    PitId,
    #[serde(rename = "_shards")]
    Shards,
    #[serde(rename = "timed_out")]
    TimedOut,
    #[serde(rename = "hits")]
    Hits,
    #[serde(other)]
    Other,
}

impl<'de, T: DeserializeOwned> DeserializeSeed<'de> for PageSeed<T> {
    type Value = Page<T>;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> std::result::Result<Page<T>, D::Error> {
        d.deserialize_map(self)
    }
}

impl<'de, T: DeserializeOwned> Visitor<'de> for PageSeed<T> {
    type Value = Page<T>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a search response")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> std::result::Result<Page<T>, A::Error> {
        let (mut scroll_id, mut pit_id, mut shards, mut hits) = (None, None, None, None);
        let mut timed_out = false;
        while let Some(key) = map.next_key::<PageKey>()? {
            match key {
                PageKey::ScrollId => scroll_id = map.next_value()?,
                PageKey::PitId => pit_id = map.next_value()?,
                PageKey::Shards => shards = map.next_value()?,
                PageKey::TimedOut => timed_out = map.next_value()?,
                PageKey::Hits => hits = Some(map.next_value_seed(HitsSeed::<T>::new(self.spec))?),
                PageKey::Other => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        let hits = hits.ok_or_else(|| <A::Error as de::Error>::missing_field("hits"))?;
        Ok(Page {
            scroll_id,
            pit_id,
            shards,
            timed_out,
            hits,
        })
    }
}

/// Reads the page's `hits` object: its `hits` array as [`HitVecSeed`], the rest skipped.
struct HitsSeed<T>(HitsSpec, std::marker::PhantomData<fn() -> T>);

impl<T> HitsSeed<T> {
    fn new(spec: HitsSpec) -> Self {
        HitsSeed(spec, std::marker::PhantomData)
    }
}

impl<'de, T: DeserializeOwned> DeserializeSeed<'de> for HitsSeed<T> {
    type Value = Hits<T>;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> std::result::Result<Hits<T>, D::Error> {
        d.deserialize_map(self)
    }
}

impl<'de, T: DeserializeOwned> Visitor<'de> for HitsSeed<T> {
    type Value = Hits<T>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("the hits of a search response")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> std::result::Result<Hits<T>, A::Error> {
        let mut hits = None;
        while let Some(key) = map.next_key::<HitsKey>()? {
            match key {
                HitsKey::Hits => hits = Some(map.next_value_seed(HitVecSeed(self.0, self.1))?),
                HitsKey::Other => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        Ok(Hits {
            hits: hits.unwrap_or_default(),
        })
    }
}

#[derive(Deserialize)]
#[serde(field_identifier)]
enum HitsKey {
    #[serde(rename = "hits")]
    Hits,
    #[serde(other)]
    Other,
}

/// Reads the hits array into a `Vec` of [`HitsSpec::capacity`], each hit as [`HitSeed`].
struct HitVecSeed<T>(HitsSpec, std::marker::PhantomData<fn() -> T>);

impl<'de, T: DeserializeOwned> DeserializeSeed<'de> for HitVecSeed<T> {
    type Value = Vec<Hit<T>>;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> std::result::Result<Vec<Hit<T>>, D::Error> {
        d.deserialize_seq(self)
    }
}

impl<'de, T: DeserializeOwned> Visitor<'de> for HitVecSeed<T> {
    type Value = Vec<Hit<T>>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a sequence of hits")
    }

    fn visit_seq<A: SeqAccess<'de>>(
        self,
        mut seq: A,
    ) -> std::result::Result<Vec<Hit<T>>, A::Error> {
        let capacity = seq.size_hint().unwrap_or(self.0.capacity);
        let mut hits = Vec::with_capacity(capacity.min(self.0.capacity));
        if self.0.keep_sort {
            while let Some(hit) = seq.next_element::<Hit<T>>()? {
                hits.push(hit);
            }
        } else {
            while let Some(hit) = seq.next_element_seed(SkipSortHit(self.1))? {
                hits.push(hit);
            }
        }
        // A short page (the last one, a slice's tail) does not keep the room of a full one.
        if hits.len() < hits.capacity() / 2 {
            hits.shrink_to_fit();
        }
        Ok(hits)
    }
}

/// One hit, read by `Hit`'s own `Deserialize` through [`SkipSort`].
struct SkipSortHit<T>(std::marker::PhantomData<fn() -> T>);

impl<'de, T: DeserializeOwned> DeserializeSeed<'de> for SkipSortHit<T> {
    type Value = Hit<T>;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> std::result::Result<Hit<T>, D::Error> {
        Hit::<T>::deserialize(SkipSort(d))
    }
}

/// A deserializer of one JSON object that hides its `sort` key (the value is skipped as
/// [`IgnoredAny`], never built), so that the derived `Deserialize` of [`Hit`] leaves `sort`
/// at its default, `None`; every other key and value reaches it unchanged.
struct SkipSort<D>(D);

impl<'de, D: Deserializer<'de>> Deserializer<'de> for SkipSort<D> {
    type Error = D::Error;

    fn deserialize_any<V: Visitor<'de>>(self, v: V) -> std::result::Result<V::Value, D::Error> {
        self.0.deserialize_any(SkipSort(v))
    }

    fn deserialize_map<V: Visitor<'de>>(self, v: V) -> std::result::Result<V::Value, D::Error> {
        self.0.deserialize_map(SkipSort(v))
    }

    fn deserialize_struct<V: Visitor<'de>>(
        self,
        name: &'static str,
        fields: &'static [&'static str],
        v: V,
    ) -> std::result::Result<V::Value, D::Error> {
        self.0.deserialize_struct(name, fields, SkipSort(v))
    }

    serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string bytes byte_buf
        option unit unit_struct newtype_struct seq tuple tuple_struct enum identifier
        ignored_any
    }
}

/// The visitor side of [`SkipSort`]: hands the visitor a map without `sort`.
impl<'de, V: Visitor<'de>> Visitor<'de> for SkipSort<V> {
    type Value = V::Value;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.expecting(f)
    }

    fn visit_map<A: MapAccess<'de>>(self, map: A) -> std::result::Result<V::Value, A::Error> {
        self.0.visit_map(SkipSort(map))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> std::result::Result<V::Value, A::Error> {
        self.0.visit_seq(seq)
    }
}

impl<'de, A: MapAccess<'de>> MapAccess<'de> for SkipSort<A> {
    type Error = A::Error;

    fn next_key_seed<K: DeserializeSeed<'de>>(
        &mut self,
        mut seed: K,
    ) -> std::result::Result<Option<K::Value>, A::Error> {
        loop {
            match self.0.next_key_seed(SortKey(seed))? {
                None => return Ok(None),
                Some(Ok(key)) => return Ok(Some(key)),
                Some(Err(back)) => {
                    self.0.next_value::<IgnoredAny>()?;
                    seed = back;
                }
            }
        }
    }

    fn next_value_seed<S: DeserializeSeed<'de>>(
        &mut self,
        seed: S,
    ) -> std::result::Result<S::Value, A::Error> {
        self.0.next_value_seed(seed)
    }

    fn size_hint(&self) -> Option<usize> {
        self.0.size_hint()
    }
}

/// A key seen by [`SkipSort`]: `sort` gives the inner seed back (`Err`), any other key is
/// read by it (`Ok`), from the key's own text (no copy when the input has no escapes).
struct SortKey<K>(K);

impl<'de, K: DeserializeSeed<'de>> DeserializeSeed<'de> for SortKey<K> {
    type Value = std::result::Result<K::Value, K>;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> std::result::Result<Self::Value, D::Error> {
        d.deserialize_identifier(self)
    }
}

impl<'de, K: DeserializeSeed<'de>> Visitor<'de> for SortKey<K> {
    type Value = std::result::Result<K::Value, K>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a field name")
    }

    fn visit_borrowed_str<E: de::Error>(self, s: &'de str) -> std::result::Result<Self::Value, E> {
        if s == "sort" {
            return Ok(Err(self.0));
        }
        self.0
            .deserialize(de::value::BorrowedStrDeserializer::new(s))
            .map(Ok)
    }

    fn visit_str<E: de::Error>(self, s: &str) -> std::result::Result<Self::Value, E> {
        if s == "sort" {
            return Ok(Err(self.0));
        }
        self.0
            .deserialize(de::value::StrDeserializer::new(s))
            .map(Ok)
    }
}

/// `_shards` of a search page. Elasticsearch and OpenSearch count skipped shards inside
/// `successful`, so a page is complete when `failed == 0` and `successful == total`.
#[derive(Deserialize, Default)]
struct Shards {
    #[serde(default)]
    total: u64,
    #[serde(default)]
    successful: u64,
    #[serde(default)]
    failed: u64,
    #[serde(default)]
    failures: Vec<ShardFailure>,
}

#[derive(Deserialize)]
struct ShardFailure {
    #[serde(default)]
    index: Option<String>,
    #[serde(default)]
    shard: Option<i64>,
    #[serde(default)]
    reason: Option<Value>,
}

impl Shards {
    /// The failure message when some shard did not answer, with the first reasons.
    fn incomplete(&self) -> Option<String> {
        if self.failed == 0 && self.successful >= self.total {
            return None;
        }
        use std::fmt::Write as _;
        let mut msg = format!(
            "{} of {} shards failed ({} succeeded)",
            self.failed.max(self.total.saturating_sub(self.successful)),
            self.total,
            self.successful
        );
        for (n, f) in self.failures.iter().take(5).enumerate() {
            msg.push_str(if n == 0 { ": " } else { "; " });
            let _ = write!(
                msg,
                "[{}][{}]",
                f.index.as_deref().unwrap_or("-"),
                f.shard.map_or_else(|| "-".to_owned(), |s| s.to_string())
            );
            match &f.reason {
                Some(Value::Object(r)) => {
                    if let Some(t) = r.get("type").and_then(Value::as_str) {
                        let _ = write!(msg, " {t}");
                    }
                    if let Some(why) = r.get("reason").and_then(Value::as_str) {
                        let _ = write!(msg, ": {why}");
                    }
                }
                Some(Value::String(why)) => {
                    let _ = write!(msg, " {why}");
                }
                Some(other) => {
                    let _ = write!(msg, " {other}");
                }
                None => {}
            }
        }
        if self.failures.len() > 5 {
            let _ = write!(msg, "; and {} more", self.failures.len() - 5);
        }
        Some(msg)
    }
}

/// Why a slice's pages ended early: the error the scan ends with, or a page that was lost.
enum Failure {
    /// The scan ends with this error.
    Error(Error),
    /// A request that cannot be resent (a scroll continuation: a resend returns the page
    /// after it) failed after it may have been executed: the page it asked for may be gone.
    /// [`ScanPages`] makes it [`Error::scan_lost`] with the documents yielded before it.
    Lost(es_api::es_transport::Error),
}

impl From<Error> for Failure {
    fn from(e: Error) -> Self {
        Failure::Error(e)
    }
}

/// The pages of one slice, until its first failure.
type SlicePages<T> = BoxStream<'static, std::result::Result<Vec<Hit<T>>, Failure>>;

/// A failed page request, with the context ids its response carried (a page whose hits
/// could not be read still names its scroll / point in time, which must be released).
struct PageError {
    error: Failure,
    scroll_id: Option<String>,
    pit_id: Option<String>,
}

impl From<Error> for PageError {
    fn from(error: Error) -> Self {
        PageError {
            error: Failure::Error(error),
            scroll_id: None,
            pit_id: None,
        }
    }
}

type PageResult<T> = std::result::Result<Page<T>, PageError>;

/// The scan helper: a query, how to page, then [`Scan::stream`]. Cheap to clone.
///
/// Defaults: scroll mode, `size` 1,000 per page, keep-alive 5 minutes, `preserve_order`
/// off (sorted by `_doc`, the cheapest order), one slice, failed shards are an error.
///
/// # When an answer is lost
/// Every hit is yielded once, or the stream ends with an error; never a shorter `Ok`.
/// - Scroll: the first search and the release may be resent by the transport (a resent
///   first search opens a second scroll; the first one's id was never seen, so it expires
///   with its keep-alive). A continuation (`/_search/scroll`) is never resent once it may
///   have been executed, whatever the request options say (the server moved past its page:
///   a resend would return the next page and skip one); its failure ends the scan with an
///   [`ErrorKind::Scan`](crate::ErrorKind::Scan) error counting the documents yielded
///   before it ([`Error::documents_yielded`]), the scroll released. A 429 is resent (the
///   server refused the work).
/// - Point in time: every request is resent by the transport as configured (the same
///   `search_after` returns the same page), so a lost page costs a resend, nothing else
///   (a resent open leaves the point in time of the lost answer to its keep-alive).
///   Only an empty page ends a slice (a short page does not prove the end), which costs one
///   request per slice at the end.
/// - A page with `timed_out: true` may hold part of its hits: an error, as failed shards
///   are (see [`Scan::raise_on_error`]).
///
/// # Example
/// ```no_run
/// # async fn run(client: es_api::Client) -> es_helpers::Result<()> {
/// use es_helpers::scan::Scan;
/// use futures_util::TryStreamExt;
/// use serde_json::{Value, json};
///
/// let mut hits = Scan::new(&client, "logs")
///     .query(json!({"query": {"term": {"level": "error"}}}))
///     .point_in_time()
///     .slices(4)
///     .stream::<Value>();
/// while let Some(hit) = hits.try_next().await? {
///     println!("{:?} {:?}", hit.id, hit.source);
/// }
/// # Ok(()) }
/// ```
#[derive(Clone)]
#[must_use]
pub struct Scan {
    client: Client,
    index: String,
    query: std::result::Result<Map<String, Value>, String>,
    size: u32,
    keep_alive: Duration,
    preserve_order: bool,
    mode: ScanMode,
    pit_api: PitApi,
    slices: u32,
    raise_on_error: bool,
    clear: bool,
    options: RequestOptions,
    /// Set by [`Scan::refuse`]: the scan yields this as its one error, sending nothing.
    refused: Option<String>,
}

impl fmt::Debug for Scan {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Scan")
            .field("index", &self.index)
            .field("size", &self.size)
            .field("keep_alive", &self.keep_alive)
            .field("mode", &self.mode)
            .field("slices", &self.slices)
            .finish_non_exhaustive()
    }
}

impl Scan {
    /// Scans `index` (a name, a comma-separated list, a pattern; empty for all) with a
    /// `match_all` query.
    pub fn new(client: &Client, index: impl Into<String>) -> Self {
        Scan {
            client: client.clone(),
            index: index.into(),
            query: Ok(Map::new()),
            size: 1000,
            keep_alive: Duration::from_secs(300),
            preserve_order: false,
            mode: ScanMode::Scroll,
            pit_api: PitApi::Auto,
            slices: 1,
            raise_on_error: true,
            clear: true,
            options: client.request_options().clone(),
            refused: None,
        }
    }

    /// Makes the scan send nothing: its stream yields one [`ErrorKind::Refused`](crate::ErrorKind::Refused)
    /// error with this reason, then ends. For a caller that builds a scan from a request it
    /// found it cannot carry (es-dsl's `Search::scan` of a `knn` search).
    ///
    /// # Example
    /// ```
    /// # async fn run(client: es_api::Client) {
    /// use futures_util::StreamExt;
    ///
    /// let scan = es_helpers::scan::Scan::new(&client, "docs").refuse("a knn search cannot be scanned");
    /// let items: Vec<_> = scan.stream::<serde_json::Value>().collect().await;
    /// assert_eq!(items.len(), 1);
    /// assert_eq!(items[0].as_ref().unwrap_err().kind(), es_helpers::ErrorKind::Refused);
    /// # }
    /// ```
    pub fn refuse(mut self, reason: impl Into<String>) -> Self {
        self.refused = Some(reason.into());
        self
    }

    /// The search body (`query`, `_source`, `sort`, …), as any `Serialize` that is a JSON
    /// object. `size`, `pit`, `search_after` and `slice` are set by the helper.
    pub fn query(mut self, body: impl serde::Serialize) -> Self {
        self.query = match serde_json::to_value(body) {
            Ok(Value::Object(m)) => Ok(m),
            Ok(other) => Err(format!("the scan query must be a JSON object, not {other}")),
            Err(e) => Err(e.to_string()),
        };
        self
    }

    /// Hits per page (per slice), default 1,000.
    pub fn size(mut self, size: u32) -> Self {
        self.size = size.max(1);
        self
    }

    /// How long the server keeps the scroll or point in time between pages (default 5 min).
    pub fn keep_alive(mut self, d: Duration) -> Self {
        self.keep_alive = d;
        self
    }

    /// Alias of [`Scan::keep_alive`], elasticsearch-py's `scroll`.
    pub fn scroll(self, d: Duration) -> Self {
        self.keep_alive(d)
    }

    /// Keep the query's `sort` (scroll mode; slower): without it the helper sorts by `_doc`.
    pub fn preserve_order(mut self, yes: bool) -> Self {
        self.preserve_order = yes;
        self
    }

    /// The paging mode (default [`ScanMode::Scroll`]).
    pub fn mode(mut self, mode: ScanMode) -> Self {
        self.mode = mode;
        self
    }

    /// Point in time + `search_after` ([`ScanMode::PointInTime`]).
    pub fn point_in_time(self) -> Self {
        self.mode(ScanMode::PointInTime)
    }

    /// Which point-in-time API to use (default [`PitApi::Auto`]).
    pub fn pit_api(mut self, api: PitApi) -> Self {
        self.pit_api = api;
        self
    }

    /// Scan in `n` slices in parallel (sliced scroll or sliced point in time); hits of the
    /// slices interleave. The first error of any slice ends the whole stream: the other
    /// slices stop, their scrolls are cleared, and a shared point in time is closed once.
    pub fn slices(mut self, n: u32) -> Self {
        self.slices = n.max(1);
        self
    }

    /// Whether a page with failed shards (`_shards.failed > 0`, or fewer `successful` than
    /// `total`) or that timed out on the server (`timed_out: true`, even with no failed
    /// shard) is an error (default true; the error names the failures' reasons): either
    /// may hold only part of its hits. Otherwise it is logged and the scan goes on with the
    /// hits it got.
    pub fn raise_on_error(mut self, yes: bool) -> Self {
        self.raise_on_error = yes;
        self
    }

    /// Whether to clear the scroll / close the point in time when done (default true).
    pub fn clear(mut self, yes: bool) -> Self {
        self.clear = yes;
        self
    }

    /// Request options of every request (timeout, headers, …), merged over the client's own
    /// ([`es_api::Client::options`]).
    pub fn request_options(mut self, options: RequestOptions) -> Self {
        self.options = self.options.merge(&options);
        self
    }

    /// Every hit, with its `_source` as `T` (use `serde_json::Value` for any, or
    /// `Box<serde_json::value::RawValue>` to keep the bytes).
    ///
    /// Each hit's `sort` is kept in point-in-time mode and with [`Scan::preserve_order`]; in
    /// scroll mode without it (sorted by `_doc`) it is skipped while parsing and is `None`
    /// (see [`Hit`]).
    ///
    /// Must be polled within a Tokio runtime. Dropping the stream early releases the
    /// server-side context in a spawned task.
    pub fn stream<T: DeserializeOwned + Send + 'static>(&self) -> ScanStream<T> {
        ScanStream {
            pages: self.pages(),
            hits: Vec::new().into_iter(),
        }
    }

    /// The same hits as [`Scan::stream`], a page at a time: each item is the hits of one
    /// response (never empty; at most [`Scan::size`] hits, of one slice when sliced), in the
    /// order the pages arrive. For consumers that work a batch at a time (a bulk chunk, a
    /// database transaction): no per-hit stream overhead.
    ///
    /// Ends as [`ScanStream`] does: after the last page, or after the first error of any
    /// slice, with every server-side context released. Must be polled within a Tokio
    /// runtime.
    pub fn pages<T: DeserializeOwned + Send + 'static>(&self) -> ScanPages<T> {
        let cfg = match &self.query {
            Ok(q) => Arc::new(Cfg {
                transport: crate::transport_of(&self.client).clone(),
                index: self.index.clone(),
                query: q.clone(),
                size: self.size,
                hits: HitsSpec::new(
                    self.size,
                    self.mode == ScanMode::PointInTime || self.preserve_order,
                ),
                keep_alive: render_duration(self.keep_alive),
                preserve_order: self.preserve_order,
                slices: self.slices,
                raise_on_error: self.raise_on_error,
                clear: self.clear,
                options: self.options.clone(),
            }),
            Err(e) => {
                let err = Error::serialization(e.clone());
                return ScanPages::new(stream::iter([Err(err.into())]).boxed());
            }
        };
        if let Some(why) = &self.refused {
            let err = Error::refused(why.clone());
            return ScanPages::new(stream::iter([Err(err.into())]).boxed());
        }
        let pages: SlicePages<T> = match self.mode {
            ScanMode::Scroll => {
                let slices = (0..cfg.slices).map(|i| scroll_pages::<T>(cfg.clone(), i).boxed());
                stream::select_all(slices).boxed()
            }
            ScanMode::PointInTime => {
                let api = self.pit_api;
                stream::once(async move {
                    match open_pit(&cfg, api).await {
                        Ok(pit) => {
                            let shared = Arc::new(PitShared {
                                id: Mutex::new(pit.id.clone()),
                                cleanup: Mutex::new(pit),
                                failed: Default::default(),
                            });
                            let slices = (0..cfg.slices)
                                .map(|i| pit_pages::<T>(cfg.clone(), shared.clone(), i).boxed());
                            stream::select_all(slices).boxed()
                        }
                        Err(e) => stream::iter([Err(e.into())]).boxed(),
                    }
                })
                .flatten()
                .boxed()
            }
        };
        ScanPages::new(pages)
    }
}

/// The pages of a [`Scan`] ([`Scan::pages`]), as a `Stream` of `Result<Vec<Hit<T>>>`.
///
/// Ends after the last page, or after the first error, of any slice: the failing slice's
/// context is released before the error is yielded, the other slices' right after (in a
/// spawned task). Every path releases the scroll or point in time, a first page with failed
/// shards or unreadable hits included.
///
/// A scroll continuation is never resent once it may have been executed (a resend would
/// return the page after it, skipping one): its failure ends the scan with an
/// [`ErrorKind::Scan`](crate::ErrorKind::Scan) error that says how many documents were
/// yielded before it ([`Error::documents_yielded`]), with the transport's error as its
/// source ([`Error::transport_error`], [`Error::may_have_reached_server`]).
pub struct ScanPages<T> {
    /// `None` once ended by an error.
    inner: Option<SlicePages<T>>,
    /// Hits yielded so far (of every slice).
    yielded: u64,
}

impl<T> ScanPages<T> {
    fn new(inner: SlicePages<T>) -> Self {
        ScanPages {
            inner: Some(inner),
            yielded: 0,
        }
    }
}

impl<T> fmt::Debug for ScanPages<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ScanPages").finish_non_exhaustive()
    }
}

impl<T> Stream for ScanPages<T> {
    type Item = Result<Vec<Hit<T>>>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let Some(inner) = self.inner.as_mut() else {
            return Poll::Ready(None);
        };
        match std::task::ready!(inner.as_mut().poll_next(cx)) {
            Some(Ok(page)) => {
                self.yielded += page.len() as u64;
                Poll::Ready(Some(Ok(page)))
            }
            Some(Err(failure)) => {
                // The first error ends every slice: dropping them releases their contexts.
                self.inner = None;
                Poll::Ready(Some(Err(match failure {
                    Failure::Error(e) => e,
                    Failure::Lost(e) => Error::scan_lost(self.yielded, e),
                })))
            }
            None => Poll::Ready(None),
        }
    }
}

/// The hits of a [`Scan`], as a `Stream` of `Result<Hit<T>>`.
///
/// Ends after the last hit, or after the first error, of any slice: the failing slice's
/// context is released before the error is yielded, the other slices' right after (in a
/// spawned task). Every path releases the scroll or point in time, a first page with failed
/// shards or unreadable hits included.
pub struct ScanStream<T> {
    pages: ScanPages<T>,
    /// The rest of the current page.
    hits: std::vec::IntoIter<Hit<T>>,
}

// Never pinned structurally: `pages` is `Unpin` and `hits` is only moved out of by value.
impl<T> Unpin for ScanStream<T> {}

impl<T> fmt::Debug for ScanStream<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ScanStream")
            .field("buffered", &self.hits.len())
            .finish_non_exhaustive()
    }
}

impl<T> Stream for ScanStream<T> {
    type Item = Result<Hit<T>>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = self.get_mut();
        loop {
            if let Some(hit) = this.hits.next() {
                return Poll::Ready(Some(Ok(hit)));
            }
            match std::task::ready!(Pin::new(&mut this.pages).poll_next(cx)) {
                Some(Ok(page)) => this.hits = page.into_iter(),
                Some(Err(e)) => return Poll::Ready(Some(Err(e))),
                None => return Poll::Ready(None),
            }
        }
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        let more = if self.pages.inner.is_some() {
            None
        } else {
            Some(self.hits.len())
        };
        (self.hits.len(), more)
    }
}

struct Cfg {
    transport: Transport,
    index: String,
    query: Map<String, Value>,
    size: u32,
    /// How pages' hits are read (capacity, whether `sort` is kept).
    hits: HitsSpec,
    keep_alive: String,
    preserve_order: bool,
    slices: u32,
    raise_on_error: bool,
    clear: bool,
    options: RequestOptions,
}

fn render_duration(d: Duration) -> String {
    if d.subsec_millis() == 0 && d.as_secs() > 0 {
        format!("{}s", d.as_secs())
    } else {
        format!("{}ms", d.as_millis().max(1))
    }
}

impl Cfg {
    /// Sends one page request. The caller records the page's ids, then checks the page
    /// ([`Cfg::check_page`]), so that a context is known before any error.
    ///
    /// `idempotent`: the same request returns the same page (a first scroll search, a
    /// point-in-time search with its `search_after`), so the transport may resend it. A
    /// scroll continuation is not (a resend returns the next page): it is marked so over any
    /// `idempotent` in the options, and a failure whose outcome is unknown
    /// (`outcome_unknown()`: no answer, a 5xx, an unreadable answer) is [`Failure::Lost`].
    async fn post<T: DeserializeOwned>(
        &self,
        path: String,
        body: &Value,
        idempotent: bool,
    ) -> PageResult<T> {
        let body = serde_json::to_vec(body).map_err(|e| Error::serialization(e.to_string()))?;
        let options = if idempotent {
            self.options.clone()
        } else {
            self.options.clone().idempotent(false)
        };
        let req = Request::post(path)
            .with_json_body(body)
            .with_options(options)
            .with_idempotent(idempotent)
            .with_endpoint("search");
        // A 4xx (a 429 the transport resent, an expired scroll's 404) is the server refusing
        // the request: the scroll did not move, nothing is lost.
        let failed = |e: es_api::es_transport::Error| {
            if !idempotent && e.outcome_unknown() {
                Failure::Lost(e)
            } else {
                Failure::Error(Error::transport(e))
            }
        };
        let resp = self.transport.send(req).await.map_err(|e| PageError {
            error: failed(e),
            scroll_id: None,
            pit_id: None,
        })?;
        let mut de = serde_json::Deserializer::from_slice(resp.body());
        let read = PageSeed::<T>::new(self.hits.for_body(resp.body().len()))
            .deserialize(&mut de)
            .and_then(|page| de.end().map(|()| page));
        let unread = match read {
            Ok(page) => return Ok(page),
            Err(e) => e,
        };
        // Unreadable: the derived parse words the error as every response's is (the excerpt
        // of the body, the node). It is only used for that: its hits would keep `sort`.
        match resp.json::<Page<T>>() {
            // Read by the derived parse but not by the seed (the two are meant to agree): the
            // seed's error, with the page's ids so that the context is released.
            Ok(page) => Err(PageError {
                error: Error::serialization(format!("scan: unreadable page: {unread}")).into(),
                scroll_id: page.scroll_id,
                pit_id: page.pit_id,
            }),
            Err(e) => {
                // Hits that do not fit `T`: the ids are still needed to release the context.
                #[derive(Deserialize)]
                struct Ids {
                    #[serde(rename = "_scroll_id", default)]
                    scroll_id: Option<String>,
                    #[serde(default)]
                    pit_id: Option<String>,
                }
                let ids = serde_json::from_slice::<Ids>(resp.body()).ok();
                Err(PageError {
                    error: failed(e),
                    scroll_id: ids.as_ref().and_then(|i| i.scroll_id.clone()),
                    pit_id: ids.and_then(|i| i.pit_id),
                })
            }
        }
    }

    /// A page with failed shards, or that timed out (`timed_out: true`, its hits may be
    /// partial): an error (`raise_on_error`), or a warning.
    fn check_page<T>(&self, page: &Page<T>) -> Result<()> {
        let incomplete = page.shards.as_ref().and_then(Shards::incomplete);
        let msg = match (page.timed_out, incomplete) {
            (false, None) => return Ok(()),
            (false, Some(m)) => format!("scan: {m}"),
            (true, None) => {
                "scan: a page timed out on the server (`timed_out: true`): its hits may be partial"
                    .to_owned()
            }
            (true, Some(m)) => format!(
                "scan: a page timed out on the server (`timed_out: true`): its hits may be partial; {m}"
            ),
        };
        if self.raise_on_error {
            return Err(Error::scan(msg));
        }
        tracing::warn!(target: "elasticsearch", "{msg}");
        Ok(())
    }

    fn slice(&self, body: &mut Map<String, Value>, slice: u32) {
        if self.slices > 1 {
            body.insert("slice".into(), json!({"id": slice, "max": self.slices}));
        }
    }

    /// `/{index}{suffix}`, the index percent-encoded (`,` and `*` kept).
    fn index_path(&self, suffix: &str) -> String {
        if self.index.is_empty() {
            suffix.to_owned()
        } else {
            format!("/{}{suffix}", encode(&self.index))
        }
    }
}

// ===== server-side contexts and their release =====

enum Ctx {
    Scroll(String),
    Pit(String, PitApi),
}

/// Owns a scroll id or point in time; releases it when told, or in a spawned task on drop.
struct Cleanup {
    transport: Transport,
    options: RequestOptions,
    ctx: Option<Ctx>,
    id: String,
}

impl Cleanup {
    fn new(transport: Transport, options: RequestOptions, ctx: Option<Ctx>) -> Self {
        let id = match &ctx {
            Some(Ctx::Scroll(s) | Ctx::Pit(s, _)) => s.clone(),
            None => String::new(),
        };
        Cleanup {
            transport,
            options,
            ctx,
            id,
        }
    }

    /// The point in time's latest id (it may change from page to page): the one to close.
    fn set_pit(&mut self, id: &str) {
        if let Some(Ctx::Pit(old, _)) = &mut self.ctx
            && old != id
        {
            id.clone_into(old);
            id.clone_into(&mut self.id);
        }
    }

    fn set_scroll(&mut self, id: String) {
        self.id.clone_from(&id);
        self.ctx = Some(Ctx::Scroll(id));
    }

    fn take(&mut self) -> Option<impl Future<Output = ()> + Send + 'static> {
        let ctx = self.ctx.take()?;
        Some(release(self.transport.clone(), self.options.clone(), ctx))
    }
}

impl Drop for Cleanup {
    fn drop(&mut self) {
        if let Some(fut) = self.take() {
            match tokio::runtime::Handle::try_current() {
                Ok(h) => {
                    h.spawn(fut);
                }
                Err(_) => {
                    tracing::warn!(target: "elasticsearch", "scan dropped outside a Tokio runtime: its context is left to expire")
                }
            }
        }
    }
}

async fn release(transport: Transport, options: RequestOptions, ctx: Ctx) {
    let (req, what) = match ctx {
        Ctx::Scroll(id) => (
            Request::delete("/_search/scroll")
                .with_json_body(json!({"scroll_id": [id]}).to_string()),
            "scroll",
        ),
        Ctx::Pit(id, PitApi::OpenSearch) => (
            Request::delete("/_search/point_in_time")
                .with_json_body(json!({"pit_id": [id]}).to_string()),
            "point in time",
        ),
        Ctx::Pit(id, _) => (
            Request::delete("/_pit").with_json_body(json!({"id": id}).to_string()),
            "point in time",
        ),
    };
    // Releasing twice is harmless (the second finds nothing: 404, ignored).
    let req = req
        .with_options(options.ignore_status([404]))
        .with_idempotent(true);
    if let Err(e) = transport.send(req).await {
        tracing::warn!(target: "elasticsearch", error = %e, "could not release the {what}");
    }
}

// ===== scroll =====

struct ScrollState<T> {
    cfg: Arc<Cfg>,
    slice: u32,
    cleanup: Cleanup,
    started: bool,
    done: bool,
    /// The next page, requested while the consumer works through the current one.
    next: Option<Task<PageResult<T>>>,
}

/// Awaits a prefetched page.
async fn prefetched<T>(task: Task<PageResult<T>>) -> PageResult<T> {
    task.await
        .unwrap_or_else(|| Err(Error::scan("the page request was cancelled").into()))
}

fn scroll_next<T: DeserializeOwned + Send + 'static>(
    cfg: &Arc<Cfg>,
    scroll_id: &str,
) -> Task<PageResult<T>> {
    let cfg = cfg.clone();
    let body = json!({"scroll": cfg.keep_alive, "scroll_id": scroll_id});
    Task(tokio::spawn(async move {
        cfg.post::<T>("/_search/scroll".to_owned(), &body, false)
            .await
    }))
}

fn scroll_pages<T: DeserializeOwned + Send + 'static>(
    cfg: Arc<Cfg>,
    slice: u32,
) -> impl Stream<Item = std::result::Result<Vec<Hit<T>>, Failure>> + Send {
    let cleanup = Cleanup::new(cfg.transport.clone(), cfg.options.clone(), None);
    let state = ScrollState {
        cfg,
        slice,
        cleanup,
        started: false,
        done: false,
        next: None,
    };
    stream::unfold(state, |mut st| async move {
        if st.done {
            return None;
        }
        let cfg = st.cfg.clone();
        let res = if let Some(task) = st.next.take() {
            prefetched(task).await
        } else if st.started {
            prefetched(scroll_next::<T>(&cfg, &st.cleanup.id)).await
        } else {
            st.started = true;
            let mut body = cfg.query.clone();
            if !cfg.preserve_order {
                body.insert("sort".into(), json!(["_doc"]));
            }
            cfg.slice(&mut body, st.slice);
            let path = format!(
                "{}?scroll={}&size={}",
                cfg.index_path("/_search"),
                cfg.keep_alive,
                cfg.size
            );
            first_scroll_page::<T>(&cfg, path, Value::Object(body)).await
        };
        // The page's scroll id is recorded before anything can fail, so that every error
        // path below clears it.
        let (page, id) = match res {
            Ok(mut page) => {
                let id = page.scroll_id.take();
                (Ok(page), id)
            }
            Err(e) => (Err(e.error), e.scroll_id),
        };
        if let Some(id) = id {
            st.cleanup.set_scroll(id);
        }
        match page.and_then(|p| cfg.check_page(&p).map(|()| p).map_err(Failure::from)) {
            Ok(page) => {
                if page.hits.hits.is_empty() {
                    st.done = true;
                    finish(&mut st.cleanup, cfg.clear).await;
                    return None;
                }
                st.next = Some(scroll_next::<T>(&cfg, &st.cleanup.id));
                Some((Ok(page.hits.hits), st))
            }
            Err(e) => {
                st.done = true;
                finish(&mut st.cleanup, true).await;
                Some((Err(e), st))
            }
        }
    })
}

/// The first page of a scroll, in a task of its own that outlives the scan: if the scan is
/// dropped (or another slice failed) while the request is out, the scroll the server opens
/// for it is cleared, not left to expire.
async fn first_scroll_page<T: DeserializeOwned + Send + 'static>(
    cfg: &Arc<Cfg>,
    path: String,
    body: Value,
) -> PageResult<T> {
    let (tx, rx) = tokio::sync::oneshot::channel();
    let cfg = cfg.clone();
    tokio::spawn(async move {
        // Resending it opens another scroll: the one whose answer was lost expires with its
        // keep-alive (nobody knows its id).
        let page = cfg.post::<T>(path, &body, true).await;
        // Whether the send fails or the receiver is dropped before reading it, the
        // unread page's guard clears its scroll.
        let _ = tx.send(UnreadPage {
            page: Some(page),
            cfg,
        });
    });
    match rx.await {
        Ok(mut unread) => unread.page.take().expect("an unread page"),
        Err(_) => Err(Error::scan("the page request was cancelled").into()),
    }
}

/// A first scroll page on its way to the scan; clears its scroll if dropped unread.
struct UnreadPage<T> {
    page: Option<PageResult<T>>,
    cfg: Arc<Cfg>,
}

impl<T> Drop for UnreadPage<T> {
    fn drop(&mut self) {
        let id = match self.page.take() {
            Some(Ok(page)) => page.scroll_id,
            Some(Err(e)) => e.scroll_id,
            None => None,
        };
        if let Some(id) = id {
            let mut cleanup =
                Cleanup::new(self.cfg.transport.clone(), self.cfg.options.clone(), None);
            // Dropping it spawns the release (or warns outside a runtime).
            cleanup.set_scroll(id);
        }
    }
}

/// Runs a release in a task of its own and waits for it: if the scan is dropped meanwhile
/// (the consumer gave up, or another slice failed), the release still completes.
async fn release_now(fut: impl Future<Output = ()> + Send + 'static) {
    let _ = tokio::spawn(fut).await;
}

async fn finish(cleanup: &mut Cleanup, clear: bool) {
    match cleanup.take() {
        Some(fut) if clear => release_now(fut).await,
        _ => {}
    }
}

// ===== point in time =====

struct PitShared {
    /// The latest point-in-time id the cluster answered.
    id: Mutex<String>,
    cleanup: Mutex<Cleanup>,
    /// Set by the first slice that fails: it closes the point in time and reports its
    /// error; the others' later errors (against the closed point in time) are not reported.
    failed: std::sync::atomic::AtomicBool,
}

impl PitShared {
    /// Marks the scan failed; whether this slice is the first to fail.
    fn first_failure(&self) -> bool {
        !self.failed.swap(true, std::sync::atomic::Ordering::SeqCst)
    }

    /// A slice failed with `e`: the first failure closes the point in time and is reported
    /// (`Some`); later ones, against the closed point in time, are not.
    async fn fail(&self, e: Failure) -> Option<Failure> {
        if !self.first_failure() {
            return None;
        }
        let fut = self.cleanup.lock().expect("cleanup lock").take();
        if let Some(f) = fut {
            release_now(f).await;
        }
        Some(e)
    }
}

async fn open_pit(cfg: &Cfg, api: PitApi) -> Result<Cleanup> {
    if cfg.index.is_empty() {
        return Err(Error::scan("a point in time needs an index"));
    }
    #[derive(Deserialize)]
    struct Opened {
        id: Option<String>,
        pit_id: Option<String>,
    }
    let try_open = |api: PitApi| async move {
        let suffix = match api {
            PitApi::OpenSearch => "/_search/point_in_time",
            _ => "/_pit",
        };
        let path = format!("{}?keep_alive={}", cfg.index_path(suffix), cfg.keep_alive);
        // Safe to resend: a point in time opened by a lost answer expires with its keep-alive.
        let req = Request::post(path)
            .with_options(cfg.options.clone())
            .with_idempotent(true);
        let resp = cfg.transport.send(req).await?;
        resp.json::<Opened>()
    };
    let (opened, api) = match api {
        PitApi::Auto => match try_open(PitApi::Elasticsearch).await {
            Ok(o) => (o, PitApi::Elasticsearch),
            Err(e) if matches!(e.status().map(|s| s.as_u16()), Some(400 | 404 | 405)) => (
                try_open(PitApi::OpenSearch)
                    .await
                    .map_err(Error::transport)?,
                PitApi::OpenSearch,
            ),
            Err(e) => return Err(Error::transport(e)),
        },
        api => (try_open(api).await.map_err(Error::transport)?, api),
    };
    let id = opened
        .id
        .or(opened.pit_id)
        .ok_or_else(|| Error::scan("the point-in-time response has no id"))?;
    Ok(Cleanup::new(
        cfg.transport.clone(),
        cfg.options.clone(),
        Some(Ctx::Pit(id, api)),
    ))
}

struct PitState<T> {
    cfg: Arc<Cfg>,
    shared: Option<Arc<PitShared>>,
    slice: u32,
    done: bool,
    /// The next page, requested while the consumer works through the current one.
    next: Option<Task<PageResult<T>>>,
}

fn pit_next<T: DeserializeOwned + Send + 'static>(
    cfg: &Arc<Cfg>,
    shared: &PitShared,
    slice: u32,
    search_after: Option<Vec<Value>>,
) -> Task<PageResult<T>> {
    let mut body = cfg.query.clone();
    let id = shared.id.lock().expect("pit id lock").clone();
    body.insert("size".into(), json!(cfg.size));
    body.insert(
        "pit".into(),
        json!({"id": id, "keep_alive": cfg.keep_alive}),
    );
    // The query's sort is kept (Elasticsearch adds the `_shard_doc` tiebreaker itself).
    body.entry("sort").or_insert_with(|| json!(["_shard_doc"]));
    body.entry("track_total_hits").or_insert(Value::Bool(false));
    if let Some(after) = search_after {
        body.insert("search_after".into(), Value::Array(after));
    }
    cfg.slice(&mut body, slice);
    let cfg = cfg.clone();
    Task(tokio::spawn(async move {
        cfg.post::<T>("/_search".to_owned(), &Value::Object(body), true)
            .await
    }))
}

fn pit_pages<T: DeserializeOwned + Send + 'static>(
    cfg: Arc<Cfg>,
    shared: Arc<PitShared>,
    slice: u32,
) -> impl Stream<Item = std::result::Result<Vec<Hit<T>>, Failure>> + Send {
    let state = PitState {
        cfg,
        shared: Some(shared),
        slice,
        done: false,
        next: None,
    };
    stream::unfold(state, |mut st| async move {
        if st.done {
            return None;
        }
        let cfg = st.cfg.clone();
        let shared = st.shared.clone()?;
        let task = st
            .next
            .take()
            .unwrap_or_else(|| pit_next::<T>(&cfg, &shared, st.slice, None));
        let (page, new_id) = match prefetched(task).await {
            Ok(mut page) => {
                let id = page.pit_id.take();
                (Ok(page), id)
            }
            Err(e) => (Err(e.error), e.pit_id),
        };
        if let Some(new_id) = new_id {
            shared
                .cleanup
                .lock()
                .expect("cleanup lock")
                .set_pit(&new_id);
            *shared.id.lock().expect("pit id lock") = new_id;
        }
        let hits = match page.and_then(|p| cfg.check_page(&p).map(|()| p).map_err(Failure::from)) {
            Ok(page) => page.hits.hits,
            Err(e) => {
                st.done = true;
                return shared.fail(e).await.map(|e| (Err(e), st));
            }
        };
        // Only an empty page is the end: a short one proves nothing (a page may come back
        // short while later ones are not, e.g. from a shard that answered late), so it is
        // continued from like a full one.
        if hits.is_empty() {
            st.done = true;
            drop(shared);
            // The last slice to finish closes the point in time.
            if let Some(last) = st.shared.take().and_then(Arc::into_inner) {
                let fut = last.cleanup.lock().expect("cleanup lock").take();
                if let Some(f) = fut
                    && cfg.clear
                {
                    release_now(f).await;
                }
            }
            return None;
        }
        let search_after = hits
            .last()
            .and_then(|h| h.sort.clone())
            .filter(|s| !s.is_empty());
        let Some(search_after) = search_after else {
            st.done = true;
            let e = Error::scan("hits have no sort values to continue from").into();
            return shared.fail(e).await.map(|e| (Err(e), st));
        };
        st.next = Some(pit_next::<T>(&cfg, &shared, st.slice, Some(search_after)));
        Some((Ok(hits), st))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The point-in-time page of Elasticsearch's "Paginate search results" documentation
    /// (search_after with a point in time), with the elided parts filled in.
    const PIT_PAGE: &str = r#"{
      "pit_id" : "46ToAwMDaWR5BXV1aWQyKwZub2RlXzMAAAAAAAAAACoBYwADaWR4BXV1aWQxAgZub2RlXzEAAAAAAAAAAAEBYQADaWR5BXV1aWQyKgZub2RlXzIAAAAAAAAAAAwBYgACBXV1aWQyAAAFdXVpZDEAAQltYXRjaF9hbGw_gAAAAA==",
      "took" : 17,
      "timed_out" : false,
      "_shards" : {"total" : 1, "successful" : 1, "skipped" : 0, "failed" : 0},
      "hits" : {
        "total" : {"value" : 10000, "relation" : "gte"},
        "max_score" : null,
        "hits" : [
          {
            "_index" : "my-index-000001",
            "_id" : "FaslK3QBySSL_rrj9zM5",
            "_score" : null,
            "_source" : {"@timestamp": "2021-05-20T05:30:04.832Z", "sort": "kept"},
            "sort" : [
              "2021-05-20T05:30:04.832Z",
              4294967298
            ]
          }
        ]
      }
    }"#;

    fn read(body: &str, spec: HitsSpec) -> Page<Value> {
        let mut de = serde_json::Deserializer::from_str(body);
        let page = PageSeed::<Value>::new(spec)
            .deserialize(&mut de)
            .expect("a page");
        de.end().expect("nothing after the page");
        page
    }

    #[test]
    fn sort_is_kept_or_skipped_and_the_rest_is_as_derived() {
        let derived: Page<Value> = serde_json::from_str(PIT_PAGE).expect("derived");
        let derived = &derived.hits.hits[0];

        let kept = read(PIT_PAGE, HitsSpec::new(1000, true));
        assert!(kept.pit_id.as_deref().unwrap().starts_with("46ToAwMDaWR5"));
        assert!(kept.scroll_id.is_none());
        assert!(kept.shards.as_ref().unwrap().incomplete().is_none());
        let hit = &kept.hits.hits[0];
        assert_eq!(
            hit.sort,
            Some(vec![
                json!("2021-05-20T05:30:04.832Z"),
                json!(4294967298_u64)
            ])
        );
        assert_eq!(hit, derived);

        let skipped = read(PIT_PAGE, HitsSpec::new(1000, false));
        let hit = &skipped.hits.hits[0];
        assert_eq!(hit.sort, None);
        assert_eq!(hit.index, "my-index-000001");
        assert_eq!(hit.id.as_deref(), Some("FaslK3QBySSL_rrj9zM5"));
        assert_eq!(hit.score, None);
        // A `sort` inside `_source` is the document's own: kept.
        assert_eq!(
            hit.source,
            Some(json!({"@timestamp": "2021-05-20T05:30:04.832Z", "sort": "kept"}))
        );
        let mut without_sort = derived.clone();
        without_sort.sort = None;
        assert_eq!(hit, &without_sort);
    }

    #[test]
    fn timed_out_is_read_as_derived() {
        let body = r#"{"timed_out": true, "_shards": {"total": 1, "successful": 1, "failed": 0}, "hits": {"hits": []}}"#;
        for keep_sort in [false, true] {
            assert!(read(body, HitsSpec::new(5, keep_sort)).timed_out);
        }
        assert!(serde_json::from_str::<Page<Value>>(body).unwrap().timed_out);
        assert!(!read(PIT_PAGE, HitsSpec::new(5, true)).timed_out);
    }

    #[test]
    fn an_escaped_sort_key_is_skipped_too() {
        let body =
            r#"{"hits": {"hits": [{"_index": "i", "_id": "1", "so\u0072t": [1], "_version": 3}]}}"#;
        let page = read(body, HitsSpec::new(10, false));
        let hit = &page.hits.hits[0];
        assert_eq!(hit.sort, None);
        assert_eq!(hit.version, Some(3));
        assert_eq!(hit.id.as_deref(), Some("1"));
    }

    #[test]
    fn the_hits_vec_is_sized_up_front_and_capped() {
        // A full page: exactly `size` reserved, nothing grown or shrunk.
        let hit = r#"{"_index": "i", "_id": "1", "sort": [0]}"#;
        let body = format!(r#"{{"_scroll_id": "abc", "hits": {{"hits": [{hit},{hit},{hit}]}}}}"#);
        let page = read(&body, HitsSpec::new(3, false).for_body(body.len()));
        assert_eq!(page.scroll_id.as_deref(), Some("abc"));
        assert_eq!(page.hits.hits.len(), 3);
        assert_eq!(page.hits.hits.capacity(), 3);

        // A huge `size`: at most MAX_CAPACITY, and no more than the body can hold.
        assert_eq!(
            HitsSpec::new(u32::MAX, false).capacity,
            HitsSpec::MAX_CAPACITY
        );
        assert_eq!(
            HitsSpec::new(u32::MAX, false).for_body(1 << 30).capacity,
            HitsSpec::MAX_CAPACITY
        );
        let body = format!(r#"{{"hits": {{"hits": [{hit}]}}}}"#);
        let spec = HitsSpec::new(10_000, false).for_body(body.len());
        assert_eq!(spec.capacity, body.len() / 16);
        assert_eq!(HitsSpec::new(10_000, false).for_body(0).capacity, 0);

        // A short page (one hit where 1000 were asked for) is shrunk, not handed on with the
        // room of a full one.
        let page = read(&body, HitsSpec::new(1000, false));
        assert_eq!(page.hits.hits.len(), 1);
        assert_eq!(page.hits.hits.capacity(), 1);
    }

    #[test]
    fn pages_read_as_the_derived_parse_does() {
        // No `hits.hits`: an empty page (the end).
        let page = read(
            r#"{"_scroll_id": null, "hits": {"total": 0}}"#,
            HitsSpec::new(5, false),
        );
        assert!(page.hits.hits.is_empty());
        assert!(page.scroll_id.is_none());
        // No `hits`, hits that are not hits, a hit that is not an object: errors, as derived.
        for body in [
            r#"{"_scroll_id": "abc"}"#,
            r#"{"hits": {"hits": 3}}"#,
            r#"{"hits": {"hits": ["x"]}}"#,
            r#"{"hits": {"hits": [{"_id": 5}]}}"#,
        ] {
            for keep_sort in [false, true] {
                let mut de = serde_json::Deserializer::from_str(body);
                let err = PageSeed::<Value>::new(HitsSpec::new(5, keep_sort))
                    .deserialize(&mut de)
                    .err();
                assert!(err.is_some(), "{body} is not a page");
                assert!(serde_json::from_str::<Page<Value>>(body).is_err(), "{body}");
            }
        }
    }
}
