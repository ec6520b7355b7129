//! A request as the API layer hands it to the transport, and per-request options.

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http::{HeaderMap, HeaderName, HeaderValue, Method};

use crate::auth::Credentials;

/// One request to send to the cluster: method, path and query, headers, body, options.
///
/// The path is relative to the node (the node's URL prefix is prepended) and must already be
/// percent-encoded, with its query string if any: `/my-index/_doc/1?refresh=true`.
/// The body is kept as [`Bytes`] so retries resend it without copying.
///
/// # Example
/// ```
/// use es_transport::{Request, RequestOptions};
/// use std::time::Duration;
///
/// let req = Request::get("/_cluster/health")
///     .with_options(RequestOptions::new().timeout(Duration::from_secs(5)));
/// assert_eq!(req.path(), "/_cluster/health");
/// ```
///
/// `Debug` prints sensitive header values (`Authorization`, API keys, cookies, ...) as
/// `[redacted]`, and the body's length, not its bytes.
#[derive(Clone)]
pub struct Request {
    pub(crate) method: Method,
    pub(crate) path: String,
    pub(crate) headers: HeaderMap,
    pub(crate) body: Option<Bytes>,
    pub(crate) options: RequestOptions,
    pub(crate) endpoint: Option<&'static str>,
    /// Whether resending cannot change the outcome; `None`: decided by the method.
    pub(crate) idempotent: Option<bool>,
}

impl Request {
    /// A request with the given method and path (with query string).
    pub fn new(method: Method, path: impl Into<String>) -> Self {
        Request {
            method,
            path: path.into(),
            headers: HeaderMap::new(),
            body: None,
            options: RequestOptions::default(),
            endpoint: None,
            idempotent: None,
        }
    }

    /// A `GET` request.
    pub fn get(path: impl Into<String>) -> Self {
        Request::new(Method::GET, path)
    }

    /// A `POST` request.
    pub fn post(path: impl Into<String>) -> Self {
        Request::new(Method::POST, path)
    }

    /// A `PUT` request.
    pub fn put(path: impl Into<String>) -> Self {
        Request::new(Method::PUT, path)
    }

    /// A `DELETE` request.
    pub fn delete(path: impl Into<String>) -> Self {
        Request::new(Method::DELETE, path)
    }

    /// A `HEAD` request.
    pub fn head(path: impl Into<String>) -> Self {
        Request::new(Method::HEAD, path)
    }

    /// Sets a JSON body (`Content-Type: application/json`).
    #[must_use]
    pub fn with_json_body(self, body: impl Into<Bytes>) -> Self {
        self.with_body(body, HeaderValue::from_static("application/json"))
    }

    /// Sets an NDJSON body (`Content-Type: application/x-ndjson`), as `_bulk` takes.
    #[must_use]
    pub fn with_ndjson_body(self, body: impl Into<Bytes>) -> Self {
        self.with_body(body, HeaderValue::from_static("application/x-ndjson"))
    }

    /// Sets a body with the given content type.
    #[must_use]
    pub fn with_body(mut self, body: impl Into<Bytes>, content_type: HeaderValue) -> Self {
        self.body = Some(body.into());
        self.headers
            .insert(http::header::CONTENT_TYPE, content_type);
        self
    }

    /// Adds a header (replacing one of the same name).
    #[must_use]
    pub fn with_header(mut self, name: HeaderName, value: HeaderValue) -> Self {
        self.headers.insert(name, value);
        self
    }

    /// Sets the per-request options.
    #[must_use]
    pub fn with_options(mut self, options: RequestOptions) -> Self {
        self.options = options;
        self
    }

    /// Names the endpoint (`"search"`, `"indices.create"`) for spans and metrics.
    #[must_use]
    pub fn with_endpoint(mut self, endpoint: &'static str) -> Self {
        self.endpoint = Some(endpoint);
        self
    }

