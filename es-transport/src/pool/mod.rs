//! The node pool: which nodes exist, which are dead and until when, and who goes next.
//!
//! A plain data structure (no I/O), driven by an injected [`Clock`] so its timing is
//! tested without sleeping. The [`crate::layer::pool`] layer is what uses it per request.
//!
//! Dead-node rule: after its n-th consecutive failure a node is dead for
//! `min(backoff_factor * 2^(n-1), max_backoff)`; when that time ends it is back in rotation
//! (still counting its failures, so a new failure makes the timeout longer); one success
//! makes it fully alive again. With no live node, the node whose timeout ends first is used.

mod selector;

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use http::HeaderValue;

pub use selector::{Random, RoundRobin, SelectNode};

use crate::conn::ConnPool;
use crate::error::Result;
use crate::metrics::{NodeCounters, NodeStats};
use crate::node::NodeUrl;
use crate::time::Clock;

/// One node of the pool with its connections and counters.
#[derive(Debug)]
pub(crate) struct Node {
    pub(crate) url: NodeUrl,
    /// `scheme://host:port/prefix`, no credentials: what logs and errors show.
    pub(crate) id: Arc<str>,
    pub(crate) authority: http::uri::Authority,
    pub(crate) auth_header: Option<HeaderValue>,
    pub(crate) conns: ConnPool,
    pub(crate) counters: NodeCounters,
    pub(crate) sniffed: AtomicBool,
    /// The node's name, when a sniff told it (`elasticsearch.node.name` of attempt spans).
    name: Mutex<Option<Arc<str>>>,
    /// Set when the node fails, cleared when it succeeds: lets a success skip the pool's lock.
    suspect: AtomicBool,
}

impl Node {
    pub(crate) fn new(url: NodeUrl, max_connections: usize) -> Result<Self> {
        let authority = url.authority()?;
        let auth_header = url.credentials().map(|c| c.header_value()).transpose()?;
        Ok(Node {
            id: url.to_string().into(),
            url,
            authority,
            auth_header,
            conns: ConnPool::new(max_connections),
            counters: NodeCounters::default(),
            sniffed: AtomicBool::new(false),
            name: Mutex::new(None),
            suspect: AtomicBool::new(false),
        })
    }

    /// The node's name, when known (from a sniff).
    pub(crate) fn name(&self) -> Option<Arc<str>> {
        self.name
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone()
    }

    fn set_name(&self, name: &str) {
        let mut slot = self
            .name
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if slot.as_deref() != Some(name) {
            *slot = Some(name.into());
        }
    }
}

#[derive(Debug)]
struct Entry {
    node: Arc<Node>,
    failures: u32,
    dead_until: Option<Instant>,
}

#[derive(Debug)]
struct State {
    entries: Vec<Entry>,
    /// Indices of live entries, recomputed when a node dies or a dead time ends.
    alive: Vec<usize>,
    alive_urls: Vec<NodeUrl>,
    /// The earliest `dead_until` among dead nodes: when `alive` must be recomputed.
    next_resurrection: Option<Instant>,
}

impl State {
    fn recompute(&mut self, now: Instant) {
        self.alive.clear();
        self.alive_urls.clear();
        self.next_resurrection = None;
        for (i, e) in self.entries.iter().enumerate() {
            match e.dead_until {
                Some(t) if t > now => {
                    self.next_resurrection = Some(self.next_resurrection.map_or(t, |n| n.min(t)));
                }
                _ => {
                    self.alive.push(i);
                    self.alive_urls.push(e.node.url.clone());
                }
            }
        }
    }
}

/// Settings of the dead-node backoff.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Backoff {
    pub(crate) factor: Duration,
    pub(crate) max: Duration,
}

impl Backoff {
    /// `min(factor * 2^(n-1), max)` for the n-th consecutive failure.
    pub(crate) fn timeout(&self, failures: u32) -> Duration {
        let exp = failures.saturating_sub(1).min(31);
        self.factor.saturating_mul(1u32 << exp).min(self.max)
    }
}

/// `now + timeout`, or the farthest instant representable when that overflows.
fn deadline(now: Instant, timeout: Duration) -> Instant {
    now.checked_add(timeout).unwrap_or_else(|| {
        // Halve until it fits: still "dead for longer than anyone waits".
        let mut t = timeout;
        loop {
            t /= 2;
            if let Some(i) = now.checked_add(t) {
                return i;
            }
        }
    })
}

