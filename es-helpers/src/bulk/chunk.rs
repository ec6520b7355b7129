//! The chunker: turns a stream of actions into request bodies, by action count and by bytes,
//! whichever limit comes first, or after `flush_after` without a new action; each action is
//! serialized once, straight into the body.

use std::future::Future;
use std::ops::Range;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use futures_util::Stream;

use super::action::{BulkAction, BulkSource, OpType};
use super::item::BulkItem;

/// One action's place in a chunk body.
#[derive(Debug, Clone)]
pub(crate) struct ItemRec {
    pub(crate) op: OpType,
    pub(crate) range: Range<usize>,
    /// Resending the action after a lost answer cannot change its outcome
    /// ([`BulkAction::resend_safe`]).
    pub(crate) safe: bool,
}

/// A request body and where each action lies in it.
#[derive(Debug)]
pub(crate) struct Chunk {
    pub(crate) body: Bytes,
    pub(crate) items: Vec<ItemRec>,
    /// Actions that could not be serialized: reported, never sent.
    pub(crate) unsent: Vec<BulkItem>,
}

/// A stream of [`Chunk`]s over a stream of actions.
pub(crate) struct Chunker<S> {
    actions: Pin<Box<S>>,
    max_count: usize,
    max_bytes: usize,
    buf: Vec<u8>,
    items: Vec<ItemRec>,
    unsent: Vec<BulkItem>,
    /// Capacity to give the next buffer: the size of the last full chunk.
    next_capacity: usize,
    done: bool,
    /// Actions read from the input and handled (written into a chunk, or reported unsent).
    read: u64,
    /// Send a partial chunk after this long without a new action.
    flush_after: Option<Duration>,
    /// The `flush_after` deadline, armed when the input goes pending with a partial chunk.
    timer: Option<Pin<Box<tokio::time::Sleep>>>,
    armed: bool,
}

impl<S> std::fmt::Debug for Chunker<S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Chunker")
            .field("max_count", &self.max_count)
            .field("max_bytes", &self.max_bytes)
            .finish()
    }
}

impl<S, D> Chunker<S>
where
    S: Stream<Item = BulkAction<D>>,
    D: BulkSource,
{
    pub(crate) fn new(actions: S, max_count: usize, max_bytes: usize) -> Self {
        Chunker {
            actions: Box::pin(actions),
            max_count: max_count.max(1),
            max_bytes: max_bytes.max(1),
            buf: Vec::new(),
            items: Vec::new(),
            unsent: Vec::new(),
            next_capacity: 4096,
            done: false,
            read: 0,
            flush_after: None,
            timer: None,
            armed: false,
        }
    }

    /// Sends a partial chunk once no action has arrived for `d` (needs the Tokio timer).
    pub(crate) fn flush_after(mut self, d: Option<Duration>) -> Self {
        self.flush_after = d;
        self
    }

    /// Actions read from the input and handled so far.
    pub(crate) fn actions_read(&self) -> u64 {
        self.read
    }

    /// After the input panicked: the actions fully written so far, as a last chunk (a
    /// partly written action is cut off). The input is not polled again.
    pub(crate) fn salvage(&mut self) -> Option<Chunk> {
        self.done = true;
        let end = self.items.last().map_or(0, |r| r.range.end);
        self.buf.truncate(end);
        if self.items.is_empty() && self.unsent.is_empty() {
            return None;
        }
        Some(self.take(None, None))
    }

    /// Records an action that is not sent (reported as failed with this error).
    fn report_unsent(
        &mut self,
        action: &BulkAction<D>,
        kind: &str,
        reason: String,
    ) -> Option<Chunk> {
        self.unsent.push(BulkItem::unsent(
            action.op(),
            action.index_str().map(str::to_owned),
            action.id_str().map(str::to_owned),
            kind,
            reason,
            None,
        ));
        if self.unsent.len() >= self.max_count {
            return Some(self.take(None, None));
        }
        None
    }

    fn has_partial(&self) -> bool {
        !self.items.is_empty() || !self.unsent.is_empty()
    }

    fn take(&mut self, carry: Option<Vec<u8>>, carry_op: Option<(OpType, bool)>) -> Chunk {
        let cap = self
            .next_capacity
            .max(self.buf.len())
            .min(self.max_bytes.saturating_add(self.max_bytes / 8));
        self.next_capacity = cap;
        let mut next = Vec::with_capacity(cap);
        let mut next_items = Vec::with_capacity(self.items.len().min(self.max_count));
        if let (Some(c), Some((op, safe))) = (carry, carry_op) {
            next.extend_from_slice(&c);
            next_items.push(ItemRec {
                op,
                range: 0..c.len(),
                safe,
            });
        }
        let body = std::mem::replace(&mut self.buf, next);
        Chunk {
            body: Bytes::from(body),
            items: std::mem::replace(&mut self.items, next_items),
            unsent: std::mem::take(&mut self.unsent),
        }
    }

    fn push(&mut self, action: &BulkAction<D>) -> Option<Chunk> {
        if let Some((kind, reason)) = action.rejection() {
            self.read += 1;
            return self.report_unsent(action, kind, reason.to_owned());
        }
        let start = self.buf.len();
        let rendered = action.render(&mut self.buf);
        self.read += 1;
        match rendered {
            Ok(()) => self.items.push(ItemRec {
                op: action.op(),
                range: start..self.buf.len(),
                safe: action.resend_safe(&self.buf[start..]),
            }),
            Err(e) => {
                self.buf.truncate(start);
                return self.report_unsent(action, "serialization_exception", e.to_string());
            }
        }
        if self.buf.len() > self.max_bytes && self.items.len() > 1 {
            // The last action overflows: it starts the next chunk.
            let last = self.items.pop().expect("more than one item");
            let carry = self.buf[last.range.start..].to_vec();
            self.buf.truncate(last.range.start);
            return Some(self.take(Some(carry), Some((last.op, last.safe))));
        }
        if self.items.len() >= self.max_count || self.buf.len() >= self.max_bytes {
            return Some(self.take(None, None));
        }
        None
    }
}

