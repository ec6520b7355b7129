//! Sniffing: reading the cluster's node list from `GET /_nodes/_all/http`.
//!
//! # When not to sniff
//! Do not sniff when the cluster sits behind an HTTP load balancer or proxy (Elastic Cloud,
//! Kubernetes ingress, a reverse proxy doing TLS or auth): the sniffed `publish_address`es are
//! the nodes' own addresses, which bypass the balancer and are often unreachable from the
//! client. Sniff only when the client can reach each node directly.

use std::collections::BTreeMap;
use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use serde::Deserialize;

use crate::error::{Error, Result};
use crate::node::NodeUrl;

/// A node as the sniff response describes it; given to a user's node filter.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct SniffedNode {
    /// The node id (the key in the `nodes` map).
    pub id: String,
    /// The node name.
    pub name: Option<String>,
    /// Host to connect to: the hostname when `publish_address` is `hostname/ip:port`, else the IP.
    pub host: String,
    /// HTTP port.
    pub port: u16,
    /// Roles (`master`, `data`, `ingest`, ...).
    pub roles: Vec<String>,
    /// Node attributes.
    pub attributes: BTreeMap<String, String>,
}

impl SniffedNode {
    /// True for a node whose only roles are master-eligibility ones (`master`,
    /// `cluster_manager`, `voting_only`): it does not serve data requests.
    pub fn is_master_only(&self) -> bool {
        !self.roles.is_empty()
            && self
                .roles
                .iter()
                .all(|r| matches!(r.as_str(), "master" | "cluster_manager" | "voting_only"))
    }
}

/// A user filter deciding which sniffed nodes join the pool.
pub type NodeFilter = Arc<dyn Fn(&SniffedNode) -> bool + Send + Sync>;

/// Sniffing settings.
#[derive(Clone)]
pub(crate) struct SniffConfig {
    pub(crate) on_start: bool,
    pub(crate) on_connection_fail: bool,
    pub(crate) interval: Option<Duration>,
    pub(crate) timeout: Duration,
    pub(crate) include_master_only: bool,
    pub(crate) filter: Option<NodeFilter>,
}

impl Default for SniffConfig {
    fn default() -> Self {
        SniffConfig {
            on_start: false,
            on_connection_fail: false,
            interval: None,
            timeout: Duration::from_secs(1),
            include_master_only: false,
            filter: None,
        }
    }
}

impl SniffConfig {
    pub(crate) fn enabled(&self) -> bool {
        self.on_start || self.on_connection_fail || self.interval.is_some()
    }
}

impl fmt::Debug for SniffConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SniffConfig")
            .field("on_start", &self.on_start)
            .field("on_connection_fail", &self.on_connection_fail)
            .field("interval", &self.interval)
            .field("timeout", &self.timeout)
            .field("include_master_only", &self.include_master_only)
            .field("filter", &self.filter.as_ref().map(|_| "Fn"))
            .finish()
    }
}

#[derive(Deserialize)]
struct NodesResponse {
    #[serde(default)]
    nodes: BTreeMap<String, NodeInfo>,
}

#[derive(Deserialize)]
struct NodeInfo {
    name: Option<String>,
    #[serde(default)]
    roles: Vec<String>,
    #[serde(default)]
    attributes: BTreeMap<String, serde_json::Value>,
    http: Option<HttpInfo>,
}

#[derive(Deserialize)]
struct HttpInfo {
    publish_address: Option<String>,
}

/// Splits a `publish_address`: `ip:port`, `hostname/ip:port`, `[v6]:port`, `hostname/[v6]:port`.
pub(crate) fn parse_publish_address(addr: &str) -> Option<(String, u16)> {
    let (hostname, rest) = match addr.split_once('/') {
        Some((h, r)) => (Some(h), r),
        None => (None, addr),
    };
    let (ip, port) = if let Some(r) = rest.strip_prefix('[') {
        let (ip, after) = r.split_once(']')?;
        (ip, after.strip_prefix(':')?)
    } else {
        rest.rsplit_once(':')?
    };
    let port: u16 = port.parse().ok()?;
    let host = hostname.filter(|h| !h.is_empty()).unwrap_or(ip);
    if host.is_empty() {
        return None;
    }
    Some((host.to_owned(), port))
}

