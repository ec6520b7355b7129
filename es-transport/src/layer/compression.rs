//! Compression layer: gzip request bodies, ask for gzip, and inflate gzip responses.
//!
//! With `http_compress(true)` a non-empty request body is gzipped and sent with
//! `Content-Encoding: gzip`. Every request says `Accept-Encoding: gzip`, and a gzip response
//! is decompressed before anything above sees it (bad gzip data is
//! [`crate::ErrorKind::InvalidResponse`]; an empty body stays empty, as some proxies send
//! `Content-Encoding: gzip` with no body). Inflating stops at the maximum response size
//! ([`crate::ErrorKind::ResponseTooLarge`]), so a gzip bomb cannot exhaust memory, and a
//! large body is inflated on a blocking thread rather than the runtime's. Sits below the headers layer and above the
//! timeout, so request signing (which must see the final bytes) goes below it.

use std::io::{Read, Write};
use std::task::{Context, Poll};

use bytes::Bytes;
use flate2::Compression as Level;
use flate2::read::MultiGzDecoder;
use flate2::write::GzEncoder;
use http::header::{ACCEPT_ENCODING, CONTENT_ENCODING, CONTENT_LENGTH, HeaderValue};
use tower::{Layer, Service};

use super::{BoxFuture, HttpRequest, HttpResponse};
use crate::{Error, ErrorKind};

/// Applies [`Compression`].
#[derive(Debug, Clone, Copy)]
pub struct CompressionLayer {
    compress_requests: bool,
    max_response_size: usize,
}

impl CompressionLayer {
    /// `compress_requests`: gzip request bodies (responses are always accepted gzipped).
    /// Inflated responses are capped at 512 MiB (see
    /// [`max_response_size`](Self::max_response_size)).
    pub fn new(compress_requests: bool) -> Self {
        CompressionLayer {
            compress_requests,
            max_response_size: crate::conn::DEFAULT_MAX_RESPONSE_SIZE,
        }
    }

    /// The largest inflated response body accepted.
    pub fn max_response_size(mut self, bytes: usize) -> Self {
        self.max_response_size = bytes;
        self
    }
}

/// Compressed bodies larger than this are inflated on a blocking thread.
const INFLATE_INLINE_MAX: usize = 64 * 1024;

impl<S> Layer<S> for CompressionLayer {
    type Service = Compression<S>;
    fn layer(&self, inner: S) -> Compression<S> {
        Compression {
            inner,
            compress_requests: self.compress_requests,
            max_response_size: self.max_response_size,
        }
    }
}

/// Gzips request bodies and inflates gzip responses.
#[derive(Debug, Clone)]
pub struct Compression<S> {
    inner: S,
    compress_requests: bool,
    max_response_size: usize,
}

/// Gzips `data`.
pub(crate) fn gzip(data: &[u8]) -> Bytes {
    let mut enc = GzEncoder::new(Vec::with_capacity(data.len() / 4 + 64), Level::fast());
    // Writing to a Vec cannot fail.
    let _ = enc.write_all(data);
    Bytes::from(enc.finish().unwrap_or_default())
}

/// Inflates gzip `data`, failing once the output would pass `max` bytes.
pub(crate) fn gunzip(data: &[u8], max: usize) -> Result<Bytes, Error> {
    let mut out = Vec::with_capacity(data.len().saturating_mul(4).min(max).min(1 << 24));
    // Read one byte past the limit to tell "exactly max" from "more than max".
    let limit = u64::try_from(max).unwrap_or(u64::MAX).saturating_add(1);
    MultiGzDecoder::new(data)
        .take(limit)
        .read_to_end(&mut out)
        .map_err(|e| {
            Error::new(ErrorKind::InvalidResponse, "bad gzip data in the response").with_source(e)
        })?;
    if out.len() > max {
        return Err(Error::new(
            ErrorKind::ResponseTooLarge,
            format!(
                "the gzip response body inflates to more than the limit of {max} bytes (max_response_size)"
            ),
        ));
    }
    Ok(Bytes::from(out))
}