    /// Declares whether sending this request again can change its outcome.
    ///
    /// `true`: resending cannot change what the server does or answers (a search, a get,
    /// an index with an explicit id and no script), so the retry layer may resend it after
    /// a failure that may have reached the server (a connection cut after the request was
    /// written, a 502/503/504, an unreadable answer, a timeout with `retry_on_timeout`).
    /// `false`: it is resent only when the failure proves it never arrived (refused
    /// connection, DNS, TLS, a pooled connection closed before writing) or was refused
    /// (429). Unset, `GET` and `HEAD` requests count as idempotent and all others not.
    /// es-api sets it for every endpoint from its generated table; a caller can override
    /// it per request with [`RequestOptions::idempotent`].
    ///
    /// # Example
    /// ```
    /// use es_transport::Request;
    ///
    /// let search = Request::post("/idx/_search").with_idempotent(true);
    /// assert!(search.is_idempotent());
    /// assert!(!Request::post("/idx/_doc").is_idempotent());
    /// assert!(Request::get("/idx/_doc/1").is_idempotent());
    /// ```
    #[must_use]
    pub fn with_idempotent(mut self, idempotent: bool) -> Self {
        self.idempotent = Some(idempotent);
        self
    }

    /// Whether the retry layer may resend this request after a failure that may have
    /// reached the server: the options' [`RequestOptions::idempotent`], else
    /// [`with_idempotent`](Self::with_idempotent), else `GET`/`HEAD` only.
    pub fn is_idempotent(&self) -> bool {
        self.options
            .idempotent
            .or(self.idempotent)
            .unwrap_or_else(|| method_is_idempotent(&self.method))
    }

    /// The method.
    pub fn method(&self) -> &Method {
        &self.method
    }

    /// The path with its query string.
    pub fn path(&self) -> &str {
        &self.path
    }

    /// The headers set on this request.
    pub fn headers(&self) -> &HeaderMap {
        &self.headers
    }

    /// Mutable access to the headers.
    pub fn headers_mut(&mut self) -> &mut HeaderMap {
        &mut self.headers
    }

    /// The body, if any.
    pub fn body(&self) -> Option<&Bytes> {
        self.body.as_ref()
    }

    /// The options.
    pub fn options(&self) -> &RequestOptions {
        &self.options
    }

    /// Mutable access to the options.
    pub fn options_mut(&mut self) -> &mut RequestOptions {
        &mut self.options
    }

    /// The endpoint name, if set.
    pub fn endpoint(&self) -> Option<&'static str> {
        self.endpoint
    }
}

impl std::fmt::Debug for Request {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Request")
            .field("method", &self.method)
            .field("path", &self.path)
            .field("headers", &crate::redact::HeadersDebug(&self.headers))
            .field("body_len", &self.body.as_ref().map(Bytes::len))
            .field("options", &self.options)
            .field("endpoint", &self.endpoint)
            .field("idempotent", &self.idempotent)
            .finish()
    }
}

/// `GET` and `HEAD`: the methods that count as idempotent when a request is not marked.
pub(crate) fn method_is_idempotent(m: &Method) -> bool {
    *m == Method::GET || *m == Method::HEAD
}

/// Options of one request, overriding the transport's defaults (elasticsearch-py's
/// `.options(...)`).
///
/// Unset fields fall back to the transport's settings.
///
/// # Example
/// ```
/// use es_transport::RequestOptions;
/// use std::time::Duration;
///
/// let opts = RequestOptions::new()
///     .timeout(Duration::from_secs(2))
///     .max_retries(0)
///     .ignore_status([404])
///     .opaque_id("job-42");
/// assert_eq!(opts.ignored_statuses(), &[404]);
/// ```
#[derive(Clone, Default)]
#[non_exhaustive]
pub struct RequestOptions {
    pub(crate) timeout: Option<Duration>,
    pub(crate) headers: HeaderMap,
    pub(crate) opaque_id: Option<HeaderValue>,
    pub(crate) max_retries: Option<u32>,
    pub(crate) retry_on_timeout: Option<bool>,
    pub(crate) retry_on_status: Option<Vec<u16>>,
    pub(crate) ignore_status: Vec<u16>,
    pub(crate) auth: Option<Credentials>,
    /// The caller's word on whether resending can change the outcome (see
    /// [`Request::with_idempotent`]); resolved for the layers by the transport.
    pub(crate) idempotent: Option<bool>,
    /// The first invalid value given to a setter: sending fails with it.
    pub(crate) invalid: Option<Arc<str>>,
}

