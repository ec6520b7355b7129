//! The one error type of the transport: what failed, on which node, after how many attempts.

use std::fmt;

use bytes::Bytes;
use http::StatusCode;

/// A `Result` whose error is the transport's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// What kind of failure an [`Error`] is.
///
/// Each variant says whether the request may have reached the server.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ErrorKind {
    /// The connection could not be made, or broke (refused, reset, DNS, closed early).
    /// The request may have reached the server if the connection broke mid-way.
    Connect,
    /// The request or the connect attempt took longer than its timeout.
    /// The request may have reached the server.
    Timeout,
    /// TLS failed: handshake, certificate verification or fingerprint mismatch.
    /// The request did not reach the server.
    Tls,
    /// The server answered with an error status (>= 400). The request reached the server.
    Api,
    /// A body could not be serialized or deserialized. Before sending, the request never
    /// left; after, the response arrived but could not be read.
    Serialization,
    /// No node could be chosen (the pool is empty). The request did not leave.
    NoNodeAvailable,
    /// The configuration or the request itself is invalid (a bad URL, a bad header value).
    /// The request did not leave.
    Config,
    /// The server did not identify itself as Elasticsearch (the product check).
    /// The request reached the server.
    UnsupportedProduct,
    /// The response could not be understood (malformed HTTP, bad gzip data).
    /// The request reached the server.
    InvalidResponse,
    /// No connection to the chosen node became free within the pool-wait timeout
    /// ([`crate::TransportBuilder::pool_wait_timeout`]): every permitted connection was busy.
    /// The request did not leave; the node is not blamed (it is busy, not down) and the
    /// request is not retried.
    PoolTimeout,
    /// The response body was larger than [`crate::TransportBuilder::max_response_size`]
    /// (as sent, or once inflated). The request reached the server; it is not retried
    /// (another node would send the same answer) and the node is not blamed.
    ResponseTooLarge,
}

impl ErrorKind {
    /// The kind's name (`"Connect"`, `"Timeout"`, ...), OpenTelemetry's `error.type` of an
    /// error without an answer: a `&'static str`, so that spans and metrics events can take
    /// it without allocating.
    pub(crate) fn otel_error_type(self) -> &'static str {
        match self {
            ErrorKind::Connect => "Connect",
            ErrorKind::Timeout => "Timeout",
            ErrorKind::Tls => "Tls",
            ErrorKind::Api => "Api",
            ErrorKind::Serialization => "Serialization",
            ErrorKind::NoNodeAvailable => "NoNodeAvailable",
            ErrorKind::Config => "Config",
            ErrorKind::UnsupportedProduct => "UnsupportedProduct",
            ErrorKind::InvalidResponse => "InvalidResponse",
            ErrorKind::PoolTimeout => "PoolTimeout",
            ErrorKind::ResponseTooLarge => "ResponseTooLarge",
        }
    }
}

/// An error from the Elasticsearch API: the status and the parsed `error` object.
///
/// The whole response body is kept in [`ApiError::body`].
#[derive(Clone)]
pub struct ApiError {
    pub(crate) status: StatusCode,
    pub(crate) error_type: Option<String>,
    pub(crate) reason: Option<String>,
    pub(crate) body: Bytes,
    pub(crate) headers: http::HeaderMap,
}

impl ApiError {
    pub(crate) fn from_response(status: StatusCode, headers: http::HeaderMap, body: Bytes) -> Self {
        let (error_type, reason) = parse_error_body(&body);
        ApiError {
            status,
            error_type,
            reason,
            body,
            headers,
        }
    }

    /// The HTTP status the server answered with.
    pub fn status(&self) -> StatusCode {
        self.status
    }

    /// `error.type` from the body (for example `index_not_found_exception`), when present.
    pub fn error_type(&self) -> Option<&str> {
        self.error_type.as_deref()
    }

    /// `error.reason` from the body, when present; for a plain-string `error`, that string.
    pub fn reason(&self) -> Option<&str> {
        self.reason.as_deref()
    }

    /// The whole response body, as the server sent it (after decompression).
    pub fn body(&self) -> &Bytes {
        &self.body
    }

    /// The response headers.
    pub fn headers(&self) -> &http::HeaderMap {
        &self.headers
    }

    /// The body parsed as JSON, when it is JSON.
    pub fn body_json(&self) -> Option<serde_json::Value> {
        serde_json::from_slice(&self.body).ok()
    }
}

impl fmt::Debug for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ApiError")
            .field("status", &self.status.as_u16())
            .field("error_type", &self.error_type)
            .field("reason", &self.reason)
            .field("body_len", &self.body.len())
            .finish()
    }
}

