//! Scan: every hit of a query as a `Stream`, by scroll or by point in time + `search_after`,
//! optionally in parallel slices; the server-side context is always released.

use std::fmt;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::Duration;

use es_api::Client;
use es_api::es_transport::{Request, RequestOptions, Transport};
use futures_util::future::Either;
use futures_util::stream::{self, BoxStream};
use futures_util::{Stream, StreamExt};
use serde::Deserialize;
use serde::de::DeserializeOwned;
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

/// One search hit with its `_source` as `T`.
#[derive(Debug, Clone, Deserialize)]
#[serde(bound(deserialize = "T: DeserializeOwned"))]
pub struct Hit<T> {
    #[serde(rename = "_index", default)]
    index: String,
    #[serde(rename = "_id", default)]
    id: String,
    #[serde(rename = "_score", default)]
    score: Option<f64>,
    #[serde(rename = "_routing", default)]
    routing: Option<String>,
    #[serde(rename = "_source", default = "none")]
    source: Option<T>,
    #[serde(rename = "_seq_no", default)]
    seq_no: Option<i64>,
    #[serde(rename = "_primary_term", default)]
    primary_term: Option<i64>,
    #[serde(rename = "_version", default)]
    version: Option<i64>,
    #[serde(default)]
    sort: Vec<Value>,
}

fn none<T>() -> Option<T> {
    None
}

impl<T> Hit<T> {
    /// `_index`.
    pub fn index(&self) -> &str {
        &self.index
    }

    /// `_id`.
    pub fn id(&self) -> &str {
        &self.id
    }

    /// `_score` (none when sorting).
    pub fn score(&self) -> Option<f64> {
        self.score
    }

    /// `_routing`.
    pub fn routing(&self) -> Option<&str> {
        self.routing.as_deref()
    }

    /// `_source`, when returned.
    pub fn source(&self) -> Option<&T> {
        self.source.as_ref()
    }

    /// Takes `_source`.
    pub fn into_source(self) -> Option<T> {
        self.source
    }

    /// `_seq_no` (with `seq_no_primary_term: true` in the query).
    pub fn seq_no(&self) -> Option<i64> {
        self.seq_no
    }

    /// `_primary_term`.
    pub fn primary_term(&self) -> Option<i64> {
        self.primary_term
    }

    /// `_version` (with `version: true` in the query).
    pub fn version(&self) -> Option<i64> {
        self.version
    }

    /// The sort values of the hit.
    pub fn sort(&self) -> &[Value] {
        &self.sort
    }

    /// Replaces `_index` (for [`crate::reindex::Reindex`] transforms).
    pub fn set_index(&mut self, index: impl Into<String>) {
        self.index = index.into();
    }

    /// Replaces `_id`.
    pub fn set_id(&mut self, id: impl Into<String>) {
        self.id = id.into();
    }

    /// Replaces `_source`.
    pub fn set_source(&mut self, source: Option<T>) {
        self.source = source;
    }
}

#[derive(Deserialize)]
#[serde(bound(deserialize = "T: DeserializeOwned"))]
struct Page<T> {
    #[serde(rename = "_scroll_id", default)]
    scroll_id: Option<String>,
    #[serde(default)]
    pit_id: Option<String>,
    #[serde(rename = "_shards", default)]
    shards: Option<Shards>,
    hits: Hits<T>,
}

#[derive(Deserialize)]
#[serde(bound(deserialize = "T: DeserializeOwned"))]
struct Hits<T> {
    #[serde(default = "Vec::new")]
    hits: Vec<Hit<T>>,
}

#[derive(Deserialize, Default)]
struct Shards {
    #[serde(default)]
    total: u64,
    #[serde(default)]
    successful: u64,
    #[serde(default)]
    skipped: u64,
}

