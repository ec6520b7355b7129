//! Scripts: [`InlineScript`], a Painless source with its params, for updates, script fields
//! and pipeline aggregations.

use es_api::types::common::{Script, ScriptLanguage, ScriptSource};
use indexmap::IndexMap;
use serde::Serialize;
use serde_json::Value;

/// An inline script: its source (Painless unless [`InlineScript::lang`] says otherwise) and
/// named params. Converts into the specification's [`Script`].
///
/// # Example
/// ```
/// use es_dsl::InlineScript;
/// use es_dsl::es_api::types::common::Script;
///
/// let script: Script = InlineScript::new("ctx._source.views += params.by").param("by", 1).into();
/// assert_eq!(
///     serde_json::to_value(&script).unwrap(),
///     serde_json::json!({"source": "ctx._source.views += params.by", "params": {"by": 1}})
/// );
/// ```
#[derive(Debug, Clone, PartialEq)]
#[must_use]
pub struct InlineScript {
    source: String,
    params: IndexMap<String, Value>,
    lang: Option<ScriptLanguage>,
}

impl InlineScript {
    /// A script with this source and no params.
    pub fn new(source: impl Into<String>) -> Self {
        InlineScript {
            source: source.into(),
            params: IndexMap::new(),
            lang: None,
        }
    }

    /// Adds a param (`params.name` in the script). A value that cannot be JSON (a map with
    /// non-string keys) is written as `null`.
    pub fn param(mut self, name: impl Into<String>, value: impl Serialize) -> Self {
        self.params.insert(
            name.into(),
            serde_json::to_value(value).unwrap_or(Value::Null),
        );
        self
    }

    /// The script language (the server's default is Painless).
    pub fn lang(mut self, lang: ScriptLanguage) -> Self {
        self.lang = Some(lang);
        self
    }
}

impl From<InlineScript> for Script {
    fn from(s: InlineScript) -> Script {
        Script {
            source: Some(Box::new(ScriptSource::String(s.source))),
            id: None,
            params: (!s.params.is_empty()).then_some(s.params),
            lang: s.lang,
            options: None,
        }
    }
}

impl From<&str> for InlineScript {
    fn from(source: &str) -> Self {
        InlineScript::new(source)
    }
}

impl From<String> for InlineScript {
    fn from(source: String) -> Self {
        InlineScript::new(source)
    }
}
