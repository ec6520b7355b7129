//! `GET /` (the `info` endpoint).

use serde::{Deserialize, Serialize};

/// The body of `info`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
#[non_exhaustive]
pub struct InfoResponse {
    /// Node name.
    pub name: String,
    /// Cluster name.
    pub cluster_name: String,
    /// Cluster UUID.
    pub cluster_uuid: String,
    /// Version details.
    pub version: VersionInfo,
    /// "You Know, for Search".
    pub tagline: String,
}

/// The `version` object of [`InfoResponse`].
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
#[non_exhaustive]
pub struct VersionInfo {
    /// `9.1.0`.
    pub number: String,
    /// `default`, `serverless`, …
    pub build_flavor: Option<String>,
    /// `docker`, `tar`, …
    pub build_type: Option<String>,
    /// Commit hash.
    pub build_hash: Option<String>,
    /// Build date.
    pub build_date: Option<String>,
    /// Snapshot build.
    pub build_snapshot: bool,
    /// Lucene version.
    pub lucene_version: Option<String>,
    /// Oldest wire-compatible version.
    pub minimum_wire_compatibility_version: Option<String>,
    /// Oldest index-compatible version.
    pub minimum_index_compatibility_version: Option<String>,
    /// `opensearch` on OpenSearch servers.
    pub distribution: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_info() {
        let info: InfoResponse = serde_json::from_str(
            r#"{"name":"n1","cluster_name":"c","cluster_uuid":"u","version":{"number":"9.1.0","build_flavor":"default","lucene_version":"10.2.1"},"tagline":"You Know, for Search"}"#,
        )
        .unwrap();
        assert_eq!(info.version.number, "9.1.0");
        assert_eq!(info.version.lucene_version.as_deref(), Some("10.2.1"));
    }
}
