//! TLS with rustls: the client configuration and the handshake.

use std::sync::Arc;

use rustls::pki_types::ServerName;
use tokio::net::TcpStream;

use crate::error::{Error, ErrorKind, Result};

/// TLS settings of the transport.
#[derive(Debug, Clone, Default)]
#[non_exhaustive]
pub struct TlsOptions {}

/// Makes TLS connections with one rustls configuration.
pub(crate) struct TlsConnector {
    inner: tokio_rustls::TlsConnector,
}

impl std::fmt::Debug for TlsConnector {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("TlsConnector")
    }
}

impl TlsConnector {
    pub(crate) fn new(_options: &TlsOptions) -> Result<Self> {
        let mut roots = rustls::RootCertStore::empty();
        #[cfg(feature = "webpki-roots")]
        roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let config = rustls::ClientConfig::builder_with_provider(provider)
            .with_protocol_versions(&[&rustls::version::TLS13, &rustls::version::TLS12])
            .map_err(|e| Error::new(ErrorKind::Tls, "bad TLS configuration").with_source(e))?
            .with_root_certificates(roots)
            .with_no_client_auth();
        Ok(TlsConnector { inner: tokio_rustls::TlsConnector::from(Arc::new(config)) })
    }

    pub(crate) async fn connect(
        &self,
        host: &str,
        tcp: TcpStream,
    ) -> Result<tokio_rustls::client::TlsStream<TcpStream>> {
        let name = ServerName::try_from(host.to_owned())
            .map_err(|e| Error::new(ErrorKind::Tls, format!("invalid TLS server name `{host}`")).with_source(e))?;
        self.inner.connect(name, tcp).await.map_err(|e| {
            let msg = e.to_string();
            Error::new(ErrorKind::Tls, format!("TLS handshake with {host} failed: {msg}"))
        })
    }
}
