//! Persistent HTTP/1.1 connections per node, bounded in number, reused in LIFO order.
//!
//! Each node has a [`ConnPool`]: a semaphore of `max_connections` permits and a stack of idle
//! connections. A request holds a permit from before it takes a connection until the response
//! body is read in full, and each permit holder owns at most one connection, so a node never
//! has more than `max_connections` open connections. The permit is normally taken by the pool
//! layer (so waiting for it is not part of the attempt's timeout, and request signing happens
//! after the wait) and handed down in a [`HeldPermit`] extension.
//!
//! Resends: a connection closed by the server while idle is noticed when taken. A request
//! that hyper hands back *unsent* (the connection was found closed before any byte went out)
//! is sent again on another connection: it never reached the server, so this is always
//! safe and is not an attempt. Once any byte may have been written, a failure is returned as
//! an error that [`Error::may_have_reached_server`]; whether it is sent again is the retry
//! layer's decision, counted as an attempt.
//!
//! Idle connections older than the idle timeout are closed instead of reused, and every
//! socket has TCP keepalive, so a flow silently dropped by a NAT or load balancer is not
//! discovered by a request waiting out its timeout.

use std::io;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body_util::{BodyExt, Full, Limited};
use hyper::client::conn::http1::{self, SendRequest};
use hyper_util::rt::TokioIo;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use crate::error::{Error, ErrorKind, Result};
use crate::pool::Node;
use crate::time::Clock;

type Sender = SendRequest<Full<Bytes>>;

/// The connections of one node.
#[derive(Debug)]
pub(crate) struct ConnPool {
    /// Idle connections with the instant they became idle; the newest last.
    idle: Mutex<Vec<(Sender, Instant)>>,
    permits: Arc<Semaphore>,
    max: usize,
    opened: AtomicU64,
}

impl ConnPool {
    pub(crate) fn new(max_connections: usize) -> Self {
        ConnPool {
            idle: Mutex::new(Vec::new()),
            permits: Arc::new(Semaphore::new(max_connections.max(1))),
            max: max_connections.max(1),
            opened: AtomicU64::new(0),
        }
    }

    /// The newest idle connection that is open and younger than `idle_timeout`; older ones
    /// are closed (dropped).
    fn take_idle(&self, now: Instant, idle_timeout: Option<Duration>) -> Option<Sender> {
        let mut idle = self.idle.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(t) = idle_timeout {
            // The stack is ordered by idle time: expired ones are at the bottom.
            let expired = idle
                .iter()
                .take_while(|(_, since)| now.saturating_duration_since(*since) >= t)
                .count();
            if expired > 0 {
                idle.drain(..expired);
            }
        }
        while let Some((s, _)) = idle.pop() {
            if !s.is_closed() {
                return Some(s);
            }
        }
        None
    }

    fn put_idle(&self, s: Sender, now: Instant) {
        if !s.is_closed() {
            self.idle
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .push((s, now));
        }
    }

    /// Waits for a permit to use one connection of this node, at most `wait` (`None`:
    /// unbounded).
    ///
    /// # Errors
    /// [`ErrorKind::PoolTimeout`] when no connection became free in time.
    pub(crate) async fn acquire(&self, wait: Option<Duration>) -> Result<OwnedSemaphorePermit> {
        let fut = self.permits.clone().acquire_owned();
        let permit = match wait {
            Some(w) => tokio::time::timeout(w, fut).await.map_err(|_| {
                Error::new(
                    ErrorKind::PoolTimeout,
                    format!(
                        "all {} connections to the node stayed busy for {w:?}",
                        self.max
                    ),
                )
            })?,
            None => fut.await,
        };
        permit.map_err(|_| Error::connect("connection pool closed").unsent())
    }

    /// How many TCP connections were opened to this node so far.
    pub(crate) fn opened(&self) -> u64 {
        self.opened.load(Ordering::Relaxed)
    }

    /// Drops all idle connections.
    pub(crate) fn clear(&self) {
        self.idle.lock().unwrap_or_else(|p| p.into_inner()).clear();
    }
}

/// Request extension: the connection permit the pool layer took for this attempt.
///
/// Taken out (once) by [`send`]; dropped with the request if the attempt never gets there.
#[derive(Debug, Clone)]
pub(crate) struct HeldPermit(Arc<Mutex<Option<OwnedSemaphorePermit>>>);

