//! Compression layer: gzip request bodies, ask for gzip, and inflate gzip responses.
//!
//! With `http_compress(true)` a non-empty request body is gzipped and sent with
//! `Content-Encoding: gzip`. Every request says `Accept-Encoding: gzip`, and a gzip response
//! is decompressed before anything above sees it (bad gzip data is
//! [`crate::ErrorKind::InvalidResponse`]). Sits below the headers layer and above the
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
}

impl CompressionLayer {
    /// `compress_requests`: gzip request bodies (responses are always accepted gzipped).
    pub fn new(compress_requests: bool) -> Self {
        CompressionLayer { compress_requests }
    }
}

impl<S> Layer<S> for CompressionLayer {
    type Service = Compression<S>;
    fn layer(&self, inner: S) -> Compression<S> {
        Compression {
            inner,
            compress_requests: self.compress_requests,
        }
    }
}

/// Gzips request bodies and inflates gzip responses.
#[derive(Debug, Clone)]
pub struct Compression<S> {
    inner: S,
    compress_requests: bool,
}

/// Gzips `data`.
pub(crate) fn gzip(data: &[u8]) -> Bytes {
    let mut enc = GzEncoder::new(Vec::with_capacity(data.len() / 4 + 64), Level::fast());
    // Writing to a Vec cannot fail.
    let _ = enc.write_all(data);
    Bytes::from(enc.finish().unwrap_or_default())
}

/// Inflates gzip `data`.
pub(crate) fn gunzip(data: &[u8]) -> Result<Bytes, Error> {
    let mut out = Vec::with_capacity(data.len() * 4);
    MultiGzDecoder::new(data)
        .read_to_end(&mut out)
        .map_err(|e| {
            Error::new(ErrorKind::InvalidResponse, "bad gzip data in the response").with_source(e)
        })?;
    Ok(Bytes::from(out))
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
        Box::pin(async move {
            let mut resp = fut.await?;
            let is_gzip = resp
                .headers()
                .get(CONTENT_ENCODING)
                .is_some_and(|v| v.as_bytes().eq_ignore_ascii_case(b"gzip"));
            if is_gzip {
                let body = gunzip(resp.body())?;
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
        let inner = gunzip(resp.body()).unwrap();
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
}
