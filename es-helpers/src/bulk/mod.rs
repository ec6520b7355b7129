//! Bulk indexing: chunked, streaming, concurrent, with 429 retries and per-item outcomes.
//!
//! [`Bulk`] is the helper: configure it once, then [`Bulk::run`] a stream (or
//! [`Bulk::run_iter`] an iterator) of [`BulkAction`]s into a [`BulkSummary`], or
//! [`Bulk::stream`] them into a [`BulkStream`] of per-item [`BulkItem`] outcomes.
//!
//! - Chunks close at `chunk_size` actions (500) or `max_chunk_bytes` bytes (100 MB), whichever
//!   comes first (like elasticsearch-py), or, with [`Bulk::flush_after`], once no action has
//!   arrived for that long (a slow source); each document is serialized once, straight into
//!   the request body.
//! - `concurrency` requests are in flight (1: elasticsearch-py's `bulk`/`streaming_bulk`;
//!   more: its `parallel_bulk`); the next chunk is built while they are.
//! - Memory: at most `concurrency + 2` chunks (in flight, one queued, one being built),
//!   whatever the input length, plus the failed items kept ([`Bulk::max_failures_kept`] in
//!   [`Bulk::run`]), each holding only its own action's bytes (a copy, never a view of its
//!   chunk).
//! - One rule for success, in [`Bulk::run`] and [`Bulk::stream`] alike (elasticsearch-py's):
//!   an item succeeded when its status is 2xx or in [`Bulk::ignore_status`]; any other
//!   status is a failure, whatever the response's top-level `errors` flag says (a delete of
//!   a missing document is a 404 under `errors: false`).
//! - Retries (like elasticsearch-py): items rejected with 429, and a whole chunk whose
//!   request failed with 429 (after the transport's own retries), are resent after
//!   `min(initial_backoff · 2^(n-1), max_backoff)`, up to `max_retries` times. Resending a
//!   chunk after a connection error or a timeout is opt-in
//!   ([`Bulk::retry_on_connection_error`], [`Bulk::retry_on_timeout`]): such a request may
//!   have been executed, and a resent `create` then fails with a false 409. Give ids to your
//!   actions: a resent action without an id may be indexed twice.
//! - Worst case: the helper sends one chunk's request (the chunk, then its 429-rejected
//!   items) at most `1 + max_retries` times, and the transport sends each of those at most
//!   `1 + its max_retries` times (it retries connection failures and 429/502/503/504 on
//!   other nodes): with the defaults, at most (1 + 3) × (1 + 3) = 16 sends of one action.
//!   `request_options(RequestOptions::new().max_retries(0))` leaves every resend to the
//!   helper: at most `1 + max_retries`.
//! - Other item errors are reported per item (`raise_on_error(false)`) or end the run with
//!   [`ErrorKind::BulkItems`](crate::ErrorKind::BulkItems) (`raise_on_error(true)`, the
//!   default); a request that still fails ends it with
//!   [`ErrorKind::Transport`](crate::ErrorKind::Transport) (`raise_on_exception(true)`, the
//!   default) or fails each of its items.
//! - A panic in the input (the iterator or stream, or a document's `Serialize`) ends the run
//!   with [`ErrorKind::Input`](crate::ErrorKind::Input), after the actions read before it
//!   were sent: never a success with the input cut short.

mod action;
mod chunk;
mod item;
mod streaming;

use std::collections::VecDeque;
use std::fmt;
use std::panic::AssertUnwindSafe;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use es_api::Client;
use es_api::es_transport::RequestOptions;
use es_api::params::encode::{encode, encode_into};
use es_api::params::{ActiveShards, Refresh, Time};
use futures_util::{FutureExt, Stream, StreamExt};

pub use action::{BulkAction, BulkSource, NoDoc, OpType, RawJson, VersionType};
pub use item::BulkItem;
pub use streaming::BulkStream;

use crate::task::Task;
use chunk::Chunker;
use streaming::{JobConfig, run_chunk};

use crate::error::{Error, Result};

/// A progress callback, shared by a [`Bulk`] and its clones.
type ProgressFn = Arc<Mutex<dyn FnMut(&BulkStats) + Send>>;