impl HeldPermit {
    pub(crate) fn new(p: OwnedSemaphorePermit) -> Self {
        HeldPermit(Arc::new(Mutex::new(Some(p))))
    }

    fn take(&self) -> Option<OwnedSemaphorePermit> {
        self.0.lock().unwrap_or_else(|p| p.into_inner()).take()
    }
}

/// The default largest response body: 512 MiB, as sent and once inflated.
pub(crate) const DEFAULT_MAX_RESPONSE_SIZE: usize = 512 * 1024 * 1024;
/// The default idle timeout of pooled connections (hyper-util's default).
pub(crate) const DEFAULT_IDLE_TIMEOUT: Duration = Duration::from_secs(90);
/// The default TCP keepalive idle time (probes start after this much silence).
pub(crate) const DEFAULT_TCP_KEEPALIVE: Duration = Duration::from_secs(60);

/// Opens connections: TCP, then TLS for `https` nodes.
#[derive(Clone)]
pub(crate) struct Connector {
    pub(crate) connect_timeout: Option<Duration>,
    pub(crate) idle_timeout: Option<Duration>,
    pub(crate) tcp_keepalive: Option<Duration>,
    pub(crate) max_response_size: usize,
    pub(crate) clock: Arc<dyn Clock>,
    #[cfg(feature = "rustls")]
    pub(crate) tls: Option<Arc<crate::tls::TlsConnector>>,
}

impl std::fmt::Debug for Connector {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Connector")
            .field("connect_timeout", &self.connect_timeout)
            .field("idle_timeout", &self.idle_timeout)
            .field("tcp_keepalive", &self.tcp_keepalive)
            .field("max_response_size", &self.max_response_size)
            .finish_non_exhaustive()
    }
}

impl Connector {
    async fn connect(&self, node: &Node) -> Result<Sender> {
        let fut = self.connect_inner(node);
        let sender = match self.connect_timeout {
            Some(t) => tokio::time::timeout(t, fut)
                .await
                .map_err(|_| Error::timeout(format!("connect timed out after {t:?}")).unsent())??,
            None => fut.await?,
        };
        node.conns.opened.fetch_add(1, Ordering::Relaxed);
        Ok(sender)
    }

    async fn connect_inner(&self, node: &Node) -> Result<Sender> {
        let host = node.url.host();
        let tcp = TcpStream::connect((host, node.url.port()))
            .await
            .map_err(|e| {
                Error::connect(format!("cannot connect to {host}:{}", node.url.port()))
                    .with_source(e)
                    .unsent()
            })?;
        let _ = tcp.set_nodelay(true);
        if let Some(idle) = self.tcp_keepalive {
            // Best effort: a platform without keepalive options still works.
            let _ = set_keepalive(&tcp, idle);
        }
        let stream = if node.url.is_https() {
            #[cfg(feature = "rustls")]
            {
                let tls = self
                    .tls
                    .as_ref()
                    .ok_or_else(|| Error::new(ErrorKind::Tls, "TLS is not configured"))?;
                Stream::Tls(Box::new(tls.connect(host, tcp).await?))
            }
            #[cfg(not(feature = "rustls"))]
            {
                return Err(Error::new(
                    ErrorKind::Tls,
                    "https needs the `rustls` feature of es-transport",
                ));
            }
        } else {
            Stream::Plain(tcp)
        };
        let (sender, conn) = http1::Builder::new()
            .handshake::<_, Full<Bytes>>(TokioIo::new(stream))
            .await
            .map_err(|e| {
                Error::connect("HTTP handshake failed")
                    .with_source(e)
                    .unsent()
            })?;
        tokio::spawn(async move {
            if let Err(e) = conn.await {
                tracing::debug!(target: "elasticsearch", error = %e, "connection closed with an error");
            }
        });
        Ok(sender)
    }
}

/// Turns TCP keepalive on: probes after `idle` of silence, then every 10 s (or `idle`).
fn set_keepalive(tcp: &TcpStream, idle: Duration) -> io::Result<()> {
    let ka = socket2::TcpKeepalive::new()
        .with_time(idle)
        .with_interval(Duration::from_secs(10).min(idle));
    socket2::SockRef::from(tcp).set_tcp_keepalive(&ka)
}