impl fmt::Display for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "status {}", self.status.as_u16())?;
        if let Some(t) = &self.error_type {
            write!(f, ", {t}")?;
        }
        if let Some(r) = &self.reason {
            write!(f, ": {r}")?;
        } else if self.error_type.is_none() && !self.body.is_empty() {
            // Redacted before it is cut, so a secret is not half-shown at the cut.
            let text = crate::redact::redact_bytes(&self.body[..self.body.len().min(64 * 1024)]);
            let mut end = text.len().min(200);
            while !text.is_char_boundary(end) {
                end -= 1;
            }
            write!(f, ": {}", &text[..end])?;
        }
        Ok(())
    }
}

fn parse_error_body(body: &[u8]) -> (Option<String>, Option<String>) {
    #[derive(serde::Deserialize)]
    struct Body {
        error: Option<serde_json::Value>,
    }
    let Ok(parsed) = serde_json::from_slice::<Body>(body) else {
        return (None, None);
    };
    match parsed.error {
        Some(serde_json::Value::Object(map)) => {
            let s = |k: &str| map.get(k).and_then(|v| v.as_str()).map(str::to_owned);
            (s("type"), s("reason"))
        }
        Some(serde_json::Value::String(s)) => (None, Some(s)),
        _ => (None, None),
    }
}

pub(crate) type BoxError = Box<dyn std::error::Error + Send + Sync + 'static>;

/// The error of every transport operation.
///
/// It is opaque: ask it with [`Error::kind`], [`Error::is_timeout`], [`Error::is_connect`],
/// [`Error::status`], [`Error::api_error`]. It names the node it happened on and how many
/// attempts were made, where known. It never contains credentials.
#[derive(thiserror::Error)]
#[error(transparent)]
pub struct Error {
    inner: Box<Inner>,
}

/// The error's data; `Display` is the message `Error` shows, `source` the underlying cause.
#[derive(Debug, thiserror::Error)]
#[error("{}", Shown(self))]
struct Inner {
    kind: ErrorKind,
    message: String,
    #[source]
    source: Option<BoxError>,
    api: Option<ApiError>,
    node: Option<String>,
    attempts: u32,
    nodes_tried: Vec<String>,
    /// Whether the request reached the server, when the code that failed knows it.
    reached: Option<bool>,
    /// A reused keep-alive connection closed or reset without answering (see `stale_connection`).
    stale: bool,
}

impl Error {
    pub(crate) fn new(kind: ErrorKind, message: impl Into<String>) -> Self {
        Error {
            inner: Box::new(Inner {
                kind,
                message: message.into(),
                source: None,
                api: None,
                node: None,
                attempts: 0,
                nodes_tried: Vec::new(),
                reached: None,
                stale: false,
            }),
        }
    }

    pub(crate) fn with_source(mut self, source: impl Into<BoxError>) -> Self {
        self.inner.source = Some(source.into());
        self
    }

    pub(crate) fn api(api: ApiError) -> Self {
        let mut e = Error::new(ErrorKind::Api, "");
        e.inner.api = Some(api);
        e
    }

    pub(crate) fn connect(message: impl Into<String>) -> Self {
        Error::new(ErrorKind::Connect, message)
    }

    pub(crate) fn timeout(message: impl Into<String>) -> Self {
        Error::new(ErrorKind::Timeout, message)
    }

    pub(crate) fn config(message: impl Into<String>) -> Self {
        Error::new(ErrorKind::Config, message)
    }

    pub(crate) fn serialization(message: impl Into<String>) -> Self {
        Error::new(ErrorKind::Serialization, message)
    }

    /// Marks the error as one that happened before any byte of the request was written
    /// (connect refused, DNS, handshake, a connection closed before sending).
    pub(crate) fn unsent(mut self) -> Self {
        self.inner.reached = Some(false);
        self
    }

    /// Marks the error as one that happened after the request was (perhaps partly) written:
    /// the server may have received and processed it.
    pub(crate) fn sent(mut self) -> Self {
        self.inner.reached = Some(true);
        self
    }

    /// Marks the error as a reused keep-alive connection that closed before any response
    /// came back: most likely the server's idle timeout racing the request, so the node is
    /// not blamed (not marked dead, not counted as a failure). The request may have reached
    /// the server, so a resend is an attempt like any other.
    pub(crate) fn stale_connection(mut self) -> Self {
        self.inner.stale = true;
        self
    }

    /// See [`Error::stale_connection`].
    pub(crate) fn is_stale_connection(&self) -> bool {
        self.inner.stale
    }

