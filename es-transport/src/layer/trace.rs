//! Trace layer: a span per request and the two log targets.
//!
//! - target `elasticsearch`: one line per request, `GET http://node:9200/path [status:200
//!   duration:0.004s attempts:1]`, INFO on success and WARN on failure.
//! - target `elasticsearch.trace` (DEBUG): the request as a runnable `curl` command against
//!   `localhost:9200` with a pretty-printed JSON body, then a `# node: ...` line naming the
//!   node that answered (or failed), and the response as `#` comment lines. The command names
//!   `localhost:9200` on purpose, whatever node was used, so that it can be shared and rerun
//!   against a local or tunnelled cluster (elasticsearch-py's trace does the same); replace it
//!   with the node of the comment line to rerun it where it ran.
//!   Built only when that target is enabled. Headers are not shown, so credentials never are;
//!   secret fields of bodies (`password`, `api_key`, `token`, ... see
//!   [`crate::redact::SECRET_KEYS`]) are replaced by `"[redacted]"`.
//!
//! The span `es.request` follows OpenTelemetry's semantic conventions for database clients
//! and HTTP: `db.system.name = "elasticsearch"`, `db.operation.name` (the endpoint),
//! `http.request.method`, `url.path`, `server.address` (host only) and `server.port` of the
//! node that answered, `http.response.status_code`, and `error.type` on failure. Each attempt
//! has its own `es.attempt` span under it (opened by the pool layer) with
//! `http.request.resend_count`, the node's `server.address` / `server.port`,
//! `elasticsearch.node.name` once a sniff has told the node's name, and its own
//! `http.response.status_code` and `error.type`.
//!
//! Metrics, as `tracing` events on target `elasticsearch.metrics` (TRACE) with the same
//! OpenTelemetry attributes: `operation` once per request, with
//! `db.client.operation.duration` (seconds, f64), and `attempt` once per attempt (emitted by
//! the pool layer, inside its `es.attempt` span), with `http.client.request.duration` and
//! `http.request.resend_count`.
//!
//! `error.type` is a string, absent on success:
//! - on `es.request` and the `operation` event: the status code (`"404"`) for an answer of 400
//!   or more, unless the request ignores that status
//!   ([`crate::RequestOptions::ignore_status`]: an ignored status is a success, without
//!   `error.type`); for a failure without an answer, the error kind (`"Connect"`,
//!   `"Timeout"`, ...).
//! - on `es.attempt` and the `attempt` event: the status code for every answer of 400 or
//!   more, ignored or not (ignoring is the operation's choice; the HTTP attempt still failed,
//!   as OpenTelemetry's HTTP conventions count it); `"StaleConnection"` for a pooled
//!   connection found closed before the request went out; else the error kind.
//!
//! None of these values is allocated: status codes are [`http::StatusCode::as_str`] and kinds
//! are static names, and the events' fields are only built when a subscriber wants them.

use std::sync::Arc;
use std::task::{Context, Poll};

use tower::{Layer, Service};
use tracing::{Instrument, Level};

use super::{AnsweredBy, Attempt, BoxFuture, Endpoint, HttpRequest, HttpResponse};
use crate::time::Clock;
use crate::{Error, ErrorKind};

/// Applies [`Trace`].
#[derive(Debug, Clone)]
pub struct TraceLayer {
    clock: Arc<dyn Clock>,
}

impl TraceLayer {
    pub(crate) fn new(clock: Arc<dyn Clock>) -> Self {
        TraceLayer { clock }
    }
}

impl<S> Layer<S> for TraceLayer {
    type Service = Trace<S>;
    fn layer(&self, inner: S) -> Trace<S> {
        Trace {
            inner,
            clock: self.clock.clone(),
        }
    }
}

/// Logs and traces requests.
#[derive(Debug, Clone)]
pub struct Trace<S> {
    inner: S,
    clock: Arc<dyn Clock>,
}

/// Pretty-prints a JSON (or NDJSON) body, secrets redacted; other bodies as lossy text.
fn pretty(body: &[u8]) -> String {
    if body.is_empty() {
        return String::new();
    }
    let redacted = crate::redact::redact_bytes(body);
    let body = redacted.as_bytes();
    if let Ok(v) = serde_json::from_slice::<serde_json::Value>(body) {
        return serde_json::to_string_pretty(&v).unwrap_or_default();
    }
    // NDJSON: each line on its own.
    let text = String::from_utf8_lossy(body);
    let lines: Option<Vec<String>> = text
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| {
            serde_json::from_str::<serde_json::Value>(l)
                .ok()
                .map(|v| v.to_string())
        })
        .collect();
    match lines {
        Some(ls) if !ls.is_empty() => ls.join("\n") + "\n",
        _ => text.into_owned(),
    }
}