/// The scan helper: a query, how to page, then [`Scan::stream`]. Cheap to clone.
///
/// Defaults: scroll mode, `size` 1,000 per page, keep-alive 5 minutes, `preserve_order`
/// off (sorted by `_doc`, the cheapest order), one slice, failed shards are an error.
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
///     println!("{} {:?}", hit.id(), hit.source());
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
        }
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
    /// slices interleave.
    pub fn slices(mut self, n: u32) -> Self {
        self.slices = n.max(1);
        self
    }

    /// Whether a page with failed shards is an error (default true); otherwise it is logged.
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
    /// Must be polled within a Tokio runtime. Dropping the stream early releases the
    /// server-side context in a spawned task.
    pub fn stream<T: DeserializeOwned + Send + 'static>(&self) -> ScanStream<T> {
        let cfg = match &self.query {
            Ok(q) => Arc::new(Cfg {
                transport: crate::transport_of(&self.client).clone(),
                index: self.index.clone(),
                query: q.clone(),
                size: self.size,
                keep_alive: render_duration(self.keep_alive),
                preserve_order: self.preserve_order,
                slices: self.slices,
                raise_on_error: self.raise_on_error,
                clear: self.clear,
                options: self.options.clone(),
            }),
            Err(e) => {
                let err = Error::serialization(e.clone());
                return ScanStream {
                    inner: stream::iter([Err(err)]).boxed(),
                };
            }
        };
        let pages: BoxStream<'static, Result<Vec<Hit<T>>>> = match self.mode {
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
                            });
                            let slices = (0..cfg.slices)
                                .map(|i| pit_pages::<T>(cfg.clone(), shared.clone(), i).boxed());
                            stream::select_all(slices).boxed()
                        }
                        Err(e) => stream::iter([Err(e)]).boxed(),
                    }
                })
                .flatten()
                .boxed()
            }
        };
        let hits = pages.flat_map(|page| match page {
            Ok(hits) => Either::Left(stream::iter(hits.into_iter().map(Ok))),
            Err(e) => Either::Right(stream::iter([Err(e)])),
        });
        ScanStream {
            inner: hits.boxed(),
        }
    }
}

/// The hits of a [`Scan`], as a `Stream` of `Result<Hit<T>>`.
///
/// Ends after the last hit, or after the first error (the context is released first).
pub struct ScanStream<T> {
    inner: BoxStream<'static, Result<Hit<T>>>,
}

impl<T> fmt::Debug for ScanStream<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ScanStream").finish_non_exhaustive()
    }
}

impl<T> Stream for ScanStream<T> {
    type Item = Result<Hit<T>>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        self.inner.as_mut().poll_next(cx)
    }
}

struct Cfg {
    transport: Transport,
    index: String,
    query: Map<String, Value>,
    size: u32,
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
    async fn post<T: DeserializeOwned>(&self, path: String, body: &Value) -> Result<Page<T>> {
        let body = serde_json::to_vec(body).map_err(|e| Error::serialization(e.to_string()))?;
        let req = Request::post(path)
            .with_json_body(body)
            .with_options(self.options.clone())
            .with_endpoint("search");
        let resp = self.transport.send(req).await.map_err(Error::transport)?;
        let page: Page<T> = resp.json().map_err(Error::transport)?;
        if let Some(s) = &page.shards
            && s.successful + s.skipped < s.total
        {
            {
                let msg = format!(
                    "scan: {} of {} shards succeeded",
                    s.successful + s.skipped,
                    s.total
                );
                if self.raise_on_error {
                    return Err(Error::scan(msg));
                }
                tracing::warn!(target: "elasticsearch", "{msg}");
            }
        }
        Ok(page)
    }

    fn slice(&self, body: &mut Map<String, Value>, slice: u32) {
        if self.slices > 1 {
            body.insert("slice".into(), json!({"id": slice, "max": self.slices}));
        }
    }

