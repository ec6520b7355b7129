//! Sending chunks: one chunk job per request body, with 429 retries of the rejected items,
//! and the [`BulkStream`] of per-item outcomes over N jobs in flight.

use std::collections::VecDeque;
use std::fmt;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use bytes::Bytes;
use es_api::es_transport::{Request, RequestOptions, Transport};
use futures_util::Stream;

use super::chunk::Chunk;
use super::item::{BulkItem, ErrorsOnly, ResponseBody, errors_flag_in_head, statuses_all_ok};
use super::{BulkStats, ProgressTracker};
use crate::error::{Error, Result};
use crate::task::Task;

/// What every chunk job needs to know.
#[derive(Debug)]
pub(crate) struct JobConfig {
    pub(crate) path: String,
    pub(crate) options: RequestOptions,
    pub(crate) max_retries: u32,
    pub(crate) initial_backoff: Duration,
    pub(crate) max_backoff: Duration,
    pub(crate) retry_on_connection_error: bool,
    pub(crate) retry_on_timeout: bool,
    pub(crate) want_items: bool,
    pub(crate) ignore_status: Vec<u16>,
    pub(crate) raise_on_exception: bool,
}

impl JobConfig {
    fn backoff(&self, attempt: u32) -> Duration {
        let factor = 1u32
            .checked_shl(attempt.saturating_sub(1))
            .unwrap_or(u32::MAX);
        self.initial_backoff
            .saturating_mul(factor)
            .min(self.max_backoff)
    }

    /// Whether a whole-request failure (after the transport's retries) is resent: 429
    /// always (elasticsearch-py's rule), connection errors and timeouts when opted in.
    fn resend(&self, e: &es_api::es_transport::Error) -> bool {
        e.status().is_some_and(|s| s.as_u16() == 429)
            || (self.retry_on_connection_error && e.is_connect())
            || (self.retry_on_timeout && e.is_timeout())
    }

    fn ok_status(&self, status: u16) -> bool {
        (200..300).contains(&status) || self.ignore_status.contains(&status)
    }
}

/// What one chunk job did.
#[derive(Debug, Default)]
pub(crate) struct ChunkOutcome {
    /// Every item when `want_items`, otherwise only the failed ones.
    pub(crate) items: Vec<BulkItem>,
    pub(crate) succeeded: u64,
    pub(crate) failed: u64,
    /// Items whose request may have been executed, without an answer.
    pub(crate) unknown: u64,
    pub(crate) retried: u64,
    pub(crate) bytes: u64,
    pub(crate) requests: u64,
    pub(crate) fatal: Option<Error>,
}

