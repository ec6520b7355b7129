//! The `Transport` (one per application) and its builder.

use std::fmt;
use std::marker::PhantomData;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http::header::{CONTENT_TYPE, HeaderMap, HeaderName, HeaderValue};
use http::{Method, Uri};
use tower::util::{BoxCloneSyncService, Either};
use tower::{Layer, ServiceBuilder, ServiceExt};

use crate::auth::Credentials;
use crate::conn::Connector;
use crate::error::{ApiError, Error, Result};
use crate::layer::headers::HeadersConfig;
use crate::layer::retry::RetryConfig;
use crate::layer::{
    AnsweredBy, Attempt, CompressionLayer, Endpoint, HeadersLayer, HttpRequest, HttpResponse,
    HttpService, PoolLayer, RetryLayer, SniffLayer, TimeoutLayer, TraceLayer, Tried,
};
use crate::metrics::NodeStats;
use crate::node::{IntoNodeUrls, NodeUrl};
use crate::pool::{Backoff, Node, NodePool, RoundRobin, SelectNode};
use crate::request::Request;
use crate::response::{Response, ResponseMeta};
use crate::serializer::{JsonSerializer, Serializer};
use crate::sniff::{NodeFilter, SniffConfig, SniffedNode};
use crate::time::{Clock, SystemClock};

/// The service type of the assembled stack, which user layers wrap.
pub type BoxedService = BoxCloneSyncService<HttpRequest, HttpResponse, Error>;

pub(crate) type UserLayer = Box<dyn Fn(BoxedService) -> BoxedService + Send + Sync>;

/// How a `GET` request with a body is sent (some proxies drop GET bodies).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum SendGetBodyAs {
    /// As a GET with a body (the default).
    #[default]
    Get,
    /// As a POST.
    Post,
    /// As a GET with the body in the `source` query parameter and `source_content_type`.
    Source,
}

/// The Elasticsearch transport: a pool of nodes behind a stack of tower layers.
///
/// Cheap to clone (an `Arc` inside), `Send + Sync`: make one per application and share it.
///
/// # Example
/// ```no_run
/// # async fn run() -> es_transport::Result<()> {
/// use es_transport::{Request, Transport};
/// use std::time::Duration;
///
/// let transport = Transport::builder(["http://es1:9200", "http://es2:9200"])
///     .max_retries(5)
///     .request_timeout(Duration::from_secs(30))
///     .sniff_on_start(true)
///     .build()?;
/// let resp = transport.send(Request::get("/_cluster/health")).await?;
/// println!("{} from {}", resp.status(), resp.meta().node());
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct Transport {
    inner: Arc<Inner>,
}

struct Inner {
    service: BoxedService,
    pool: Arc<NodePool>,
    serializer: Arc<dyn Serializer>,
    clock: Arc<dyn Clock>,
    send_get_body_as: SendGetBodyAs,
    sniff: Option<SniffLayer>,
    below_sniff: Option<BoxedService>,
}

impl fmt::Debug for Transport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Transport")
            .field("nodes", &self.inner.pool.urls())
            .finish_non_exhaustive()
    }
}

impl Transport {
    /// A builder for a transport to the given hosts (see [`NodeUrl`] for the forms accepted).
    pub fn builder(hosts: impl IntoNodeUrls) -> TransportBuilder {
        TransportBuilder::new(hosts)
    }

    /// A transport with default settings.
    ///
    /// # Errors
    /// When a host string is invalid.
    pub fn new(hosts: impl IntoNodeUrls) -> Result<Self> {
        Self::builder(hosts).build()
    }