/// The progress callback of a [`Bulk`] and its clones (shared: one callback sees every run
/// of the helper), and how often it fires.
#[derive(Clone)]
pub(crate) struct Progress {
    f: ProgressFn,
    /// Fire when `done()` crosses a multiple of this (1: after every chunk).
    every: u64,
}

impl Progress {
    /// A tracker for one run.
    pub(crate) fn tracker(&self) -> ProgressTracker {
        ProgressTracker {
            progress: self.clone(),
            reported: 0,
        }
    }
}

/// The progress of one run: calls the callback when another `every` items are done, and
/// once at the end.
pub(crate) struct ProgressTracker {
    progress: Progress,
    /// `done() / every` at the last call.
    reported: u64,
}

impl ProgressTracker {
    pub(crate) fn update(&mut self, stats: &BulkStats, last: bool) {
        let bucket = stats.done() / self.progress.every;
        if last || bucket > self.reported {
            self.reported = bucket;
            // A callback that panicked once poisons the lock; later calls still run it.
            let mut f = self.progress.f.lock().unwrap_or_else(|p| p.into_inner());
            f(stats);
        }
    }
}

/// Counts of a bulk run, so far or in total.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct BulkStats {
    /// Items that succeeded (2xx, or an ignored status).
    pub succeeded: u64,
    /// Items that failed (after retries), including those never sent.
    pub failed: u64,
    /// Items whose request may have been executed but whose answer was lost, and which
    /// were not resent (see [`BulkItem::is_unknown`]): neither succeeded nor failed.
    pub unknown: u64,
    /// Item resends (an item resent twice counts twice).
    pub retried: u64,
    /// Request body bytes sent, resends included.
    pub bytes: u64,
    /// Requests sent, resends included.
    pub requests: u64,
    /// Chunks completed.
    pub chunks: u64,
    /// Time since the run started.
    pub elapsed: Duration,
}

impl BulkStats {
    /// Items done (succeeded + failed + unknown).
    pub fn done(&self) -> u64 {
        self.succeeded + self.failed + self.unknown
    }

    /// Items per second so far.
    pub fn docs_per_sec(&self) -> f64 {
        let secs = self.elapsed.as_secs_f64();
        if secs > 0.0 {
            self.done() as f64 / secs
        } else {
            0.0
        }
    }
}

/// The result of [`Bulk::run`]: the counts and the failed items.
#[derive(Debug, Clone)]
pub struct BulkSummary {
    stats: BulkStats,
    failures: Vec<BulkItem>,
}

impl BulkSummary {
    /// The counts.
    pub fn stats(&self) -> BulkStats {
        self.stats
    }

    /// Items that succeeded.
    pub fn succeeded(&self) -> u64 {
        self.stats.succeeded
    }

    /// Items that failed.
    pub fn failed(&self) -> u64 {
        self.stats.failed
    }

    /// Items whose outcome is unknown (their request may have been executed; see
    /// [`BulkItem::is_unknown`]). They are in [`BulkSummary::failures`] too.
    pub fn unknown(&self) -> u64 {
        self.stats.unknown
    }

    /// Item resends.
    pub fn retried(&self) -> u64 {
        self.stats.retried
    }

    /// Request bytes sent.
    pub fn bytes(&self) -> u64 {
        self.stats.bytes
    }

    /// Duration of the run.
    pub fn elapsed(&self) -> Duration {
        self.stats.elapsed
    }

    /// The failed items (the first [`Bulk::max_failures_kept`] of them).
    pub fn failures(&self) -> &[BulkItem] {
        &self.failures
    }
}

