//! TLS with rustls: trusted roots, CA certificates, client certificates, fingerprint pinning,
//! the `verify_certs(false)` escape hatch, and handshake errors that say why.
//!
//! Which certificates are trusted, in order of precedence:
//!
//! 1. [`TlsOptions::ssl_assert_fingerprint`]: only the certificate with that SHA-256 fingerprint
//!    (or a chain that verifies up to a CA with that fingerprint). No other root is consulted.
//! 2. [`TlsOptions::verify_certs`]`(false)`: anything (test clusters only; logs a WARN).
//! 3. CA certificates given with [`TlsOptions::ca_certs_file`], [`TlsOptions::ca_certs_dir`] or
//!    [`TlsOptions::ca_certs_pem`]: those, and only those (like `curl --cacert`).
//! 4. Otherwise the bundled Mozilla roots (feature `webpki-roots`, on by default) plus the
//!    operating system's store (feature `native-roots`).
//!
//! Host names are always verified (except with a pinned leaf certificate, which names the server
//! exactly, or with verification off). TLS 1.2 is the minimum version.

use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use rustls::client::WebPkiServerVerifier;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::CryptoProvider;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName, UnixTime};
use rustls::{CertificateError, DigitallySignedStruct, RootCertStore, SignatureScheme};
use tokio::net::TcpStream;

use crate::error::{Error, ErrorKind, Result};
use crate::transport::TransportBuilder;

/// TLS settings of the transport.
///
/// Usually set through the [`TransportBuilder`] methods of the same names; build one yourself
/// to hand it over whole with [`TransportBuilder::tls_options`]. Files are read when the
/// transport is built, so a missing file fails [`TransportBuilder::build`].
///
/// `Debug` never shows the client key.
///
/// # Example
/// ```
/// use es_transport::TlsOptions;
///
/// let tls = TlsOptions::new()
///     .ca_certs_file("/etc/elasticsearch/certs/http_ca.crt")
///     .ssl_assert_fingerprint("E8:3C:...");
/// ```
#[derive(Clone)]
#[non_exhaustive]
#[must_use]
pub struct TlsOptions {
    ca: Vec<CaSource>,
    client_cert: Option<ClientCert>,
    verify_certs: bool,
    fingerprint: Option<String>,
}

#[derive(Clone, Debug)]
enum CaSource {
    File(PathBuf),
    Dir(PathBuf),
    Pem(Vec<u8>),
}

#[derive(Clone)]
enum ClientCert {
    Pem { cert: Vec<u8>, key: Vec<u8> },
    Files { cert: PathBuf, key: PathBuf },
}

impl Default for TlsOptions {
    fn default() -> Self {
        TlsOptions {
            ca: Vec::new(),
            client_cert: None,
            verify_certs: true,
            fingerprint: None,
        }
    }
}

impl fmt::Debug for TlsOptions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let ca: Vec<String> = self
            .ca
            .iter()
            .map(|c| match c {
                CaSource::File(p) => format!("file {}", p.display()),
                CaSource::Dir(p) => format!("dir {}", p.display()),
                CaSource::Pem(b) => format!("{} bytes of PEM", b.len()),
            })
            .collect();
        let client = self.client_cert.as_ref().map(|c| match c {
            ClientCert::Pem { .. } => "PEM (key: ***)".to_owned(),
            ClientCert::Files { cert, .. } => format!("file {} (key: ***)", cert.display()),
        });
        f.debug_struct("TlsOptions")
            .field("ca_certs", &ca)
            .field("client_cert", &client)
            .field("verify_certs", &self.verify_certs)
            .field("ssl_assert_fingerprint", &self.fingerprint)
            .finish()
    }
}

impl TlsOptions {
    /// Defaults: verify certificates and host names against the default roots, no client
    /// certificate, no pinning.
    pub fn new() -> Self {
        Self::default()
    }

    /// Trust the CA certificates in this PEM file (elasticsearch-py's `ca_certs` / `cafile`).
    /// May be called several times; CA certificates given replace the default roots.
    pub fn ca_certs_file(mut self, path: impl AsRef<Path>) -> Self {
        self.ca.push(CaSource::File(path.as_ref().to_owned()));
        self
    }

