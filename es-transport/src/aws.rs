//! AWS Signature Version 4 request signing (feature `aws`), for Amazon OpenSearch Service
//! (service `es`) and OpenSearch Serverless (service `aoss`).
//!
//! [`SigV4Layer`] signs every attempt with [`aws_sigv4`](https://docs.rs/aws-sigv4), the AWS
//! SDK's own signer. It sits below the compression layer (see [`crate::layer`]), so the
//! signature and the `x-amz-content-sha256` header cover the bytes actually sent, gzipped or
//! not; and below retries, so each attempt is signed afresh with the time it is sent.
//! It replaces any `Authorization` header (basic auth or an API key make no sense with it).
//!
//! Credentials come from the AWS SDK's own provider type,
//! [`SharedCredentialsProvider`] (`aws_credential_types`), asked once per attempt: the SDK's
//! default chain (`aws_config::load_defaults(..).await.credentials_provider()`), STS, instance
//! metadata, or fixed [`Credentials`]; a refreshing provider caches and renews inside.
//!
//! # Example
//! ```no_run
//! # fn run() -> es_transport::Result<()> {
//! use es_transport::Transport;
//! use es_transport::aws::{Credentials, SharedCredentialsProvider, SigV4Layer};
//!
//! // With the AWS SDK: `let sdk = aws_config::load_defaults(BehaviorVersion::latest()).await;`
//! // then `SigV4Layer::new(sdk.region().unwrap().to_string(), sdk.credentials_provider().unwrap())`.
//! let creds = Credentials::new("AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG", None, None, "static");
//! let transport = Transport::builder("https://search-my-domain.us-east-1.es.amazonaws.com")
//!     .aws_sigv4(SigV4Layer::new("us-east-1", SharedCredentialsProvider::new(creds)).service("es"))
//!     .http_compress(true)
//!     .build()?;
//! # Ok(()) }
//! ```

use std::fmt;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::SystemTime;

use aws_sigv4::http_request::{
    PayloadChecksumKind, SignableBody, SignableRequest, SigningSettings,
};
use aws_sigv4::sign::v4;
use http::header::{AUTHORIZATION, HOST, HeaderValue};
use tower::util::BoxCloneSyncService;
use tower::{Layer, Service};

use crate::error::{Error, Result};
use crate::layer::{BoxFuture, HttpRequest, HttpResponse};
use crate::transport::{BoxedService, TransportBuilder};

pub use aws_credential_types::Credentials;
pub use aws_credential_types::provider::{ProvideCredentials, SharedCredentialsProvider};

type TimeSource = Arc<dyn Fn() -> SystemTime + Send + Sync>;

/// Applies [`SigV4`]: signs requests for one region and service.
#[derive(Clone)]
#[must_use]
pub struct SigV4Layer {
    region: String,
    service: String,
    provider: SharedCredentialsProvider,
    time: TimeSource,
}

impl fmt::Debug for SigV4Layer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SigV4Layer")
            .field("region", &self.region)
            .field("service", &self.service)
            .field("provider", &self.provider)
            .finish_non_exhaustive()
    }
}

impl SigV4Layer {
    /// Signs for `region` (`"us-east-1"`) and service `es` (Amazon OpenSearch Service),
    /// with credentials from `provider` (an `aws_config::SdkConfig`'s
    /// `credentials_provider()`, or `SharedCredentialsProvider::new(..)` of any
    /// [`ProvideCredentials`], fixed [`Credentials`] included).
    pub fn new(region: impl Into<String>, provider: SharedCredentialsProvider) -> Self {
        SigV4Layer {
            region: region.into(),
            service: "es".to_owned(),
            provider,
            // The signer needs wall-clock time; tests inject theirs with `time_source`.
            #[allow(clippy::disallowed_methods)]
            time: Arc::new(SystemTime::now),
        }
    }

    /// The service name signed for: `es` (the default) or `aoss` for OpenSearch Serverless.
    pub fn service(mut self, name: impl Into<String>) -> Self {
        self.service = name.into();
        self
    }

    /// Where the signing time comes from (default: the system clock).
    pub fn time_source(mut self, now: impl Fn() -> SystemTime + Send + Sync + 'static) -> Self {
        self.time = Arc::new(now);
        self
    }
}

impl<S> Layer<S> for SigV4Layer {
    type Service = SigV4<S>;
    fn layer(&self, inner: S) -> SigV4<S> {
        SigV4 {
            inner,
            config: Arc::new(self.clone()),
        }
    }
}

/// Signs each request with AWS SigV4 before passing it on.
#[derive(Clone)]
pub struct SigV4<S> {
    inner: S,
    config: Arc<SigV4Layer>,
}

impl<S: fmt::Debug> fmt::Debug for SigV4<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SigV4")
            .field("inner", &self.inner)
            .field("config", &self.config)
            .finish()
    }
}

