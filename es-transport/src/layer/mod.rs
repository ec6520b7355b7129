//! The tower layers of the transport, one concern each, and the order they are stacked in.
//!
//! Outermost first:
//!
//! | layer | concern |
//! | --- | --- |
//! | [`TraceLayer`] | one span per request; the `elasticsearch` log line; the curl trace |
//! | [`RetryLayer`] | retries on connection errors, timeouts (if enabled) and retryable statuses; backoff |
//! | [`SniffLayer`] | sniffing on start, on an interval, after a connection failure |
//! | [`PoolLayer`] | picks a node, rewrites the URI, marks nodes dead or alive, counts |
//! | [`HeadersLayer`] | user-agent, default and per-request headers, opaque id, auth, product check |
//! | [`CompressionLayer`] | gzip request bodies, `Accept-Encoding`, transparent gzip responses |
//! | [`TimeoutLayer`] | the per-attempt timeout |
//! | [`HttpService`] | pooled keep-alive HTTP/1.1 connections (not a layer: the bottom service) |
//!
//! Retry sits above the pool so that each attempt picks a node anew; signing and
//! compression sit low so that they see the final bytes. Every layer works on
//! `http::Request<Bytes>` / `http::Response<Bytes>` with the transport's [`crate::Error`],
//! so a user's own layers ([`crate::TransportBuilder::layer`]) slot in the same way.
//!
//! Per-request facts travel in the request's extensions: [`crate::RequestOptions`],
//! [`Attempt`], [`Endpoint`]; responses carry [`AnsweredBy`].

pub(crate) mod compression;
pub(crate) mod headers;
pub(crate) mod http;
pub(crate) mod pool;
pub(crate) mod retry;
pub(crate) mod sniff;
pub(crate) mod timeout;
pub(crate) mod trace;

use std::future::Future;
use std::pin::Pin;

use bytes::Bytes;

pub use self::compression::{Compression, CompressionLayer};
pub use self::headers::{Headers, HeadersLayer, default_user_agent};
pub use self::http::HttpService;
pub use self::pool::{Pool, PoolLayer};
pub use self::retry::{Retry, RetryLayer};
pub use self::sniff::{Sniff, SniffLayer};
pub use self::timeout::{Timeout, TimeoutLayer};
pub use self::trace::{Trace, TraceLayer};

/// The request type every layer handles.
pub type HttpRequest = ::http::Request<Bytes>;
/// The response type every layer returns; the body is complete.
pub type HttpResponse = ::http::Response<Bytes>;
/// The boxed future of the layers.
pub type BoxFuture<T> = Pin<Box<dyn Future<Output = T> + Send + 'static>>;

/// Extension: the attempt number (1 for the first try), set by the retry layer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Attempt(pub u32);

/// Extension: the endpoint name (`"search"`), for spans.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Endpoint(pub &'static str);

/// Response extension: the node (URL without credentials) that answered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AnsweredBy(pub std::sync::Arc<str>);

/// Response extension: the nodes tried before this response, failed ones first.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Tried(pub(crate) Vec<String>);

/// Copies a request (body bytes are shared, not copied) for another attempt.
pub(crate) fn clone_request(req: &HttpRequest) -> HttpRequest {
    let mut r = ::http::Request::new(req.body().clone());
    *r.method_mut() = req.method().clone();
    *r.uri_mut() = req.uri().clone();
    *r.version_mut() = req.version();
    *r.headers_mut() = req.headers().clone();
    *r.extensions_mut() = req.extensions().clone();
    r
}

#[cfg(test)]
pub(crate) mod test_support {
    //! A scripted service to put below a layer in unit tests.
    use std::sync::{Arc, Mutex};

    use super::*;
    use crate::Error;

    pub(crate) type Step = Box<dyn Fn() -> Result<HttpResponse, Error> + Send>;

    /// Records requests and answers from a script (the last entry repeats).
    #[derive(Clone)]
    pub(crate) struct Scripted {
        pub(crate) seen: Arc<Mutex<Vec<HttpRequest>>>,
        script: Arc<Mutex<Vec<Step>>>,
    }

    impl Scripted {
        pub(crate) fn new(script: Vec<Step>) -> Self {
            Scripted {
                seen: Default::default(),
                script: Arc::new(Mutex::new(script)),
            }
        }

        pub(crate) fn status(code: u16) -> Step {
            Box::new(move || {
                Ok(::http::Response::builder()
                    .status(code)
                    .body(Bytes::new())
                    .unwrap())
            })
        }

        pub(crate) fn err(kind: crate::ErrorKind) -> Step {
            Box::new(move || Err(Error::custom(kind, "scripted")))
        }

        pub(crate) fn requests(&self) -> Vec<HttpRequest> {
            self.seen
                .lock()
                .unwrap()
                .iter()
                .map(clone_request)
                .collect()
        }
    }

    impl tower::Service<HttpRequest> for Scripted {
        type Response = HttpResponse;
        type Error = Error;
        type Future = BoxFuture<Result<HttpResponse, Error>>;

        fn poll_ready(
            &mut self,
            _: &mut std::task::Context<'_>,
        ) -> std::task::Poll<Result<(), Error>> {
            std::task::Poll::Ready(Ok(()))
        }

        fn call(&mut self, req: HttpRequest) -> Self::Future {
            let n = {
                let mut seen = self.seen.lock().unwrap();
                seen.push(req);
                seen.len()
            };
            let script = self.script.lock().unwrap();
            let f = &script[(n - 1).min(script.len() - 1)];
            let out = f();
            Box::pin(async move { out })
        }
    }
}