/// The bulk helper: options, then [`Bulk::run`] or [`Bulk::stream`]. Cheap to clone.
///
/// # Example
/// ```no_run
/// # async fn run(client: es_api::Client) -> es_helpers::Result<()> {
/// use es_helpers::bulk::{Bulk, BulkAction};
/// use serde_json::json;
///
/// let docs = (0..100_000).map(|i| BulkAction::index(json!({"n": i})).id(i.to_string()));
/// let summary = Bulk::new(&client)
///     .index("numbers")
///     .chunk_size(1_000)
///     .concurrency(4)
///     .on_progress(|s| eprintln!("{} done", s.done()))
///     .run_iter(docs)
///     .await?;
/// assert_eq!(summary.succeeded(), 100_000);
/// # Ok(()) }
/// ```
#[derive(Clone)]
#[must_use]
pub struct Bulk {
    client: Client,
    index: Option<String>,
    query: Vec<(String, String)>,
    options: RequestOptions,
    chunk_size: usize,
    max_chunk_bytes: usize,
    concurrency: usize,
    max_retries: u32,
    initial_backoff: Duration,
    max_backoff: Duration,
    retry_on_connection_error: bool,
    retry_on_timeout: bool,
    flush_after: Option<Duration>,
    raise_on_error: bool,
    raise_on_exception: bool,
    ignore_status: Vec<u16>,
    max_failures_kept: usize,
    progress: Option<Progress>,
}

impl fmt::Debug for Bulk {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Bulk")
            .field("index", &self.index)
            .field("chunk_size", &self.chunk_size)
            .field("max_chunk_bytes", &self.max_chunk_bytes)
            .field("concurrency", &self.concurrency)
            .field("max_retries", &self.max_retries)
            .field("initial_backoff", &self.initial_backoff)
            .field("max_backoff", &self.max_backoff)
            .field("retry_on_connection_error", &self.retry_on_connection_error)
            .field("retry_on_timeout", &self.retry_on_timeout)
            .field("flush_after", &self.flush_after)
            .field("ignore_status", &self.ignore_status)
            .field("raise_on_error", &self.raise_on_error)
            .field("raise_on_exception", &self.raise_on_exception)
            .finish_non_exhaustive()
    }
}

impl Bulk {
    /// A bulk helper over `client`'s transport, with the defaults: `chunk_size` 500,
    /// `max_chunk_bytes` 100 MB, `concurrency` 1, `max_retries` 3, backoff 2 s to 600 s,
    /// resends on 429 only, no `flush_after`, `raise_on_error` and `raise_on_exception` on.
    pub fn new(client: &Client) -> Self {
        Bulk {
            client: client.clone(),
            index: None,
            query: Vec::new(),
            options: client.request_options().clone(),
            chunk_size: 500,
            max_chunk_bytes: 100 * 1024 * 1024,
            concurrency: 1,
            max_retries: 3,
            initial_backoff: Duration::from_secs(2),
            max_backoff: Duration::from_secs(600),
            retry_on_connection_error: false,
            retry_on_timeout: false,
            flush_after: None,
            raise_on_error: true,
            raise_on_exception: true,
            ignore_status: Vec::new(),
            max_failures_kept: 10_000,
            progress: None,
        }
    }

    /// The default index, for actions without [`BulkAction::in_index`] (`/{index}/_bulk`).
    pub fn index(mut self, index: impl Into<String>) -> Self {
        self.index = Some(index.into());
        self
    }

    /// Most actions per request (default 500).
    pub fn chunk_size(mut self, n: usize) -> Self {
        self.chunk_size = n.max(1);
        self
    }

    /// Most bytes per request body (default 100 MB); a single larger action goes alone.
    pub fn max_chunk_bytes(mut self, n: usize) -> Self {
        self.max_chunk_bytes = n.max(1);
        self
    }

    /// Requests in flight (default 1).
    pub fn concurrency(mut self, n: usize) -> Self {
        self.concurrency = n.max(1);
        self
    }

    /// How many times the helper resends a 429-rejected item or a chunk whose request failed
    /// with 429 (or, when opted in, a connection error or a timeout); default 3. See the
    /// [module docs](self) for the worst-case number of sends.
    pub fn max_retries(mut self, n: u32) -> Self {
        self.max_retries = n;
        self
    }

    /// The first backoff (default 2 s); doubled at each retry.
    pub fn initial_backoff(mut self, d: Duration) -> Self {
        self.initial_backoff = d;
        self
    }

    /// The longest backoff (default 600 s).
    pub fn max_backoff(mut self, d: Duration) -> Self {
        self.max_backoff = d;
        self
    }

