//! Sniff layer: refreshes the node pool from the cluster, on start, on an interval and
//! after a connection failure.
//!
//! On start, the first request waits for the first sniff (whose failure does not fail it).
//! Interval and on-failure sniffs run in the background, triggered by requests; at most one
//! sniff runs at a time. A failed sniff keeps the old node list. The sniff request goes
//! through the layers below (pool, headers, compression, timeout), so it uses the pool's
//! nodes and credentials, with `sniff_timeout` as its timeout.
//!
//! The configured hosts (the seeds) are kept: when a sniff fails on every node of the pool
//! (all sniffed addresses changed, say), the seeds are put back into the pool and the sniff
//! is tried through them, so the client finds the cluster again without a restart. Sniffed
//! nodes take the scheme, path prefix and credentials of the first `https` seed if there is
//! one (never downgrading to http), else of the first seed.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::Instant;

use bytes::Bytes;
use tokio::sync::OnceCell;
use tower::{Layer, Service, ServiceExt};

use super::{BoxFuture, HttpRequest, HttpResponse};
use crate::node::NodeUrl;
use crate::pool::NodePool;
use crate::sniff::{SniffConfig, parse_nodes, to_named_urls};
use crate::time::Clock;
use crate::{Error, RequestOptions};

pub(crate) struct SniffState {
    config: SniffConfig,
    pool: Arc<NodePool>,
    clock: Arc<dyn Clock>,
    template: NodeUrl,
    seeds: Vec<NodeUrl>,
    running: AtomicBool,
    last: Mutex<Option<Instant>>,
    started: OnceCell<()>,
}

impl std::fmt::Debug for SniffState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SniffState")
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

/// Applies [`Sniff`].
#[derive(Debug, Clone)]
pub struct SniffLayer {
    state: Arc<SniffState>,
}

impl SniffLayer {
    pub(crate) fn new(
        config: SniffConfig,
        pool: Arc<NodePool>,
        clock: Arc<dyn Clock>,
        seeds: Vec<NodeUrl>,
    ) -> Self {
        let template = seeds
            .iter()
            .find(|u| u.is_https())
            .or_else(|| seeds.first())
            .cloned()
            .unwrap_or_else(|| NodeUrl::new("http", "localhost", 9200).expect("a valid URL"));
        SniffLayer {
            state: Arc::new(SniffState {
                config,
                pool,
                clock,
                template,
                seeds,
                running: AtomicBool::new(false),
                last: Mutex::new(None),
                started: OnceCell::new(),
            }),
        }
    }
}

impl SniffLayer {
    /// Sniffs now through `inner` (the stack below this layer) and waits for the result.
    pub(crate) async fn sniff_now(
        &self,
        inner: crate::transport::BoxedService,
    ) -> Result<usize, Error> {
        match Sniff::sniff_now(inner, self.state.clone()).await {
            Some(r) => r,
            None => Err(Error::config("a sniff is already running")),
        }
    }
}

impl<S> Layer<S> for SniffLayer {
    type Service = Sniff<S>;
    fn layer(&self, inner: S) -> Sniff<S> {
        Sniff {
            inner,
            state: self.state.clone(),
        }
    }
}

/// Keeps the node pool in step with the cluster.
#[derive(Debug, Clone)]
pub struct Sniff<S> {
    inner: S,
    state: Arc<SniffState>,
}

/// Releases the "a sniff is running" flag when the sniff ends or is dropped.
struct RunningGuard(Arc<SniffState>);

impl Drop for RunningGuard {
    fn drop(&mut self) {
        self.0.running.store(false, Ordering::Release);
    }
}

// ===== impl Sniff =====

