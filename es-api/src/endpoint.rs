//! How a generated builder becomes a transport request: the endpoint table entries, the one
//! shared [`Builder`] every generated builder wraps, and the macros that give each builder its
//! common methods.
//!
//! A generated builder is a thin typed shell: its setters render values into `Builder`
//! (path parts and query pairs, already percent-encoded) and everything else — path
//! selection, method choice, body serialization, options, sending — is the non-generic code
//! below, compiled once.

use std::borrow::Cow;
use std::future::Future;
use std::pin::Pin;

use bytes::Bytes;
use http::Method;

use crate::params::ToParam;
use crate::params::encode::{encode, encode_into};
use crate::{Client, Error, ErrorKind, RequestOptions, Response, Result};

/// The future returned by `send()`: boxed once per request, `Send`, `'static`.
pub type SendFuture<T> = Pin<Box<dyn Future<Output = Result<T>> + Send + 'static>>;

/// What kind of body an endpoint takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum BodyKind {
    /// No body.
    None,
    /// One JSON document.
    Json,
    /// Newline-delimited JSON (`_bulk`, `_msearch`, …).
    NdJson,
}

/// Whether an endpoint's request may be resent after a failure that may have reached the
/// server (generated from `xtask/src/codegen/resend.rs`; RELIABILITY.md has the rule).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Resend {
    /// Resending cannot change the outcome: reads, create-or-replace writes.
    Safe,
    /// `index`, `delete`: safe with an `id` and no condition (`op_type=create`,
    /// `if_seq_no`, `if_primary_term`, `version`), which a resend would turn into a conflict.
    ById,
    /// `update`: as `ById`, and only when the body has no `script` and no `upsert`.
    UpdateById,
    /// Resent only when the failure proves it never arrived.
    Unsafe,
}

/// Query parameters that make a write conditional: a resend after it succeeded answers 409.
const CONDITIONS: &[&str] = &["if_seq_no", "if_primary_term", "version", "version_type"];

/// Whether an update body (`_update` / a bulk `update` action's second line) may be sent
/// again after a lost answer without changing the outcome: it has no `script` (which runs again
/// on every delivery) and no `upsert` (a resend merges the partial `doc` into the upsert the
/// first delivery stored); `doc_as_upsert` is fine (the same `doc` both times). An unreadable
/// body is not (the server will refuse it, but nothing is resent on a guess). The rule of
/// RELIABILITY.md's "Resending" table, shared by es-api and es-helpers' bulk chunks.
///
/// # Example
/// ```
/// use es_api::update_body_may_be_resent as ok;
/// assert!(ok(br#"{"doc":{"n":1},"doc_as_upsert":true}"#));
/// assert!(!ok(br#"{"script":"ctx._source.n++"}"#));
/// assert!(!ok(br#"{"doc":{"n":1},"upsert":{"n":0}}"#));
/// ```
pub fn update_body_may_be_resent(body: &[u8]) -> bool {
    #[derive(serde::Deserialize)]
    struct Probe {
        #[serde(default)]
        script: Option<serde::de::IgnoredAny>,
        #[serde(default)]
        upsert: Option<serde::de::IgnoredAny>,
    }
    serde_json::from_slice::<Probe>(body).is_ok_and(|p| p.script.is_none() && p.upsert.is_none())
}

/// One URL variant of an endpoint.
#[derive(Debug)]
pub(crate) struct PathSpec {
    /// `/{index}/_doc/{id}`.
    pub(crate) template: &'static str,
    /// The parts in `template`.
    pub(crate) parts: &'static [&'static str],
    /// Allowed methods, in the spec's order.
    pub(crate) methods: &'static [Method],
}

impl PathSpec {
    pub(crate) const fn new(
        template: &'static str,
        parts: &'static [&'static str],
        methods: &'static [Method],
    ) -> Self {
        PathSpec {
            template,
            parts,
            methods,
        }
    }
}