    /// Whether a chunk whose request failed with a connection error (after the transport's
    /// own retries) is resent, up to `max_retries` times (default false: the error ends the
    /// run or fails the chunk's items). The request may have reached the server: resend only
    /// actions that are safe to repeat (with ids; not `create`).
    pub fn retry_on_connection_error(mut self, yes: bool) -> Self {
        self.retry_on_connection_error = yes;
        self
    }

    /// Whether a chunk whose request timed out (after the transport's own retries) is
    /// resent, up to `max_retries` times (default false). The server may well have executed
    /// the timed-out request: a resent `create` then fails with 409, a resent action without
    /// an id is indexed twice.
    pub fn retry_on_timeout(mut self, yes: bool) -> Self {
        self.retry_on_timeout = yes;
        self
    }

    /// Sends a partial chunk once no new action has arrived for `d` (default: never; a chunk
    /// waits until it is full or the input ends), so that a slow source (a queue) does not
    /// hold actions back; elasticsearch-py's `flush_after_seconds`.
    pub fn flush_after(mut self, d: Duration) -> Self {
        self.flush_after = Some(d);
        self
    }

    /// Whether a failed item ends the run with an error (default true).
    pub fn raise_on_error(mut self, yes: bool) -> Self {
        self.raise_on_error = yes;
        self
    }

    /// Whether a failed request ends the run with an error (default true); otherwise its
    /// items are reported failed.
    pub fn raise_on_exception(mut self, yes: bool) -> Self {
        self.raise_on_exception = yes;
        self
    }

    /// Item statuses counted as success (for example 404 for deletes of missing documents);
    /// any other non-2xx status is a failure.
    pub fn ignore_status(mut self, statuses: impl IntoIterator<Item = u16>) -> Self {
        self.ignore_status.extend(statuses);
        self
    }

    /// How many failed items [`Bulk::run`] keeps in its summary (default 10,000; the rest are
    /// only counted).
    pub fn max_failures_kept(mut self, n: usize) -> Self {
        self.max_failures_kept = n;
        self
    }

    /// A query parameter of every bulk request, for those without a typed setter
    /// ([`Bulk::refresh`], [`Bulk::pipeline`], [`Bulk::routing`], [`Bulk::timeout`],
    /// [`Bulk::wait_for_active_shards`], [`Bulk::require_alias`]). Setting a name again
    /// replaces its value. Name and value are percent-encoded.
    pub fn param(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        let (name, value) = (name.into(), value.into());
        match self.query.iter_mut().find(|(n, _)| *n == name) {
            Some(slot) => slot.1 = value,
            None => self.query.push((name, value)),
        }
        self
    }

    /// `refresh` of every bulk request: `true` (refresh the affected shards), `false` (the
    /// default) or [`Refresh::WaitFor`] (answer once a refresh made the writes visible).
    ///
    /// # Example
    /// ```
    /// # fn f(client: &es_api::Client) {
    /// use es_api::params::{ActiveShards, Refresh};
    /// use es_helpers::bulk::Bulk;
    ///
    /// let bulk = Bulk::new(client)
    ///     .refresh(Refresh::WaitFor)
    ///     .pipeline("geoip")
    ///     .wait_for_active_shards(ActiveShards::All);
    /// # let _ = bulk; }
    /// ```
    pub fn refresh(self, refresh: impl Into<Refresh>) -> Self {
        self.param("refresh", refresh.into().as_str())
    }

    /// The ingest pipeline of every document without its own ([`BulkAction::pipeline`]).
    pub fn pipeline(self, pipeline: impl Into<String>) -> Self {
        self.param("pipeline", pipeline)
    }

    /// The routing of every action without its own ([`BulkAction::routing`]).
    pub fn routing(self, routing: impl Into<String>) -> Self {
        self.param("routing", routing)
    }

    /// How long the server waits for unavailable shards and other operations, per request
    /// (the server's `timeout`, default 1m; the client-side timeout is in
    /// [`Bulk::request_options`]).
    pub fn timeout(self, timeout: impl Into<Time>) -> Self {
        self.param("timeout", timeout.into().as_str())
    }