/// Parses a `_nodes/_all/http` body into the nodes that serve HTTP.
///
/// # Errors
/// When the body is not the expected JSON.
pub fn parse_nodes(body: &[u8]) -> Result<Vec<SniffedNode>> {
    let parsed: NodesResponse = serde_json::from_slice(body)
        .map_err(|e| Error::serialization(format!("cannot read the sniff response: {e}")))?;
    let mut out = Vec::new();
    for (id, info) in parsed.nodes {
        let Some(addr) = info.http.and_then(|h| h.publish_address) else {
            continue;
        };
        let Some((host, port)) = parse_publish_address(&addr) else {
            tracing::warn!(target: "elasticsearch", node = %id, address = %addr, "unreadable publish_address");
            continue;
        };
        let attributes = info
            .attributes
            .into_iter()
            .map(|(k, v)| (k, v.as_str().map_or_else(|| v.to_string(), str::to_owned)))
            .collect();
        out.push(SniffedNode {
            id,
            name: info.name,
            host,
            port,
            roles: info.roles,
            attributes,
        });
    }
    Ok(out)
}

/// Turns the sniffed nodes the config keeps (master-only nodes and the user's filter applied)
/// into node URLs, keeping the scheme, path prefix and credentials of the configured
/// `template` node (so https is never downgraded to http), each with the node's name
/// (`elasticsearch.node.name` of its spans).
pub(crate) fn to_named_urls(
    nodes: &[SniffedNode],
    template: &NodeUrl,
    config: &SniffConfig,
) -> Vec<(NodeUrl, Option<String>)> {
    nodes
        .iter()
        .filter(|n| config.include_master_only || !n.is_master_only())
        .filter(|n| config.filter.as_ref().is_none_or(|f| f(n)))
        .filter_map(|n| {
            let mut url = NodeUrl::new(template.scheme(), &n.host, n.port).ok()?;
            url.path_prefix.clone_from(&template.path_prefix);
            url.credentials.clone_from(&template.credentials);
            Some((url, n.name.clone()))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn publish_address_forms() {
        assert_eq!(
            parse_publish_address("10.0.0.1:9200"),
            Some(("10.0.0.1".into(), 9200))
        );
        assert_eq!(
            parse_publish_address("es1.local/10.0.0.1:9201"),
            Some(("es1.local".into(), 9201))
        );
        assert_eq!(
            parse_publish_address("[::1]:9200"),
            Some(("::1".into(), 9200))
        );
        assert_eq!(
            parse_publish_address("host6/[fe80::1]:9300"),
            Some(("host6".into(), 9300))
        );
        assert_eq!(
            parse_publish_address("/10.0.0.2:9200"),
            Some(("10.0.0.2".into(), 9200))
        );
        assert_eq!(parse_publish_address("nonsense"), None);
        assert_eq!(parse_publish_address("h:99999"), None);
        assert_eq!(parse_publish_address("[::1"), None);
    }

    const BODY: &str = r#"{"_nodes":{"total":4},"cluster_name":"c","nodes":{
        "a":{"name":"n-a","roles":["data","ingest","master"],"attributes":{"zone":"z1"},"http":{"publish_address":"es-a/10.0.0.1:9200"}},
        "b":{"name":"n-b","roles":["master"],"http":{"publish_address":"10.0.0.2:9200"}},
        "c":{"name":"n-c","roles":["data"],"attributes":{"zone":"z2"},"http":{"publish_address":"[::1]:9201"}},
        "d":{"name":"n-d","roles":["data"]}
    }}"#;

    #[test]
    fn parses_and_filters() {
        let nodes = parse_nodes(BODY.as_bytes()).unwrap();
        assert_eq!(nodes.len(), 3);
        assert!(nodes[1].is_master_only());
        let template: NodeUrl = "https://user:pw@seed:9200/prefix".parse().unwrap();
        let urls: Vec<NodeUrl> = to_named_urls(&nodes, &template, &SniffConfig::default())
            .into_iter()
            .map(|(u, _)| u)
            .collect();
        let shown: Vec<String> = urls.iter().map(ToString::to_string).collect();
        assert_eq!(
            shown,
            ["https://es-a:9200/prefix", "https://[::1]:9201/prefix"]
        );
        assert!(urls.iter().all(|u| u.credentials().is_some()));
        let cfg = SniffConfig {
            include_master_only: true,
            ..SniffConfig::default()
        };
        assert_eq!(to_named_urls(&nodes, &template, &cfg).len(), 3);
        let cfg = SniffConfig {
            filter: Some(Arc::new(|n: &SniffedNode| {
                n.attributes.get("zone").is_some_and(|z| z == "z2")
            })),
            ..SniffConfig::default()
        };
        assert_eq!(to_named_urls(&nodes, &template, &cfg).len(), 1);
    }

    #[test]
    fn garbage_is_an_error() {
        assert!(parse_nodes(b"<html>").is_err());
        assert!(parse_nodes(br#"{"nodes":{}}"#).unwrap().is_empty());
    }
}