    pub(crate) fn with_node(mut self, node: impl Into<String>) -> Self {
        self.inner.node = Some(node.into());
        self
    }

    pub(crate) fn set_attempts(&mut self, attempts: u32, nodes_tried: Vec<String>) {
        self.inner.attempts = attempts;
        self.inner.nodes_tried = nodes_tried;
    }

    /// Makes an error of the given kind from outside the crate: for custom layers,
    /// selectors and serializers.
    pub fn custom(kind: ErrorKind, message: impl Into<String>) -> Self {
        Error::new(kind, message)
    }

    /// What kind of failure this is.
    pub fn kind(&self) -> ErrorKind {
        self.inner.kind
    }

    /// True for a timeout (request or connect).
    pub fn is_timeout(&self) -> bool {
        self.inner.kind == ErrorKind::Timeout
    }

    /// True for a connection failure (refused, reset, DNS, closed early).
    pub fn is_connect(&self) -> bool {
        self.inner.kind == ErrorKind::Connect
    }

    /// True for a TLS failure.
    pub fn is_tls(&self) -> bool {
        self.inner.kind == ErrorKind::Tls
    }

    /// The HTTP status of an API error.
    pub fn status(&self) -> Option<StatusCode> {
        self.inner.api.as_ref().map(|a| a.status)
    }

    /// The API error (status, `error.type`, `error.reason`, body), for [`ErrorKind::Api`].
    pub fn api_error(&self) -> Option<&ApiError> {
        self.inner.api.as_ref()
    }

    /// The node (URL without credentials) the final attempt went to, where known.
    pub fn node(&self) -> Option<&str> {
        self.inner.node.as_deref()
    }

    /// How many attempts were made before giving up (0 when none was made).
    pub fn attempts(&self) -> u32 {
        self.inner.attempts
    }

    /// Every node tried, in order (one entry per attempt).
    pub fn nodes_tried(&self) -> &[String] {
        &self.inner.nodes_tried
    }

    /// Whether the request may have reached the server (and so may have been executed).
    ///
    /// `false` means the request certainly did not leave this process or was refused
    /// before a byte of it was written, so sending it again cannot duplicate it:
    /// connection refused, DNS failure, connect timeout, TLS handshake failure, a connection
    /// that closed before the request went out, [`ErrorKind::PoolTimeout`],
    /// [`ErrorKind::NoNodeAvailable`], [`ErrorKind::Config`], and serialization before sending.
    ///
    /// `true` means it may have been received: a connection that broke or closed after the
    /// request was written (with or without part of a response), a timeout while waiting for
    /// the response, any answer from the server ([`ErrorKind::Api`],
    /// [`ErrorKind::InvalidResponse`], [`ErrorKind::ResponseTooLarge`],
    /// [`ErrorKind::UnsupportedProduct`]). For a non-idempotent request (`POST /_bulk`, an
    /// index without an id) that is the case to reconcile before sending it again.
    ///
    /// # Example
    /// ```
    /// # use es_transport::{Error, ErrorKind};
    /// let e = Error::custom(ErrorKind::PoolTimeout, "all connections busy");
    /// assert!(!e.may_have_reached_server());
    /// ```
    pub fn may_have_reached_server(&self) -> bool {
        if let Some(r) = self.inner.reached {
            return r;
        }
        match self.inner.kind {
            ErrorKind::Tls
            | ErrorKind::NoNodeAvailable
            | ErrorKind::Config
            | ErrorKind::PoolTimeout => false,
            // Before sending there is no node; after, the response came but was unreadable.
            ErrorKind::Serialization => self.inner.node.is_some(),
            _ => true,
        }
    }

    /// Whether the request's outcome is unknown: it may have reached the server
    /// ([`may_have_reached_server`](Self::may_have_reached_server)) and no answer says it was
    /// refused. A 4xx answer (400, 404, 409, 429, ...) is the server refusing the request, a
    /// known outcome; a connection cut after writing, a timeout, a 5xx (a gateway may answer
    /// one after its backend did the work) or an unreadable answer is not. The one rule the
    /// helpers use to report "unknown" rather than success or failure.
    ///
    /// # Example
    /// ```
    /// # use es_transport::{Error, ErrorKind};
    /// assert!(Error::custom(ErrorKind::Connect, "reset after writing").outcome_unknown());
    /// assert!(!Error::custom(ErrorKind::PoolTimeout, "no free connection").outcome_unknown());
    /// ```
    pub fn outcome_unknown(&self) -> bool {
        self.may_have_reached_server() && !self.status().is_some_and(|s| s.is_client_error())
    }
}