impl<S> Sniff<S>
where
    S: Service<HttpRequest, Response = HttpResponse, Error = Error> + Clone + Send + 'static,
    S::Future: Send + 'static,
{
    /// Runs one sniff now, unless one is running. Returns the node count, or `None` when
    /// another sniff was running.
    pub(crate) async fn sniff_now(
        inner: S,
        state: Arc<SniffState>,
    ) -> Option<Result<usize, Error>> {
        if state.running.swap(true, Ordering::AcqRel) {
            return None;
        }
        let _guard = RunningGuard(state.clone());
        let result = Self::do_sniff(inner, &state).await;
        *state.last.lock().unwrap_or_else(|p| p.into_inner()) = Some(state.clock.now());
        match &result {
            Ok(n) => tracing::info!(target: "elasticsearch", nodes = n, "sniffed the cluster"),
            Err(e) => {
                tracing::warn!(target: "elasticsearch", error = %e, "sniff failed; keeping the node list")
            }
        }
        Some(result)
    }

    async fn do_sniff(inner: S, state: &SniffState) -> Result<usize, Error> {
        match Self::sniff_pool(inner.clone(), state).await {
            Ok(n) => Ok(n),
            // Every node of the pool failed to answer: fall back to the seeds.
            Err(e)
                if e.is_connect()
                    || e.is_timeout()
                    || e.kind() == crate::ErrorKind::NoNodeAvailable =>
            {
                if state.pool.add_nodes(&state.seeds) == 0 {
                    return Err(e);
                }
                tracing::warn!(target: "elasticsearch", error = %e, "sniff failed on every known node; trying the seed hosts");
                Self::sniff_pool(inner, state).await
            }
            Err(e) => Err(e),
        }
    }

    async fn sniff_pool(inner: S, state: &SniffState) -> Result<usize, Error> {
        let tries = state.pool.len().max(1);
        let mut last_err = Error::new(crate::ErrorKind::NoNodeAvailable, "no node to sniff from");
        for _ in 0..tries {
            let mut req = http::Request::new(Bytes::new());
            *req.uri_mut() = http::Uri::from_static("/_nodes/_all/http");
            req.extensions_mut()
                .insert(RequestOptions::new().timeout(state.config.timeout));
            match inner.clone().oneshot(req).await {
                Ok(resp) if resp.status().is_success() => {
                    let nodes = parse_nodes(resp.body())?;
                    let named = to_named_urls(&nodes, &state.template, &state.config);
                    let urls: Vec<NodeUrl> = named.iter().map(|(u, _)| u.clone()).collect();
                    if urls.is_empty() {
                        return Err(Error::config(
                            "the sniff found no usable node; keeping the node list",
                        ));
                    }
                    let n = urls.len();
                    state.pool.set_nodes(urls)?;
                    state.pool.set_node_names(named);
                    return Ok(n);
                }
                Ok(resp) => {
                    last_err = Error::api(crate::error::ApiError::from_response(
                        resp.status(),
                        resp.headers().clone(),
                        resp.body().clone(),
                    ));
                }
                Err(e) => last_err = e,
            }
        }
        Err(last_err)
    }

    fn spawn_sniff(&self) {
        if self.state.running.load(Ordering::Acquire) {
            return;
        }
        let inner = self.inner.clone();
        let state = self.state.clone();
        tokio::spawn(async move {
            let _ = Self::sniff_now(inner, state).await;
        });
    }

    fn interval_due(&self) -> bool {
        let Some(every) = self.state.config.interval else {
            return false;
        };
        let last = *self.state.last.lock().unwrap_or_else(|p| p.into_inner());
        match last {
            Some(t) => self.state.clock.now().saturating_duration_since(t) >= every,
            None => {
                // The interval counts from the first request.
                *self.state.last.lock().unwrap_or_else(|p| p.into_inner()) =
                    Some(self.state.clock.now());
                false
            }
        }
    }
}

