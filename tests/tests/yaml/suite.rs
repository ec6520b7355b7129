//! Loading the clients YAML suite: files, their `requires` header, `setup`, `teardown` and
//! tests, as JSON values (YAML keys that are not strings become strings).

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use serde_json::{Map, Value};

/// One YAML test file.
#[derive(Debug)]
pub(crate) struct TestFile {
    /// Relative to the suite root, `/`-separated (`indices/create.yml`).
    pub(crate) rel: String,
    /// The folder the counts are grouped by (`indices`, or `.` for top-level files).
    pub(crate) folder: String,
    /// `requires.stack` (absent: true).
    pub(crate) stack: bool,
    pub(crate) setup: Vec<Value>,
    pub(crate) teardown: Vec<Value>,
    pub(crate) tests: Vec<(String, Vec<Value>)>,
}

/// Every `.yml` / `.yaml` file under `root`, in path order.
pub(crate) fn discover(root: &Path) -> Vec<PathBuf> {
    fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
        let Ok(entries) = std::fs::read_dir(dir) else {
            return;
        };
        for entry in entries.flatten() {
            let p = entry.path();
            if p.is_dir() {
                walk(&p, out);
            } else if p.extension().is_some_and(|e| e == "yml" || e == "yaml") {
                out.push(p);
            }
        }
    }
    let mut out = Vec::new();
    walk(root, &mut out);
    out.sort();
    out
}

/// YAML to JSON: mapping keys are written as strings, tags dropped.
fn to_json(v: serde_yaml_ng::Value) -> Value {
    use serde_yaml_ng::Value as Y;
    match v {
        Y::Null => Value::Null,
        Y::Bool(b) => Value::Bool(b),
        Y::Number(n) => {
            if let Some(i) = n.as_i64() {
                Value::from(i)
            } else if let Some(u) = n.as_u64() {
                Value::from(u)
            } else {
                n.as_f64()
                    .and_then(serde_json::Number::from_f64)
                    .map_or(Value::Null, Value::Number)
            }
        }
        Y::String(s) => Value::String(s),
        Y::Sequence(items) => Value::Array(items.into_iter().map(to_json).collect()),
        Y::Mapping(m) => {
            let mut out = Map::new();
            for (k, v) in m {
                let key = match to_json(k) {
                    Value::String(s) => s,
                    Value::Null => "null".to_owned(),
                    other => other.to_string(),
                };
                out.insert(key, to_json(v));
            }
            Value::Object(out)
        }
        Y::Tagged(t) => to_json(t.value),
    }
}

/// Parses one file (several YAML documents separated by `---`).
pub(crate) fn load(root: &Path, path: &Path) -> Result<TestFile, String> {
    let rel = path
        .strip_prefix(root)
        .unwrap_or(path)
        .components()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect::<Vec<_>>()
        .join("/");
    let folder = match rel.rsplit_once('/') {
        Some((dir, _)) => dir.to_owned(),
        None => ".".to_owned(),
    };
    let text = std::fs::read_to_string(path).map_err(|e| format!("{rel}: {e}"))?;
    let mut file = TestFile {
        rel: rel.clone(),
        folder,
        stack: true,
        setup: Vec::new(),
        teardown: Vec::new(),
        tests: Vec::new(),
    };
    for doc in serde_yaml_ng::Deserializer::from_str(&text) {
        let value = serde_yaml_ng::Value::deserialize(doc).map_err(|e| format!("{rel}: {e}"))?;
        let Value::Object(map) = to_json(value) else {
            continue;
        };
        for (key, value) in map {
            match key.as_str() {
                "requires" => {
                    if let Some(stack) = value.get("stack").and_then(Value::as_bool) {
                        file.stack = stack;
                    }
                }
                "setup" => file.setup = steps(&rel, &key, value)?,
                "teardown" => file.teardown = steps(&rel, &key, value)?,
                _ => {
                    let steps = steps(&rel, &key, value)?;
                    file.tests.push((key, steps));
                }
            }
        }
    }
    Ok(file)
}

fn steps(rel: &str, section: &str, value: Value) -> Result<Vec<Value>, String> {
    match value {
        Value::Array(steps) => Ok(steps),
        Value::Null => Ok(Vec::new()),
        other => Err(format!(
            "{rel}: section {section:?} is not a list of steps: {other}"
        )),
    }
}

use serde::Deserialize as _;

/// The endpoints and parameters the REST API spec puts behind a `feature_flag`: a stack
/// server has them only with that flag on, so the tests calling them are skipped.
#[derive(Debug, Default)]
pub(crate) struct FeatureFlags {
    /// Endpoint name to its flag.
    endpoints: HashMap<String, String>,
    /// (endpoint name, parameter name) to its flag.
    params: HashMap<(String, String), String>,
}

impl FeatureFlags {
    /// Reads every `*.json` endpoint file of the spec directory (`rest-api-spec/elasticsearch`).
    pub(crate) fn load(dir: &Path) -> Result<Self, String> {
        let entries = std::fs::read_dir(dir)
            .map_err(|e| format!("the REST API spec at {}: {e}", dir.display()))?;
        let mut flags = Self::default();
        for entry in entries.flatten() {
            let path = entry.path();
            if path.extension().is_none_or(|e| e != "json") {
                continue;
            }
            let text =
                std::fs::read_to_string(&path).map_err(|e| format!("{}: {e}", path.display()))?;
            let Ok(Value::Object(doc)) = serde_json::from_str::<Value>(&text) else {
                return Err(format!("{}: not a JSON object", path.display()));
            };
            for (name, spec) in doc {
                if let Some(flag) = spec.get("feature_flag").and_then(Value::as_str) {
                    flags.endpoints.insert(name.clone(), flag.to_owned());
                }
                let params = spec.get("params").and_then(Value::as_object);
                for (param, p) in params.into_iter().flatten() {
                    if let Some(flag) = p.get("feature_flag").and_then(Value::as_str) {
                        flags
                            .params
                            .insert((name.clone(), param.clone()), flag.to_owned());
                    }
                }
            }
        }
        Ok(flags)
    }

    /// The flag a call of `endpoint` with `params` needs, if any.
    pub(crate) fn needed<'a>(
        &self,
        endpoint: &str,
        mut params: impl Iterator<Item = &'a str>,
    ) -> Option<&str> {
        if let Some(flag) = self.endpoints.get(endpoint) {
            return Some(flag);
        }
        params.find_map(|p| {
            self.params
                .get(&(endpoint.to_owned(), p.to_owned()))
                .map(String::as_str)
        })
    }
}