impl<S, D> Stream for Chunker<S>
where
    S: Stream<Item = BulkAction<D>>,
    D: BulkSource,
{
    type Item = Chunk;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Chunk>> {
        // Chunker is Unpin: the action stream is boxed.
        let this = self.get_mut();
        loop {
            if this.done {
                if this.items.is_empty() && this.unsent.is_empty() {
                    return Poll::Ready(None);
                }
                return Poll::Ready(Some(this.take(None, None)));
            }
            match this.actions.as_mut().poll_next(cx) {
                Poll::Ready(Some(action)) => {
                    this.armed = false;
                    if let Some(chunk) = this.push(&action) {
                        return Poll::Ready(Some(chunk));
                    }
                }
                Poll::Ready(None) => this.done = true,
                Poll::Pending => {
                    let Some(d) = this.flush_after.filter(|_| this.has_partial()) else {
                        return Poll::Pending;
                    };
                    // The input just went quiet (an action that came in this poll, or the
                    // last one of an earlier poll): the partial chunk leaves `d` from now.
                    if !this.armed {
                        let deadline = tokio::time::Instant::now() + d;
                        match &mut this.timer {
                            Some(t) => t.as_mut().reset(deadline),
                            None => this.timer = Some(Box::pin(tokio::time::sleep_until(deadline))),
                        }
                        this.armed = true;
                    }
                    let timer = this.timer.as_mut().expect("armed timer");
                    if timer.as_mut().poll(cx).is_ready() {
                        this.armed = false;
                        return Poll::Ready(Some(this.take(None, None)));
                    }
                    return Poll::Pending;
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use futures_util::StreamExt;
    use serde_json::json;

    fn chunks(n: usize, count: usize, bytes: usize) -> Vec<Chunk> {
        let actions = futures_util::stream::iter(
            (0..n).map(|i| BulkAction::index(json!({"n": i})).id(i.to_string())),
        );
        tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap()
            .block_on(Chunker::new(actions, count, bytes).collect::<Vec<_>>())
    }

    #[test]
    fn by_count() {
        let c = chunks(1001, 500, usize::MAX);
        assert_eq!(
            c.iter().map(|c| c.items.len()).collect::<Vec<_>>(),
            [500, 500, 1]
        );
        let first = &c[0];
        let s = std::str::from_utf8(&first.body[first.items[1].range.clone()]).unwrap();
        assert_eq!(s, "{\"index\":{\"_id\":\"1\"}}\n{\"n\":1}\n");
    }

    #[test]
    fn by_bytes_never_over_unless_single() {
        // Each action is 31-33 bytes; a 100 byte limit fits 3.
        let c = chunks(10, 500, 100);
        for ch in &c {
            assert!(
                ch.body.len() <= 100 || ch.items.len() == 1,
                "{}",
                ch.body.len()
            );
            let end = ch.items.last().unwrap().range.end;
            assert_eq!(end, ch.body.len());
            assert_eq!(ch.items[0].range.start, 0);
        }
        assert_eq!(c.iter().map(|c| c.items.len()).sum::<usize>(), 10);
        // One action larger than the limit goes alone.
        let c = chunks(3, 500, 10);
        assert_eq!(
            c.iter().map(|c| c.items.len()).collect::<Vec<_>>(),
            [1, 1, 1]
        );
    }

    #[test]
    fn empty_input() {
        assert!(chunks(0, 10, 10).is_empty());
    }
}