    /// Trust the CA certificates in every PEM file of this directory (`capath`). Files that
    /// hold no certificate are skipped; a directory with none at all fails the build.
    pub fn ca_certs_dir(mut self, path: impl AsRef<Path>) -> Self {
        self.ca.push(CaSource::Dir(path.as_ref().to_owned()));
        self
    }

    /// Trust the CA certificates in this PEM data (`cadata`).
    pub fn ca_certs_pem(mut self, pem: impl AsRef<[u8]>) -> Self {
        self.ca.push(CaSource::Pem(pem.as_ref().to_vec()));
        self
    }

    /// Present this client certificate (chain) and key, both PEM, for mutual TLS
    /// (`client_cert` / `client_key`). The key may be PKCS#8, PKCS#1 (RSA) or SEC1 (EC).
    pub fn client_cert_pem(mut self, cert_chain: impl AsRef<[u8]>, key: impl AsRef<[u8]>) -> Self {
        self.client_cert = Some(ClientCert::Pem {
            cert: cert_chain.as_ref().to_vec(),
            key: key.as_ref().to_vec(),
        });
        self
    }

    /// Like [`TlsOptions::client_cert_pem`], reading both from PEM files when the transport is built.
    pub fn client_cert_files(
        mut self,
        cert_chain: impl AsRef<Path>,
        key: impl AsRef<Path>,
    ) -> Self {
        self.client_cert = Some(ClientCert::Files {
            cert: cert_chain.as_ref().to_owned(),
            key: key.as_ref().to_owned(),
        });
        self
    }

    /// Whether server certificates are verified (default true).
    ///
    /// `false` accepts any certificate for any host: for test clusters only. A WARN is logged
    /// (target `elasticsearch`) each time a transport is built with it. The handshake's
    /// signatures are still checked, so the connection is encrypted, but not authenticated.
    pub fn verify_certs(mut self, yes: bool) -> Self {
        self.verify_certs = yes;
        self
    }

    /// Pins the server's certificate by its SHA-256 fingerprint: hex, with or without colons,
    /// in any case (`openssl x509 -noout -fingerprint -sha256`).
    ///
    /// A connection succeeds when the server's leaf certificate has that fingerprint, even if
    /// it is self-signed, expired or names another host; or when the fingerprint is that of a
    /// CA certificate the server sends in its chain and the leaf verifies up to it (with its
    /// host name), as with the CA fingerprint Elasticsearch 8 prints at first start. Any other
    /// certificate fails with a TLS error. The roots and [`TlsOptions::verify_certs`] are not
    /// consulted. A malformed fingerprint fails the build.
    pub fn ssl_assert_fingerprint(mut self, sha256: impl Into<String>) -> Self {
        self.fingerprint = Some(sha256.into());
        self
    }
}

// ===== impl TransportBuilder (TLS) =====

impl<O> TransportBuilder<O> {
    /// Replaces all TLS settings at once.
    pub fn tls_options(mut self, options: TlsOptions) -> Self {
        self.tls = options;
        self
    }

    /// Trust the CA certificates in this PEM file. See [`TlsOptions::ca_certs_file`].
    pub fn ca_certs_file(mut self, path: impl AsRef<Path>) -> Self {
        self.tls = self.tls.ca_certs_file(path);
        self
    }

    /// Trust the CA certificates in the PEM files of this directory. See [`TlsOptions::ca_certs_dir`].
    pub fn ca_certs_dir(mut self, path: impl AsRef<Path>) -> Self {
        self.tls = self.tls.ca_certs_dir(path);
        self
    }

    /// Trust the CA certificates in this PEM data. See [`TlsOptions::ca_certs_pem`].
    pub fn ca_certs_pem(mut self, pem: impl AsRef<[u8]>) -> Self {
        self.tls = self.tls.ca_certs_pem(pem);
        self
    }

    /// A client certificate and key (PEM) for mutual TLS. See [`TlsOptions::client_cert_pem`].
    pub fn client_cert_pem(mut self, cert_chain: impl AsRef<[u8]>, key: impl AsRef<[u8]>) -> Self {
        self.tls = self.tls.client_cert_pem(cert_chain, key);
        self
    }