/// The request as a curl command against `localhost:9200` (no headers but content type).
pub(crate) fn curl_command(req: &HttpRequest) -> String {
    let pq = req.uri().path_and_query().map_or("/", |p| p.as_str());
    let sep = if pq.contains('?') { '&' } else { '?' };
    let mut s = format!(
        "curl -X{} 'http://localhost:9200{pq}{sep}pretty'",
        req.method()
    );
    if !req.body().is_empty() {
        if let Some(ct) = req
            .headers()
            .get(http::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
        {
            s.push_str(&format!(" -H 'Content-Type: {ct}'"));
        }
        let body = pretty(req.body()).replace('\'', r"'\''");
        s.push_str(&format!(" -d '{body}'"));
    }
    s
}

/// The `# node: ...` comment line: which node the traced request went to (the curl command
/// itself names `localhost:9200`).
fn node_comment(node: &str) -> String {
    if node.is_empty() {
        "# node: (none)".to_owned()
    } else {
        format!("# node: {node}")
    }
}

/// The response as `#` comment lines.
pub(crate) fn curl_response(resp: &HttpResponse, secs: f64) -> String {
    let mut s = format!("# [{}] ({secs:.3}s)", resp.status().as_u16());
    for line in pretty(resp.body()).lines() {
        s.push_str("\n#");
        s.push_str(line);
    }
    s
}

/// `server.address` (host only, without IPv6 brackets) and `server.port` of a node id
/// (`scheme://host:port/prefix`); `None` for no node.
fn split_node(node: &str) -> Option<(&str, Option<u16>)> {
    if node.is_empty() {
        return None;
    }
    let rest = node.split_once("://").map_or(node, |(_, r)| r);
    let authority = rest.split('/').next().unwrap_or(rest);
    Some(
        match authority
            .rsplit_once(':')
            .and_then(|(h, p)| Some((h, p.parse::<u16>().ok()?)))
        {
            Some((host, port)) => (
                host.trim_start_matches('[').trim_end_matches(']'),
                Some(port),
            ),
            None => (authority, None),
        },
    )
}

/// Records `server.address` (host only) and `server.port` of a node id
/// (`scheme://host:port/prefix`).
fn record_node(span: &tracing::Span, node: &str) {
    if span.is_disabled() {
        return;
    }
    if let Some((host, port)) = split_node(node) {
        span.record("server.address", host);
        if let Some(port) = port {
            span.record("server.port", port);
        }
    }
}

/// The operation's metrics event (target `elasticsearch.metrics`, TRACE), with
/// OpenTelemetry's database-client attributes.
fn operation_event(
    operation: &str,
    method: &http::Method,
    node: &str,
    secs: f64,
    status: Option<u16>,
    error_type: Option<&str>,
) {
    if !tracing::enabled!(target: "elasticsearch.metrics", Level::TRACE) {
        return;
    }
    let (address, port) = split_node(node).map_or((None, None), |(h, p)| (Some(h), p));
    tracing::trace!(
        target: "elasticsearch.metrics",
        {
            db.client.operation.duration = secs,
            db.system.name = "elasticsearch",
            db.operation.name = operation,
            http.request.method = %method,
            server.address = address,
            server.port = port,
            http.response.status_code = status,
            error.type = error_type,
        },
        "operation"
    );
}

/// OpenTelemetry's `error.type` of a failure: the status code (`"404"`) when there was an
/// answer, else the error kind's name (`"Connect"`, ...). Borrowed, never allocated.
pub(crate) fn error_type(status: Option<&http::StatusCode>, kind: ErrorKind) -> &str {
    status.map_or(kind.otel_error_type(), http::StatusCode::as_str)
}

// ===== impl Trace =====

impl<S> Service<HttpRequest> for Trace<S>
where
    S: Service<HttpRequest, Response = HttpResponse, Error = Error>,
    S::Future: Send + 'static,
{
    type Response = HttpResponse;
    type Error = Error;
    type Future = BoxFuture<Result<HttpResponse, Error>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, req: HttpRequest) -> Self::Future {
        let endpoint = req
            .extensions()
            .get::<Endpoint>()
            .map_or("request", |e| e.0);
        let method = req.method().clone();
        let uri = req.uri().clone();
        let ignored: Vec<u16> = req
            .extensions()
            .get::<crate::RequestOptions>()
            .map(|o| o.ignore_status.clone())
            .unwrap_or_default();
        let span = tracing::info_span!(
            target: "elasticsearch",
            "es.request",
            otel.name = endpoint,
            // A CLIENT span (tracing-opentelemetry reads `otel.kind`), and `otel.status_code`
            // `ERROR` when the request failed, as reqwest-tracing does.
            otel.kind = "client",
            otel.status_code = tracing::field::Empty,
            db.system.name = "elasticsearch",
            db.operation.name = endpoint,
            http.request.method = %method,
            url.path = %uri.path(),
            server.address = tracing::field::Empty,
            server.port = tracing::field::Empty,
            http.response.status_code = tracing::field::Empty,
            error.type = tracing::field::Empty,
        );
        let curl = if tracing::enabled!(target: "elasticsearch.trace", Level::DEBUG) {
            Some(curl_command(&req))
        } else {
            None
        };
        let start = self.clock.now();
        let clock = self.clock.clone();
        let fut = self.inner.call(req);
        Box::pin(
            async move {
                let result = fut.await;
                let secs = clock.now().saturating_duration_since(start).as_secs_f64();
                let span = tracing::Span::current();
                match &result {
                    Ok(resp) => {
                        let node = resp.extensions().get::<AnsweredBy>().map_or("", |a| &*a.0);
                        let attempts = resp.extensions().get::<Attempt>().map_or(1, |a| a.0);
                        let code = resp.status();
                        let status = code.as_u16();
                        let failed = status >= 400 && !ignored.contains(&status);
                        // A string, as OpenTelemetry's `error.type` is.
                        let error_type = failed.then(|| code.as_str());
                        record_node(&span, node);
                        span.record("http.response.status_code", status);
                        if let Some(t) = error_type {
                            span.record("error.type", t);
                            span.record("otel.status_code", "ERROR");
                        }
                        operation_event(endpoint, &method, node, secs, Some(status), error_type);
                        let path = uri.path();
                        if failed {
                            tracing::warn!(target: "elasticsearch", "{method} {node}{path} [status:{status} duration:{secs:.3}s attempts:{attempts}]");
                        } else {
                            tracing::info!(target: "elasticsearch", "{method} {node}{path} [status:{status} duration:{secs:.3}s attempts:{attempts}]");
                        }
                        if let Some(c) = curl {
                            tracing::debug!(target: "elasticsearch.trace", "{c}\n{}\n{}", node_comment(node), curl_response(resp, secs));
                        }
                    }
                    Err(e) => {
                        let node = e.node().unwrap_or("");
                        record_node(&span, node);
                        let status = e.status();
                        let kind = error_type(status.as_ref(), e.kind());
                        span.record("error.type", kind);
                        span.record("otel.status_code", "ERROR");
                        operation_event(
                            endpoint,
                            &method,
                            node,
                            secs,
                            status.map(|s| s.as_u16()),
                            Some(kind),
                        );
                        tracing::warn!(target: "elasticsearch", "{method} {node}{} [failed duration:{secs:.3}s attempts:{}]: {e}", uri.path(), e.attempts().max(1));
                        if let Some(c) = curl {
                            tracing::debug!(target: "elasticsearch.trace", "{c}\n{}\n# [failed] ({secs:.3}s) {e}", node_comment(node));
                        }
                    }
                }
                result
            }
            .instrument(span),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use bytes::Bytes;

    #[test]
    fn curl_format() {
        let mut req = http::Request::new(Bytes::from_static(
            br#"{"query":{"match":{"title":"it's"}}}"#,
        ));
        *req.method_mut() = http::Method::POST;
        *req.uri_mut() = "http://u:p@10.0.0.1:9200/idx/_search?size=1"
            .parse()
            .unwrap();
        req.headers_mut().insert(
            http::header::CONTENT_TYPE,
            http::HeaderValue::from_static("application/json"),
        );
        req.headers_mut().insert(
            http::header::AUTHORIZATION,
            http::HeaderValue::from_static("Basic c2VjcmV0"),
        );
        let c = curl_command(&req);
        assert!(c.starts_with("curl -XPOST 'http://localhost:9200/idx/_search?size=1&pretty' -H 'Content-Type: application/json' -d '{"), "{c}");
        assert!(c.contains(r"it'\''s"), "{c}");
        assert!(!c.contains("c2VjcmV0") && !c.contains("u:p"), "{c}");
        let resp = http::Response::builder()
            .status(200)
            .body(Bytes::from_static(br#"{"took":1}"#))
            .unwrap();
        assert_eq!(
            curl_response(&resp, 0.0123),
            "# [200] (0.012s)\n#{\n#  \"took\": 1\n#}"
        );
    }

    #[test]
    fn error_types() {
        assert_eq!(error_type(None, ErrorKind::Timeout), "Timeout");
        assert_eq!(
            error_type(Some(&http::StatusCode::NOT_FOUND), ErrorKind::Api),
            "404"
        );
    }

    #[test]
    fn ndjson_pretty() {
        assert_eq!(
            pretty(b"{\"index\":{}}\n{\"a\": 1}\n"),
            "{\"index\":{}}\n{\"a\":1}\n"
        );
    }
}
