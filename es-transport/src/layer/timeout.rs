//! Timeout layer: bounds each attempt by the request's timeout or the transport's.
//!
//! Sits just above the HTTP service, so it covers connecting, sending and reading the
//! whole body of one attempt. An expired attempt is [`crate::ErrorKind::Timeout`].

use std::task::{Context, Poll};
use std::time::Duration;

use tower::{Layer, Service};

use super::{BoxFuture, HttpRequest, HttpResponse};
use crate::{Error, RequestOptions};

/// Applies [`Timeout`].
#[derive(Debug, Clone, Copy)]
pub struct TimeoutLayer {
    default: Option<Duration>,
}

impl TimeoutLayer {
    /// A layer with the default timeout (`None`: no timeout unless the request sets one).
    pub fn new(default: Option<Duration>) -> Self {
        TimeoutLayer { default }
    }
}

impl<S> Layer<S> for TimeoutLayer {
    type Service = Timeout<S>;
    fn layer(&self, inner: S) -> Timeout<S> {
        Timeout {
            inner,
            default: self.default,
        }
    }
}

/// Fails an attempt that takes longer than its timeout.
#[derive(Debug, Clone)]
pub struct Timeout<S> {
    inner: S,
    default: Option<Duration>,
}

// ===== impl Timeout =====

impl<S> Service<HttpRequest> for Timeout<S>
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
        let timeout = req
            .extensions()
            .get::<RequestOptions>()
            .and_then(|o| o.timeout)
            .or(self.default);
        let fut = self.inner.call(req);
        Box::pin(async move {
            match timeout {
                Some(t) => match tokio::time::timeout(t, fut).await {
                    Ok(r) => r,
                    Err(_) => Err(Error::timeout(format!("no complete response within {t:?}"))),
                },
                None => fut.await,
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use bytes::Bytes;
    use tower::ServiceExt;

    fn slow(
        d: Duration,
    ) -> impl Service<
        HttpRequest,
        Response = HttpResponse,
        Error = Error,
        Future = BoxFuture<Result<HttpResponse, Error>>,
    > + Clone {
        tower::service_fn(
            move |_req: HttpRequest| -> BoxFuture<Result<HttpResponse, Error>> {
                Box::pin(async move {
                    tokio::time::sleep(d).await;
                    Ok(http::Response::new(Bytes::new()))
                })
            },
        )
    }

    #[tokio::test(start_paused = true)]
    async fn default_and_per_request() {
        let svc =
            TimeoutLayer::new(Some(Duration::from_secs(1))).layer(slow(Duration::from_secs(2)));
        let err = svc
            .clone()
            .oneshot(http::Request::new(Bytes::new()))
            .await
            .unwrap_err();
        assert!(err.is_timeout());
        let mut req = http::Request::new(Bytes::new());
        req.extensions_mut()
            .insert(RequestOptions::new().timeout(Duration::from_secs(3)));
        assert!(svc.oneshot(req).await.is_ok());
    }

    #[tokio::test(start_paused = true)]
    async fn none_means_unbounded() {
        let svc = TimeoutLayer::new(None).layer(slow(Duration::from_secs(3600)));
        assert!(svc.oneshot(http::Request::new(Bytes::new())).await.is_ok());
    }
}
