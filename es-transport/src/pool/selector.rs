//! Node selectors: which live node takes the next request.

use std::fmt::Debug;
use std::sync::atomic::{AtomicUsize, Ordering};

use crate::node::NodeUrl;

/// Chooses one node among the live ones for the next request.
///
/// The pool calls it with the live nodes only (never an empty slice); it returns an index
/// into that slice (taken modulo its length). Implement it to route by zone, say.
///
/// # Example
/// ```
/// use es_transport::{NodeUrl, SelectNode};
///
/// /// Always the first live node: a primary / fallback setup.
/// #[derive(Debug)]
/// struct First;
/// impl SelectNode for First {
///     fn select(&self, _nodes: &[NodeUrl]) -> usize { 0 }
/// }
/// ```
pub trait SelectNode: Send + Sync + Debug + 'static {
    /// The index of the node to use, among `nodes` (all live, never empty).
    fn select(&self, nodes: &[NodeUrl]) -> usize;
}

/// Takes the live nodes in turn (the default).
#[derive(Debug, Default)]
pub struct RoundRobin {
    next: AtomicUsize,
}

impl RoundRobin {
    /// A round-robin selector.
    pub fn new() -> Self {
        Self::default()
    }
}

impl SelectNode for RoundRobin {
    fn select(&self, nodes: &[NodeUrl]) -> usize {
        self.next.fetch_add(1, Ordering::Relaxed) % nodes.len().max(1)
    }
}

/// Takes a live node at random.
#[derive(Debug, Default, Clone, Copy)]
pub struct Random;

impl SelectNode for Random {
    fn select(&self, nodes: &[NodeUrl]) -> usize {
        fastrand::usize(..nodes.len().max(1))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_robin_cycles() {
        let nodes: Vec<NodeUrl> = ["a:1", "b:1", "c:1"]
            .iter()
            .map(|s| s.parse().unwrap())
            .collect();
        let rr = RoundRobin::new();
        let picks: Vec<usize> = (0..6).map(|_| rr.select(&nodes)).collect();
        assert_eq!(picks, [0, 1, 2, 0, 1, 2]);
    }

    #[test]
    fn random_in_range() {
        let nodes: Vec<NodeUrl> = ["a:1", "b:1"].iter().map(|s| s.parse().unwrap()).collect();
        for _ in 0..100 {
            assert!(Random.select(&nodes) < 2);
        }
    }

    #[test]
    fn select_node_obj_safe() {
        fn _f(_: &dyn SelectNode) {}
    }
}