/// The node pool.
#[derive(Debug)]
pub(crate) struct NodePool {
    state: Mutex<State>,
    selector: Arc<dyn SelectNode>,
    backoff: Backoff,
    clock: Arc<dyn Clock>,
    max_connections: usize,
}

impl NodePool {
    pub(crate) fn new(
        nodes: Vec<Arc<Node>>,
        selector: Arc<dyn SelectNode>,
        backoff: Backoff,
        clock: Arc<dyn Clock>,
        max_connections: usize,
    ) -> Self {
        let entries = nodes
            .into_iter()
            .map(|node| Entry {
                node,
                failures: 0,
                dead_until: None,
            })
            .collect();
        let mut state = State {
            entries,
            alive: Vec::new(),
            alive_urls: Vec::new(),
            next_resurrection: None,
        };
        state.recompute(clock.now());
        NodePool {
            state: Mutex::new(state),
            selector,
            backoff,
            clock,
            max_connections,
        }
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Picks the node for the next attempt; `None` only when the pool is empty.
    pub(crate) fn select(&self) -> Option<Arc<Node>> {
        let mut st = self.lock();
        if st.entries.is_empty() {
            return None;
        }
        if let Some(t) = st.next_resurrection {
            let now = self.clock.now();
            if t <= now {
                st.recompute(now);
            }
        }
        if st.alive.is_empty() {
            // Nobody is live: try the node whose dead time ends first.
            let e = st.entries.iter().min_by_key(|e| e.dead_until)?;
            return Some(e.node.clone());
        }
        let i = if st.alive.len() == 1 {
            0
        } else {
            self.selector.select(&st.alive_urls) % st.alive.len()
        };
        Some(st.entries[st.alive[i]].node.clone())
    }

    /// Records a failure of `node`: it is dead for the backoff of its failure count.
    ///
    /// Only a transition counts: failures of requests that were already in flight when the
    /// node was marked dead neither lengthen its backoff nor count as another death.
    pub(crate) fn mark_dead(&self, node: &Arc<Node>) {
        let now = self.clock.now();
        let mut st = self.lock();
        node.suspect.store(true, Ordering::Release);
        let Some(e) = st.entries.iter_mut().find(|e| Arc::ptr_eq(&e.node, node)) else {
            return;
        };
        if e.dead_until.is_some_and(|t| t > now) {
            return;
        }
        e.failures = e.failures.saturating_add(1);
        let timeout = self.backoff.timeout(e.failures);
        e.dead_until = Some(deadline(now, timeout));
        let failures = e.failures;
        node.counters.dead();
        st.recompute(now);
        drop(st);
        tracing::warn!(
            target: "elasticsearch",
            node = %node.id,
            consecutive_failures = failures,
            dead_for_secs = timeout.as_secs_f64(),
            "node marked dead"
        );
    }

    /// Records a success of `node`: alive, failure count reset.
    pub(crate) fn mark_live(&self, node: &Arc<Node>) {
        if !node.suspect.load(Ordering::Acquire) {
            return;
        }
        let mut st = self.lock();
        node.suspect.store(false, Ordering::Release);
        let Some(e) = st.entries.iter_mut().find(|e| Arc::ptr_eq(&e.node, node)) else {
            return;
        };
        if e.failures == 0 {
            return;
        }
        e.failures = 0;
        let was_dead = e.dead_until.take().is_some();
        node.counters.alive();
        if was_dead {
            let now = self.clock.now();
            st.recompute(now);
        }
        drop(st);
        tracing::info!(target: "elasticsearch", node = %node.id, "node alive again");
    }

    /// Records the names a sniff reported for the nodes at these URLs.
    pub(crate) fn set_node_names(&self, named: Vec<(NodeUrl, Option<String>)>) {
        for node in self.all() {
            if let Some((_, Some(name))) = named.iter().find(|(u, _)| *u == node.url) {
                node.set_name(name);
            }
        }
    }

    /// Replaces the node list (after a sniff). Nodes already known keep their connections,
    /// counters and dead state. An empty list is ignored.
    pub(crate) fn set_nodes(&self, urls: Vec<NodeUrl>) -> Result<()> {
        if urls.is_empty() {
            return Ok(());
        }
        // New nodes are built before the lock, so an error leaves the pool as it was.
        let known = self.urls();
        let mut fresh: Vec<Arc<Node>> = Vec::new();
        for url in &urls {
            if !known.contains(url) && !fresh.iter().any(|n| &n.url == url) {
                let node = Node::new(url.clone(), self.max_connections)?;
                node.sniffed.store(true, Ordering::Relaxed);
                fresh.push(Arc::new(node));
            }
        }
        let mut st = self.lock();
        let mut old: Vec<Entry> = std::mem::take(&mut st.entries);
        let mut entries = Vec::with_capacity(urls.len());
        for url in urls {
            if entries.iter().any(|e: &Entry| e.node.url == url) {
                continue;
            }
            if let Some(pos) = old.iter().position(|e| e.node.url == url) {
                entries.push(old.swap_remove(pos));
            } else if let Some(pos) = fresh.iter().position(|n| n.url == url) {
                entries.push(Entry {
                    node: fresh.swap_remove(pos),
                    failures: 0,
                    dead_until: None,
                });
            } else {
                // Known at `urls()` but removed by a concurrent `set_nodes` since: it was
                // built once, so building it again cannot fail; never leave the lock early.
                match Node::new(url, self.max_connections) {
                    Ok(node) => {
                        node.sniffed.store(true, Ordering::Relaxed);
                        entries.push(Entry {
                            node: Arc::new(node),
                            failures: 0,
                            dead_until: None,
                        });
                    }
                    Err(e) => {
                        tracing::warn!(target: "elasticsearch", error = %e, "skipping a sniffed node")
                    }
                }
            }
        }
        if entries.is_empty() {
            st.entries = old;
        } else {
            st.entries = entries;
        }
        let now = self.clock.now();
        st.recompute(now);
        Ok(())
    }

    /// Adds the nodes of `urls` that are not in the pool (alive, as new nodes); returns how
    /// many were added. URLs that cannot be nodes are skipped.
    pub(crate) fn add_nodes(&self, urls: &[NodeUrl]) -> usize {
        let known = self.urls();
        let fresh: Vec<Arc<Node>> = urls
            .iter()
            .filter(|u| !known.contains(u))
            .filter_map(|u| Node::new(u.clone(), self.max_connections).ok())
            .map(Arc::new)
            .collect();
        let mut st = self.lock();
        let mut added = 0;
        for node in fresh {
            if st.entries.iter().all(|e| e.node.url != node.url) {
                st.entries.push(Entry {
                    node,
                    failures: 0,
                    dead_until: None,
                });
                added += 1;
            }
        }
        if added > 0 {
            let now = self.clock.now();
            st.recompute(now);
        }
        added
    }

    /// The URLs of all nodes, dead or alive.
    pub(crate) fn urls(&self) -> Vec<NodeUrl> {
        self.lock()
            .entries
            .iter()
            .map(|e| e.node.url.clone())
            .collect()
    }

    /// All nodes, in pool order.
    pub(crate) fn all(&self) -> Vec<Arc<Node>> {
        self.lock().entries.iter().map(|e| e.node.clone()).collect()
    }

    /// A snapshot of every node's counters.
    pub(crate) fn stats(&self) -> Vec<NodeStats> {
        let now = self.clock.now();
        self.lock()
            .entries
            .iter()
            .map(|e| {
                let dead = e.dead_until.is_some_and(|t| t > now);
                e.node
                    .counters
                    .snapshot(e.node.id.to_string(), dead, e.failures)
            })
            .collect()
    }

    /// The number of nodes.
    pub(crate) fn len(&self) -> usize {
        self.lock().entries.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::time::ManualClock;

    fn pool(n: usize, clock: &ManualClock) -> (NodePool, Vec<Arc<Node>>) {
        let nodes: Vec<Arc<Node>> = (0..n)
            .map(|i| Arc::new(Node::new(format!("n{i}:9200").parse().unwrap(), 10).unwrap()))
            .collect();
        let backoff = Backoff {
            factor: Duration::from_secs(1),
            max: Duration::from_secs(30),
        };
        (
            NodePool::new(
                nodes.clone(),
                Arc::new(RoundRobin::new()),
                backoff,
                Arc::new(clock.clone()),
                10,
            ),
            nodes,
        )
    }

    fn ids(p: &NodePool, k: usize) -> Vec<String> {
        (0..k)
            .map(|_| p.select().unwrap().url.host().to_owned())
            .collect()
    }

    #[test]
    fn backoff_formula() {
        let b = Backoff {
            factor: Duration::from_secs(2),
            max: Duration::from_secs(60),
        };
        let secs: Vec<u64> = (1..=7).map(|n| b.timeout(n).as_secs()).collect();
        assert_eq!(secs, [2, 4, 8, 16, 32, 60, 60]);
        assert_eq!(b.timeout(1000), Duration::from_secs(60));
    }

    #[test]
    fn dead_node_skipped_until_timeout_then_back() {
        let clock = ManualClock::new();
        let (p, nodes) = pool(3, &clock);
        p.mark_dead(&nodes[1]);
        assert!(ids(&p, 6).iter().all(|h| h != "n1"));
        clock.advance(Duration::from_millis(999));
        assert!(ids(&p, 6).iter().all(|h| h != "n1"));
        clock.advance(Duration::from_millis(1));
        assert!(ids(&p, 6).iter().any(|h| h == "n1"));
        // A second consecutive failure doubles the timeout.
        p.mark_dead(&nodes[1]);
        clock.advance(Duration::from_millis(1999));
        assert!(ids(&p, 6).iter().all(|h| h != "n1"));
        clock.advance(Duration::from_millis(1));
        assert!(ids(&p, 6).iter().any(|h| h == "n1"));
        // Success resets the count: the next failure is 1 s again.
        p.mark_live(&nodes[1]);
        p.mark_dead(&nodes[1]);
        clock.advance(Duration::from_secs(1));
        assert!(ids(&p, 6).iter().any(|h| h == "n1"));
        let st = p.stats();
        assert_eq!(st[1].marked_dead, 3);
        assert_eq!(st[1].marked_alive, 1);
    }

    #[test]
    fn all_dead_picks_soonest() {
        let clock = ManualClock::new();
        let (p, nodes) = pool(3, &clock);
        p.mark_dead(&nodes[1]); // dead until 1 s
        clock.advance(Duration::from_millis(500));
        p.mark_dead(&nodes[0]); // until 1.5 s
        p.mark_dead(&nodes[2]); // until 1.5 s
        assert_eq!(ids(&p, 3), ["n1", "n1", "n1"]);
    }

    #[test]
    fn failures_of_a_dead_node_are_not_transitions() {
        let clock = ManualClock::new();
        let (p, nodes) = pool(2, &clock);
        // Three requests in flight fail together: one death, a 1 s backoff.
        for _ in 0..3 {
            p.mark_dead(&nodes[0]);
        }
        let st = p.stats();
        assert_eq!((st[0].marked_dead, st[0].consecutive_failures), (1, 1));
        clock.advance(Duration::from_secs(1));
        assert!(!p.stats()[0].is_dead);
        // Back in rotation and failing again: a second death, 2 s.
        p.mark_dead(&nodes[0]);
        let st = p.stats();
        assert_eq!((st[0].marked_dead, st[0].consecutive_failures), (2, 2));
        clock.advance(Duration::from_millis(1999));
        assert!(p.stats()[0].is_dead);
    }

    #[test]
    fn huge_backoff_does_not_overflow() {
        let now = Instant::now();
        let d = deadline(now, Duration::MAX);
        assert!(d > now + Duration::from_secs(365 * 24 * 3600));
        assert_eq!(
            deadline(now, Duration::from_secs(1)),
            now + Duration::from_secs(1)
        );
        let b = Backoff {
            factor: Duration::MAX,
            max: Duration::MAX,
        };
        assert_eq!(b.timeout(40), Duration::MAX);
    }

    #[test]
    fn set_nodes_error_leaves_the_pool_as_it_was() {
        let clock = ManualClock::new();
        let (p, _) = pool(2, &clock);
        // A valid URL whose credentials cannot be a header: `Node::new` fails.
        let mut bad: NodeUrl = "n8:9200".parse().unwrap();
        bad.credentials = Some(crate::Credentials::bearer("p\n"));
        assert!(p.set_nodes(vec!["n7:9200".parse().unwrap(), bad]).is_err());
        assert_eq!(p.len(), 2);
        assert_eq!(ids(&p, 2), ["n0", "n1"]);
    }

    #[test]
    fn set_nodes_keeps_state_of_known_nodes() {
        let clock = ManualClock::new();
        let (p, nodes) = pool(2, &clock);
        p.mark_dead(&nodes[0]);
        p.set_nodes(vec!["n0:9200".parse().unwrap(), "n5:9200".parse().unwrap()])
            .unwrap();
        let all = p.all();
        assert!(Arc::ptr_eq(&all[0], &nodes[0]));
        assert_eq!(all.len(), 2);
        assert!(p.stats()[0].is_dead);
        assert_eq!(ids(&p, 2), ["n5", "n5"]);
        p.set_nodes(vec![]).unwrap();
        assert_eq!(p.len(), 2);
    }
}