    /// A client certificate and key from PEM files. See [`TlsOptions::client_cert_files`].
    pub fn client_cert_files(
        mut self,
        cert_chain: impl AsRef<Path>,
        key: impl AsRef<Path>,
    ) -> Self {
        self.tls = self.tls.client_cert_files(cert_chain, key);
        self
    }

    /// Whether server certificates are verified (default true). See [`TlsOptions::verify_certs`].
    pub fn verify_certs(mut self, yes: bool) -> Self {
        self.tls = self.tls.verify_certs(yes);
        self
    }

    /// Pins the server certificate's SHA-256 fingerprint. See [`TlsOptions::ssl_assert_fingerprint`].
    pub fn ssl_assert_fingerprint(mut self, sha256: impl Into<String>) -> Self {
        self.tls = self.tls.ssl_assert_fingerprint(sha256);
        self
    }
}

// ===== impl TlsConnector =====

/// Makes TLS connections with one rustls configuration.
pub(crate) struct TlsConnector {
    inner: tokio_rustls::TlsConnector,
    /// True when no root at all is trusted (no roots feature, no CA given, verification on).
    no_roots: bool,
}

impl fmt::Debug for TlsConnector {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("TlsConnector")
    }
}

fn tls_err(message: impl Into<String>) -> Error {
    Error::new(ErrorKind::Tls, message)
}

impl TlsConnector {
    pub(crate) fn new(options: &TlsOptions) -> Result<Self> {
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let builder = rustls::ClientConfig::builder_with_provider(provider.clone())
            .with_protocol_versions(&[&rustls::version::TLS13, &rustls::version::TLS12])
            .map_err(|e| tls_err("bad TLS configuration").with_source(e))?;
        let mut no_roots = false;
        let builder = if let Some(fp) = &options.fingerprint {
            let pin = parse_fingerprint(fp)?;
            builder
                .dangerous()
                .with_custom_certificate_verifier(Arc::new(PinnedVerifier { pin, provider }))
        } else if !options.verify_certs {
            tracing::warn!(
                target: "elasticsearch",
                "TLS certificate verification is off (verify_certs(false)): any server can impersonate \
                 the cluster. Use this only with test clusters."
            );
            builder
                .dangerous()
                .with_custom_certificate_verifier(Arc::new(NoVerifier { provider }))
        } else {
            let roots = if options.ca.is_empty() {
                default_roots()
            } else {
                load_cas(&options.ca)?
            };
            no_roots = roots.is_empty();
            builder.with_root_certificates(roots)
        };
        let config = match &options.client_cert {
            None => builder.with_no_client_auth(),
            Some(c) => {
                let (certs, key) = load_client_cert(c)?;
                builder.with_client_auth_cert(certs, key).map_err(|e| {
                    tls_err(format!(
                        "the client certificate and key do not go together: {e}"
                    ))
                })?
            }
        };
        Ok(TlsConnector {
            inner: tokio_rustls::TlsConnector::from(Arc::new(config)),
            no_roots,
        })
    }

    pub(crate) async fn connect(
        &self,
        host: &str,
        tcp: TcpStream,
    ) -> Result<tokio_rustls::client::TlsStream<TcpStream>> {
        let name = ServerName::try_from(host.to_owned())
            .map_err(|e| tls_err(format!("invalid TLS server name `{host}`")).with_source(e))?;
        self.inner.connect(name, tcp).await.map_err(|e| {
            let why = match rustls_error(&e) {
                Some(rustls::Error::InvalidCertificate(CertificateError::UnknownIssuer))
                    if self.no_roots =>
                {
                    "no trusted root certificate is configured (enable the `webpki-roots` or \
                     `native-roots` feature, or give the cluster's CA with ca_certs_file)"
                        .to_owned()
                }
                Some(r) => describe(r, host),
                None => e.to_string(),
            };
            tls_err(format!("TLS handshake with {host} failed: {why}"))
        })
    }
}

/// The rustls error inside an I/O error from the handshake or the connection, if any.
fn rustls_error(e: &std::io::Error) -> Option<&rustls::Error> {
    e.get_ref()
        .and_then(|inner| inner.downcast_ref::<rustls::Error>())
}

