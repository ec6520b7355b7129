//! Headers layer: user-agent, default and per-request headers, opaque id, authentication,
//! compatibility media types; and the product check on responses.
//!
//! Sits below the pool layer so it knows the node (credentials from a node's URL apply to
//! that node only). Which credentials win: the request's options, then the node URL's
//! userinfo, then the transport's.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::task::{Context, Poll};

use http::header::{
    ACCEPT, AUTHORIZATION, CONTENT_TYPE, HeaderMap, HeaderName, HeaderValue, USER_AGENT,
};
use tower::{Layer, Service};

use super::http::SelectedNode;
use super::{BoxFuture, HttpRequest, HttpResponse};
use crate::{Error, ErrorKind, RequestOptions};

/// The `X-Opaque-Id` header name.
pub(crate) static X_OPAQUE_ID: HeaderName = HeaderName::from_static("x-opaque-id");
static X_ELASTIC_PRODUCT: HeaderName = HeaderName::from_static("x-elastic-product");

/// The user-agent this client sends unless told otherwise.
pub fn default_user_agent() -> HeaderValue {
    HeaderValue::from_static(concat!(
        "es-rs/",
        env!("CARGO_PKG_VERSION"),
        " (Rust; es-transport)"
    ))
}

/// Settings of the headers layer.
#[derive(Debug, Clone)]
pub(crate) struct HeadersConfig {
    pub(crate) defaults: HeaderMap,
    pub(crate) auth: Option<HeaderValue>,
    pub(crate) compatibility: Option<u8>,
    pub(crate) product_check: bool,
}

/// Applies [`Headers`].
#[derive(Debug, Clone)]
pub struct HeadersLayer {
    config: Arc<HeadersConfig>,
    verified: Arc<AtomicBool>,
}

impl HeadersLayer {
    pub(crate) fn new(config: HeadersConfig) -> Self {
        HeadersLayer {
            verified: Arc::new(AtomicBool::new(!config.product_check)),
            config: Arc::new(config),
        }
    }
}

impl<S> Layer<S> for HeadersLayer {
    type Service = Headers<S>;
    fn layer(&self, inner: S) -> Headers<S> {
        Headers {
            inner,
            config: self.config.clone(),
            verified: self.verified.clone(),
        }
    }
}

/// Sets the request headers; checks the product header of the first successful response.
#[derive(Debug, Clone)]
pub struct Headers<S> {
    inner: S,
    config: Arc<HeadersConfig>,
    verified: Arc<AtomicBool>,
}

fn compat(value: &HeaderValue, version: u8) -> Option<HeaderValue> {
    let v = value.to_str().ok()?;
    let base = v.split(';').next()?.trim();
    let sub = match base {
        "application/json" => "json",
        "application/x-ndjson" => "x-ndjson",
        _ => return None,
    };
    HeaderValue::from_str(&format!(
        "application/vnd.elasticsearch+{sub}; compatible-with={version}"
    ))
    .ok()
}

// ===== impl Headers =====

impl<S> Headers<S> {
    fn apply(&self, parts: &mut http::request::Parts) -> Result<(), Error> {
        let cfg = &*self.config;
        let opts = parts.extensions.get::<RequestOptions>();
        let node_auth = parts
            .extensions
            .get::<SelectedNode>()
            .and_then(|n| n.0.auth_header.clone());
        let h = &mut parts.headers;
        for (k, v) in &cfg.defaults {
            if !h.contains_key(k) {
                h.insert(k.clone(), v.clone());
            }
        }
        if !h.contains_key(USER_AGENT) {
            h.insert(USER_AGENT, default_user_agent());
        }
        if !h.contains_key(ACCEPT) {
            h.insert(ACCEPT, HeaderValue::from_static("application/json"));
        }
        let mut auth = node_auth.or_else(|| cfg.auth.clone());
        if let Some(o) = opts {
            for (k, v) in &o.headers {
                h.insert(k.clone(), v.clone());
            }
            if let Some(id) = &o.opaque_id {
                h.insert(X_OPAQUE_ID.clone(), id.clone());
            }
            if let Some(c) = &o.auth {
                // Never fall back to other credentials: that would run the request as
                // another principal.
                auth = Some(c.header_value().map_err(|e| {
                    Error::config("the request's credentials cannot be sent as a header; the request was not sent")
                        .with_source(e)
                })?);
            }
        }
        if let Some(mut a) = auth
            && (!h.contains_key(AUTHORIZATION) || opts.is_some_and(|o| o.auth.is_some()))
        {
            a.set_sensitive(true);
            h.insert(AUTHORIZATION, a);
        }
        if let Some(ver) = cfg.compatibility {
            for name in [CONTENT_TYPE, ACCEPT] {
                if let Some(v) = h.get(&name).and_then(|v| compat(v, ver)) {
                    h.insert(name, v);
                }
            }
        }
        Ok(())
    }
}

