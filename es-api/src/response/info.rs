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
    /// Commit hash (a number in one of the reference's examples is read as its digits).
    #[serde(deserialize_with = "string_or_number")]
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

/// A string, or a number kept as its text: a field that only labels the build must not
/// make `GET /` unreadable.
fn string_or_number<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Label {
        Text(String),
        Number(serde_json::Number),
    }
    Ok(Option::<Label>::deserialize(d)?.map(|l| match l {
        Label::Text(s) => s,
        Label::Number(n) => n.to_string(),
    }))
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