/// A TLS error found in an error's source chain (an I/O error carrying a rustls error), made
/// into an [`ErrorKind::Tls`] error that says why; `None` when there is none. For errors that
/// surface after the handshake: with TLS 1.3 a server that rejects the client certificate
/// says so (with an alert) only when the client first reads.
pub(crate) fn tls_error_in_chain(err: &(dyn std::error::Error + 'static)) -> Option<Error> {
    let host = "the server";
    let mut cur = Some(err);
    while let Some(e) = cur {
        if let Some(r) = e.downcast_ref::<rustls::Error>() {
            return Some(tls_err(describe(r, host)));
        }
        if let Some(io) = e.downcast_ref::<std::io::Error>()
            && let Some(r) = rustls_error(io)
        {
            return Some(tls_err(describe(r, host)));
        }
        cur = e.source();
    }
    None
}

/// Why a handshake failed, in words.
fn describe(err: &rustls::Error, host: &str) -> String {
    use rustls::AlertDescription as A;
    match err {
        rustls::Error::InvalidCertificate(c) => {
            let why = match c {
                CertificateError::UnknownIssuer => {
                    "it is signed by an unknown certificate authority (give the cluster's CA with \
                     ca_certs_file / ca_certs_pem, or pin it with ssl_assert_fingerprint)"
                        .to_owned()
                }
                CertificateError::NotValidForName => {
                    format!("it is not valid for the host name `{host}`")
                }
                CertificateError::NotValidForNameContext { presented, .. } => {
                    let names: Vec<&str> = presented.iter().map(|n| presented_name(n)).collect();
                    format!(
                        "it is not valid for the host name `{host}` (it names: {})",
                        names.join(", ")
                    )
                }
                CertificateError::Expired => "it has expired".to_owned(),
                CertificateError::ExpiredContext { time, not_after } => {
                    format!(
                        "it has expired (valid until {}, now is {})",
                        utc(not_after),
                        utc(time)
                    )
                }
                CertificateError::NotValidYet => {
                    "it is not valid yet (check the clocks)".to_owned()
                }
                CertificateError::NotValidYetContext { time, not_before } => format!(
                    "it is not valid yet (valid from {}, now is {}: check the clocks)",
                    utc(not_before),
                    utc(time)
                ),
                CertificateError::Revoked => "it has been revoked".to_owned(),
                CertificateError::BadSignature => "its signature is invalid".to_owned(),
                CertificateError::BadEncoding => "it is malformed".to_owned(),
                CertificateError::InvalidPurpose
                | CertificateError::InvalidPurposeContext { .. } => {
                    "it is not meant for TLS servers (extended key usage)".to_owned()
                }
                CertificateError::Other(o) => match o.0.downcast_ref::<FingerprintMismatch>() {
                    Some(m) => m.to_string(),
                    None => o.to_string(),
                },
                other => format!("{other:?}"),
            };
            format!("the server's certificate was rejected: {why}")
        }
        rustls::Error::AlertReceived(alert) => {
            let hint = match alert {
                A::CertificateRequired => {
                    " (the server requires a client certificate: set client_cert_pem)"
                }
                A::BadCertificate
                | A::UnknownCA
                | A::UnsupportedCertificate
                | A::CertificateUnknown => " (the server rejected the client certificate)",
                A::HandshakeFailure => {
                    " (no common protocol version or cipher suite, or a client certificate is required)"
                }
                A::ProtocolVersion => " (the server does not speak TLS 1.2 or 1.3)",
                _ => "",
            };
            format!("the server sent the alert `{alert:?}`{hint}")
        }
        rustls::Error::InvalidMessage(_) | rustls::Error::InappropriateMessage { .. } => {
            format!("{err} (is this an https port? the server may speak plain HTTP)")
        }
        other => other.to_string(),
    }
}

/// `DnsName("es.example.com")` (how rustls lists a certificate's names) as `es.example.com`.
fn presented_name(n: &str) -> &str {
    n.strip_prefix("DnsName(\"")
        .and_then(|s| s.strip_suffix("\")"))
        .unwrap_or(n)
}

/// A Unix time as `YYYY-MM-DD hh:mm:ss UTC`.
fn utc(t: &UnixTime) -> String {
    let secs = t.as_secs();
    let (days, rem) = ((secs / 86_400) as i64, secs % 86_400);
    let (year, month, day) = crate::time::civil_from_days(days);
    format!(
        "{year:04}-{month:02}-{day:02} {:02}:{:02}:{:02} UTC",
        rem / 3600,
        rem / 60 % 60,
        rem % 60
    )
}

fn default_roots() -> RootCertStore {
    #[allow(unused_mut)]
    let mut roots = RootCertStore::empty();
    #[cfg(feature = "webpki-roots")]
    roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
    #[cfg(feature = "native-roots")]
    {
        let found = rustls_native_certs::load_native_certs();
        for e in &found.errors {
            tracing::debug!(target: "elasticsearch", error = %e, "could not load some native root certificates");
        }
        let (added, ignored) = roots.add_parsable_certificates(found.certs);
        tracing::debug!(target: "elasticsearch", added, ignored, "native root certificates loaded");
    }
    roots
}

fn load_cas(sources: &[CaSource]) -> Result<RootCertStore> {
    let mut roots = RootCertStore::empty();
    for source in sources {
        match source {
            CaSource::File(p) => {
                let data = read(p, "CA certificate file")?;
                add_pem_cas(
                    &mut roots,
                    &data,
                    &format!("CA certificate file {}", p.display()),
                )?;
            }
            CaSource::Pem(data) => add_pem_cas(&mut roots, data, "CA certificate PEM data")?,
            CaSource::Dir(dir) => {
                let entries = std::fs::read_dir(dir).map_err(|e| {
                    tls_err(format!(
                        "cannot read the CA certificate directory {}",
                        dir.display()
                    ))
                    .with_source(e)
                })?;
                let mut paths: Vec<PathBuf> =
                    entries.filter_map(|e| e.ok().map(|e| e.path())).collect();
                paths.sort();
                let before = roots.len();
                for p in paths.iter().filter(|p| p.is_file()) {
                    // Files that are not PEM certificates (keys, READMEs) are skipped.
                    if let Ok(data) = std::fs::read(p) {
                        let _ = add_pem_cas(&mut roots, &data, "");
                    }
                }
                if roots.len() == before {
                    return Err(tls_err(format!(
                        "no PEM certificate found in the CA certificate directory {}",
                        dir.display()
                    )));
                }
            }
        }
    }
    Ok(roots)
}

fn read(path: &Path, what: &str) -> Result<Vec<u8>> {
    std::fs::read(path)
        .map_err(|e| tls_err(format!("cannot read the {what} {}", path.display())).with_source(e))
}

fn add_pem_cas(roots: &mut RootCertStore, pem: &[u8], what: &str) -> Result<()> {
    let certs = CertificateDer::pem_slice_iter(pem)
        .collect::<std::result::Result<Vec<_>, _>>()
        .map_err(|e| tls_err(format!("{what}: bad PEM: {e}")))?;
    if certs.is_empty() {
        return Err(tls_err(format!(
            "{what}: no `BEGIN CERTIFICATE` block found"
        )));
    }
    let (added, _) = roots.add_parsable_certificates(certs);
    if added == 0 {
        return Err(tls_err(format!("{what}: no usable certificate")));
    }
    Ok(())
}

fn load_client_cert(
    c: &ClientCert,
) -> Result<(Vec<CertificateDer<'static>>, PrivateKeyDer<'static>)> {
    let (cert, key) = match c {
        ClientCert::Pem { cert, key } => (cert.clone(), key.clone()),
        ClientCert::Files { cert, key } => (
            read(cert, "client certificate file")?,
            read(key, "client key file")?,
        ),
    };
    let certs = CertificateDer::pem_slice_iter(&cert)
        .collect::<std::result::Result<Vec<_>, _>>()
        .map_err(|e| tls_err(format!("client certificate: bad PEM: {e}")))?;
    if certs.is_empty() {
        return Err(tls_err(
            "client certificate: no `BEGIN CERTIFICATE` block found",
        ));
    }
    // Never put the key's bytes in a message.
    let key = PrivateKeyDer::from_pem_slice(&key)
        .map_err(|_| tls_err("client key: no PEM private key found (PKCS#8, PKCS#1 or SEC1)"))?;
    Ok((certs, key))
}

/// Parses a SHA-256 fingerprint: 64 hex digits, colons and spaces ignored, any case.
fn parse_fingerprint(s: &str) -> Result<[u8; 32]> {
    let hex: Vec<u8> = s
        .bytes()
        .filter(|b| !matches!(b, b':' | b' ' | b'-'))
        .collect();
    let bad = || {
        tls_err(format!(
            "ssl_assert_fingerprint `{s}` is not a SHA-256 fingerprint (64 hex digits, colons allowed)"
        ))
    };
    if hex.len() != 64 {
        return Err(bad());
    }
    let mut out = [0u8; 32];
    for (i, pair) in hex.chunks(2).enumerate() {
        let s = std::str::from_utf8(pair).map_err(|_| bad())?;
        out[i] = u8::from_str_radix(s, 16).map_err(|_| bad())?;
    }
    Ok(out)
}

fn sha256(der: &[u8]) -> [u8; 32] {
    let d = ring::digest::digest(&ring::digest::SHA256, der);
    let mut out = [0u8; 32];
    out.copy_from_slice(d.as_ref());
    out
}

fn colon_hex(b: &[u8]) -> String {
    b.iter()
        .map(|x| format!("{x:02X}"))
        .collect::<Vec<_>>()
        .join(":")
}

/// The three `ServerCertVerifier` methods that check handshake signatures with the crypto
/// provider's algorithms: the same for every verifier here, whatever it does with certificates.
macro_rules! handshake_signatures_checked_by_provider {
    () => {
        fn verify_tls12_signature(
            &self,
            message: &[u8],
            cert: &CertificateDer<'_>,
            dss: &DigitallySignedStruct,
        ) -> std::result::Result<HandshakeSignatureValid, rustls::Error> {
            rustls::crypto::verify_tls12_signature(
                message,
                cert,
                dss,
                &self.provider.signature_verification_algorithms,
            )
        }

        fn verify_tls13_signature(
            &self,
            message: &[u8],
            cert: &CertificateDer<'_>,
            dss: &DigitallySignedStruct,
        ) -> std::result::Result<HandshakeSignatureValid, rustls::Error> {
            rustls::crypto::verify_tls13_signature(
                message,
                cert,
                dss,
                &self.provider.signature_verification_algorithms,
            )
        }

        fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
            self.provider
                .signature_verification_algorithms
                .supported_schemes()
        }
    };
}