    fn index_path(&self, suffix: &str) -> String {
        if self.index.is_empty() {
            suffix.to_owned()
        } else {
            format!("/{}{suffix}", self.index)
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
    let req = req.with_options(options.ignore_status([404]));
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
    next: Option<Task<Result<Page<T>>>>,
}

/// Awaits a prefetched page.
async fn prefetched<T>(task: Task<Result<Page<T>>>) -> Result<Page<T>> {
    task.await
        .unwrap_or_else(|| Err(Error::scan("the page request was cancelled")))
}

fn scroll_next<T: DeserializeOwned + Send + 'static>(
    cfg: &Arc<Cfg>,
    scroll_id: &str,
) -> Task<Result<Page<T>>> {
    let cfg = cfg.clone();
    let body = json!({"scroll": cfg.keep_alive, "scroll_id": scroll_id});
    Task(tokio::spawn(async move {
        cfg.post::<T>("/_search/scroll".to_owned(), &body).await
    }))
}

fn scroll_pages<T: DeserializeOwned + Send + 'static>(
    cfg: Arc<Cfg>,
    slice: u32,
) -> impl Stream<Item = Result<Vec<Hit<T>>>> + Send {
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
            scroll_next::<T>(&cfg, &st.cleanup.id)
                .await
                .unwrap_or_else(|| Err(Error::scan("cancelled")))
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
            cfg.post::<T>(path, &Value::Object(body)).await
        };
        match res {
            Ok(page) => {
                if let Some(id) = page.scroll_id {
                    st.cleanup.set_scroll(id);
                }
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

async fn finish(cleanup: &mut Cleanup, clear: bool) {
    match cleanup.take() {
        Some(fut) if clear => fut.await,
        _ => {}
    }
}

// ===== point in time =====

struct PitShared {
    /// The latest point-in-time id the cluster answered.
    id: Mutex<String>,
    cleanup: Mutex<Cleanup>,
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
        let resp = cfg
            .transport
            .send(Request::post(path).with_options(cfg.options.clone()))
            .await?;
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
    next: Option<Task<Result<Page<T>>>>,
}

fn pit_next<T: DeserializeOwned + Send + 'static>(
    cfg: &Arc<Cfg>,
    shared: &PitShared,
    slice: u32,
    search_after: Option<Vec<Value>>,
) -> Task<Result<Page<T>>> {
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
        cfg.post::<T>("/_search".to_owned(), &Value::Object(body))
            .await
    }))
}

fn pit_pages<T: DeserializeOwned + Send + 'static>(
    cfg: Arc<Cfg>,
    shared: Arc<PitShared>,
    slice: u32,
) -> impl Stream<Item = Result<Vec<Hit<T>>>> + Send {
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
        match prefetched(task).await {
            Ok(page) => {
                if let Some(new_id) = page.pit_id {
                    *shared.id.lock().expect("pit id lock") = new_id;
                }
                let hits = page.hits.hits;
                let last_page = hits.len() < cfg.size as usize;
                if !last_page {
                    let search_after = hits
                        .last()
                        .map(|h| h.sort.clone())
                        .filter(|s| !s.is_empty());
                    if search_after.is_none() {
                        st.done = true;
                        let fut = shared.cleanup.lock().expect("cleanup lock").take();
                        if let Some(f) = fut {
                            f.await;
                        }
                        return Some((
                            Err(Error::scan("hits have no sort values to continue from")),
                            st,
                        ));
                    }
                    st.next = Some(pit_next::<T>(&cfg, &shared, st.slice, search_after));
                }
                if last_page {
                    st.done = true;
                    drop(shared);
                    // The last slice to finish closes the point in time.
                    if let Some(last) = st.shared.take().and_then(Arc::into_inner) {
                        let fut = last.cleanup.lock().expect("cleanup lock").take();
                        if let Some(f) = fut
                            && cfg.clear
                        {
                            f.await;
                        }
                    }
                    if hits.is_empty() {
                        return None;
                    }
                }
                Some((Ok(hits), st))
            }
            Err(e) => {
                st.done = true;
                let fut = shared.cleanup.lock().expect("cleanup lock").take();
                if let Some(f) = fut {
                    f.await;
                }
                Some((Err(e), st))
            }
        }
    })
}