impl<S> Service<HttpRequest> for Headers<S>
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
        let (mut parts, body) = req.into_parts();
        if let Err(e) = self.apply(&mut parts) {
            return Box::pin(async move { Err(e) });
        }
        let fut = self.inner.call(http::Request::from_parts(parts, body));
        let verified = self.verified.clone();
        Box::pin(async move {
            let resp = fut.await?;
            if !verified.load(Ordering::Relaxed) && resp.status().is_success() {
                let ok = resp
                    .headers()
                    .get(&X_ELASTIC_PRODUCT)
                    .is_some_and(|v| v == "Elasticsearch");
                if !ok {
                    return Err(Error::new(
                        ErrorKind::UnsupportedProduct,
                        "the server is not Elasticsearch (no `X-Elastic-Product: Elasticsearch` header); \
                         switch the product check off with `product_check(false)` if this is intended",
                    ));
                }
                verified.store(true, Ordering::Relaxed);
            }
            Ok(resp)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Credentials;
    use crate::layer::test_support::Scripted;
    use bytes::Bytes;
    use tower::ServiceExt;

    fn cfg() -> HeadersConfig {
        let mut defaults = HeaderMap::new();
        defaults.insert("x-team", HeaderValue::from_static("search"));
        HeadersConfig {
            defaults,
            auth: Some(Credentials::basic("u", "p").header_value().unwrap()),
            compatibility: None,
            product_check: false,
        }
    }

    #[tokio::test]
    async fn sets_headers() {
        let below = Scripted::new(vec![Scripted::status(200)]);
        let svc = HeadersLayer::new(cfg()).layer(below.clone());
        let mut req = http::Request::new(Bytes::new());
        req.headers_mut()
            .insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
        req.extensions_mut().insert(
            RequestOptions::new()
                .opaque_id("op-1")
                .header("x-extra", "1"),
        );
        svc.oneshot(req).await.unwrap();
        let seen = &below.requests()[0];
        let h = seen.headers();
        assert!(h[USER_AGENT].to_str().unwrap().starts_with("es-rs/"));
        assert_eq!(h["x-team"], "search");
        assert_eq!(h["x-extra"], "1");
        assert_eq!(h["x-opaque-id"], "op-1");
        assert_eq!(h[AUTHORIZATION], "Basic dTpw");
        assert!(h[AUTHORIZATION].is_sensitive());
        assert_eq!(h[CONTENT_TYPE], "application/json");
    }

    #[tokio::test]
    async fn request_auth_wins_and_compat_mode() {
        let below = Scripted::new(vec![Scripted::status(200)]);
        let mut c = cfg();
        c.compatibility = Some(9);
        let svc = HeadersLayer::new(c).layer(below.clone());
        let mut req = http::Request::new(Bytes::new());
        req.headers_mut().insert(
            CONTENT_TYPE,
            HeaderValue::from_static("application/x-ndjson"),
        );
        req.extensions_mut()
            .insert(RequestOptions::new().auth(Credentials::bearer("t")));
        svc.oneshot(req).await.unwrap();
        let h = below.requests()[0].headers().clone();
        assert_eq!(h[AUTHORIZATION], "Bearer t");
        assert_eq!(
            h[CONTENT_TYPE],
            "application/vnd.elasticsearch+x-ndjson; compatible-with=9"
        );
        assert_eq!(
            h[ACCEPT],
            "application/vnd.elasticsearch+json; compatible-with=9"
        );
    }

    #[tokio::test]
    async fn product_check() {
        let mut c = cfg();
        c.product_check = true;
        // A 2xx without the header fails.
        let below = Scripted::new(vec![Scripted::status(200)]);
        let svc = HeadersLayer::new(c.clone()).layer(below);
        let err = svc
            .oneshot(http::Request::new(Bytes::new()))
            .await
            .unwrap_err();
        assert_eq!(err.kind(), ErrorKind::UnsupportedProduct);
        // A 401 is not checked; a 2xx with the header passes and is remembered.
        let below = Scripted::new(vec![
            Scripted::status(401),
            Box::new(|| {
                let mut r = http::Response::new(Bytes::new());
                r.headers_mut().insert(
                    "x-elastic-product",
                    HeaderValue::from_static("Elasticsearch"),
                );
                Ok(r)
            }),
            Scripted::status(200),
        ]);
        let svc = HeadersLayer::new(c).layer(below);
        for _ in 0..3 {
            svc.clone()
                .oneshot(http::Request::new(Bytes::new()))
                .await
                .unwrap();
        }
    }
}