    /// Sends a request and reads the whole response.
    ///
    /// Retries as configured; a status >= 400 that is not in the request's
    /// [`RequestOptions::ignore_status`](crate::RequestOptions::ignore_status) is an [`crate::ErrorKind::Api`] error.
    ///
    /// # Errors
    /// See [`Error`]: connection, timeout, TLS, API, no node available.
    pub async fn send(&self, req: Request) -> Result<Response> {
        let start = self.inner.clock.now();
        let ignore = req.options.ignore_status.clone();
        let http_req = self.prepare(req)?;
        let resp = self.inner.service.clone().oneshot(http_req).await?;
        let (mut parts, body) = resp.into_parts();
        let node: Arc<str> = parts
            .extensions
            .remove::<AnsweredBy>()
            .map_or_else(|| "".into(), |a| a.0);
        let attempts = parts.extensions.get::<Attempt>().map_or(1, |a| a.0);
        let status = parts.status;
        if status.as_u16() >= 400 && !ignore.contains(&status.as_u16()) {
            let tried = parts
                .extensions
                .remove::<Tried>()
                .map_or_else(|| vec![node.to_string()], |t| t.0);
            let mut e =
                Error::api(ApiError::from_response(status, parts.headers, body)).with_node(&*node);
            e.set_attempts(attempts, tried);
            return Err(e);
        }
        let duration = self.inner.clock.now().saturating_duration_since(start);
        Ok(Response {
            status,
            headers: parts.headers,
            body,
            meta: ResponseMeta {
                node,
                attempts,
                duration,
            },
        })
    }

    fn prepare(&self, req: Request) -> Result<HttpRequest> {
        let Request {
            mut method,
            mut path,
            mut headers,
            mut body,
            mut options,
            endpoint,
            idempotent,
        } = req;
        // Resolved once here: the layers read one flag from the options they already carry.
        options.idempotent = Some(
            options
                .idempotent
                .or(idempotent)
                .unwrap_or_else(|| crate::request::method_is_idempotent(&method)),
        );
        if options.auth.is_some() {
            // Credentials that cannot be a header fail here, before a node is chosen.
            options.validate()?;
        } else {
            options.check_setters()?;
        }
        if !path.starts_with('/') {
            path.insert(0, '/');
        }
        if method == Method::GET && body.as_ref().is_some_and(|b| !b.is_empty()) {
            match self.inner.send_get_body_as {
                SendGetBodyAs::Get => {}
                SendGetBodyAs::Post => method = Method::POST,
                SendGetBodyAs::Source => {
                    let b = body.take().unwrap_or_default();
                    let ct = headers
                        .remove(CONTENT_TYPE)
                        .and_then(|v| v.to_str().ok().map(str::to_owned))
                        .unwrap_or_else(|| "application/json".to_owned());
                    let sep = if path.contains('?') { '&' } else { '?' };
                    let enc = |s: &[u8]| {
                        percent_encoding::percent_encode(s, percent_encoding::NON_ALPHANUMERIC)
                            .to_string()
                    };
                    path = format!(
                        "{path}{sep}source={}&source_content_type={}",
                        enc(&b),
                        enc(ct.as_bytes())
                    );
                }
            }
        }
        let uri: Uri = path
            .parse()
            .map_err(|e| Error::config(format!("invalid request path `{path}`")).with_source(e))?;
        let mut r = http::Request::new(body.unwrap_or_default());
        *r.method_mut() = method;
        *r.uri_mut() = uri;
        *r.headers_mut() = headers;
        r.extensions_mut().insert(options);
        if let Some(e) = endpoint {
            r.extensions_mut().insert(Endpoint(e));
        }
        Ok(r)
    }

    /// The serializer for request and response bodies.
    pub fn serializer(&self) -> &dyn Serializer {
        &*self.inner.serializer
    }

    /// The serializer, shared.
    pub fn serializer_arc(&self) -> Arc<dyn Serializer> {
        self.inner.serializer.clone()
    }

    /// The nodes in the pool now, dead or alive.
    pub fn nodes(&self) -> Vec<NodeUrl> {
        self.inner.pool.urls()
    }