/// An endpoint as the spec describes it; one generated `static` per endpoint.
#[derive(Debug)]
pub(crate) struct EndpointSpec {
    /// `indices.create`.
    pub(crate) name: &'static str,
    /// Variants in selection order: non-deprecated first, most parts first.
    pub(crate) paths: &'static [PathSpec],
    pub(crate) body: BodyKind,
    /// The spec marks the body `required`: `send` fails without one.
    pub(crate) body_required: bool,
    /// Query parameters the spec marks `required` (arguments of the typed endpoint method;
    /// `Client::call` checks them at `send`).
    pub(crate) required_params: &'static [&'static str],
    /// May it be resent after an unknown outcome.
    pub(crate) resend: Resend,
}

impl EndpointSpec {
    /// True if every variant is `HEAD` (the `exists`-style endpoints).
    pub(crate) fn is_head_only(&self) -> bool {
        !self.paths.is_empty()
            && self
                .paths
                .iter()
                .all(|p| p.methods.iter().all(|m| *m == Method::HEAD))
    }

    /// The variant a request with the path parts `set` goes to, as the official clients
    /// choose: among the variants whose parts are all set, the one using the most of them
    /// (on a tie the earlier: live before deprecated, then spec order).
    ///
    /// It must use every part set. A part it would drop (`cluster.state` with an `index` but
    /// no `metric` would send `/_cluster/state`, the whole state) is an error naming the part
    /// and the variants that take it; so is a set of parts no variant fits.
    pub(crate) fn select_path(&self, set: &[&str]) -> Result<&'static PathSpec, String> {
        let paths: &'static [PathSpec] = self.paths;
        let mut best: Option<&'static PathSpec> = None;
        for p in paths {
            let fits = p.parts.iter().all(|part| set.contains(part));
            if fits && best.is_none_or(|b| p.parts.len() > b.parts.len()) {
                best = Some(p);
            }
        }
        let unused: Vec<&str> = set
            .iter()
            .copied()
            .filter(|s| !best.is_some_and(|b| b.parts.contains(s)))
            .collect();
        match best {
            Some(best) if unused.is_empty() => Ok(best),
            Some(best) => {
                let takers: Vec<String> = unused
                    .iter()
                    .map(|part| {
                        let variants: Vec<String> = paths
                            .iter()
                            .filter(|p| p.parts.contains(part))
                            .map(|p| describe_variant(p, set))
                            .collect();
                        if variants.is_empty() {
                            format!("`{part}` is taken by no URL")
                        } else {
                            format!("`{part}` is only taken by {}", variants.join(", "))
                        }
                    })
                    .collect();
                Err(format!(
                    "{}: no URL takes every path part set ({}): {}; not sent, as {} would drop {}",
                    self.name,
                    ticked(set),
                    takers.join("; "),
                    best.template,
                    ticked(&unused)
                ))
            }
            None => {
                let variants: Vec<String> =
                    paths.iter().map(|p| describe_variant(p, set)).collect();
                Err(format!(
                    "{}: no URL fits the path parts set ({}); the URLs: {}",
                    self.name,
                    if set.is_empty() {
                        "none".to_owned()
                    } else {
                        ticked(set)
                    },
                    variants.join(", ")
                ))
            }
        }
    }
}

