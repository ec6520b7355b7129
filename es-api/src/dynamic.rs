//! The dynamic entry point: [`Client::call`] sends any endpoint by its spec name, with
//! parameters as JSON values — for tools such as the YAML test runner.

use serde_json::Value;

use crate::Client;
use crate::endpoint::{BodyKind, Builder, EndpointSpec};

/// A request made by [`Client::call`]; send it with `.send().await` or `.await`.
///
/// It has the options of every builder (`.options(..)`, `.ignore_status(..)`, …). `HEAD`
/// endpoints answer a [`Response`](crate::Response) here, not a `bool`: a 404 is not an error
/// for them (check the status), as with elasticsearch-py's `perform_request`.
#[derive(Debug, Clone)]
#[must_use = "a request does nothing until it is sent"]
pub struct Call {
    inner: Builder,
}

crate::endpoint::impl_common!(Call);
crate::endpoint::impl_send!(Call);

/// Finds an endpoint by name (`"indices.create"`).
pub(crate) fn find(name: &str) -> Option<&'static EndpointSpec> {
    let table = &crate::generated::ENDPOINTS;
    table
        .binary_search_by(|e| e.name.cmp(name))
        .ok()
        .map(|i| table[i])
}

/// How a JSON value is written as a parameter: strings as they are, arrays comma-joined,
/// objects as JSON text; `null` means "not set".
fn param_text(value: &Value) -> Option<String> {
    match value {
        Value::Null => None,
        Value::String(s) => Some(s.clone()),
        Value::Array(items) => Some(
            items
                .iter()
                .filter_map(param_text)
                .collect::<Vec<_>>()
                .join(","),
        ),
        other => Some(other.to_string()),
    }
}

impl Client {
    /// Sends the endpoint named `endpoint` (its spec name: `"search"`, `"indices.create"`).
    ///
    /// Entries of `params` named like a path part of the endpoint fill the path (the URL that
    /// takes the most of the parts given, deprecated URLs included; it must take all of them);
    /// the others go to the query string.
    /// Values: strings as they are, numbers and booleans as JSON text, arrays comma-joined,
    /// `null` skipped. The body: a JSON value (`null` is no body); a string is sent as it is; for NDJSON
    /// endpoints (`bulk`, `msearch`, …) an array is sent one line per element.
    ///
    /// An unknown endpoint name, path parts no URL takes together, an empty path part, a
    /// missing required body or required query parameter (`keep_alive` of
    /// `open_point_in_time`) is reported by `send` as `ErrorKind::Config`, before anything is
    /// sent.
    ///
    /// # Example
    /// ```no_run
    /// # async fn f(client: es_api::Client) -> es_api::Result<()> {
    /// use serde_json::json;
    ///
    /// let params = [("index".to_owned(), json!("my-index")), ("wait_for_active_shards".to_owned(), json!(1))];
    /// let response = client.call("indices.create", params, Some(json!({"settings": {}}))).await?;
    /// assert!(response.status().is_success());
    /// # Ok(())
    /// # }
    /// ```
    pub fn call<I, K>(&self, endpoint: &str, params: I, body: Option<Value>) -> Call
    where
        I: IntoIterator<Item = (K, Value)>,
        K: AsRef<str>,
    {
        let Some(spec) = find(endpoint) else {
            let mut inner = Builder::new(self, &UNKNOWN);
            inner.invalidate(format!("unknown endpoint {endpoint:?}"));
            return Call { inner };
        };
        let mut inner = Builder::new(self, spec);
        if spec.is_head_only() {
            // "Does not exist" is an answer of an exists endpoint, not a failure.
            inner.map_options(|o| o.ignore_status([404]));
        }
        for (name, value) in params {
            let name = name.as_ref();
            let Some(text) = param_text(&value) else {
                continue;
            };
            let part = spec
                .paths
                .iter()
                .flat_map(|p| p.parts.iter())
                .find(|p| **p == name);
            match part {
                Some(part) => inner.part(part, text),
                None => inner.query(name.to_owned(), text),
            }
        }
        match (body, spec.body) {
            // `body:` left empty in YAML: no body (and so `GET` where the endpoint allows it).
            (None | Some(Value::Null), _) => {}
            (Some(Value::String(raw)), _) => inner.raw_body(raw.into()),
            (Some(Value::Array(lines)), BodyKind::NdJson) => {
                let mut writer = inner.ndjson();
                for line in &lines {
                    writer.line(line);
                }
                let (out, error) = writer.finish();
                inner.set_ndjson(out, error);
            }
            (Some(value), _) => inner.json_body(&value),
        }
        Call { inner }
    }
}

/// Stands in for an unknown endpoint name: never sent.
static UNKNOWN: EndpointSpec = EndpointSpec {
    name: "unknown",
    paths: &[],
    body: BodyKind::None,
    body_required: false,
    required_params: &[],
    resend: crate::endpoint::Resend::Unsafe,
};

impl Call {
    /// The spec name of the endpoint.
    pub fn endpoint(&self) -> &'static str {
        self.inner.spec().name
    }
}