/// Inflates on the current thread when small, on a blocking thread when large.
async fn inflate(data: Bytes, max: usize) -> Result<Bytes, Error> {
    if data.len() <= INFLATE_INLINE_MAX {
        return gunzip(&data, max);
    }
    tokio::task::spawn_blocking(move || gunzip(&data, max))
        .await
        .map_err(|e| {
            Error::new(ErrorKind::InvalidResponse, "inflating the response failed").with_source(e)
        })?
}

// ===== impl Compression =====

impl<S> Service<HttpRequest> for Compression<S>
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

    fn call(&mut self, mut req: HttpRequest) -> Self::Future {
        req.headers_mut()
            .insert(ACCEPT_ENCODING, HeaderValue::from_static("gzip"));
        if self.compress_requests
            && !req.body().is_empty()
            && !req.headers().contains_key(CONTENT_ENCODING)
        {
            let compressed = gzip(req.body());
            *req.body_mut() = compressed;
            req.headers_mut()
                .insert(CONTENT_ENCODING, HeaderValue::from_static("gzip"));
        }
        let fut = self.inner.call(req);
        let max = self.max_response_size;
        Box::pin(async move {
            let mut resp = fut.await?;
            let is_gzip = resp
                .headers()
                .get(CONTENT_ENCODING)
                .is_some_and(|v| v.as_bytes().eq_ignore_ascii_case(b"gzip"));
            if is_gzip && resp.body().is_empty() {
                // HEAD, 204, or a proxy that labels an empty body gzip: empty is empty.
                resp.headers_mut().remove(CONTENT_ENCODING);
            } else if is_gzip {
                let body = inflate(resp.body().clone(), max).await?;
                resp.headers_mut().remove(CONTENT_ENCODING);
                resp.headers_mut()
                    .insert(CONTENT_LENGTH, HeaderValue::from(body.len()));
                *resp.body_mut() = body;
            }
            Ok(resp)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tower::ServiceExt;

    fn echo_gzip() -> impl Service<
        HttpRequest,
        Response = HttpResponse,
        Error = Error,
        Future = BoxFuture<Result<HttpResponse, Error>>,
    > + Clone {
        tower::service_fn(
            |req: HttpRequest| -> BoxFuture<Result<HttpResponse, Error>> {
                Box::pin(async move {
                    assert_eq!(req.headers()[ACCEPT_ENCODING], "gzip");
                    // Echo the request body back, gzipped, with its headers noted.
                    let enc = req.headers().get(CONTENT_ENCODING).cloned();
                    let mut resp = http::Response::new(gzip(req.body()));
                    resp.headers_mut()
                        .insert(CONTENT_ENCODING, HeaderValue::from_static("gzip"));
                    if let Some(e) = enc {
                        resp.headers_mut().insert("x-request-encoding", e);
                    }
                    Ok(resp)
                })
            },
        )
    }

    #[tokio::test]
    async fn compresses_and_decompresses() {
        let svc = CompressionLayer::new(true).layer(echo_gzip());
        let body = Bytes::from(r#"{"query":{"match_all":{}}}"#.repeat(50));
        let resp = svc.oneshot(http::Request::new(body.clone())).await.unwrap();
        assert_eq!(resp.headers()["x-request-encoding"], "gzip");
        // The echoed body was our gzipped body gzipped again; inflate once more.
        let inner = gunzip(resp.body(), usize::MAX).unwrap();
        assert_eq!(inner, body);
        assert!(!resp.headers().contains_key(CONTENT_ENCODING));
    }

    #[tokio::test]
    async fn off_leaves_body_alone() {
        let svc = CompressionLayer::new(false).layer(echo_gzip());
        let resp = svc
            .oneshot(http::Request::new(Bytes::from_static(b"abc")))
            .await
            .unwrap();
        assert_eq!(resp.body(), &Bytes::from_static(b"abc"));
        assert!(!resp.headers().contains_key("x-request-encoding"));
    }

    #[tokio::test]
    async fn bad_gzip_is_an_error() {
        let svc = CompressionLayer::new(false).layer(tower::service_fn(|_r: HttpRequest| async {
            let mut resp = http::Response::new(Bytes::from_static(b"not gzip at all"));
            resp.headers_mut()
                .insert(CONTENT_ENCODING, HeaderValue::from_static("gzip"));
            Ok::<_, Error>(resp)
        }));
        let err = svc
            .oneshot(http::Request::new(Bytes::new()))
            .await
            .unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidResponse);
    }

    fn gzip_response(
        body: Bytes,
    ) -> impl Service<
        HttpRequest,
        Response = HttpResponse,
        Error = Error,
        Future = BoxFuture<Result<HttpResponse, Error>>,
    > + Clone {
        tower::service_fn(
            move |_r: HttpRequest| -> BoxFuture<Result<HttpResponse, Error>> {
                let body = body.clone();
                Box::pin(async move {
                    let mut resp = http::Response::new(body);
                    resp.headers_mut()
                        .insert(CONTENT_ENCODING, HeaderValue::from_static("gzip"));
                    Ok(resp)
                })
            },
        )
    }

    #[tokio::test]
    async fn empty_gzip_body_is_empty() {
        let resp = CompressionLayer::new(false)
            .layer(gzip_response(Bytes::new()))
            .oneshot(http::Request::new(Bytes::new()))
            .await
            .unwrap();
        assert!(resp.body().is_empty());
        assert!(!resp.headers().contains_key(CONTENT_ENCODING));
    }

    #[tokio::test]
    async fn inflate_is_capped() {
        // 4 MiB of zeros gzips to a few KiB.
        let bomb = gzip(&vec![0u8; 4 << 20]);
        assert!(bomb.len() < 64 * 1024, "{}", bomb.len());
        let err = CompressionLayer::new(false)
            .max_response_size(1 << 20)
            .layer(gzip_response(bomb.clone()))
            .oneshot(http::Request::new(Bytes::new()))
            .await
            .unwrap_err();
        assert_eq!(err.kind(), ErrorKind::ResponseTooLarge, "{err}");
        assert!(err.to_string().contains("1048576"), "{err}");
        // Exactly at the limit is fine.
        let resp = CompressionLayer::new(false)
            .max_response_size(4 << 20)
            .layer(gzip_response(bomb))
            .oneshot(http::Request::new(Bytes::new()))
            .await
            .unwrap();
        assert_eq!(resp.body().len(), 4 << 20);
    }

    /// Inflates `gz` through the layer on a current-thread runtime while a ticker task
    /// spins on the same thread; returns the body and how often the ticker ran meanwhile.
    /// An inflate on the runtime thread runs inside one poll of the request's future, so
    /// nothing else on that thread can run until it ends: 0 ticks.
    fn inflate_beside_a_ticker(gz: Bytes) -> (Bytes, u64) {
        use std::sync::Arc;
        use std::sync::atomic::{AtomicU64, Ordering};
        let rt = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        rt.block_on(async move {
            let ticks = Arc::new(AtomicU64::new(0));
            let t = ticks.clone();
            let ticker = tokio::spawn(async move {
                loop {
                    t.fetch_add(1, Ordering::SeqCst);
                    tokio::task::yield_now().await;
                }
            });
            let before = ticks.load(Ordering::SeqCst);
            let resp = CompressionLayer::new(false)
                .layer(gzip_response(gz))
                .oneshot(http::Request::new(Bytes::new()))
                .await
                .unwrap();
            let during = ticks.load(Ordering::SeqCst) - before;
            ticker.abort();
            (resp.into_body(), during)
        })
    }

    #[test]
    fn large_bodies_inflate_on_the_blocking_path() {
        // Incompressible-ish data so the compressed body passes the inline threshold.
        let mut x = 0x2545_f491_4f6c_dd1du64;
        let data: Vec<u8> = (0..(4u32 << 20))
            .map(|_| {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                x as u8
            })
            .collect();
        let gz = gzip(&data);
        assert!(gz.len() > INFLATE_INLINE_MAX);
        let (body, ticks) = inflate_beside_a_ticker(gz);
        assert_eq!(&body[..], &data[..]);
        // The runtime thread stayed free while another thread inflated.
        assert!(ticks > 0, "the inflate held the runtime thread");
        // The control: a small body is inflated inline, and the ticker never runs meanwhile.
        let small = data.get(..1024).unwrap();
        let (body, ticks) = inflate_beside_a_ticker(gzip(small));
        assert_eq!(&body[..], small);
        assert_eq!(ticks, 0, "a small inflate runs inline");
    }
}