    /// Each node's counters (requests, failures, retries, latency, dead/alive transitions,
    /// connections opened). Also logged as a `tracing` event at DEBUG on target
    /// `elasticsearch.metrics` each time this is called (`server.address`, `server.port`, and
    /// the counters as `elasticsearch.node.*`, the mean duration in seconds).
    pub fn node_stats(&self) -> Vec<NodeStats> {
        let mut stats = self.inner.pool.stats();
        for (s, node) in stats.iter_mut().zip(self.inner.pool.all()) {
            s.connections_opened = node.conns.opened();
            tracing::debug!(
                target: "elasticsearch.metrics",
                {
                    db.system.name = "elasticsearch",
                    server.address = node.url.host(),
                    server.port = node.url.port(),
                    elasticsearch.node.requests = s.requests,
                    elasticsearch.node.failures = s.failures,
                    elasticsearch.node.retries = s.retries,
                    elasticsearch.node.mean_duration = s.mean_latency().as_secs_f64(),
                    elasticsearch.node.dead = s.is_dead,
                    elasticsearch.node.marked_dead = s.marked_dead,
                    elasticsearch.node.marked_alive = s.marked_alive,
                    elasticsearch.node.connections_opened = s.connections_opened,
                },
                "node stats"
            );
        }
        stats
    }

    /// Sniffs now and waits for it. Returns the number of nodes found.
    ///
    /// # Errors
    /// When sniffing is not configured, or the sniff fails (the node list is then kept).
    pub async fn sniff(&self) -> Result<usize> {
        let (Some(layer), Some(below)) = (&self.inner.sniff, &self.inner.below_sniff) else {
            return Err(Error::config("sniffing is not enabled on this transport"));
        };
        layer.sniff_now(below.clone()).await
    }

    /// Drops idle connections to every node.
    pub fn close_idle_connections(&self) {
        for n in self.inner.pool.all() {
            n.conns.clear();
        }
    }
}

/// Builds a [`Transport`]. Every setting has a default; see each method.
///
/// `O` is what [`TransportBuilder::build`] returns: the transport itself, or anything made
/// from one (`es_api::Client::builder` returns a `TransportBuilder<Client>`, so a client over
/// several nodes is one chain of the same settings). [`TransportBuilder::output`] changes it.
#[must_use]
pub struct TransportBuilder<O = Transport> {
    pub(crate) hosts: Result<Vec<NodeUrl>>,
    pub(crate) max_connections: usize,
    pub(crate) randomize: bool,
    pub(crate) selector: Arc<dyn SelectNode>,
    pub(crate) backoff: Backoff,
    pub(crate) retry: RetryConfig,
    pub(crate) sniff: SniffConfig,
    pub(crate) compress: bool,
    pub(crate) request_timeout: Option<Duration>,
    pub(crate) connect_timeout: Option<Duration>,
    /// `None`: wait for a free connection as long as the attempt's timeout.
    pub(crate) pool_wait_timeout: Option<Option<Duration>>,
    pub(crate) idle_timeout: Option<Duration>,
    pub(crate) tcp_keepalive: Option<Duration>,
    pub(crate) max_response_size: usize,
    pub(crate) send_get_body_as: SendGetBodyAs,
    pub(crate) headers: HeaderMap,
    pub(crate) auth: Option<Credentials>,
    pub(crate) compatibility: Option<u8>,
    pub(crate) product_check: bool,
    pub(crate) serializer: Arc<dyn Serializer>,
    pub(crate) clock: Arc<dyn Clock>,
    pub(crate) layers: Vec<UserLayer>,
    /// Layers between compression and the timeout (request signing).
    pub(crate) signing_layers: Vec<UserLayer>,
    #[cfg(feature = "rustls")]
    pub(crate) tls: crate::tls::TlsOptions,
    pub(crate) config_error: Option<Error>,
    pub(crate) output: PhantomData<fn() -> O>,
}

impl<O> fmt::Debug for TransportBuilder<O> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TransportBuilder")
            .field("hosts", &self.hosts.as_ref().ok())
            .field("max_connections", &self.max_connections)
            .field("retry", &self.retry)
            .field("sniff", &self.sniff)
            .field("auth", &self.auth)
            .finish_non_exhaustive()
    }
}