    /// How many shard copies must be active before each write: a number (the server's
    /// default 1, the primary alone) or [`ActiveShards::All`].
    pub fn wait_for_active_shards(self, n: impl Into<ActiveShards>) -> Self {
        self.param("wait_for_active_shards", n.into().as_str())
    }

    /// Every action must target an alias (`require_alias`).
    pub fn require_alias(self, yes: bool) -> Self {
        self.param("require_alias", if yes { "true" } else { "false" })
    }

    /// Request options of every bulk request (timeout, headers, transport retries, …),
    /// merged over the client's own ([`es_api::Client::options`]).
    pub fn request_options(mut self, options: RequestOptions) -> Self {
        self.options = self.options.merge(&options);
        self
    }

    /// Called after each chunk completes (and once at the end) with the counts so far: to
    /// draw a progress bar, or keep a count. The callback may keep state (`FnMut`); clones
    /// of this helper share it. It runs on the task that drives the run, so keep it short.
    ///
    /// # Example
    /// ```
    /// # fn f(client: &es_api::Client) {
    /// use es_helpers::bulk::Bulk;
    ///
    /// let mut last = 0;
    /// let bulk = Bulk::new(client).on_progress(move |s| {
    ///     eprintln!("+{} ({} docs/s)", s.done() - last, s.docs_per_sec() as u64);
    ///     last = s.done();
    /// });
    /// # let _ = bulk; }
    /// ```
    pub fn on_progress(mut self, f: impl FnMut(&BulkStats) + Send + 'static) -> Self {
        let every = self.progress.as_ref().map_or(1, |p| p.every);
        self.progress = Some(Progress {
            f: Arc::new(Mutex::new(f)),
            every,
        });
        self
    }

    /// Calls the [`Bulk::on_progress`] callback only when another `n` items are done (and
    /// once at the end) instead of after every chunk. Items complete a chunk at a time, so
    /// with chunks larger than `n` it fires at most once per chunk. `0` is taken as 1.
    pub fn on_progress_every(mut self, n: u64) -> Self {
        let every = n.max(1);
        match &mut self.progress {
            Some(p) => p.every = every,
            None => {
                self.progress = Some(Progress {
                    f: Arc::new(Mutex::new(|_: &BulkStats| {})),
                    every,
                });
            }
        }
        self
    }

    /// `/{index}/_bulk?k=v&…`, every name and value percent-encoded.
    fn path(&self) -> String {
        let mut path = match &self.index {
            Some(i) => format!("/{}/_bulk", encode(i)),
            None => "/_bulk".to_owned(),
        };
        for (n, (k, v)) in self.query.iter().enumerate() {
            path.push(if n == 0 { '?' } else { '&' });
            encode_into(&mut path, k);
            path.push('=');
            encode_into(&mut path, v);
        }
        path
    }

