//! Pool layer: picks a node for each attempt, points the request at it, and reports the
//! outcome to the node pool (dead on connection errors, timeouts, 502 and 504; alive on
//! success). 429 and 503 answers do not mark a node dead: the node is up, only busy.
//!
//! It also takes the attempt's connection permit for the chosen node, waiting at most the
//! pool-wait timeout, before anything below runs: the per-attempt timeout and request
//! signing start only once the attempt can use a connection, and a wait that runs out is
//! [`ErrorKind::PoolTimeout`], which does not mark the node dead.

use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use http::Uri;
use http::uri::PathAndQuery;
use tower::{Layer, Service};
use tracing::Instrument;

use super::http::SelectedNode;
use super::{AnsweredBy, Attempt, BoxFuture, Endpoint, HttpRequest, HttpResponse};
use crate::RequestOptions;
use crate::conn::HeldPermit;
use crate::pool::NodePool;
use crate::time::Clock;
use crate::{Error, ErrorKind};

/// Applies [`Pool`].
#[derive(Debug, Clone)]
pub struct PoolLayer {
    pool: Arc<NodePool>,
    clock: Arc<dyn Clock>,
    wait: Wait,
}

/// How long an attempt waits for a connection permit.
#[derive(Debug, Clone, Copy, Default)]
struct Wait {
    /// `None`: as long as the attempt's timeout.
    pool_wait: Option<Option<Duration>>,
    /// The transport's attempt timeout (the request's options may override it).
    request_timeout: Option<Duration>,
}

impl Wait {
    fn for_request(&self, opts: Option<&RequestOptions>) -> Option<Duration> {
        match self.pool_wait {
            Some(w) => w,
            None => opts.and_then(|o| o.timeout).or(self.request_timeout),
        }
    }
}

impl PoolLayer {
    pub(crate) fn new(pool: Arc<NodePool>, clock: Arc<dyn Clock>) -> Self {
        PoolLayer {
            pool,
            clock,
            wait: Wait::default(),
        }
    }

    /// Sets the pool-wait timeout (`None`: the attempt timeout, which is `request_timeout`
    /// unless the request's options set one).
    pub(crate) fn with_wait(
        mut self,
        pool_wait: Option<Option<Duration>>,
        request_timeout: Option<Duration>,
    ) -> Self {
        self.wait = Wait {
            pool_wait,
            request_timeout,
        };
        self
    }
}

impl<S> Layer<S> for PoolLayer {
    type Service = Pool<S>;
    fn layer(&self, inner: S) -> Pool<S> {
        Pool {
            inner,
            pool: self.pool.clone(),
            clock: self.clock.clone(),
            wait: self.wait,
        }
    }
}

/// Routes each attempt to a node from the pool.
#[derive(Debug, Clone)]
pub struct Pool<S> {
    inner: S,
    pool: Arc<NodePool>,
    clock: Arc<dyn Clock>,
    wait: Wait,
}

/// Whether a failure says the node is unreachable or broken (as opposed to busy).
fn marks_dead(e: &Error) -> bool {
    matches!(
        e.kind(),
        ErrorKind::Connect | ErrorKind::Timeout | ErrorKind::Tls | ErrorKind::InvalidResponse
    )
}

// ===== impl Pool =====