impl TransportBuilder {
    fn new(hosts: impl IntoNodeUrls) -> Self {
        TransportBuilder {
            hosts: hosts.into_node_urls(),
            max_connections: 10,
            randomize: true,
            selector: Arc::new(RoundRobin::new()),
            backoff: Backoff {
                factor: Duration::from_secs(1),
                max: Duration::from_secs(30),
            },
            retry: RetryConfig::default(),
            sniff: SniffConfig::default(),
            compress: false,
            request_timeout: Some(Duration::from_secs(10)),
            connect_timeout: Some(Duration::from_secs(10)),
            pool_wait_timeout: None,
            idle_timeout: Some(crate::conn::DEFAULT_IDLE_TIMEOUT),
            tcp_keepalive: Some(crate::conn::DEFAULT_TCP_KEEPALIVE),
            max_response_size: crate::conn::DEFAULT_MAX_RESPONSE_SIZE,
            send_get_body_as: SendGetBodyAs::Get,
            headers: HeaderMap::new(),
            auth: None,
            compatibility: None,
            product_check: true,
            serializer: Arc::new(JsonSerializer),
            clock: Arc::new(SystemClock),
            layers: Vec::new(),
            signing_layers: Vec::new(),
            #[cfg(feature = "rustls")]
            tls: crate::tls::TlsOptions::default(),
            config_error: None,
            output: PhantomData,
        }
    }
}

impl<O> TransportBuilder<O> {
    /// The same settings, building a `P` (anything with `From<Transport>`) instead.
    ///
    /// # Example
    /// ```
    /// use es_transport::{Transport, TransportBuilder};
    ///
    /// struct MyClient(Transport);
    /// impl From<Transport> for MyClient {
    ///     fn from(t: Transport) -> Self {
    ///         MyClient(t)
    ///     }
    /// }
    /// let b: TransportBuilder<MyClient> = Transport::builder("http://localhost:9200").output();
    /// let client: MyClient = b.connections_per_node(4).build()?;
    /// # let _ = client.0;
    /// # Ok::<(), es_transport::Error>(())
    /// ```
    pub fn output<P>(self) -> TransportBuilder<P> {
        TransportBuilder {
            hosts: self.hosts,
            max_connections: self.max_connections,
            randomize: self.randomize,
            selector: self.selector,
            backoff: self.backoff,
            retry: self.retry,
            sniff: self.sniff,
            compress: self.compress,
            request_timeout: self.request_timeout,
            connect_timeout: self.connect_timeout,
            pool_wait_timeout: self.pool_wait_timeout,
            idle_timeout: self.idle_timeout,
            tcp_keepalive: self.tcp_keepalive,
            max_response_size: self.max_response_size,
            send_get_body_as: self.send_get_body_as,
            headers: self.headers,
            auth: self.auth,
            compatibility: self.compatibility,
            product_check: self.product_check,
            serializer: self.serializer,
            clock: self.clock,
            layers: self.layers,
            signing_layers: self.signing_layers,
            #[cfg(feature = "rustls")]
            tls: self.tls,
            config_error: self.config_error,
            output: PhantomData,
        }
    }

    /// The most connections open to one node at once (default 10, like elasticsearch-py's
    /// `connections_per_node`). Requests beyond it wait for a free connection.
    pub fn connections_per_node(mut self, n: usize) -> Self {
        self.max_connections = n.max(1);
        self
    }

    /// Whether the node list is shuffled at start (default true), to spread clients' load.
    pub fn randomize_nodes_in_pool(mut self, yes: bool) -> Self {
        self.randomize = yes;
        self
    }

    /// The node selector (default round-robin). See [`crate::Random`] and [`SelectNode`].
    pub fn selector(mut self, selector: impl SelectNode) -> Self {
        self.selector = Arc::new(selector);
        self
    }

    /// A node that failed n times in a row is dead for `min(factor * 2^(n-1), max)`
    /// (defaults 1 s and 30 s).
    pub fn dead_node_backoff(mut self, factor: Duration, max: Duration) -> Self {
        self.backoff = Backoff {
            factor,
            max: max.max(factor),
        };
        self
    }

    /// How many times a failed request is retried (default 3).
    pub fn max_retries(mut self, n: u32) -> Self {
        self.retry.max_retries = n;
        self
    }