/// Sends one chunk; resends its 429-rejected items (and the whole remaining body after a
/// request failure [`JobConfig::resend`] allows) with exponential backoff, up to
/// `max_retries` times.
pub(crate) async fn run_chunk(
    transport: Transport,
    chunk: Chunk,
    cfg: Arc<JobConfig>,
) -> ChunkOutcome {
    let mut out = ChunkOutcome {
        failed: chunk.unsent.len() as u64,
        items: chunk.unsent,
        ..Default::default()
    };
    if chunk.items.is_empty() {
        return out;
    }
    let full = chunk.body;
    let recs = chunk.items;
    let mut pending: Vec<usize> = (0..recs.len()).collect();
    let mut body = full.clone();
    let mut attempt: u32 = 0;
    loop {
        out.requests += 1;
        out.bytes += body.len() as u64;
        // The transport resends the request after a lost answer only if every action in it
        // can be resent without changing its outcome (the caller may override it with
        // `RequestOptions::idempotent`).
        let safe = pending.iter().all(|&i| recs[i].safe);
        let req = Request::post(cfg.path.as_str())
            .with_ndjson_body(body.clone())
            .with_options(cfg.options.clone())
            .with_idempotent(safe)
            .with_endpoint("bulk");
        let failure: Error = match transport.send(req).await {
            Err(e) if cfg.resend(&e) && attempt < cfg.max_retries => {
                attempt += 1;
                out.retried += pending.len() as u64;
                tracing::debug!(target: "elasticsearch", error = %e, attempt, "bulk request failed; retrying the chunk");
                tokio::time::sleep(cfg.backoff(attempt)).await;
                continue;
            }
            Err(e) => Error::transport(e),
            Ok(resp) => {
                let bytes = resp.body();
                if !cfg.want_items {
                    let errors = errors_flag_in_head(bytes).or_else(|| {
                        serde_json::from_slice::<ErrorsOnly>(bytes)
                            .ok()
                            .map(|e| e.errors)
                    });
                    // `errors: false` still allows non-2xx items (a delete of a missing
                    // document is a 404): the fast path needs every status to pass too.
                    if errors == Some(false)
                        && statuses_all_ok(bytes, pending.len(), |s| cfg.ok_status(s))
                    {
                        out.succeeded += pending.len() as u64;
                        return out;
                    }
                }
                match serde_json::from_slice::<ResponseBody<'_>>(bytes) {
                    Ok(parsed) if parsed.items.len() == pending.len() => {
                        let mut retry = Vec::new();
                        for (k, it) in parsed.items.into_iter().enumerate() {
                            let idx = pending[k];
                            let rec = &recs[idx];
                            let b = it.body;
                            if b.status == 429 && attempt < cfg.max_retries {
                                retry.push(idx);
                                continue;
                            }
                            let ok = cfg.ok_status(b.status);
                            if ok {
                                out.succeeded += 1;
                                if !cfg.want_items {
                                    continue;
                                }
                            } else {
                                out.failed += 1;
                            }
                            out.items.push(BulkItem {
                                op: it.op.unwrap_or(rec.op),
                                index: b.index.map(|c| c.into_owned()),
                                id: b.id.map(|c| c.into_owned()),
                                status: b.status,
                                ok,
                                unknown: false,
                                result: b.result.map(|c| c.into_owned()),
                                error: b.error.and_then(|r| serde_json::from_str(r.get()).ok()),
                                version: b.version,
                                seq_no: b.seq_no,
                                primary_term: b.primary_term,
                                attempts: attempt + 1,
                                // A copy: a view would keep the whole chunk alive.
                                action: (!ok)
                                    .then(|| Bytes::copy_from_slice(&full[rec.range.clone()])),
                            });
                        }
                        if retry.is_empty() {
                            return out;
                        }
                        attempt += 1;
                        out.retried += retry.len() as u64;
                        let len = retry.iter().map(|&i| recs[i].range.len()).sum();
                        let mut next = Vec::with_capacity(len);
                        for &i in &retry {
                            next.extend_from_slice(&full[recs[i].range.clone()]);
                        }
                        body = next.into();
                        tracing::debug!(target: "elasticsearch", items = retry.len(), attempt, "bulk items rejected with 429; retrying");
                        pending = retry;
                        tokio::time::sleep(cfg.backoff(attempt)).await;
                        continue;
                    }
                    Ok(parsed) => Error::serialization(format!(
                        "the bulk response has {} items for {} actions",
                        parsed.items.len(),
                        pending.len()
                    )),
                    Err(e) => Error::serialization(format!("unreadable bulk response: {e}")),
                }
            }
        };
        // The pending items' request failed: if it may have been executed, their outcome is
        // unknown, else they failed (a 4xx to the whole request is the server refusing it).
        let unknown = failure.outcome_unknown();
        if cfg.raise_on_exception {
            if unknown {
                out.unknown += pending.len() as u64;
            } else {
                out.failed += pending.len() as u64;
            }
            out.fatal = Some(failure);
            return out;
        }
        let status = failure.status().map_or(0, |s| s.as_u16());
        let reason = failure.to_string();
        for &idx in &pending {
            let rec = &recs[idx];
            let mut item = BulkItem::unsent(
                rec.op,
                None,
                None,
                if unknown {
                    "outcome_unknown"
                } else {
                    "request_failed"
                },
                reason.clone(),
                Some(Bytes::copy_from_slice(&full[rec.range.clone()])),
            );
            item.status = status;
            item.unknown = unknown;
            item.attempts = attempt + 1;
            if unknown {
                out.unknown += 1;
            } else {
                out.failed += 1;
            }
            out.items.push(item);
        }
        return out;
    }
}

pub(crate) type OutcomeStream = Pin<Box<dyn Stream<Item = ChunkOutcome> + Send>>;

/// The per-item outcomes of a bulk run, as a `Stream`; [`BulkStream::stats`] has the counts.
///
/// Items come chunk by chunk, in the order chunks complete (with several requests in flight,
/// not the input order). Memory held is bounded by the chunks in flight, whatever the input
/// length. With `raise_on_error`, the first chunk with a failed item yields
/// `Err(`[`ErrorKind::BulkItems`](crate::ErrorKind::BulkItems)`)` and the stream ends; with
/// `raise_on_exception`, so does a request that failed after its retries. When the input
/// panics, the items of what was read before come first, then
/// `Err(`[`ErrorKind::Input`](crate::ErrorKind::Input)`)`. Dropping the stream cancels the
/// requests in flight.
pub struct BulkStream {
    pub(crate) inner: OutcomeStream,
    pub(crate) producer: Option<Task<()>>,
    pub(crate) queue: VecDeque<BulkItem>,
    pub(crate) stats: BulkStats,
    pub(crate) started: Instant,
    pub(crate) progress: Option<ProgressTracker>,
    pub(crate) raise_on_error: bool,
    pub(crate) finished: bool,
    /// Set by the chunker task when the input panicked.
    pub(crate) input_failure: Arc<Mutex<Option<Error>>>,
    /// Set on the first error: no further chunk is sent; the requests in flight finish.
    pub(crate) stop: Arc<std::sync::atomic::AtomicBool>,
    /// The error that ends the stream, returned once the requests in flight have finished
    /// (their counts are in its [`Error::bulk_stats`]).
    pub(crate) ending: Option<Error>,
}