/// `` `a`, `b` ``.
fn ticked(names: &[&str]) -> String {
    names
        .iter()
        .map(|n| format!("`{n}`"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// A variant's template and how the parts `set` differ from its own:
/// `/_cluster/state/{metric}/{index} (needs `metric` too)`.
fn describe_variant(p: &PathSpec, set: &[&str]) -> String {
    let missing: Vec<&str> = p
        .parts
        .iter()
        .copied()
        .filter(|part| !set.contains(part))
        .collect();
    let extra: Vec<&str> = set
        .iter()
        .copied()
        .filter(|part| !p.parts.contains(part))
        .collect();
    let mut notes = Vec::new();
    if !missing.is_empty() {
        notes.push(format!("needs {} too", ticked(&missing)));
    }
    if !extra.is_empty() {
        notes.push(format!("without {}", ticked(&extra)));
    }
    if notes.is_empty() {
        p.template.to_owned()
    } else {
        format!("{} ({})", p.template, notes.join(", "))
    }
}

/// The method for a variant: with a body, the first of `POST`/`PUT` it allows; without, `GET`
/// if allowed; otherwise the first listed.
pub(crate) fn choose_method(methods: &[Method], has_body: bool) -> Method {
    let preferred = if has_body {
        methods
            .iter()
            .find(|m| **m == Method::POST || **m == Method::PUT)
    } else {
        methods.iter().find(|m| **m == Method::GET)
    };
    preferred
        .or(methods.first())
        .cloned()
        .unwrap_or(Method::GET)
}

/// Writes `template` with each `{part}` replaced by `value(part)` (already encoded).
pub(crate) fn render_path<'a>(template: &str, value: impl Fn(&str) -> Option<&'a str>) -> String {
    let mut out = String::with_capacity(template.len() + 32);
    let mut rest = template;
    while let Some(start) = rest.find('{') {
        out.push_str(&rest[..start]);
        let end = rest[start..].find('}').map_or(rest.len(), |e| start + e);
        out.push_str(value(&rest[start + 1..end]).unwrap_or_default());
        rest = rest.get(end + 1..).unwrap_or_default();
    }
    out.push_str(rest);
    out
}

/// The body of a request being built.
#[derive(Debug, Clone)]
enum Body {
    Ready(Bytes),
    /// Serialization failed when the body was set; reported by `send`.
    Failed(String),
}

/// The state every generated builder wraps.
#[derive(Debug, Clone)]
pub(crate) struct Builder {
    client: Client,
    spec: &'static EndpointSpec,
    /// Path parts, percent-encoded.
    parts: Vec<(&'static str, String)>,
    /// Query pairs, value percent-encoded; a second set of the same name replaces the first.
    query: Vec<(Cow<'static, str>, String)>,
    body: Option<Body>,
    options: RequestOptions,
    /// The first invalid argument (an empty path part), reported by `send`.
    invalid: Option<String>,
}

impl Builder {
    pub(crate) fn new(client: &Client, spec: &'static EndpointSpec) -> Self {
        Builder {
            client: client.clone(),
            spec,
            parts: Vec::new(),
            query: Vec::new(),
            body: None,
            options: client.default_options().clone(),
            invalid: None,
        }
    }

    /// Sets a path part. An empty value is an error at `send` (it would change the URL's
    /// meaning: `DELETE /{index}` with an empty index is `DELETE /`).
    pub(crate) fn part(&mut self, name: &'static str, value: impl ToParam) {
        let value = value.to_param();
        if value.is_empty() && self.invalid.is_none() {
            self.invalid = Some(format!(
                "{}: empty value for path part `{name}`",
                self.spec.name
            ));
        }
        let encoded = encode(&value);
        match self.parts.iter_mut().find(|(n, _)| *n == name) {
            Some(slot) => slot.1 = encoded,
            None => self.parts.push((name, encoded)),
        }
    }

    /// Marks the request invalid: `send` reports `message` as `ErrorKind::Config`.
    pub(crate) fn invalidate(&mut self, message: String) {
        self.invalid.get_or_insert(message);
    }

    /// Sets a query parameter.
    pub(crate) fn query(&mut self, name: impl Into<Cow<'static, str>>, value: impl ToParam) {
        let name = name.into();
        let encoded = encode(&value.to_param());
        match self.query.iter_mut().find(|(n, _)| *n == name) {
            Some(slot) => slot.1 = encoded,
            None => self.query.push((name, encoded)),
        }
    }

    /// Applies `f` to the options.
    pub(crate) fn map_options(&mut self, f: impl FnOnce(RequestOptions) -> RequestOptions) {
        self.options = f(std::mem::take(&mut self.options));
    }

    /// Serializes a JSON body now, with the client's serializer.
    pub(crate) fn json_body(&mut self, body: &dyn erased_serde::Serialize) {
        let mut out = Vec::with_capacity(256);
        self.body = Some(
            match self
                .client
                .transport()
                .serializer()
                .serialize(body, &mut out)
            {
                Ok(()) => Body::Ready(out.into()),
                Err(e) => Body::Failed(e.to_string()),
            },
        );
    }

    /// Starts an NDJSON body; lines are serialized straight into its buffer.
    pub(crate) fn ndjson(&self) -> NdJsonWriter<'_> {
        NdJsonWriter {
            builder: self,
            out: Vec::with_capacity(1024),
            error: None,
        }
    }

    /// Sets the body from a finished [`NdJsonWriter`].
    pub(crate) fn set_ndjson(&mut self, out: Vec<u8>, error: Option<String>) {
        self.body = Some(match error {
            None => Body::Ready(out.into()),
            Some(e) => Body::Failed(e),
        });
    }

    /// Sets the body bytes as they are.
    pub(crate) fn raw_body(&mut self, body: Bytes) {
        self.body = Some(Body::Ready(body));
    }

    /// The endpoint.
    pub(crate) fn spec(&self) -> &'static EndpointSpec {
        self.spec
    }

    /// The transport request.
    pub(crate) fn into_request(self) -> Result<es_transport::Request> {
        Ok(self.into_parts()?.1)
    }

    fn into_parts(self) -> Result<(Client, es_transport::Request)> {
        if let Some(invalid) = self.invalid {
            return Err(Error::custom(ErrorKind::Config, invalid));
        }
        if self.body.is_none() && self.spec.body_required {
            return Err(Error::custom(
                ErrorKind::Config,
                format!(
                    "{}: the body is required: set it with `.body(..)` or `.raw_body(..)`",
                    self.spec.name
                ),
            ));
        }
        let missing: Vec<&str> = self
            .spec
            .required_params
            .iter()
            .copied()
            .filter(|p| !self.query.iter().any(|(n, _)| n == p))
            .collect();
        if !missing.is_empty() {
            return Err(Error::custom(
                ErrorKind::Config,
                format!(
                    "{}: the query parameter{} {} {} required",
                    self.spec.name,
                    if missing.len() == 1 { "" } else { "s" },
                    ticked(&missing),
                    if missing.len() == 1 { "is" } else { "are" }
                ),
            ));
        }
        let body = match self.body {
            None => None,
            Some(Body::Ready(bytes)) => Some(bytes),
            Some(Body::Failed(e)) => {
                return Err(Error::custom(
                    ErrorKind::Serialization,
                    format!("{}: cannot serialize the body: {e}", self.spec.name),
                ));
            }
        };
        let lookup = |name: &str| {
            self.parts
                .iter()
                .find(|(n, _)| *n == name)
                .map(|(_, v)| v.as_str())
        };
        let set: Vec<&str> = self.parts.iter().map(|(n, _)| *n).collect();
        let path = self
            .spec
            .select_path(&set)
            .map_err(|message| Error::custom(ErrorKind::Config, message))?;
        let mut url = render_path(path.template, lookup);
        append_query(
            &mut url,
            self.query.iter().map(|(k, v)| (k.as_ref(), v.as_str())),
        );
        let idempotent = match self.spec.resend {
            Resend::Safe => true,
            Resend::Unsafe => false,
            Resend::ById | Resend::UpdateById => {
                let conditional = self.query.iter().any(|(k, v)| {
                    CONDITIONS.contains(&k.as_ref()) || (k == "op_type" && v == "create")
                });
                path.parts.contains(&"id")
                    && !conditional
                    && (self.spec.resend == Resend::ById
                        || body.as_deref().is_some_and(update_body_may_be_resent))
            }
        };
        let method = choose_method(path.methods, body.is_some());
        let mut request = es_transport::Request::new(method, url)
            .with_endpoint(self.spec.name)
            .with_idempotent(idempotent)
            .with_options(self.options);
        if let Some(body) = body {
            request = match self.spec.body {
                BodyKind::NdJson => request.with_ndjson_body(body),
                BodyKind::Json | BodyKind::None => request.with_json_body(body),
            };
        }
        Ok((self.client, request))
    }

    /// Sends the request.
    pub(crate) fn send(self) -> SendFuture<Response> {
        match self.into_parts() {
            Ok((client, request)) => {
                Box::pin(async move { client.transport().send(request).await.map(Response::new) })
            }
            Err(e) => Box::pin(std::future::ready(Err(e))),
        }
    }

    /// Sends a `HEAD`-style request: `Ok(true)` for 2xx, `Ok(false)` for 404.
    pub(crate) fn send_exists(mut self) -> SendFuture<bool> {
        self.map_options(|o| o.ignore_status([404]));
        let future = self.send();
        Box::pin(async move { Ok(future.await?.status().is_success()) })
    }
}

/// Appends `?k=v&…` (values already encoded) to `url`.
pub(crate) fn append_query<'a>(url: &mut String, pairs: impl Iterator<Item = (&'a str, &'a str)>) {
    for (i, (k, v)) in pairs.enumerate() {
        url.push(if i == 0 { '?' } else { '&' });
        encode_into(url, k);
        url.push('=');
        url.push_str(v);
    }
}

/// Writes NDJSON lines into one buffer with the client's serializer.
#[derive(Debug)]
pub(crate) struct NdJsonWriter<'a> {
    builder: &'a Builder,
    out: Vec<u8>,
    error: Option<String>,
}