    /// Whether timeouts are retried on another node (default false: the request may still
    /// be running on the server).
    pub fn retry_on_timeout(mut self, yes: bool) -> Self {
        self.retry.retry_on_timeout = yes;
        self
    }

    /// Statuses retried after a backoff (default 429, 502, 503, 504).
    pub fn retry_on_status(mut self, statuses: impl IntoIterator<Item = u16>) -> Self {
        self.retry.retry_on_status = statuses.into_iter().collect();
        self
    }

    /// Backoff before retrying a status: `base * 2^(n-1)`, jittered, capped at `max`
    /// (defaults 200 ms and 30 s); a `Retry-After` header replaces it (also capped at `max`).
    pub fn retry_backoff(mut self, base: Duration, max: Duration) -> Self {
        self.retry.backoff_base = base;
        self.retry.backoff_max = max;
        self
    }

    /// Sniff before the first request (which waits for it).
    pub fn sniff_on_start(mut self, yes: bool) -> Self {
        self.sniff.on_start = yes;
        self
    }

    /// Sniff in the background after a connection failure.
    pub fn sniff_on_connection_fail(mut self, yes: bool) -> Self {
        self.sniff.on_connection_fail = yes;
        self
    }

    /// Sniff in the background every `interval` (counted from the first request).
    /// elasticsearch-py's seed calls this `sniffer_timeout`.
    pub fn sniff_interval(mut self, interval: Duration) -> Self {
        self.sniff.interval = Some(interval);
        self
    }

    /// Timeout of the sniff request (default 1 s).
    pub fn sniff_timeout(mut self, timeout: Duration) -> Self {
        self.sniff.timeout = timeout;
        self
    }

    /// Keep master-only nodes when sniffing (default: skipped).
    pub fn sniff_include_master_only(mut self, yes: bool) -> Self {
        self.sniff.include_master_only = yes;
        self
    }

    /// Only sniffed nodes for which `filter` returns true join the pool.
    pub fn sniffed_node_filter(
        mut self,
        filter: impl Fn(&SniffedNode) -> bool + Send + Sync + 'static,
    ) -> Self {
        let f: NodeFilter = Arc::new(filter);
        self.sniff.filter = Some(f);
        self
    }

    /// Gzip request bodies (responses are always accepted gzipped).
    pub fn http_compress(mut self, yes: bool) -> Self {
        self.compress = yes;
        self
    }

    /// Timeout of each attempt on its node (default 10 s); `None` for no timeout.
    ///
    /// It runs from when the attempt has a connection permit (see
    /// [`pool_wait_timeout`](Self::pool_wait_timeout)) until the response body is read, so
    /// time spent queued behind other requests to the same node never counts against the node.
    pub fn request_timeout(mut self, timeout: impl Into<Option<Duration>>) -> Self {
        self.request_timeout = timeout.into();
        self
    }

    /// Timeout of opening a connection (default 10 s).
    pub fn connect_timeout(mut self, timeout: impl Into<Option<Duration>>) -> Self {
        self.connect_timeout = timeout.into();
        self
    }

    /// How long a request waits for a free connection to its node when all
    /// [`connections_per_node`](Self::connections_per_node) are busy. `None` (the default)
    /// waits as long as the attempt's timeout; `Some(None)` waits without limit.
    ///
    /// A wait that runs out is [`ErrorKind::PoolTimeout`](crate::ErrorKind::PoolTimeout): the
    /// request did not leave, the node is not marked dead (it is busy, not down), and it is not
    /// retried.
    pub fn pool_wait_timeout(mut self, wait: Option<Option<Duration>>) -> Self {
        self.pool_wait_timeout = wait;
        self
    }

    /// How long an idle keep-alive connection is kept for reuse (default 90 s, like
    /// hyper-util); older ones are closed instead of reused. `None` keeps them forever.
    pub fn idle_timeout(mut self, timeout: impl Into<Option<Duration>>) -> Self {
        self.idle_timeout = timeout.into();
        self
    }

    /// TCP keepalive: probes start after this much silence on a connection (default 60 s,
    /// then every 10 s). `None` switches keepalive off.
    pub fn tcp_keepalive(mut self, idle: impl Into<Option<Duration>>) -> Self {
        self.tcp_keepalive = idle.into();
        self
    }

