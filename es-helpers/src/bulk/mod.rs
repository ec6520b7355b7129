//! Bulk indexing: chunked, streaming, concurrent, with 429 retries and per-item outcomes.
//!
//! [`Bulk`] is the helper: configure it once, then [`Bulk::run`] a stream (or
//! [`Bulk::run_iter`] an iterator) of [`BulkAction`]s into a [`BulkSummary`], or
//! [`Bulk::stream`] them into a [`BulkStream`] of per-item [`BulkItem`] outcomes.
//!
//! - Chunks close at `chunk_size` actions (500) or `max_chunk_bytes` bytes (100 MB), whichever
//!   comes first (like elasticsearch-py); each document is serialized once, straight into the
//!   request body.
//! - `concurrency` requests are in flight (1: elasticsearch-py's `bulk`/`streaming_bulk`;
//!   more: its `parallel_bulk`); the next chunk is built while they are. Memory held is at
//!   most `concurrency + 2` chunks, whatever the input length.
//! - Items rejected with 429 are resent after `min(initial_backoff · 2^(n-1), max_backoff)`,
//!   up to `max_retries` times; so is a whole chunk whose request failed with 429, a
//!   connection error or a timeout (after the transport's own retries). Give ids to your
//!   actions: a retried action without an id may be indexed twice.
//! - Other item errors are reported per item (`raise_on_error(false)`) or end the run with
//!   [`ErrorKind::BulkItems`](crate::ErrorKind::BulkItems) (`raise_on_error(true)`, the
//!   default); a request that still fails ends it with
//!   [`ErrorKind::Transport`](crate::ErrorKind::Transport) (`raise_on_exception(true)`, the
//!   default) or fails each of its items.

mod action;
mod chunk;
mod item;
mod streaming;

use std::collections::VecDeque;
use std::fmt;
use std::sync::Arc;
use std::time::{Duration, Instant};

use es_api::Client;
use es_api::es_transport::RequestOptions;
use futures_util::{Stream, StreamExt};

pub use action::{BulkAction, BulkSource, OpType, RawJson, VersionType};
pub use item::BulkItem;
pub use streaming::BulkStream;

use crate::task::Task;
use chunk::Chunker;
use streaming::{JobConfig, run_chunk};

use crate::error::Result;

pub(crate) type ProgressFn = Arc<dyn Fn(&BulkStats) + Send + Sync>;

/// Counts of a bulk run, so far or in total.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct BulkStats {
    /// Items that succeeded (2xx, or an ignored status).
    pub succeeded: u64,
    /// Items that failed (after retries), including those never sent.
    pub failed: u64,
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
    /// Items done (succeeded + failed).
    pub fn done(&self) -> u64 {
        self.succeeded + self.failed
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
    raise_on_error: bool,
    raise_on_exception: bool,
    ignore_status: Vec<u16>,
    max_failures_kept: usize,
    progress: Option<ProgressFn>,
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
            .field("raise_on_error", &self.raise_on_error)
            .field("raise_on_exception", &self.raise_on_exception)
            .finish_non_exhaustive()
    }
}

impl Bulk {
    /// A bulk helper over `client`'s transport, with the defaults: `chunk_size` 500,
    /// `max_chunk_bytes` 100 MB, `concurrency` 1, `max_retries` 3, backoff 2 s to 600 s,
    /// `raise_on_error` and `raise_on_exception` on.
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

    /// How many times a 429-rejected item, or a failed chunk request, is resent (default 3).
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

    /// Item statuses counted as success (for example 404 for deletes of missing documents).
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

    /// A query parameter of every bulk request (`refresh`, `pipeline`, `routing`, `timeout`,
    /// `wait_for_active_shards`, …). The value must be URL-safe.
    pub fn param(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.query.push((name.into(), value.into()));
        self
    }

    /// Request options of every bulk request (timeout, headers, transport retries, …),
    /// merged over the client's own ([`es_api::Client::options`]).
    pub fn request_options(mut self, options: RequestOptions) -> Self {
        self.options = self.options.merge(&options);
        self
    }

    /// Called after each chunk completes (and once at the end) with the counts so far: to
    /// draw a progress bar.
    pub fn on_progress(mut self, f: impl Fn(&BulkStats) + Send + Sync + 'static) -> Self {
        self.progress = Some(Arc::new(f));
        self
    }

    fn path(&self) -> String {
        let mut path = match &self.index {
            Some(i) => format!("/{i}/_bulk"),
            None => "/_bulk".to_owned(),
        };
        for (n, (k, v)) in self.query.iter().enumerate() {
            path.push(if n == 0 { '?' } else { '&' });
            path.push_str(k);
            path.push('=');
            path.push_str(v);
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
            want_items,
            ignore_status: self.ignore_status.clone(),
            raise_on_exception: self.raise_on_exception,
        });
        // The chunker runs in its own task, one chunk ahead: serializing overlaps the requests.
        let (tx, mut rx) = tokio::sync::mpsc::channel(1);
        let mut chunks = Chunker::new(actions, self.chunk_size, self.max_chunk_bytes);
        let producer = Task(tokio::spawn(async move {
            while let Some(chunk) = chunks.next().await {
                if tx.send(chunk).await.is_err() {
                    break;
                }
            }
        }));
        let transport = crate::transport_of(&self.client).clone();
        let outcomes = futures_util::stream::poll_fn(move |cx| rx.poll_recv(cx))
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
            progress: self.progress.clone(),
            raise_on_error: self.raise_on_error,
            finished: false,
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
    /// the first request that failed after its retries.
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