/// The certificate presented did not have the pinned fingerprint.
#[derive(Debug)]
struct FingerprintMismatch {
    expected: [u8; 32],
    got: [u8; 32],
}

impl fmt::Display for FingerprintMismatch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "fingerprint mismatch: expected SHA-256 {}, the server presented {}",
            colon_hex(&self.expected),
            colon_hex(&self.got)
        )
    }
}

impl std::error::Error for FingerprintMismatch {}

/// Accepts the certificate with the pinned fingerprint, or a chain verifying up to it.
#[derive(Debug)]
struct PinnedVerifier {
    pin: [u8; 32],
    provider: Arc<CryptoProvider>,
}

impl ServerCertVerifier for PinnedVerifier {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp_response: &[u8],
        now: UnixTime,
    ) -> std::result::Result<ServerCertVerified, rustls::Error> {
        let leaf = sha256(end_entity);
        if leaf == self.pin {
            return Ok(ServerCertVerified::assertion());
        }
        if let Some(ca) = intermediates.iter().find(|c| sha256(c) == self.pin) {
            // A pinned CA: the leaf must verify up to it, host name included.
            let mut roots = RootCertStore::empty();
            roots.add(ca.clone().into_owned())?;
            let verifier =
                WebPkiServerVerifier::builder_with_provider(Arc::new(roots), self.provider.clone())
                    .build()
                    .map_err(|e| rustls::Error::General(e.to_string()))?;
            return verifier.verify_server_cert(
                end_entity,
                intermediates,
                server_name,
                ocsp_response,
                now,
            );
        }
        Err(rustls::Error::InvalidCertificate(CertificateError::Other(
            rustls::OtherError(Arc::new(FingerprintMismatch {
                expected: self.pin,
                got: leaf,
            })),
        )))
    }

    handshake_signatures_checked_by_provider!();
}