    /// The largest response body accepted, both as sent and once gzip is inflated (default
    /// 512 MiB). A larger one fails with
    /// [`ErrorKind::ResponseTooLarge`](crate::ErrorKind::ResponseTooLarge) instead of being
    /// held in memory; it is not retried and the node is not blamed.
    pub fn max_response_size(mut self, bytes: usize) -> Self {
        self.max_response_size = bytes;
        self
    }

    /// How a GET with a body is sent.
    pub fn send_get_body_as(mut self, how: SendGetBodyAs) -> Self {
        self.send_get_body_as = how;
        self
    }

    /// A header sent with every request. Invalid names or values fail [`TransportBuilder::build`].
    pub fn header(mut self, name: impl AsRef<str>, value: impl AsRef<str>) -> Self {
        match (
            HeaderName::from_bytes(name.as_ref().as_bytes()),
            HeaderValue::from_str(value.as_ref()),
        ) {
            (Ok(n), Ok(v)) => {
                self.headers.insert(n, v);
            }
            _ => {
                self.config_error =
                    Some(Error::config(format!("invalid header `{}`", name.as_ref())));
            }
        }
        self
    }

    /// Replaces the user-agent.
    pub fn user_agent(self, ua: impl AsRef<str>) -> Self {
        self.header("user-agent", ua)
    }

    /// Sets `X-Opaque-Id` on every request.
    pub fn opaque_id(self, id: impl AsRef<str>) -> Self {
        self.header("x-opaque-id", id)
    }

    /// Credentials for every request (a request's own, or a node URL's userinfo, win).
    pub fn auth(mut self, credentials: Credentials) -> Self {
        self.auth = Some(credentials);
        self
    }

    /// Basic authentication.
    pub fn basic_auth(self, username: impl Into<String>, password: impl Into<String>) -> Self {
        self.auth(Credentials::basic(username, password))
    }

    /// API key authentication from id and key.
    pub fn api_key(self, id: impl AsRef<str>, key: impl AsRef<str>) -> Self {
        self.auth(Credentials::api_key(id, key))
    }

    /// Bearer token authentication.
    pub fn bearer_auth(self, token: impl Into<String>) -> Self {
        self.auth(Credentials::bearer(token))
    }

    /// Send Elasticsearch's compatibility media types
    /// (`application/vnd.elasticsearch+json; compatible-with=N`). Off by default.
    pub fn compatibility_mode(mut self, version: Option<u8>) -> Self {
        self.compatibility = version;
        self
    }

    /// Check that the server is Elasticsearch on the first successful response (default on).
    pub fn product_check(mut self, yes: bool) -> Self {
        self.product_check = yes;
        self
    }

    /// Replaces the serializer.
    pub fn serializer(mut self, serializer: impl Serializer) -> Self {
        self.serializer = Arc::new(serializer);
        self
    }

    /// Replaces the clock (tests drive dead-node timeouts and sniff intervals by hand).
    pub fn clock(mut self, clock: impl Clock) -> Self {
        self.clock = Arc::new(clock);
        self
    }

    /// Adds a tower layer around the whole stack (outermost; layers added later wrap
    /// earlier ones). It sees every request once, before retries.
    ///
    /// # Example
    /// ```
    /// use es_transport::{layer::HttpRequest, Transport};
    /// use tower::util::MapRequestLayer;
    ///
    /// // Tag every request with the service that sent it.
    /// let tag = MapRequestLayer::new(|mut req: HttpRequest| {
    ///     req.headers_mut().insert("x-sent-by", "billing".parse().unwrap());
    ///     req
    /// });
    /// let t = Transport::builder("localhost").layer(tag).build().unwrap();
    /// ```
    pub fn layer<L>(mut self, layer: L) -> Self
    where
        L: Layer<BoxedService> + Send + Sync + 'static,
        L::Service: tower::Service<HttpRequest, Response = HttpResponse, Error = Error>
            + Clone
            + Send
            + Sync
            + 'static,
        <L::Service as tower::Service<HttpRequest>>::Future: Send + 'static,
    {
        self.layers.push(Box::new(move |svc| {
            BoxCloneSyncService::new(layer.layer(svc))
        }));
        self
    }

