//! Retry layer: sends a failed attempt again, on another node, up to `max_retries` times.
//!
//! Retried: connection errors (at once, since the pool picks another node), timeouts only
//! with `retry_on_timeout`, and statuses in `retry_on_status` (default 429, 502, 503, 504)
//! after a jittered exponential backoff that honours `Retry-After`. The wait stops as soon
//! as the caller drops the request. When every attempt fails, the error says how many
//! attempts were made, on which nodes, and the last cause.
//!
//! Exactly once: a request that is not idempotent (`RequestOptions::idempotent`, resolved
//! by the transport from the request's mark and its method) is resent only after a failure
//! that proves it was not executed: a connection error or a timeout with
//! `may_have_reached_server() == false`, or a 429 (the server refused it). After anything
//! else (a connection cut after writing, a 502/503/504 from a gateway, an unreadable
//! answer, a timeout) the failure is returned as it is, with `may_have_reached_server()`.
//!
//! Owns: the attempt loop, backoff, the `Attempt` / `Tried` extensions. May not touch: the
//! node pool (it only reads `AnsweredBy` and the error's node).

use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use http::header::RETRY_AFTER;
use tower::{Layer, Service, ServiceExt};

use super::{AnsweredBy, Attempt, BoxFuture, HttpRequest, HttpResponse, Tried, clone_request};
use crate::{Error, ErrorKind, RequestOptions};

/// Settings of the retry layer.
#[derive(Debug, Clone)]
pub(crate) struct RetryConfig {
    pub(crate) max_retries: u32,
    pub(crate) retry_on_timeout: bool,
    pub(crate) retry_on_status: Vec<u16>,
    pub(crate) backoff_base: Duration,
    pub(crate) backoff_max: Duration,
}

impl Default for RetryConfig {
    fn default() -> Self {
        RetryConfig {
            max_retries: 3,
            retry_on_timeout: false,
            retry_on_status: vec![429, 502, 503, 504],
            backoff_base: Duration::from_millis(200),
            backoff_max: Duration::from_secs(30),
        }
    }
}

impl RetryConfig {
    /// The wait before retry number `n` (1-based) after a retryable status: the server's
    /// `Retry-After` when given (capped at `backoff_max`), otherwise
    /// `base * 2^(n-1)` capped at `backoff_max`, scaled by a random factor in [0.5, 1).
    pub(crate) fn backoff(&self, n: u32, retry_after: Option<Duration>) -> Duration {
        if let Some(ra) = retry_after {
            return ra.min(self.backoff_max);
        }
        let exp = self
            .backoff_base
            .saturating_mul(1u32 << n.saturating_sub(1).min(20))
            .min(self.backoff_max);
        exp.mul_f64(0.5 + fastrand::f64() / 2.0)
    }
}

/// Parses `Retry-After`: seconds, or an HTTP-date (RFC 9110), capped at a day.
fn retry_after(resp: &HttpResponse) -> Option<Duration> {
    parse_retry_after(resp.headers().get(RETRY_AFTER)?)
}

/// A `Retry-After` value, capped at a day: delay-seconds (`120`, fractions accepted), or an
/// HTTP-date (`Wed, 21 Oct 2015 07:28:00 GMT`, and the obsolete forms), read against the
/// wall clock (a date in the past is no wait). `None` for anything else.
pub(crate) fn parse_retry_after(v: &http::HeaderValue) -> Option<Duration> {
    parse_retry_after_at(v, std::time::SystemTime::now())
}

/// [`parse_retry_after`] with the current time given.
pub(crate) fn parse_retry_after_at(
    v: &http::HeaderValue,
    now: std::time::SystemTime,
) -> Option<Duration> {
    const DAY: f64 = 86_400.0;
    let v = v.to_str().ok()?.trim();
    if let Ok(s) = v.parse::<f64>() {
        return (s.is_finite() && s >= 0.0).then(|| Duration::from_secs_f64(s.min(DAY)));
    }
    let at = httpdate::parse_http_date(v).ok()?;
    let wait = at.duration_since(now).unwrap_or(Duration::ZERO);
    Some(wait.min(Duration::from_secs_f64(DAY)))
}

/// Applies [`Retry`].
#[derive(Debug, Clone)]
pub struct RetryLayer {
    config: Arc<RetryConfig>,
}

impl RetryLayer {
    pub(crate) fn new(config: RetryConfig) -> Self {
        RetryLayer {
            config: Arc::new(config),
        }
    }
}

impl<S> Layer<S> for RetryLayer {
    type Service = Retry<S>;
    fn layer(&self, inner: S) -> Retry<S> {
        Retry {
            inner,
            config: self.config.clone(),
        }
    }
}

/// Retries failed attempts.
#[derive(Debug, Clone)]
pub struct Retry<S> {
    inner: S,
    config: Arc<RetryConfig>,
}