fn too_large(max: usize, what: &str) -> Error {
    Error::new(
        ErrorKind::ResponseTooLarge,
        format!(
            "the response body {what} is larger than the limit of {max} bytes (max_response_size)"
        ),
    )
}

/// Sends one request on a pooled connection of `node` and reads the whole response.
pub(crate) async fn send(
    connector: &Connector,
    node: &Node,
    req: http::Request<Bytes>,
) -> Result<http::Response<Bytes>> {
    let held = req
        .extensions()
        .get::<HeldPermit>()
        .and_then(HeldPermit::take);
    let _permit = match held {
        Some(p) => p,
        None => node.conns.acquire(None).await?,
    };
    let (mut parts, body) = req.into_parts();
    // On the wire: origin-form request target and a Host header.
    if !parts.headers.contains_key(http::header::HOST)
        && let Ok(v) = http::HeaderValue::from_str(node.authority.as_str())
    {
        parts.headers.insert(http::header::HOST, v);
    }
    if parts.uri.authority().is_some() {
        let pq = parts
            .uri
            .path_and_query()
            .cloned()
            .unwrap_or_else(|| http::uri::PathAndQuery::from_static("/"));
        parts.uri = http::Uri::from(pq);
    }
    let build = |parts: &http::request::Parts| {
        let mut r = http::Request::new(Full::new(body.clone()));
        *r.method_mut() = parts.method.clone();
        *r.uri_mut() = parts.uri.clone();
        *r.headers_mut() = parts.headers.clone();
        r
    };
    let max = connector.max_response_size;
    // A reused connection may turn out closed by the server (its keep-alive timeout) just
    // before the request goes out; hyper then hands the request back unsent, and it is sent
    // on another connection without the node being blamed. Bounded: at most `max` idle
    // connections exist, and a failure on a fresh connection ends the loop.
    for _ in 0..=node.conns.max {
        let now = connector.clock.now();
        let (mut sender, reused) = match node.conns.take_idle(now, connector.idle_timeout) {
            Some(s) => (s, true),
            None => (connector.connect(node).await?, false),
        };
        if sender.ready().await.is_err() {
            if reused {
                continue;
            }
            return Err(Error::connect("connection closed before the request was sent").unsent());
        }
        match sender.try_send_request(build(&parts)).await {
            Ok(resp) => {
                let (head, body) = resp.into_parts();
                let declared = head
                    .headers
                    .get(http::header::CONTENT_LENGTH)
                    .and_then(|v| v.to_str().ok())
                    .and_then(|v| v.parse::<u64>().ok());
                if declared.is_some_and(|n| n > max as u64) {
                    // Not read: the connection is dropped with the sender.
                    return Err(too_large(max, "as sent").sent());
                }
                let body = Limited::new(body, max)
                    .collect()
                    .await
                    .map_err(|e| map_limited_error(e, max))?
                    .to_bytes();
                node.conns.put_idle(sender, connector.clock.now());
                return Ok(http::Response::from_parts(head, body));
            }
            Err(mut e) => {
                // hyper returns the request only when none of it was written.
                let unsent = e.take_message().is_some();
                let e = e.into_error();
                if unsent {
                    if reused {
                        tracing::debug!(target: "elasticsearch", node = %node.id, error = %e, "stale connection; sending on another (the request was not written)");
                        continue;
                    }
                    return Err(map_hyper_error(e).unsent());
                }
                let stale = reused && closed_by_peer(&e);
                let err = after_write(map_hyper_error(e));
                return Err(if stale { err.stale_connection() } else { err });
            }
        }
    }
    Err(Error::connect("no usable connection").unsent())
}

fn map_limited_error(e: Box<dyn std::error::Error + Send + Sync>, max: usize) -> Error {
    if e.is::<http_body_util::LengthLimitError>() {
        return too_large(max, "as sent").sent();
    }
    match e.downcast::<hyper::Error>() {
        Ok(h) => after_write(map_body_error(*h)),
        Err(other) => Error::connect("connection broke while reading the response body")
            .with_source(other)
            .sent(),
    }
}