    /// Builds the transport (or, for a `TransportBuilder<O>`, the `O` made from it).
    ///
    /// # Errors
    /// A bad host string, header, or TLS setting; no host at all.
    pub fn build(self) -> Result<O>
    where
        O: From<Transport>,
    {
        self.build_transport().map(O::from)
    }

    fn build_transport(self) -> Result<Transport> {
        if let Some(e) = self.config_error {
            return Err(e);
        }
        let mut hosts = self.hosts?;
        if hosts.is_empty() {
            return Err(Error::config("no host given"));
        }
        let seeds = hosts.clone();
        if self.randomize {
            fastrand::shuffle(&mut hosts);
        }
        let nodes = hosts
            .into_iter()
            .map(|u| Node::new(u, self.max_connections).map(Arc::new))
            .collect::<Result<Vec<_>>>()?;
        let pool = Arc::new(NodePool::new(
            nodes,
            self.selector,
            self.backoff,
            self.clock.clone(),
            self.max_connections,
        ));
        let connector = Connector {
            connect_timeout: self.connect_timeout,
            idle_timeout: self.idle_timeout,
            tcp_keepalive: self.tcp_keepalive,
            max_response_size: self.max_response_size,
            clock: self.clock.clone(),
            #[cfg(feature = "rustls")]
            tls: Some(Arc::new(crate::tls::TlsConnector::new(&self.tls)?)),
        };
        let auth = self
            .auth
            .as_ref()
            .map(Credentials::header_value)
            .transpose()?;
        let headers_cfg = HeadersConfig {
            defaults: self.headers,
            auth,
            compatibility: self.compatibility,
            product_check: self.product_check,
        };

        // Only what varies is boxed: the common stack is one concrete type, so cloning it
        // per request copies a few `Arc`s instead of allocating.
        let timeout = TimeoutLayer::new(self.request_timeout).layer(HttpService::new(connector));
        let bottom = if self.signing_layers.is_empty() {
            Either::Right(timeout)
        } else {
            // Signing (SigV4) sits here: below compression, so it signs the bytes sent.
            let mut b: BoxedService = BoxCloneSyncService::new(timeout);
            for l in &self.signing_layers {
                b = l(b);
            }
            Either::Left(b)
        };
        let below_sniff = ServiceBuilder::new()
            .layer(
                PoolLayer::new(pool.clone(), self.clock.clone())
                    .with_wait(self.pool_wait_timeout, self.request_timeout),
            )
            .layer(HeadersLayer::new(headers_cfg))
            .layer(CompressionLayer::new(self.compress).max_response_size(self.max_response_size))
            .service(bottom);
        let sniff = self.sniff.enabled().then(|| {
            SniffLayer::new(
                self.sniff.clone(),
                pool.clone(),
                self.clock.clone(),
                seeds.clone(),
            )
        });
        let mid = match &sniff {
            Some(s) => Either::Left(s.layer(below_sniff.clone())),
            None => Either::Right(below_sniff.clone()),
        };
        let mut service: BoxedService = BoxCloneSyncService::new(
            ServiceBuilder::new()
                .layer(TraceLayer::new(self.clock.clone()))
                .layer(RetryLayer::new(self.retry))
                .service(mid),
        );
        for l in &self.layers {
            service = l(service);
        }
        let has_sniff = sniff.is_some();
        Ok(Transport {
            inner: Arc::new(Inner {
                service,
                pool,
                serializer: self.serializer,
                clock: self.clock,
                send_get_body_as: self.send_get_body_as,
                sniff,
                below_sniff: has_sniff.then(|| BoxCloneSyncService::new(below_sniff)),
            }),
        })
    }
}

/// A body that can be sent: bytes as they are.
pub(crate) fn _assert_send_sync() {
    fn is<T: Send + Sync + Clone>() {}
    is::<Transport>();
    let _: Option<Bytes> = None;
}