// ===== impl Retry =====

impl<S> Service<HttpRequest> for Retry<S>
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
        let inner = self.inner.clone();
        let cfg = self.config.clone();
        Box::pin(async move {
            let opts = req.extensions().get::<RequestOptions>();
            let max_retries = opts.and_then(|o| o.max_retries).unwrap_or(cfg.max_retries);
            let on_timeout = opts
                .and_then(|o| o.retry_on_timeout)
                .unwrap_or(cfg.retry_on_timeout);
            let on_status: &[u16] = opts
                .and_then(|o| o.retry_on_status.as_deref())
                .unwrap_or(&cfg.retry_on_status);
            let ignored: &[u16] = opts.map_or(&[], |o| &o.ignore_status);
            // Set by `Transport::prepare`; a request built without it (a layer test, a user
            // service) follows the method rule.
            let idempotent = opts
                .and_then(|o| o.idempotent)
                .unwrap_or_else(|| crate::request::method_is_idempotent(req.method()));
            // Nodes of the failed attempts (allocated only when one fails).
            let mut tried: Vec<String> = Vec::new();
            let mut attempt: u32 = 0;
            // Whether an earlier attempt may have reached a server: then the request as a
            // whole may have, whatever the last attempt's error says.
            let mut reached = false;
            loop {
                attempt += 1;
                let mut r = clone_request(&req);
                if attempt > 1 {
                    r.extensions_mut().insert(Attempt(attempt));
                }
                let result = inner.clone().oneshot(r).await;
                let can_retry = attempt <= max_retries;
                match result {
                    Ok(mut resp) => {
                        let status = resp.status().as_u16();
                        // A 429 is the server refusing the work: safe to resend for any
                        // request. Any other status may come from a gateway whose backend
                        // did the work.
                        if can_retry
                            && on_status.contains(&status)
                            && !ignored.contains(&status)
                            && (idempotent || status == 429)
                        {
                            let node = resp
                                .extensions()
                                .get::<AnsweredBy>()
                                .map_or("", |a| &*a.0)
                                .to_owned();
                            let wait = cfg.backoff(attempt, retry_after(&resp));
                            tracing::warn!(
                                target: "elasticsearch",
                                node = %node, status, attempt, wait_ms = wait.as_millis() as u64,
                                "retrying after status {status}"
                            );
                            tried.push(node);
                            reached = true;
                            tokio::time::sleep(wait).await;
                            continue;
                        }
                        if attempt > 1 {
                            resp.extensions_mut().insert(Attempt(attempt));
                        }
                        if !tried.is_empty() {
                            if let Some(a) = resp.extensions().get::<AnsweredBy>() {
                                tried.push(a.0.to_string());
                            }
                            resp.extensions_mut().insert(Tried(tried));
                        }
                        return Ok(resp);
                    }
                    Err(mut e) => {
                        tried.push(e.node().unwrap_or("").to_owned());
                        let retryable = match e.kind() {
                            ErrorKind::Connect | ErrorKind::InvalidResponse => true,
                            ErrorKind::Timeout => on_timeout,
                            _ => false,
                        };
                        if can_retry && retryable && (idempotent || !e.may_have_reached_server()) {
                            reached |= e.may_have_reached_server();
                            tracing::warn!(
                                target: "elasticsearch",
                                node = e.node().unwrap_or(""), attempt, error = %e,
                                "retrying on another node"
                            );
                            continue;
                        }
                        e.set_attempts(attempt, tried);
                        if reached {
                            e = e.sent();
                        }
                        return Err(e);
                    }
                }
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::layer::test_support::Scripted;
    use bytes::Bytes;

    fn layer(max: u32) -> RetryLayer {
        RetryLayer::new(RetryConfig {
            max_retries: max,
            ..RetryConfig::default()
        })
    }

    fn with_node(
        f: Box<dyn Fn() -> Result<HttpResponse, Error> + Send>,
        node: &'static str,
    ) -> Box<dyn Fn() -> Result<HttpResponse, Error> + Send> {
        Box::new(move || match f() {
            Ok(mut r) => {
                r.extensions_mut().insert(AnsweredBy(node.into()));
                Ok(r)
            }
            Err(e) => Err(e.with_node(node)),
        })
    }

    #[tokio::test(start_paused = true)]
    async fn connection_errors_retry_then_succeed() {
        let below = Scripted::new(vec![
            with_node(Scripted::err(ErrorKind::Connect), "a"),
            with_node(Scripted::err(ErrorKind::Connect), "b"),
            with_node(Scripted::status(200), "c"),
        ]);
        let resp = layer(3)
            .layer(below.clone())
            .oneshot(http::Request::new(Bytes::new()))
            .await
            .unwrap();
        assert_eq!(resp.extensions().get::<Attempt>(), Some(&Attempt(3)));
        let attempts: Vec<u32> = below
            .requests()
            .iter()
            .map(|r| r.extensions().get::<Attempt>().map_or(1, |a| a.0))
            .collect();
        assert_eq!(attempts, [1, 2, 3]);
    }

    #[tokio::test(start_paused = true)]
    async fn gives_up_with_attempts_and_nodes() {
        let below = Scripted::new(vec![
            with_node(Scripted::err(ErrorKind::Connect), "a"),
            with_node(Scripted::err(ErrorKind::Connect), "b"),
        ]);
        let err = layer(2)
            .layer(below.clone())
            .oneshot(http::Request::new(Bytes::new()))
            .await
            .unwrap_err();
        assert_eq!(err.attempts(), 3);
        assert_eq!(err.nodes_tried(), ["a", "b", "b"]);
        assert!(err.is_connect());
    }

    #[tokio::test(start_paused = true)]
    async fn timeouts_only_when_enabled() {
        let below = Scripted::new(vec![
            Scripted::err(ErrorKind::Timeout),
            Scripted::status(200),
        ]);
        let err = layer(3)
            .layer(below.clone())
            .oneshot(http::Request::new(Bytes::new()))
            .await
            .unwrap_err();
        assert!(err.is_timeout());
        assert_eq!(below.requests().len(), 1);
        let below = Scripted::new(vec![
            Scripted::err(ErrorKind::Timeout),
            Scripted::status(200),
        ]);
        let mut req = http::Request::new(Bytes::new());
        req.extensions_mut()
            .insert(RequestOptions::new().retry_on_timeout(true));
        layer(3).layer(below.clone()).oneshot(req).await.unwrap();
        assert_eq!(below.requests().len(), 2);
    }

    #[tokio::test(start_paused = true)]
    async fn status_retry_honours_retry_after() {
        let below = Scripted::new(vec![
            Box::new(|| {
                Ok(http::Response::builder()
                    .status(503)
                    .header("retry-after", "7")
                    .body(Bytes::new())
                    .unwrap())
            }),
            Scripted::status(200),
        ]);
        let start = tokio::time::Instant::now();
        let resp = layer(3)
            .layer(below)
            .oneshot(http::Request::new(Bytes::new()))
            .await
            .unwrap();
        assert_eq!(resp.status(), 200);
        assert_eq!(start.elapsed().as_secs(), 7);
    }

    #[tokio::test(start_paused = true)]
    async fn status_exhausted_returns_last_response_and_404_is_not_retried() {
        let below = Scripted::new(vec![Scripted::status(429)]);
        let resp = layer(2)
            .layer(below.clone())
            .oneshot(http::Request::new(Bytes::new()))
            .await
            .unwrap();
        assert_eq!(resp.status(), 429);
        assert_eq!(below.requests().len(), 3);
        let below = Scripted::new(vec![Scripted::status(404)]);
        layer(2)
            .layer(below.clone())
            .oneshot(http::Request::new(Bytes::new()))
            .await
            .unwrap();
        assert_eq!(below.requests().len(), 1);
    }

    #[tokio::test(start_paused = true)]
    async fn dropping_the_request_stops_the_wait() {
        let below = Scripted::new(vec![Box::new(|| {
            Ok(http::Response::builder()
                .status(429)
                .header("retry-after", "20")
                .body(Bytes::new())
                .unwrap())
        })]);
        let fut = layer(3)
            .layer(below.clone())
            .oneshot(http::Request::new(Bytes::new()));
        let r = tokio::time::timeout(Duration::from_secs(1), fut).await;
        assert!(r.is_err());
        // Dropped during the first wait: no second attempt was ever made.
        tokio::time::sleep(Duration::from_secs(60)).await;
        assert_eq!(below.requests().len(), 1);
    }

    fn post(idempotent: Option<bool>) -> HttpRequest {
        let mut req = http::Request::new(Bytes::new());
        *req.method_mut() = http::Method::POST;
        let mut o = RequestOptions::new();
        if let Some(i) = idempotent {
            o = o.idempotent(i);
        }
        req.extensions_mut().insert(o);
        req
    }

    #[tokio::test(start_paused = true)]
    async fn unsafe_request_is_not_resent_after_an_answer_that_may_follow_the_work() {
        for status in [502u16, 503, 504] {
            let below = Scripted::new(vec![Scripted::status(status), Scripted::status(200)]);
            let resp = layer(3)
                .layer(below.clone())
                .oneshot(post(None))
                .await
                .unwrap();
            assert_eq!(resp.status(), status);
            assert_eq!(below.requests().len(), 1, "{status}");
            // Marked idempotent: resent.
            let below = Scripted::new(vec![Scripted::status(status), Scripted::status(200)]);
            let resp = layer(3)
                .layer(below.clone())
                .oneshot(post(Some(true)))
                .await
                .unwrap();
            assert_eq!(resp.status(), 200);
            assert_eq!(below.requests().len(), 2, "{status}");
        }
    }

    #[tokio::test(start_paused = true)]
    async fn unsafe_request_is_resent_after_429_and_unsent_failures_only() {
        let below = Scripted::new(vec![Scripted::status(429), Scripted::status(200)]);
        let resp = layer(3)
            .layer(below.clone())
            .oneshot(post(None))
            .await
            .unwrap();
        assert_eq!(resp.status(), 200);
        assert_eq!(below.requests().len(), 2);

        // Refused before writing: resent.
        let below = Scripted::new(vec![
            Box::new(|| Err(Error::new(ErrorKind::Connect, "refused").unsent())),
            Scripted::status(200),
        ]);
        layer(3)
            .layer(below.clone())
            .oneshot(post(None))
            .await
            .unwrap();
        assert_eq!(below.requests().len(), 2);

        // Cut after writing: one attempt, and the error says it may have been executed.
        for kind in [ErrorKind::Connect, ErrorKind::InvalidResponse] {
            let below = Scripted::new(vec![Scripted::err(kind), Scripted::status(200)]);
            let err = layer(3)
                .layer(below.clone())
                .oneshot(post(None))
                .await
                .unwrap_err();
            assert_eq!(below.requests().len(), 1, "{kind:?}");
            assert_eq!(err.attempts(), 1);
            assert!(err.may_have_reached_server());
        }
        // `idempotent(false)` on a GET wins over the method rule.
        let below = Scripted::new(vec![
            Scripted::err(ErrorKind::Connect),
            Scripted::status(200),
        ]);
        let mut get = http::Request::new(Bytes::new());
        get.extensions_mut()
            .insert(RequestOptions::new().idempotent(false));
        layer(3)
            .layer(below.clone())
            .oneshot(get)
            .await
            .unwrap_err();
        assert_eq!(below.requests().len(), 1);
    }

    #[tokio::test(start_paused = true)]
    async fn unsafe_timeout_is_not_resent_even_with_retry_on_timeout() {
        let below = Scripted::new(vec![
            Scripted::err(ErrorKind::Timeout),
            Scripted::status(200),
        ]);
        let mut req = post(None);
        req.extensions_mut()
            .insert(RequestOptions::new().retry_on_timeout(true));
        // The options above replaced the idempotency mark: unset on POST means unsafe.
        let err = layer(3)
            .layer(below.clone())
            .oneshot(req)
            .await
            .unwrap_err();
        assert!(err.is_timeout());
        assert_eq!(below.requests().len(), 1);
    }

    #[test]
    fn retry_after_seconds_and_http_dates() {
        use std::time::{SystemTime, UNIX_EPOCH};
        let hv = |s: &'static str| http::HeaderValue::from_static(s);
        // 2015-10-21T07:28:00Z, the RFC's example date.
        let at = UNIX_EPOCH + Duration::from_secs(1_445_412_480);
        let now = at - Duration::from_secs(90);
        for form in [
            "Wed, 21 Oct 2015 07:28:00 GMT",
            "Wednesday, 21-Oct-15 07:28:00 GMT",
            "Wed Oct 21 07:28:00 2015",
        ] {
            assert_eq!(
                parse_retry_after_at(&hv(form), now),
                Some(Duration::from_secs(90)),
                "{form}"
            );
        }
        // In the past: no wait. Far ahead: a day at most.
        let past = at + Duration::from_secs(5);
        assert_eq!(
            parse_retry_after_at(&hv("Wed, 21 Oct 2015 07:28:00 GMT"), past),
            Some(Duration::ZERO)
        );
        assert_eq!(
            parse_retry_after_at(&hv("Fri, 31 Dec 9999 23:59:59 GMT"), SystemTime::now()),
            Some(Duration::from_secs(86_400))
        );
        assert_eq!(
            parse_retry_after_at(&hv("7"), now),
            Some(Duration::from_secs(7))
        );
        for bad in ["soon", "-1", "Wed, 32 Oct 2015 07:28:00 GMT", ""] {
            assert_eq!(parse_retry_after_at(&hv(bad), now), None, "{bad}");
        }
    }

    #[test]
    fn backoff_bounds() {
        let c = RetryConfig::default();
        for n in 1..10 {
            let exp = c
                .backoff_base
                .saturating_mul(1 << (n - 1))
                .min(c.backoff_max);
            let d = c.backoff(n, None);
            assert!(d >= exp / 2 && d <= exp, "{n}: {d:?}");
        }
        assert_eq!(
            c.backoff(1, Some(Duration::from_secs(5))),
            Duration::from_secs(5)
        );
        assert_eq!(c.backoff(1, Some(Duration::from_secs(500))), c.backoff_max);
    }
}