/// Signs `req` in place: sets `Host` (from the URI's authority, when absent),
/// `x-amz-date`, `x-amz-content-sha256`, `x-amz-security-token` (with a session token) and
/// `Authorization`.
fn sign(
    req: &mut HttpRequest,
    cfg: &SigV4Layer,
    creds: &Credentials,
    time: SystemTime,
) -> Result<()> {
    req.headers_mut().remove(AUTHORIZATION);
    if !req.headers().contains_key(HOST)
        && let Some(a) = req.uri().authority()
        && let Ok(v) = HeaderValue::from_str(a.as_str())
    {
        req.headers_mut().insert(HOST, v);
    }
    let identity = creds.clone().into();
    let mut settings = SigningSettings::default();
    // OpenSearch Serverless requires the payload hash header; Amazon OpenSearch accepts it.
    settings.payload_checksum_kind = PayloadChecksumKind::XAmzSha256;
    let params = v4::SigningParams::builder()
        .identity(&identity)
        .region(&cfg.region)
        .name(&cfg.service)
        .time(time)
        .settings(settings)
        .build()
        .map_err(|e| Error::config(format!("cannot sign the request with SigV4: {e}")))?
        .into();
    let uri = req.uri().to_string();
    let headers: Vec<(&str, &str)> = req
        .headers()
        .iter()
        .filter_map(|(k, v)| v.to_str().ok().map(|v| (k.as_str(), v)))
        .collect();
    let signable = SignableRequest::new(
        req.method().as_str(),
        uri.as_str(),
        headers.into_iter(),
        SignableBody::Bytes(req.body()),
    )
    .map_err(|e| Error::config(format!("cannot sign the request with SigV4: {e}")))?;
    let (instructions, _signature) = aws_sigv4::http_request::sign(signable, &params)
        .map_err(|e| Error::config(format!("cannot sign the request with SigV4: {e}")))?
        .into_parts();
    instructions.apply_to_request_http1x(req);
    for name in [AUTHORIZATION.as_str(), "x-amz-security-token"] {
        if let Some(v) = req.headers_mut().get_mut(name) {
            v.set_sensitive(true);
        }
    }
    Ok(())
}

// ===== impl SigV4 =====

impl<S> Service<HttpRequest> for SigV4<S>
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
        // The service made ready by `poll_ready` goes into the future; a clone stays.
        let clone = self.inner.clone();
        let mut inner = std::mem::replace(&mut self.inner, clone);
        let cfg = self.config.clone();
        Box::pin(async move {
            // Not sent: a provider that fails fails the attempt before a byte is written.
            let creds = cfg.provider.provide_credentials().await.map_err(|e| {
                Error::config("cannot get AWS credentials for SigV4; the request was not sent")
                    .with_source(e)
            })?;
            sign(&mut req, &cfg, &creds, (cfg.time)())?;
            inner.call(req).await
        })
    }
}

// ===== impl TransportBuilder (SigV4) =====

impl<O> TransportBuilder<O> {
    /// Signs every request with AWS SigV4 (feature `aws`). See [`SigV4Layer`] and the
    /// [module docs](crate::aws).
    pub fn aws_sigv4(mut self, layer: SigV4Layer) -> Self {
        self.signing_layers.push(Box::new(move |svc: BoxedService| {
            BoxCloneSyncService::new(layer.layer(svc))
        }));
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use bytes::Bytes;
    use tower::ServiceExt;

    fn fixed_time() -> SystemTime {
        // 2015-08-30T12:36:00Z, the time of AWS's published test suite.
        SystemTime::UNIX_EPOCH + std::time::Duration::from_secs(1_440_938_160)
    }

    #[test]
    fn debug_redacts() {
        let c = Credentials::new("AKID", "SECRETKEY", Some("TOKEN".into()), None, "test");
        let d = format!(
            "{:?}",
            SigV4Layer::new("us-east-1", SharedCredentialsProvider::new(c))
        );
        assert!(
            d.contains("AKID") && !d.contains("SECRETKEY") && !d.contains("TOKEN"),
            "{d}"
        );
    }

    #[tokio::test]
    async fn signs_with_the_given_time_and_replaces_authorization() {
        let creds = Credentials::new(
            "AKIDEXAMPLE",
            "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
            Some("tok".into()),
            None,
            "test",
        );
        let layer = SigV4Layer::new("us-east-1", SharedCredentialsProvider::new(creds))
            .service("aoss")
            .time_source(fixed_time);
        let svc = layer.layer(tower::service_fn(|req: HttpRequest| async move {
            let h = req.headers();
            assert_eq!(h["x-amz-date"], "20150830T123600Z");
            assert_eq!(h["host"], "example.amazonaws.com:443");
            assert_eq!(h["x-amz-security-token"], "tok");
            // sha256("abc")
            assert_eq!(h["x-amz-content-sha256"], "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
            let auth = h[AUTHORIZATION].to_str().unwrap();
            assert!(auth.starts_with("AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/aoss/aws4_request, SignedHeaders="), "{auth}");
            assert!(h[AUTHORIZATION].is_sensitive());
            Ok::<_, Error>(http::Response::new(Bytes::new()))
        }));
        let mut req = http::Request::new(Bytes::from_static(b"abc"));
        *req.uri_mut() = "https://example.amazonaws.com:443/idx/_search"
            .parse()
            .unwrap();
        req.headers_mut()
            .insert(AUTHORIZATION, HeaderValue::from_static("Basic dTpw"));
        svc.oneshot(req).await.unwrap();
    }
}
