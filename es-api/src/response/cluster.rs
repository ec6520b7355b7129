//! `cluster.health`.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// Cluster (or index) health colour.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, Default,
)]
#[serde(rename_all = "lowercase")]
#[non_exhaustive]
pub enum HealthStatus {
    /// All shards assigned.
    Green,
    /// All primaries assigned, some replicas not.
    Yellow,
    /// Some primaries unassigned.
    Red,
    /// Unknown (health API v2).
    #[default]
    Unknown,
    /// Unavailable (health API v2).
    Unavailable,
}

/// The body of `cluster.health`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
#[non_exhaustive]
pub struct ClusterHealthResponse {
    /// Cluster name.
    pub cluster_name: String,
    /// Health.
    pub status: HealthStatus,
    /// True if `wait_for_*` timed out.
    pub timed_out: bool,
    /// Nodes.
    pub number_of_nodes: u64,
    /// Data nodes.
    pub number_of_data_nodes: u64,
    /// Active primary shards.
    pub active_primary_shards: u64,
    /// Active shards.
    pub active_shards: u64,
    /// Relocating shards.
    pub relocating_shards: u64,
    /// Initializing shards.
    pub initializing_shards: u64,
    /// Unassigned shards.
    pub unassigned_shards: u64,
    /// Unassigned shards whose allocation is delayed.
    pub delayed_unassigned_shards: u64,
    /// Pending cluster-state tasks.
    pub number_of_pending_tasks: u64,
    /// In-flight shard fetches.
    pub number_of_in_flight_fetch: u64,
    /// Longest wait of a pending task, in milliseconds.
    pub task_max_waiting_in_queue_millis: u64,
    /// Percentage of active shards.
    pub active_shards_percent_as_number: f64,
    /// Per-index health (`level=indices`), as JSON.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub indices: Option<BTreeMap<String, Value>>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_health() {
        let h: ClusterHealthResponse = serde_json::from_str(
            r#"{"cluster_name":"c","status":"yellow","timed_out":false,"number_of_nodes":1,"active_shards_percent_as_number":50.0}"#,
        )
        .unwrap();
        assert_eq!(h.status, HealthStatus::Yellow);
        assert_eq!(h.number_of_nodes, 1);
    }
}