impl<S> Service<HttpRequest> for Pool<S>
where
    S: Service<HttpRequest, Response = HttpResponse, Error = Error> + Clone + Send + 'static,
    S::Future: Send + 'static,
{
    type Response = HttpResponse;
    type Error = Error;
    type Future = BoxFuture<Result<HttpResponse, Error>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut req: HttpRequest) -> Self::Future {
        let Some(node) = self.pool.select() else {
            return Box::pin(async {
                Err(Error::new(
                    ErrorKind::NoNodeAvailable,
                    "the node pool is empty",
                ))
            });
        };
        // scheme://host:port + prefix + path?query
        let pq = req.uri().path_and_query().map_or("/", PathAndQuery::as_str);
        let full = if node.url.path_prefix.is_empty() {
            None
        } else {
            Some(format!("{}{pq}", node.url.path_prefix))
        };
        let pq = match full.as_deref().unwrap_or(pq).parse::<PathAndQuery>() {
            Ok(p) => p,
            Err(e) => {
                return Box::pin(async move {
                    Err(Error::config("invalid request path").with_source(e))
                });
            }
        };
        let mut parts = http::uri::Parts::default();
        parts.scheme = Some(node.url.scheme.clone());
        parts.authority = Some(node.authority.clone());
        parts.path_and_query = Some(pq);
        match Uri::from_parts(parts) {
            Ok(uri) => *req.uri_mut() = uri,
            Err(e) => {
                return Box::pin(async move {
                    Err(Error::config("invalid request URI").with_source(e))
                });
            }
        }
        let attempt = req.extensions().get::<Attempt>().map_or(1, |a| a.0);
        let retry = attempt > 1;
        let span = tracing::info_span!(
            target: "elasticsearch",
            "es.attempt",
            http.request.resend_count = attempt - 1,
            server.address = node.url.host(),
            server.port = node.url.port(),
            elasticsearch.node.name = tracing::field::Empty,
            http.response.status_code = tracing::field::Empty,
            error.type = tracing::field::Empty,
        );
        if !span.is_disabled()
            && let Some(name) = node.name()
        {
            span.record("elasticsearch.node.name", &*name);
        }
        req.extensions_mut().insert(SelectedNode(node.clone()));
        let operation = req
            .extensions()
            .get::<Endpoint>()
            .map_or("request", |e| e.0);
        let method = req.method().clone();
        let wait = self
            .wait
            .for_request(req.extensions().get::<RequestOptions>());
        // The inner service is always ready (every layer below is), so a clone can be called.
        let mut inner = self.inner.clone();
        let pool = self.pool.clone();
        let clock = self.clock.clone();
        Box::pin(
            async move {
                // Queued behind other requests to this node: not the node's fault, not timed
                // by the attempt timeout, nothing signed yet.
                let permit = match node.conns.acquire(wait).await {
                    Ok(p) => p,
                    Err(e) => {
                        node.counters.pool_timeout();
                        return Err(e.with_node(&*node.id));
                    }
                };
                req.extensions_mut().insert(HeldPermit::new(permit));
                let start = clock.now();
                let result = inner.call(req).await;
                let elapsed = clock.now().saturating_duration_since(start);
                // OpenTelemetry's `error.type` of the attempt (see the trace layer's docs):
                // borrowed, computed once for the span and the event.
                let status = match &result {
                    Ok(r) => Some(r.status()),
                    Err(e) => e.status(),
                };
                let error_type = match &result {
                    Ok(_) => status
                        .as_ref()
                        .filter(|s| s.as_u16() >= 400)
                        .map(http::StatusCode::as_str),
                    Err(e) if e.is_stale_connection() => Some("StaleConnection"),
                    Err(e) => Some(super::trace::error_type(status.as_ref(), e.kind())),
                };
                let span = tracing::Span::current();
                if !span.is_disabled() {
                    if let Some(s) = status {
                        span.record("http.response.status_code", s.as_u16());
                    }
                    if let Some(t) = error_type {
                        span.record("error.type", t);
                    }
                }
                // OpenTelemetry's HTTP client attributes, on the attempt's metrics event
                // (its fields are evaluated only when a subscriber wants it).
                tracing::trace!(
                    target: "elasticsearch.metrics",
                    {
                        http.client.request.duration = elapsed.as_secs_f64(),
                        db.system.name = "elasticsearch",
                        db.operation.name = operation,
                        http.request.method = %method,
                        server.address = node.url.host(),
                        server.port = node.url.port(),
                        http.request.resend_count = attempt - 1,
                        http.response.status_code = status.map(|s| s.as_u16()),
                        error.type = error_type,
                    },
                    "attempt"
                );
                match result {
                    Ok(mut resp) => {
                        let status = resp.status().as_u16();
                        let bad_gateway = status == 502 || status == 504;
                        node.counters
                            .record(!bad_gateway && status < 500, retry, elapsed);
                        if bad_gateway {
                            pool.mark_dead(&node);
                        } else {
                            pool.mark_live(&node);
                        }
                        resp.extensions_mut().insert(AnsweredBy(node.id.clone()));
                        Ok(resp)
                    }
                    Err(e) if e.is_stale_connection() => {
                        node.counters.stale(retry);
                        Err(e.with_node(&*node.id))
                    }
                    Err(e) => {
                        node.counters.record(false, retry, elapsed);
                        if marks_dead(&e) {
                            pool.mark_dead(&node);
                        }
                        Err(e.with_node(&*node.id))
                    }
                }
            }
            .instrument(span),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::layer::test_support::Scripted;
    use crate::pool::{Backoff, Node, RoundRobin};
    use crate::time::ManualClock;
    use bytes::Bytes;
    use tower::ServiceExt;

    fn setup(
        script: Vec<Box<dyn Fn() -> Result<HttpResponse, Error> + Send>>,
    ) -> (Pool<Scripted>, Scripted, Arc<NodePool>) {
        let clock = Arc::new(ManualClock::new());
        let nodes = ["http://a:9200", "https://u:p@b:9201/pre"]
            .iter()
            .map(|s| Arc::new(Node::new(s.parse().unwrap(), 10).unwrap()))
            .collect();
        let backoff = Backoff {
            factor: Duration::from_secs(1),
            max: Duration::from_secs(30),
        };
        let pool = Arc::new(NodePool::new(
            nodes,
            Arc::new(RoundRobin::new()),
            backoff,
            clock.clone(),
            10,
        ));
        let below = Scripted::new(script);
        (
            PoolLayer::new(pool.clone(), clock).layer(below.clone()),
            below,
            pool,
        )
    }

    fn req(path: &str) -> HttpRequest {
        let mut r = http::Request::new(Bytes::new());
        *r.uri_mut() = path.parse().unwrap();
        r
    }

    #[tokio::test]
    async fn rewrites_uri_per_node() {
        let (svc, below, _) = setup(vec![Scripted::status(200)]);
        let a = svc.clone().oneshot(req("/idx/_search?q=x")).await.unwrap();
        svc.oneshot(req("/idx/_search?q=x")).await.unwrap();
        let uris: Vec<String> = below
            .requests()
            .iter()
            .map(|r| r.uri().to_string())
            .collect();
        assert_eq!(
            uris,
            [
                "http://a:9200/idx/_search?q=x",
                "https://b:9201/pre/idx/_search?q=x"
            ]
        );
        assert_eq!(
            &*a.extensions().get::<AnsweredBy>().unwrap().0,
            "http://a:9200"
        );
    }

    #[tokio::test]
    async fn what_marks_dead() {
        for (script, dead) in [
            (Scripted::err(ErrorKind::Connect), true),
            (Scripted::err(ErrorKind::Timeout), true),
            (Scripted::status(502), true),
            (Scripted::status(504), true),
            (Scripted::status(503), false),
            (Scripted::status(429), false),
            (Scripted::status(404), false),
        ] {
            let (svc, _, pool) = setup(vec![script]);
            let r = svc.oneshot(req("/")).await;
            if let Err(e) = &r {
                assert_eq!(e.node(), Some("http://a:9200"));
            }
            assert_eq!(pool.stats()[0].is_dead, dead);
        }
    }

    #[tokio::test]
    async fn empty_pool() {
        let clock = Arc::new(ManualClock::new());
        let backoff = Backoff {
            factor: Duration::from_secs(1),
            max: Duration::from_secs(30),
        };
        let pool = Arc::new(NodePool::new(
            vec![],
            Arc::new(RoundRobin::new()),
            backoff,
            clock.clone(),
            10,
        ));
        let svc = PoolLayer::new(pool, clock).layer(Scripted::new(vec![Scripted::status(200)]));
        assert_eq!(
            svc.oneshot(req("/")).await.unwrap_err().kind(),
            ErrorKind::NoNodeAvailable
        );
    }
}