/// Renders an error: kind, API error, message, the chain of causes, node and attempts.
struct Shown<'a>(&'a Inner);

impl fmt::Display for Shown<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let inner = self.0;
        let kind = match inner.kind {
            ErrorKind::Connect => "connection error",
            ErrorKind::Timeout => "timeout",
            ErrorKind::Tls => "TLS error",
            ErrorKind::Api => "API error",
            ErrorKind::Serialization => "serialization error",
            ErrorKind::NoNodeAvailable => "no node available",
            ErrorKind::Config => "invalid configuration",
            ErrorKind::UnsupportedProduct => "unsupported product",
            ErrorKind::InvalidResponse => "invalid response",
            ErrorKind::PoolTimeout => "no free connection",
            ErrorKind::ResponseTooLarge => "response too large",
        };
        f.write_str(kind)?;
        if let Some(api) = &inner.api {
            write!(f, ": {api}")?;
        }
        if !inner.message.is_empty() {
            write!(f, ": {}", inner.message)?;
        }
        if let Some(src) = &inner.source {
            write!(f, ": {src}")?;
            let mut cur = src.source();
            while let Some(s) = cur {
                write!(f, ": {s}")?;
                cur = s.source();
            }
        }
        if let Some(node) = &inner.node {
            write!(f, " (node {node}")?;
            if inner.attempts > 1 {
                write!(
                    f,
                    ", after {} attempts on [{}]",
                    inner.attempts,
                    inner.nodes_tried.join(", ")
                )?;
            }
            f.write_str(")")?;
        }
        Ok(())
    }
}

impl fmt::Debug for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut d = f.debug_struct("Error");
        d.field("kind", &self.inner.kind);
        if !self.inner.message.is_empty() {
            d.field("message", &self.inner.message);
        }
        if let Some(api) = &self.inner.api {
            d.field("api", api);
        }
        if let Some(node) = &self.inner.node {
            d.field("node", node);
        }
        if self.inner.attempts > 0 {
            d.field("attempts", &self.inner.attempts);
        }
        if let Some(src) = &self.inner.source {
            d.field("source", &src.to_string());
        }
        d.finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn otel_error_type_is_the_variant_name() {
        // The names OpenTelemetry's `error.type` carried before they were static: the
        // variants' `Debug` names.
        for kind in [
            ErrorKind::Connect,
            ErrorKind::Timeout,
            ErrorKind::Tls,
            ErrorKind::Api,
            ErrorKind::Serialization,
            ErrorKind::NoNodeAvailable,
            ErrorKind::Config,
            ErrorKind::UnsupportedProduct,
            ErrorKind::InvalidResponse,
            ErrorKind::PoolTimeout,
            ErrorKind::ResponseTooLarge,
        ] {
            assert_eq!(kind.otel_error_type(), format!("{kind:?}"));
        }
    }

    #[test]
    fn parses_object_error_body() {
        let body = Bytes::from_static(br#"{"error":{"type":"index_not_found_exception","reason":"no such index [x]"},"status":404}"#);
        let api = ApiError::from_response(StatusCode::NOT_FOUND, Default::default(), body);
        assert_eq!(api.error_type(), Some("index_not_found_exception"));
        assert_eq!(api.reason(), Some("no such index [x]"));
        let e = Error::api(api).with_node("http://n1:9200");
        assert_eq!(e.status(), Some(StatusCode::NOT_FOUND));
        assert_eq!(
            e.to_string(),
            "API error: status 404, index_not_found_exception: no such index [x] (node http://n1:9200)"
        );
    }

    #[test]
    fn parses_string_error_and_garbage() {
        let api = ApiError::from_response(
            StatusCode::METHOD_NOT_ALLOWED,
            Default::default(),
            Bytes::from_static(br#"{"error":"bad method"}"#),
        );
        assert_eq!(api.reason(), Some("bad method"));
        let api = ApiError::from_response(
            StatusCode::BAD_GATEWAY,
            Default::default(),
            Bytes::from_static(b"<html>oops"),
        );
        assert_eq!(api.reason(), None);
        assert_eq!(api.to_string(), "status 502: <html>oops");
    }

    #[test]
    fn attempts_in_message() {
        let mut e = Error::connect("connection refused").with_node("http://b:9200");
        e.set_attempts(
            3,
            vec![
                "http://a:9200".into(),
                "http://c:9200".into(),
                "http://b:9200".into(),
            ],
        );
        let s = e.to_string();
        assert!(s.contains("after 3 attempts"), "{s}");
        assert!(e.is_connect());
    }
}