impl NdJsonWriter<'_> {
    /// Appends one line (a serialized value and `\n`).
    pub(crate) fn line(&mut self, value: &dyn erased_serde::Serialize) {
        if self.error.is_some() {
            return;
        }
        let serializer = self.builder.client.transport().serializer();
        match serializer.serialize(value, &mut self.out) {
            Ok(()) => self.out.push(b'\n'),
            Err(e) => self.error = Some(e.to_string()),
        }
    }

    /// The buffer and the first error.
    pub(crate) fn finish(self) -> (Vec<u8>, Option<String>) {
        (self.out, self.error)
    }
}

/// Methods every builder has: request options and the common query parameters.
macro_rules! impl_common {
    ($t:ident) => {
        impl $t {
            /// Per-request options (timeout, headers, retries, ignored statuses, auth), merged
            /// over the client's: fields set here win, headers and ignored statuses add up.
            pub fn options(mut self, options: $crate::RequestOptions) -> Self {
                self.inner.map_options(|o| o.merge(&options));
                self
            }

            /// The HTTP timeout of this request (each attempt), instead of the transport's.
            /// Not the server-side `timeout` parameter.
            pub fn request_timeout(mut self, timeout: ::std::time::Duration) -> Self {
                self.inner.map_options(|o| o.timeout(timeout));
                self
            }

            /// Adds an HTTP header to this request.
            pub fn header(mut self, name: impl AsRef<str>, value: impl AsRef<str>) -> Self {
                self.inner.map_options(|o| o.header(name, value));
                self
            }

            /// Sets `X-Opaque-Id`, which the server shows in tasks and slow logs.
            pub fn opaque_id(mut self, id: impl AsRef<str>) -> Self {
                self.inner.map_options(|o| o.opaque_id(id));
                self
            }

            /// How many times this request may be retried.
            pub fn max_retries(mut self, retries: u32) -> Self {
                self.inner.map_options(|o| o.max_retries(retries));
                self
            }

            /// Statuses answered as a [`Response`]($crate::Response) instead of an error
            /// (`ignore_status([404])`).
            pub fn ignore_status(mut self, statuses: impl IntoIterator<Item = u16>) -> Self {
                self.inner.map_options(|o| o.ignore_status(statuses));
                self
            }

            /// Only return these response fields (`filter_path`), e.g. `["hits.hits._id"]`.
            pub fn filter_path(mut self, value: impl Into<$crate::params::List>) -> Self {
                self.inner.query("filter_path", value.into());
                self
            }

            /// Return human-readable values (`human`).
            pub fn human(mut self, value: bool) -> Self {
                self.inner.query("human", value);
                self
            }

            /// Pretty-print the response (`pretty`).
            pub fn pretty(mut self, value: bool) -> Self {
                self.inner.query("pretty", value);
                self
            }

            /// Include the stack trace in error responses (`error_trace`).
            pub fn error_trace(mut self, value: bool) -> Self {
                self.inner.query("error_trace", value);
                self
            }

            /// The transport request this builder sends, for inspection or for sending it
            /// another way.
            ///
            /// # Errors
            /// An empty path part, path parts no URL takes together, a missing required body,
            /// a body that failed to serialize.
            pub fn into_request(self) -> $crate::Result<$crate::es_transport::Request> {
                self.inner.into_request()
            }
        }
    };
}
pub(crate) use impl_common;