/// A failure once the request may have been written: it may have reached the server,
/// except for a TLS failure (the server refused the session, so it processed nothing).
fn after_write(e: Error) -> Error {
    if e.kind() == ErrorKind::Tls {
        e.unsent()
    } else {
        e.sent()
    }
}

/// The peer closed or reset the connection before any of the response arrived: on a
/// reused connection, that is a keep-alive close racing our write, not a broken node.
fn closed_by_peer(e: &hyper::Error) -> bool {
    if e.is_incomplete_message() {
        return true;
    }
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        if let Some(io) = s.downcast_ref::<std::io::Error>() {
            return matches!(
                io.kind(),
                std::io::ErrorKind::ConnectionReset
                    | std::io::ErrorKind::BrokenPipe
                    | std::io::ErrorKind::ConnectionAborted
            );
        }
        source = s.source();
    }
    false
}

fn map_hyper_error(e: hyper::Error) -> Error {
    // With TLS 1.3 a refused client certificate surfaces only after the handshake.
    #[cfg(feature = "rustls")]
    if let Some(t) = crate::tls::tls_error_in_chain(&e) {
        return t.with_source(e);
    }
    if e.is_parse() || e.is_parse_status() {
        Error::new(ErrorKind::InvalidResponse, "malformed HTTP response").with_source(e)
    } else if e.is_incomplete_message() {
        Error::connect("connection closed before the response was complete").with_source(e)
    } else if e.is_timeout() {
        Error::timeout("timed out").with_source(e)
    } else {
        Error::connect("connection error").with_source(e)
    }
}

fn map_body_error(e: hyper::Error) -> Error {
    #[cfg(feature = "rustls")]
    if let Some(t) = crate::tls::tls_error_in_chain(&e) {
        return t.with_source(e);
    }
    if e.is_parse() {
        Error::new(ErrorKind::InvalidResponse, "malformed response body").with_source(e)
    } else {
        Error::connect("connection broke while reading the response body").with_source(e)
    }
}

/// A plain or TLS stream.
enum Stream {
    Plain(TcpStream),
    #[cfg(feature = "rustls")]
    Tls(Box<tokio_rustls::client::TlsStream<TcpStream>>),
}

impl AsyncRead for Stream {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Stream::Plain(s) => Pin::new(s).poll_read(cx, buf),
            #[cfg(feature = "rustls")]
            Stream::Tls(s) => Pin::new(s.as_mut()).poll_read(cx, buf),
        }
    }
}

impl AsyncWrite for Stream {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        match self.get_mut() {
            Stream::Plain(s) => Pin::new(s).poll_write(cx, buf),
            #[cfg(feature = "rustls")]
            Stream::Tls(s) => Pin::new(s.as_mut()).poll_write(cx, buf),
        }
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Stream::Plain(s) => Pin::new(s).poll_flush(cx),
            #[cfg(feature = "rustls")]
            Stream::Tls(s) => Pin::new(s.as_mut()).poll_flush(cx),
        }
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Stream::Plain(s) => Pin::new(s).poll_shutdown(cx),
            #[cfg(feature = "rustls")]
            Stream::Tls(s) => Pin::new(s.as_mut()).poll_shutdown(cx),
        }
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        match self.get_mut() {
            Stream::Plain(s) => Pin::new(s).poll_write_vectored(cx, bufs),
            #[cfg(feature = "rustls")]
            Stream::Tls(s) => Pin::new(s.as_mut()).poll_write_vectored(cx, bufs),
        }
    }

    fn is_write_vectored(&self) -> bool {
        match self {
            Stream::Plain(s) => s.is_write_vectored(),
            #[cfg(feature = "rustls")]
            Stream::Tls(s) => s.is_write_vectored(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn keepalive_is_set_on_the_socket() {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let tcp = TcpStream::connect(listener.local_addr().unwrap())
            .await
            .unwrap();
        let sock = socket2::SockRef::from(&tcp);
        assert!(!sock.keepalive().unwrap());
        set_keepalive(&tcp, Duration::from_secs(60)).unwrap();
        assert!(sock.keepalive().unwrap());
        #[cfg(target_os = "linux")]
        {
            assert_eq!(sock.tcp_keepalive_time().unwrap(), Duration::from_secs(60));
            assert_eq!(
                sock.tcp_keepalive_interval().unwrap(),
                Duration::from_secs(10)
            );
        }
    }
}