impl fmt::Debug for BulkStream {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BulkStream")
            .field("stats", &self.stats)
            .field("finished", &self.finished)
            .finish()
    }
}

impl BulkStream {
    /// The counts so far (complete once the stream has ended).
    pub fn stats(&self) -> BulkStats {
        self.stats
    }

    /// Starts ending the stream with `e`: no new chunk is sent; the chunks in flight are
    /// awaited, their counts added, their failed items added to a `BulkItems` error.
    fn end_with(&mut self, e: Error) {
        self.stop.store(true, std::sync::atomic::Ordering::SeqCst);
        // The chunker stops; a chunk it had built but not handed over is never sent.
        self.producer = None;
        if self.ending.is_none() {
            self.ending = Some(e);
        }
    }

    fn finish(&mut self) {
        self.finished = true;
        self.inner = Box::pin(futures_util::stream::empty());
        self.producer = None;
        self.stats.elapsed = self.started.elapsed();
    }
}

impl Stream for BulkStream {
    type Item = Result<BulkItem>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = self.get_mut();
        loop {
            if let Some(item) = this.queue.pop_front() {
                return Poll::Ready(Some(Ok(item)));
            }
            if this.finished {
                return Poll::Ready(None);
            }
            match this.inner.as_mut().poll_next(cx) {
                Poll::Pending => return Poll::Pending,
                Poll::Ready(None) => {
                    this.finish();
                    if let Some(p) = &mut this.progress {
                        p.update(&this.stats, true);
                    }
                    if let Some(e) = this.ending.take() {
                        return Poll::Ready(Some(Err(e.with_stats(this.stats))));
                    }
                    // The chunks ended: because the input did, or because it panicked.
                    let failure = this
                        .input_failure
                        .lock()
                        .expect("input failure slot")
                        .take();
                    return Poll::Ready(failure.map(|e| Err(e.with_stats(this.stats))));
                }
                Poll::Ready(Some(outcome)) => {
                    let s = &mut this.stats;
                    s.succeeded += outcome.succeeded;
                    s.failed += outcome.failed;
                    s.unknown += outcome.unknown;
                    s.retried += outcome.retried;
                    s.bytes += outcome.bytes;
                    s.requests += outcome.requests;
                    s.chunks += 1;
                    s.elapsed = this.started.elapsed();
                    if let Some(p) = &mut this.progress {
                        p.update(&this.stats, false);
                    }
                    if this.ending.is_some() {
                        // Draining after the first error: counted above; failed items join
                        // a `BulkItems` error, nothing else is yielded.
                        if let Some(e) = &mut this.ending {
                            e.extend_items(outcome.items.into_iter().filter(|i| !i.ok));
                        }
                        continue;
                    }
                    if let Some(fatal) = outcome.fatal {
                        this.end_with(fatal);
                        continue;
                    }
                    if this.raise_on_error && outcome.failed + outcome.unknown > 0 {
                        let failures: Vec<BulkItem> =
                            outcome.items.into_iter().filter(|i| !i.ok).collect();
                        this.end_with(Error::items(failures));
                        continue;
                    }
                    this.queue.extend(outcome.items);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_up_to_the_cap() {
        let cfg = JobConfig {
            path: "/_bulk".into(),
            options: RequestOptions::new(),
            max_retries: 100,
            initial_backoff: Duration::from_secs(2),
            max_backoff: Duration::from_secs(600),
            retry_on_connection_error: false,
            retry_on_timeout: false,
            want_items: false,
            ignore_status: Vec::new(),
            raise_on_exception: true,
        };
        let secs: Vec<u64> = (1..=10).map(|n| cfg.backoff(n).as_secs()).collect();
        assert_eq!(secs, [2, 4, 8, 16, 32, 64, 128, 256, 512, 600]);
        assert_eq!(cfg.backoff(64).as_secs(), 600);
        assert_eq!(cfg.backoff(u32::MAX).as_secs(), 600);
    }
}