/// `send()` answering a [`Response`](crate::Response), and `IntoFuture`.
macro_rules! impl_send {
    ($t:ident) => {
        impl $t {
            /// Sends the request.
            ///
            /// # Errors
            /// A status >= 400 that is not ignored is an error of kind `Api` with the
            /// server's error; connection failures, timeouts etc. as the transport reports.
            pub fn send(self) -> $crate::SendFuture<$crate::Response> {
                self.inner.send()
            }

            /// Sends the request and waits for the answer (feature `blocking`); see
            /// [`blocking`]($crate::blocking) for the runtime it runs on.
            ///
            /// # Errors
            /// As [`send`](Self::send).
            ///
            /// On a thread of a tokio runtime (`spawn_blocking`, `block_in_place`) it
            /// works too; inside an async task use `send().await` (see
            /// [`blocking`]($crate::blocking)).
            #[cfg(feature = "blocking")]
            pub fn send_blocking(self) -> $crate::Result<$crate::Response> {
                $crate::blocking::block_on(self.send())
            }
        }

        impl ::std::future::IntoFuture for $t {
            type Output = $crate::Result<$crate::Response>;
            type IntoFuture = $crate::SendFuture<$crate::Response>;

            fn into_future(self) -> Self::IntoFuture {
                self.send()
            }
        }
    };
}
pub(crate) use impl_send;

