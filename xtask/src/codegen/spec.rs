//! Serde model of the REST API JSON spec: one file per endpoint, `{ "<api.name>": { .. } }`.
//!
//! Only what the generator uses is modelled; unknown keys are ignored so that a newer spec
//! still loads. Maps are `BTreeMap`s so that iteration order (and therefore the output) is
//! deterministic, except `params`, kept in the file's order (the order of the required
//! parameters as arguments).

use std::collections::BTreeMap;
use std::fmt;
use std::marker::PhantomData;
use std::path::Path;

use anyhow::{Context, Result, bail};
use serde::Deserialize;
use serde::de::{self, Deserializer, MapAccess, Visitor};

/// One endpoint file.
#[derive(Debug, Clone, Deserialize)]
pub(crate) struct Endpoint {
    pub(crate) documentation: Documentation,
    pub(crate) stability: Stability,
    pub(crate) visibility: String,
    #[serde(default)]
    pub(crate) feature_flag: Option<String>,
    #[serde(default)]
    pub(crate) headers: Headers,
    pub(crate) url: Url,
    #[serde(default)]
    pub(crate) params: Ordered<Param>,
    #[serde(default)]
    pub(crate) body: Option<Body>,
    #[serde(default)]
    pub(crate) deprecated: Option<Deprecation>,
}

/// A JSON object with its keys in the file's order (a key given twice is an error).
#[derive(Debug, Clone)]
pub(crate) struct Ordered<V>(Vec<(String, V)>);

impl<V> Default for Ordered<V> {
    fn default() -> Self {
        Ordered(Vec::new())
    }
}

impl<V> Ordered<V> {
    /// The entries, in the file's order.
    pub(crate) fn iter(&self) -> impl Iterator<Item = (&String, &V)> {
        self.0.iter().map(|(k, v)| (k, v))
    }
}

impl<'de, V: Deserialize<'de>> Deserialize<'de> for Ordered<V> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Visit<V>(PhantomData<V>);

        impl<'de, V: Deserialize<'de>> Visitor<'de> for Visit<V> {
            type Value = Ordered<V>;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a JSON object")
            }

            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Ordered<V>, A::Error> {
                let mut entries: Vec<(String, V)> = Vec::new();
                while let Some((key, value)) = map.next_entry::<String, V>()? {
                    if entries.iter().any(|(k, _)| *k == key) {
                        return Err(de::Error::custom(format!("key `{key}` given twice")));
                    }
                    entries.push((key, value));
                }
                Ok(Ordered(entries))
            }
        }

        deserializer.deserialize_map(Visit(PhantomData))
    }
}

#[derive(Debug, Clone, Default, Deserialize)]
pub(crate) struct Documentation {
    #[serde(default)]
    pub(crate) url: Option<String>,
    #[serde(default)]
    pub(crate) description: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Deserialize)]
#[serde(rename_all = "snake_case")]
pub(crate) enum Stability {
    Stable,
    Beta,
    Experimental,
}

#[derive(Debug, Clone, Default, Deserialize)]
pub(crate) struct Headers {
    #[serde(default)]
    pub(crate) content_type: Vec<String>,
}

#[derive(Debug, Clone, Deserialize)]
pub(crate) struct Url {
    pub(crate) paths: Vec<PathSpec>,
}

#[derive(Debug, Clone, Deserialize)]
pub(crate) struct PathSpec {
    pub(crate) path: String,
    pub(crate) methods: Vec<String>,
    #[serde(default)]
    pub(crate) parts: BTreeMap<String, Part>,
    #[serde(default)]
    pub(crate) deprecated: Option<Deprecation>,
}

#[derive(Debug, Clone, Deserialize)]
pub(crate) struct Part {
    #[serde(rename = "type")]
    pub(crate) ty: String,
    #[serde(default)]
    pub(crate) description: Option<String>,
    #[serde(default)]
    pub(crate) options: Vec<String>,
}

