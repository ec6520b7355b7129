//! Per-node counters: requests, failures, retries, latency, dead/alive transitions.

use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::time::Duration;

/// Live counters of one node, updated without locks.
#[derive(Debug, Default)]
pub(crate) struct NodeCounters {
    requests: AtomicU64,
    failures: AtomicU64,
    retries: AtomicU64,
    latency_micros: AtomicU64,
    marked_dead: AtomicU64,
    marked_alive: AtomicU64,
    stale_connections: AtomicU64,
    pool_timeouts: AtomicU64,
}

impl NodeCounters {
    pub(crate) fn record(&self, ok: bool, retry: bool, latency: Duration) {
        self.requests.fetch_add(1, Relaxed);
        if !ok {
            self.failures.fetch_add(1, Relaxed);
        }
        if retry {
            self.retries.fetch_add(1, Relaxed);
        }
        self.latency_micros.fetch_add(
            u64::try_from(latency.as_micros()).unwrap_or(u64::MAX),
            Relaxed,
        );
    }

    /// An attempt lost to a reused connection the server had closed (not a failure).
    pub(crate) fn stale(&self, retry: bool) {
        self.requests.fetch_add(1, Relaxed);
        self.stale_connections.fetch_add(1, Relaxed);
        if retry {
            self.retries.fetch_add(1, Relaxed);
        }
    }

    /// A request that gave up waiting for a free connection (never sent).
    pub(crate) fn pool_timeout(&self) {
        self.pool_timeouts.fetch_add(1, Relaxed);
    }

    pub(crate) fn dead(&self) {
        self.marked_dead.fetch_add(1, Relaxed);
    }

    pub(crate) fn alive(&self) {
        self.marked_alive.fetch_add(1, Relaxed);
    }

    pub(crate) fn snapshot(
        &self,
        node: String,
        is_dead: bool,
        consecutive_failures: u32,
    ) -> NodeStats {
        NodeStats {
            node,
            is_dead,
            consecutive_failures,
            requests: self.requests.load(Relaxed),
            failures: self.failures.load(Relaxed),
            retries: self.retries.load(Relaxed),
            total_latency: Duration::from_micros(self.latency_micros.load(Relaxed)),
            marked_dead: self.marked_dead.load(Relaxed),
            marked_alive: self.marked_alive.load(Relaxed),
            connections_opened: 0,
            stale_connections: self.stale_connections.load(Relaxed),
            pool_timeouts: self.pool_timeouts.load(Relaxed),
        }
    }
}

/// A snapshot of one node's counters, from [`crate::Transport::node_stats`].
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct NodeStats {
    /// The node's URL (no credentials).
    pub node: String,
    /// Whether the node is currently marked dead.
    pub is_dead: bool,
    /// Consecutive failures so far (0 when alive).
    pub consecutive_failures: u32,
    /// Attempts sent to this node.
    pub requests: u64,
    /// Attempts that failed on this node (connection error, timeout, or 5xx gateway status).
    pub failures: u64,
    /// Attempts to this node that were retries of an earlier failed attempt.
    pub retries: u64,
    /// Sum of the attempts' latencies (divide by `requests` for the mean).
    pub total_latency: Duration,
    /// How many times the node was marked dead.
    pub marked_dead: u64,
    /// How many times the node came back alive after being dead.
    pub marked_alive: u64,
    /// TCP connections opened to this node so far.
    pub connections_opened: u64,
    /// Attempts lost to a reused keep-alive connection that the server had closed, after the
    /// request may have been written (counted in `requests`, not in `failures`; the node is
    /// not blamed). A resend of such a request is an attempt, subject to `max_retries`.
    pub stale_connections: u64,
    /// Requests that gave up waiting for a free connection to this node
    /// ([`ErrorKind::PoolTimeout`](crate::ErrorKind::PoolTimeout); never sent, not in `requests`).
    pub pool_timeouts: u64,
}

impl NodeStats {
    /// The mean latency of an attempt on this node.
    pub fn mean_latency(&self) -> Duration {
        if self.requests == 0 {
            Duration::ZERO
        } else {
            self.total_latency / u32::try_from(self.requests).unwrap_or(u32::MAX)
        }
    }
}