/// Header values that are credentials (`Authorization`, `Cookie`, `X-Api-Key`, any value
/// marked sensitive, see [`crate::redact::is_sensitive_header`]) print as `"[redacted]"`;
/// credentials print without their secret.
impl std::fmt::Debug for RequestOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RequestOptions")
            .field("timeout", &self.timeout)
            .field("headers", &crate::redact::HeadersDebug(&self.headers))
            .field("opaque_id", &self.opaque_id)
            .field("max_retries", &self.max_retries)
            .field("retry_on_timeout", &self.retry_on_timeout)
            .field("retry_on_status", &self.retry_on_status)
            .field("ignore_status", &self.ignore_status)
            .field("auth", &self.auth)
            .field("idempotent", &self.idempotent)
            .field("invalid", &self.invalid)
            .finish()
    }
}

impl RequestOptions {
    /// Empty options: everything comes from the transport.
    pub fn new() -> Self {
        Self::default()
    }

    /// The timeout of this request (each attempt), instead of the transport's.
    #[must_use]
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = Some(timeout);
        self
    }

    /// Adds a header sent with this request only.
    ///
    /// An invalid name or value (a newline, say) is not dropped: sending a request with
    /// these options fails with [`ErrorKind::Config`](crate::ErrorKind::Config) before anything is sent. Use
    /// [`try_header`](Self::try_header) to get the error here instead.
    #[must_use]
    pub fn header(self, name: impl AsRef<str>, value: impl AsRef<str>) -> Self {
        let name = name.as_ref();
        match self.clone().try_header(name, value) {
            Ok(o) => o,
            Err(_) => self.invalid(format!("invalid header `{}`", name.escape_debug())),
        }
    }

    /// Adds a header sent with this request only.
    ///
    /// # Errors
    /// [`ErrorKind::Config`](crate::ErrorKind::Config) when the name or the value is not valid in an HTTP header.
    pub fn try_header(
        mut self,
        name: impl AsRef<str>,
        value: impl AsRef<str>,
    ) -> crate::Result<Self> {
        let name = name.as_ref();
        let n = HeaderName::from_bytes(name.as_bytes()).map_err(|_| {
            crate::Error::config(format!("invalid header name `{}`", name.escape_debug()))
        })?;
        // The value is not echoed: it may be a secret.
        let v = HeaderValue::from_str(value.as_ref())
            .map_err(|_| crate::Error::config(format!("invalid value for header `{name}`")))?;
        self.headers.insert(n, v);
        Ok(self)
    }

    /// Sets `X-Opaque-Id`, which Elasticsearch echoes in its task and slow logs.
    ///
    /// An id that is not a valid header value makes sending fail with
    /// [`ErrorKind::Config`](crate::ErrorKind::Config) before anything is sent.
    #[must_use]
    pub fn opaque_id(mut self, id: impl AsRef<str>) -> Self {
        match HeaderValue::from_str(id.as_ref()) {
            Ok(v) => self.opaque_id = Some(v),
            Err(_) => {
                self.opaque_id = None;
                return self.invalid(format!(
                    "invalid opaque id `{}` (not a valid header value)",
                    id.as_ref().escape_debug()
                ));
            }
        }
        self
    }

    /// The error of an invalid value given to a setter, if any.
    pub(crate) fn check_setters(&self) -> crate::Result<()> {
        match &self.invalid {
            Some(msg) => Err(crate::Error::config(format!(
                "{msg}; the request was not sent"
            ))),
            None => Ok(()),
        }
    }

    fn invalid(mut self, msg: String) -> Self {
        if self.invalid.is_none() {
            self.invalid = Some(msg.into());
        }
        self
    }

    /// Checks the options: an invalid header or opaque id given to a setter, or credentials
    /// that cannot be sent as a header.
    ///
    /// # Errors
    /// [`ErrorKind::Config`](crate::ErrorKind::Config), saying which setting is invalid.
    pub fn validate(&self) -> crate::Result<()> {
        self.check_setters()?;
        if let Some(c) = &self.auth {
            c.header_value().map_err(|e| {
                crate::Error::config("the request's credentials cannot be sent as a header; the request was not sent")
                    .with_source(e)
            })?;
        }
        Ok(())
    }

    /// How many times a failed request is retried (0: no retry).
    #[must_use]
    pub fn max_retries(mut self, n: u32) -> Self {
        self.max_retries = Some(n);
        self
    }

    /// Declares that resending this request cannot change its outcome (`true`), or that
    /// it can (`false`), overriding the endpoint's entry in es-api's table and the method
    /// rule (see [`Request::with_idempotent`]).
    ///
    /// `idempotent(true)` on a request that is not (a bulk of id-less index actions, a
    /// scripted update, a scroll continuation) opts in to duplicates or skipped pages
    /// after a lost answer; `idempotent(false)` on a read makes a lost answer an error
    /// instead of a resend.
    #[must_use]
    pub fn idempotent(mut self, yes: bool) -> Self {
        self.idempotent = Some(yes);
        self
    }

    /// The caller's idempotency override, if set.
    pub fn idempotent_override(&self) -> Option<bool> {
        self.idempotent
    }

    /// Whether timeouts are retried on another node.
    #[must_use]
    pub fn retry_on_timeout(mut self, yes: bool) -> Self {
        self.retry_on_timeout = Some(yes);
        self
    }

    /// The statuses that are retried (replacing the transport's list).
    #[must_use]
    pub fn retry_on_status(mut self, statuses: impl IntoIterator<Item = u16>) -> Self {
        self.retry_on_status = Some(statuses.into_iter().collect());
        self
    }

    /// Statuses that are returned as a response rather than as an error (`ignore=404`).
    #[must_use]
    pub fn ignore_status(mut self, statuses: impl IntoIterator<Item = u16>) -> Self {
        self.ignore_status.extend(statuses);
        self
    }

    /// Credentials for this request only, replacing the transport's.
    #[must_use]
    pub fn auth(mut self, credentials: Credentials) -> Self {
        self.auth = Some(credentials);
        self
    }

    /// The statuses returned as responses rather than errors.
    pub fn ignored_statuses(&self) -> &[u16] {
        &self.ignore_status
    }

    /// Merges `other` over `self`: fields set in `other` win; headers and ignored statuses add up.
    #[must_use]
    pub fn merge(mut self, other: &RequestOptions) -> Self {
        if other.timeout.is_some() {
            self.timeout = other.timeout;
        }
        for (k, v) in &other.headers {
            self.headers.insert(k, v.clone());
        }
        if other.opaque_id.is_some() {
            self.opaque_id.clone_from(&other.opaque_id);
        }
        if other.max_retries.is_some() {
            self.max_retries = other.max_retries;
        }
        if other.retry_on_timeout.is_some() {
            self.retry_on_timeout = other.retry_on_timeout;
        }
        if other.retry_on_status.is_some() {
            self.retry_on_status.clone_from(&other.retry_on_status);
        }
        self.ignore_status.extend_from_slice(&other.ignore_status);
        if other.auth.is_some() {
            self.auth.clone_from(&other.auth);
        }
        if other.idempotent.is_some() {
            self.idempotent = other.idempotent;
        }
        if self.invalid.is_none() {
            self.invalid.clone_from(&other.invalid);
        }
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn request_debug_hides_secret_headers_and_the_body() {
        let r = Request::post("/_security/api_key")
            .with_header(
                http::header::AUTHORIZATION,
                HeaderValue::from_static("ApiKey c2VjcmV0LWtleQ=="),
            )
            .with_json_body(r#"{"password":"hunter2"}"#);
        let shown = format!("{r:?}");
        assert!(!shown.contains("c2VjcmV0LWtleQ"), "{shown}");
        assert!(!shown.contains("hunter2"), "{shown}");
        assert!(shown.contains("authorization"), "{shown}");
        assert!(shown.contains("body_len: Some(22)"), "{shown}");
    }

    #[test]
    fn merge_prefers_other() {
        let a = RequestOptions::new()
            .timeout(Duration::from_secs(1))
            .header("x-a", "1")
            .ignore_status([404]);
        let b = RequestOptions::new()
            .max_retries(0)
            .header("x-b", "2")
            .ignore_status([409]);
        let m = a.merge(&b);
        assert_eq!(m.timeout, Some(Duration::from_secs(1)));
        assert_eq!(m.max_retries, Some(0));
        assert_eq!(m.headers.len(), 2);
        assert_eq!(m.ignored_statuses(), &[404, 409]);
    }

    #[test]
    fn invalid_header_is_skipped() {
        let o = RequestOptions::new()
            .header("bad header", "x")
            .header("x-ok", "bad\nvalue");
        assert!(o.headers.is_empty());
    }
}