/// `send()` answering `bool` for `HEAD` endpoints, and `IntoFuture`.
macro_rules! impl_send_exists {
    ($t:ident) => {
        impl $t {
            /// Sends the request: `Ok(true)` for a 2xx status, `Ok(false)` for 404.
            ///
            /// # Errors
            /// Other statuses >= 400 and transport failures.
            pub fn send(self) -> $crate::SendFuture<bool> {
                self.inner.send_exists()
            }

            /// Sends the request and waits for the answer (feature `blocking`): `Ok(true)`
            /// for a 2xx status, `Ok(false)` for 404.
            ///
            /// # Errors
            /// As [`send`](Self::send).
            ///
            /// On a thread of a tokio runtime (`spawn_blocking`, `block_in_place`) it
            /// works too; inside an async task use `send().await` (see
            /// [`blocking`]($crate::blocking)).
            #[cfg(feature = "blocking")]
            pub fn send_blocking(self) -> $crate::Result<bool> {
                $crate::blocking::block_on(self.send())
            }
        }

        impl ::std::future::IntoFuture for $t {
            type Output = $crate::Result<bool>;
            type IntoFuture = $crate::SendFuture<bool>;

            fn into_future(self) -> Self::IntoFuture {
                self.send()
            }
        }
    };
}
pub(crate) use impl_send_exists;

/// `body()` and `raw_body()` for JSON endpoints.
macro_rules! impl_json_body {
    ($t:ident) => {
        impl $t {
            /// Sets the JSON body, serialized now with the client's serializer (a failure is
            /// reported by `send`).
            pub fn body(mut self, body: impl ::serde::Serialize) -> Self {
                self.inner.json_body(&body);
                self
            }

            /// Sets the body bytes as they are (already serialized JSON).
            pub fn raw_body(mut self, body: impl Into<$crate::es_transport::Bytes>) -> Self {
                self.inner.raw_body(body.into());
                self
            }
        }
    };
}
pub(crate) use impl_json_body;