#[derive(Debug, Clone, Deserialize)]
pub(crate) struct Param {
    #[serde(rename = "type")]
    pub(crate) ty: String,
    #[serde(default)]
    pub(crate) description: Option<String>,
    #[serde(default)]
    pub(crate) options: Vec<String>,
    #[serde(default)]
    pub(crate) default: Option<serde_json::Value>,
    #[serde(default)]
    pub(crate) deprecated: Option<Deprecation>,
    #[serde(default)]
    pub(crate) visibility: Option<String>,
    #[serde(default)]
    pub(crate) required: bool,
}

#[derive(Debug, Clone, Deserialize)]
pub(crate) struct Body {
    #[serde(default)]
    pub(crate) description: Option<String>,
    #[serde(default)]
    pub(crate) required: bool,
    #[serde(default)]
    pub(crate) serialize: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
pub(crate) struct Deprecation {
    #[serde(default)]
    pub(crate) version: Option<String>,
    #[serde(default)]
    pub(crate) description: Option<String>,
}

/// Reads every `*.json` endpoint file of `dir`, sorted by endpoint name.
pub(crate) fn read_dir(dir: &Path) -> Result<BTreeMap<String, Endpoint>> {
    let mut files: Vec<_> = std::fs::read_dir(dir)
        .with_context(|| format!("reading spec directory {}", dir.display()))?
        .map(|entry| entry.map(|e| e.path()))
        .collect::<std::io::Result<_>>()?;
    files.retain(|p| p.extension().is_some_and(|e| e == "json"));
    files.sort();
    if files.is_empty() {
        bail!("no *.json endpoint files in {}", dir.display());
    }
    let mut endpoints = BTreeMap::new();
    for file in files {
        let text = std::fs::read_to_string(&file)
            .with_context(|| format!("reading {}", file.display()))?;
        let parsed = parse_file(&text).with_context(|| format!("parsing {}", file.display()))?;
        for (name, endpoint) in parsed {
            if endpoints.insert(name.clone(), endpoint).is_some() {
                bail!(
                    "endpoint {name} defined twice (again in {})",
                    file.display()
                );
            }
        }
    }
    Ok(endpoints)
}

/// Parses the text of one endpoint file.
pub(crate) fn parse_file(text: &str) -> Result<BTreeMap<String, Endpoint>> {
    Ok(serde_json::from_str(text)?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_a_minimal_endpoint() {
        let parsed = parse_file(
            r#"{"ping": {"documentation": {"url": "https://x", "description": "Ping"},
                "stability": "stable", "visibility": "public", "headers": {"accept": ["application/json"]},
                "url": {"paths": [{"path": "/", "methods": ["HEAD"]}]}, "params": {}}}"#,
        )
        .unwrap();
        let ping = &parsed["ping"];
        assert_eq!(ping.stability, Stability::Stable);
        assert_eq!(ping.url.paths[0].methods, ["HEAD"]);
        assert!(ping.body.is_none());
    }

    #[test]
    fn params_keep_the_file_order() {
        let parsed = parse_file(
            r#"{"x": {"documentation": {}, "stability": "stable", "visibility": "public",
                "url": {"paths": [{"path": "/", "methods": ["GET"]}]},
                "params": {"index": {"type": "string", "required": true},
                           "field": {"type": "string", "required": true},
                           "a": {"type": "boolean"}}}}"#,
        )
        .unwrap();
        let names: Vec<_> = parsed["x"].params.iter().map(|(k, _)| k.as_str()).collect();
        assert_eq!(names, ["index", "field", "a"]);
        let twice = parse_file(
            r#"{"x": {"documentation": {}, "stability": "stable", "visibility": "public",
                "url": {"paths": [{"path": "/", "methods": ["GET"]}]},
                "params": {"a": {"type": "string"}, "a": {"type": "string"}}}}"#,
        );
        assert!(twice.is_err());
    }
}