impl<S> Service<HttpRequest> for Sniff<S>
where
    S: Service<HttpRequest, Response = HttpResponse, Error = Error> + Clone + Send + 'static,
    S::Future: Send + 'static,
{
    type Response = HttpResponse;
    type Error = Error;
    type Future = BoxFuture<Result<HttpResponse, Error>>;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), Error>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, req: HttpRequest) -> Self::Future {
        let this = self.clone();
        Box::pin(async move {
            let state = &this.state;
            if state.config.on_start && !state.started.initialized() {
                let inner = this.inner.clone();
                let st = state.clone();
                state
                    .started
                    .get_or_init(|| async move {
                        let _ = Self::sniff_now(inner, st).await;
                    })
                    .await;
            } else if this.interval_due() {
                this.spawn_sniff();
            }
            let result = this.inner.clone().oneshot(req).await;
            if state.config.on_connection_fail
                && let Err(e) = &result
                && (e.is_connect() || e.is_timeout())
            {
                this.spawn_sniff();
            }
            result
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pool::{Backoff, Node, RoundRobin};
    use crate::time::ManualClock;
    use std::sync::atomic::AtomicUsize;
    use std::time::Duration;

    const NODES: &str = r#"{"nodes":{"x":{"roles":["data"],"http":{"publish_address":"10.1.1.1:9200"}},
        "y":{"roles":["data"],"http":{"publish_address":"h2/10.1.1.2:9200"}}}}"#;

    type Below = tower::util::BoxCloneSyncService<HttpRequest, HttpResponse, Error>;

    fn setup(
        config: SniffConfig,
        sniff_body: &'static str,
    ) -> (Sniff<Below>, Arc<NodePool>, ManualClock, Arc<AtomicUsize>) {
        let clock = ManualClock::new();
        let pool = Arc::new(NodePool::new(
            vec![Arc::new(
                Node::new("http://seed:9200".parse().unwrap(), 10).unwrap(),
            )],
            Arc::new(RoundRobin::new()),
            Backoff {
                factor: Duration::from_secs(1),
                max: Duration::from_secs(30),
            },
            Arc::new(clock.clone()),
            10,
        ));
        let sniffs = Arc::new(AtomicUsize::new(0));
        let s2 = sniffs.clone();
        let below = tower::service_fn(
            move |req: HttpRequest| -> BoxFuture<Result<HttpResponse, Error>> {
                let is_sniff = req.uri().path() == "/_nodes/_all/http";
                if is_sniff {
                    s2.fetch_add(1, Ordering::SeqCst);
                }
                Box::pin(async move {
                    if is_sniff {
                        assert!(
                            req.extensions()
                                .get::<RequestOptions>()
                                .unwrap()
                                .timeout
                                .is_some()
                        );
                        if sniff_body.is_empty() {
                            return Err(Error::connect("refused"));
                        }
                        return Ok(http::Response::new(Bytes::from_static(
                            sniff_body.as_bytes(),
                        )));
                    }
                    Ok(http::Response::new(Bytes::new()))
                })
            },
        );
        let layer = SniffLayer::new(
            config,
            pool.clone(),
            Arc::new(clock.clone()),
            vec!["http://seed:9200".parse().unwrap()],
        );
        (layer.layer(Below::new(below)), pool, clock, sniffs)
    }

    fn hosts(pool: &NodePool) -> Vec<String> {
        pool.urls().iter().map(|u| u.host().to_owned()).collect()
    }

    #[tokio::test]
    async fn sniff_on_start_waits_once() {
        let cfg = SniffConfig {
            on_start: true,
            ..Default::default()
        };
        let (svc, pool, _, sniffs) = setup(cfg, NODES);
        for _ in 0..3 {
            svc.clone()
                .oneshot(http::Request::new(Bytes::new()))
                .await
                .unwrap();
        }
        assert_eq!(sniffs.load(Ordering::SeqCst), 1);
        assert_eq!(hosts(&pool), ["10.1.1.1", "h2"]);
    }

    #[tokio::test]
    async fn failed_sniff_keeps_nodes_and_request_succeeds() {
        let cfg = SniffConfig {
            on_start: true,
            ..Default::default()
        };
        let (svc, pool, _, _) = setup(cfg, "");
        svc.oneshot(http::Request::new(Bytes::new())).await.unwrap();
        assert_eq!(hosts(&pool), ["seed"]);
        let cfg = SniffConfig {
            on_start: true,
            ..Default::default()
        };
        let (svc, pool, _, _) = setup(cfg, "{garbage");
        svc.oneshot(http::Request::new(Bytes::new())).await.unwrap();
        assert_eq!(hosts(&pool), ["seed"]);
    }

    #[tokio::test]
    async fn interval_sniff_in_background() {
        let cfg = SniffConfig {
            interval: Some(Duration::from_secs(60)),
            ..Default::default()
        };
        let (svc, pool, clock, sniffs) = setup(cfg, NODES);
        svc.clone()
            .oneshot(http::Request::new(Bytes::new()))
            .await
            .unwrap();
        clock.advance(Duration::from_secs(59));
        svc.clone()
            .oneshot(http::Request::new(Bytes::new()))
            .await
            .unwrap();
        assert_eq!(sniffs.load(Ordering::SeqCst), 0);
        clock.advance(Duration::from_secs(1));
        svc.clone()
            .oneshot(http::Request::new(Bytes::new()))
            .await
            .unwrap();
        for _ in 0..100 {
            if sniffs.load(Ordering::SeqCst) == 1 && pool.len() == 2 {
                break;
            }
            tokio::task::yield_now().await;
        }
        assert_eq!(sniffs.load(Ordering::SeqCst), 1);
        assert_eq!(hosts(&pool), ["10.1.1.1", "h2"]);
    }

    #[tokio::test]
    async fn one_sniff_at_a_time() {
        let cfg = SniffConfig::default();
        let (svc, _, _, sniffs) = setup(cfg, NODES);
        svc.state.running.store(true, Ordering::SeqCst);
        assert!(
            Sniff::sniff_now(svc.inner.clone(), svc.state.clone())
                .await
                .is_none()
        );
        svc.state.running.store(false, Ordering::SeqCst);
        assert!(
            Sniff::sniff_now(svc.inner.clone(), svc.state.clone())
                .await
                .is_some()
        );
        assert_eq!(sniffs.load(Ordering::SeqCst), 1);
    }
}