/// Accepts any certificate (handshake signatures are still checked).
#[derive(Debug)]
struct NoVerifier {
    provider: Arc<CryptoProvider>,
}

impl ServerCertVerifier for NoVerifier {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> std::result::Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }

    handshake_signatures_checked_by_provider!();
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fingerprint_forms() {
        let plain = "e83c0d4b5f2a1b9c8d7e6f5a4b3c2d1e0f9a8b7c6d5e4f3a2b1c0d9e8f7a6b5c";
        let a = parse_fingerprint(plain).unwrap();
        let colons = colon_hex(&a);
        assert_eq!(parse_fingerprint(&colons).unwrap(), a);
        assert_eq!(parse_fingerprint(&plain.to_uppercase()).unwrap(), a);
        assert_eq!(a[0], 0xe8);
        for bad in ["", "e83c", &format!("{plain}00"), &plain.replace('e', "g")] {
            let err = parse_fingerprint(bad).unwrap_err();
            assert!(err.is_tls() && err.to_string().contains("SHA-256"), "{err}");
        }
    }

    #[test]
    fn debug_hides_the_key() {
        let o = TlsOptions::new()
            .client_cert_pem("CERT", "-----BEGIN PRIVATE KEY-----\nSECRETKEY\n")
            .ca_certs_pem("x");
        let d = format!("{o:?}");
        assert!(!d.contains("SECRETKEY") && d.contains("***"), "{d}");
    }

    #[test]
    fn bad_sources_fail_with_reasons() {
        let e =
            TlsConnector::new(&TlsOptions::new().ca_certs_file("/nonexistent/ca.pem")).unwrap_err();
        assert!(
            e.is_tls() && e.to_string().contains("/nonexistent/ca.pem"),
            "{e}"
        );
        let e = TlsConnector::new(&TlsOptions::new().ca_certs_pem("not pem")).unwrap_err();
        assert!(e.to_string().contains("BEGIN CERTIFICATE"), "{e}");
        let e = TlsConnector::new(&TlsOptions::new().client_cert_pem("nope", "nope")).unwrap_err();
        assert!(e.to_string().contains("client certificate"), "{e}");
        let e = TlsConnector::new(&TlsOptions::new().ssl_assert_fingerprint("abc")).unwrap_err();
        assert!(e.to_string().contains("abc"), "{e}");
    }

    #[test]
    fn describes_errors() {
        let host = "es.local";
        let d = describe(
            &rustls::Error::InvalidCertificate(CertificateError::UnknownIssuer),
            host,
        );
        assert!(d.contains("unknown certificate authority"), "{d}");
        let d = describe(
            &rustls::Error::InvalidCertificate(CertificateError::Expired),
            host,
        );
        assert!(d.contains("expired"), "{d}");
        let d = describe(
            &rustls::Error::AlertReceived(rustls::AlertDescription::CertificateRequired),
            host,
        );
        assert!(d.contains("client certificate"), "{d}");
        let io = std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            rustls::Error::InvalidCertificate(CertificateError::NotValidForName),
        );
        let e = tls_error_in_chain(&io).unwrap();
        assert!(
            e.is_tls() && e.to_string().contains("not valid for the host name"),
            "{e}"
        );
        assert!(tls_error_in_chain(&std::io::Error::other("plain")).is_none());
        assert_eq!(
            utc(&UnixTime::since_unix_epoch(std::time::Duration::from_secs(
                1_577_836_800
            ))),
            "2020-01-01 00:00:00 UTC"
        );
        assert_eq!(
            utc(&UnixTime::since_unix_epoch(std::time::Duration::from_secs(
                951_782_400 + 3_661
            ))),
            "2000-02-29 01:01:01 UTC"
        );
        assert_eq!(presented_name(r#"DnsName("a.b")"#), "a.b");
    }
}