    fn start<S, D>(&self, actions: S, want_items: bool) -> BulkStream
    where
        S: Stream<Item = BulkAction<D>> + Send + 'static,
        D: BulkSource + Send + 'static,
    {
        let cfg = Arc::new(JobConfig {
            path: self.path(),
            options: self.options.clone(),
            max_retries: self.max_retries,
            initial_backoff: self.initial_backoff,
            max_backoff: self.max_backoff,
            retry_on_connection_error: self.retry_on_connection_error,
            retry_on_timeout: self.retry_on_timeout,
            want_items,
            ignore_status: self.ignore_status.clone(),
            raise_on_exception: self.raise_on_exception,
        });
        // The chunker runs in its own task, one chunk ahead: serializing overlaps the requests.
        let (tx, mut rx) = tokio::sync::mpsc::channel(1);
        let mut chunks = Chunker::new(actions, self.chunk_size, self.max_chunk_bytes)
            .flush_after(self.flush_after);
        let input_failure: Arc<Mutex<Option<Error>>> = Arc::default();
        let failure_slot = input_failure.clone();
        let producer = Task(tokio::spawn(async move {
            loop {
                // The input (and the documents' `Serialize`) runs here: a panic in it must
                // end the run with an error, not look like the end of the input.
                match AssertUnwindSafe(chunks.next()).catch_unwind().await {
                    Ok(Some(chunk)) => {
                        if tx.send(chunk).await.is_err() {
                            return;
                        }
                    }
                    Ok(None) => return,
                    Err(panic) => {
                        let read = chunks.actions_read();
                        *failure_slot.lock().expect("input failure slot") =
                            Some(Error::input(read, panic_message(panic.as_ref())));
                        // What was read before the panic is still sent.
                        if let Some(last) = chunks.salvage() {
                            let _ = tx.send(last).await;
                        }
                        return;
                    }
                }
            }
        }));
        let transport = crate::transport_of(&self.client).clone();
        let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let stopped = stop.clone();
        let outcomes = futures_util::stream::poll_fn(move |cx| {
            // After the first error, no further chunk is started.
            if stopped.load(std::sync::atomic::Ordering::SeqCst) {
                return std::task::Poll::Ready(None);
            }
            rx.poll_recv(cx)
        })
        .map(move |chunk| {
            Task(tokio::spawn(run_chunk(
                transport.clone(),
                chunk,
                cfg.clone(),
            )))
        })
        .buffer_unordered(self.concurrency)
        .filter_map(|o| async move { o });
        BulkStream {
            inner: Box::pin(outcomes),
            producer: Some(producer),
            queue: VecDeque::new(),
            stats: BulkStats::default(),
            started: Instant::now(),
            progress: self.progress.as_ref().map(Progress::tracker),
            raise_on_error: self.raise_on_error,
            finished: false,
            input_failure,
            stop,
            ending: None,
        }
    }

    /// Sends `actions`, yielding every item's outcome (see [`BulkStream`]).
    ///
    /// Must be called within a Tokio runtime (it spawns the chunk jobs).
    pub fn stream<S, D>(&self, actions: S) -> BulkStream
    where
        S: Stream<Item = BulkAction<D>> + Send + 'static,
        D: BulkSource + Send + 'static,
    {
        self.start(actions, true)
    }

    /// [`Bulk::stream`] over an iterator.
    pub fn stream_iter<I, D>(&self, actions: I) -> BulkStream
    where
        I: IntoIterator<Item = BulkAction<D>>,
        I::IntoIter: Send + 'static,
        D: BulkSource + Send + 'static,
    {
        self.start(futures_util::stream::iter(actions), true)
    }

    /// Sends `actions` and sums up: counts and failed items.
    ///
    /// # Errors
    /// With `raise_on_error`, the failed items of the first chunk that had any
    /// ([`ErrorKind::BulkItems`](crate::ErrorKind::BulkItems)); with `raise_on_exception`,
    /// the first request that failed after its retries; a panic of the input
    /// ([`ErrorKind::Input`](crate::ErrorKind::Input)).
    pub async fn run<S, D>(&self, actions: S) -> Result<BulkSummary>
    where
        S: Stream<Item = BulkAction<D>> + Send + 'static,
        D: BulkSource + Send + 'static,
    {
        // Successful items are not materialized: the stream yields only failures.
        let mut stream = self.start(actions, false);
        let mut failures = Vec::new();
        while let Some(item) = stream.next().await {
            let item = item?;
            if failures.len() < self.max_failures_kept {
                failures.push(item);
            }
        }
        Ok(BulkSummary {
            stats: stream.stats(),
            failures,
        })
    }

    /// [`Bulk::run`] over an iterator.
    ///
    /// # Errors
    /// As [`Bulk::run`].
    pub async fn run_iter<I, D>(&self, actions: I) -> Result<BulkSummary>
    where
        I: IntoIterator<Item = BulkAction<D>>,
        I::IntoIter: Send + 'static,
        D: BulkSource + Send + 'static,
    {
        self.run(futures_util::stream::iter(actions)).await
    }
}

/// The message of a panic payload (`panic!("..")` gives a `&str` or a `String`).
fn panic_message(payload: &(dyn std::any::Any + Send)) -> String {
    if let Some(s) = payload.downcast_ref::<&str>() {
        (*s).to_owned()
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s.clone()
    } else {
        "a panic without a message".to_owned()
    }
}