/// `body()` (lines) and `raw_body()` for NDJSON endpoints.
macro_rules! impl_ndjson_body {
    ($t:ident) => {
        impl $t {
            /// Sets the NDJSON body: each item is serialized as one line, straight into the
            /// request buffer (a failure is reported by `send`).
            pub fn body<I>(mut self, lines: I) -> Self
            where
                I: IntoIterator,
                I::Item: ::serde::Serialize,
            {
                let mut writer = self.inner.ndjson();
                for line in lines {
                    writer.line(&line);
                }
                let (out, error) = writer.finish();
                self.inner.set_ndjson(out, error);
                self
            }

            /// Sets the body bytes as they are (already newline-delimited JSON, ending in `\n`).
            pub fn raw_body(mut self, body: impl Into<$crate::es_transport::Bytes>) -> Self {
                self.inner.raw_body(body.into());
                self
            }
        }
    };
}
pub(crate) use impl_ndjson_body;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn method_choice() {
        assert_eq!(
            choose_method(&[Method::GET, Method::POST], false),
            Method::GET
        );
        assert_eq!(
            choose_method(&[Method::GET, Method::POST], true),
            Method::POST
        );
        assert_eq!(
            choose_method(&[Method::PUT, Method::POST], true),
            Method::PUT
        );
        assert_eq!(
            choose_method(&[Method::POST, Method::PUT], false),
            Method::POST
        );
        assert_eq!(choose_method(&[Method::DELETE], false), Method::DELETE);
        assert_eq!(choose_method(&[Method::HEAD], false), Method::HEAD);
    }

    /// `cluster.state`'s variants, in selection order.
    static CLUSTER_STATE: EndpointSpec = EndpointSpec {
        name: "cluster.state",
        paths: &[
            PathSpec::new(
                "/_cluster/state/{metric}/{index}",
                &["metric", "index"],
                &[Method::GET],
            ),
            PathSpec::new("/_cluster/state/{metric}", &["metric"], &[Method::GET]),
            PathSpec::new("/_cluster/state", &[], &[Method::GET]),
        ],
        body: BodyKind::None,
        body_required: false,
        required_params: &[],
        resend: Resend::Unsafe,
    };

    /// A live variant and a deprecated one taking one more part (`scroll`).
    static SCROLL: EndpointSpec = EndpointSpec {
        name: "scroll",
        paths: &[
            PathSpec::new("/_search/scroll", &[], &[Method::GET]),
            PathSpec::new(
                "/_search/scroll/{scroll_id}",
                &["scroll_id"],
                &[Method::GET],
            ),
        ],
        body: BodyKind::None,
        body_required: false,
        required_params: &[],
        resend: Resend::Unsafe,
    };

    fn chosen(
        spec: &'static EndpointSpec,
        set: &[&str],
    ) -> std::result::Result<&'static str, String> {
        spec.select_path(set).map(|p| p.template)
    }

    #[test]
    fn path_choice_uses_every_part_set() {
        assert_eq!(chosen(&CLUSTER_STATE, &[]), Ok("/_cluster/state"));
        assert_eq!(
            chosen(&CLUSTER_STATE, &["metric"]),
            Ok("/_cluster/state/{metric}")
        );
        assert_eq!(
            chosen(&CLUSTER_STATE, &["metric", "index"]),
            Ok("/_cluster/state/{metric}/{index}")
        );
        // `index` alone fits no variant: an error naming it and the variant that takes it,
        // not `/_cluster/state` (the whole cluster state) with `index` dropped.
        let err = chosen(&CLUSTER_STATE, &["index"]).unwrap_err();
        assert!(err.starts_with("cluster.state: "), "{err}");
        assert!(err.contains("`index`"), "{err}");
        assert!(err.contains("/_cluster/state/{metric}/{index}"), "{err}");
        assert!(err.contains("`metric`"), "says what else to set: {err}");
        assert!(!err.contains("/_cluster/state/{metric},"), "{err}");
    }

    #[test]
    fn path_choice_takes_the_variant_using_the_most_parts_set() {
        // The deprecated variant is the only one that uses `scroll_id` (reachable through
        // `Client::call`): it wins over dropping the part.
        assert_eq!(chosen(&SCROLL, &[]), Ok("/_search/scroll"));
        assert_eq!(
            chosen(&SCROLL, &["scroll_id"]),
            Ok("/_search/scroll/{scroll_id}")
        );
    }

    #[test]
    fn path_choice_without_a_fitting_variant() {
        static CREATE: EndpointSpec = EndpointSpec {
            name: "indices.create",
            paths: &[PathSpec::new("/{index}", &["index"], &[Method::PUT])],
            body: BodyKind::Json,
            body_required: false,
            required_params: &[],
            resend: Resend::Unsafe,
        };
        let err = chosen(&CREATE, &[]).unwrap_err();
        assert!(err.contains("/{index}") && err.contains("`index`"), "{err}");
    }

    #[test]
    fn path_rendering() {
        let parts = [("index", "a%20b"), ("id", "1")];
        let get = |n: &str| parts.iter().find(|(k, _)| *k == n).map(|(_, v)| *v);
        assert_eq!(render_path("/{index}/_doc/{id}", get), "/a%20b/_doc/1");
        assert_eq!(render_path("/_search", get), "/_search");
        let mut url = "/x".to_owned();
        append_query(&mut url, [("a", "1"), ("b", "x%2By")].into_iter());
        assert_eq!(url, "/x?a=1&b=x%2By");
    }
}
