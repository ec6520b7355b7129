//! Persistent HTTP/1.1 connections per node, bounded in number, reused in LIFO order.
//!
//! Each node has a [`ConnPool`]: a semaphore of `max_connections` permits and a stack of idle
//! connections. A request holds a permit from before it takes a connection until the response
//! body is read in full, and each permit holder owns at most one connection, so a node never
//! has more than `max_connections` open connections. A connection closed by the server while
//! idle is noticed when taken; a request that could not be written on a reused connection is
//! sent again on a fresh one (it never reached the server, so this is always safe).

use std::io;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::client::conn::http1::{self, SendRequest};
use hyper_util::rt::TokioIo;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;
use tokio::sync::Semaphore;

use crate::error::{Error, ErrorKind, Result};
use crate::pool::Node;

type Sender = SendRequest<Full<Bytes>>;

/// The connections of one node.
#[derive(Debug)]
pub(crate) struct ConnPool {
    idle: Mutex<Vec<Sender>>,
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

    fn take_idle(&self) -> Option<Sender> {
        let mut idle = self.idle.lock().unwrap_or_else(|p| p.into_inner());
        while let Some(s) = idle.pop() {
            if !s.is_closed() {
                return Some(s);
            }
        }
        None
    }

    fn put_idle(&self, s: Sender) {
        if !s.is_closed() {
            self.idle.lock().unwrap_or_else(|p| p.into_inner()).push(s);
        }
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

/// Opens connections: TCP, then TLS for `https` nodes.
#[derive(Clone)]
pub(crate) struct Connector {
    pub(crate) connect_timeout: Option<Duration>,
    #[cfg(feature = "rustls")]
    pub(crate) tls: Option<Arc<crate::tls::TlsConnector>>,
}

impl std::fmt::Debug for Connector {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Connector")
            .field("connect_timeout", &self.connect_timeout)
            .finish_non_exhaustive()
    }
}

impl Connector {
    async fn connect(&self, node: &Node) -> Result<Sender> {
        let fut = self.connect_inner(node);
        let sender = match self.connect_timeout {
            Some(t) => tokio::time::timeout(t, fut)
                .await
                .map_err(|_| Error::timeout(format!("connect timed out after {t:?}")))??,
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
            })?;
        let _ = tcp.set_nodelay(true);
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
            .map_err(|e| Error::connect("HTTP handshake failed").with_source(e))?;
        tokio::spawn(async move {
            if let Err(e) = conn.await {
                tracing::debug!(target: "elasticsearch", error = %e, "connection closed with an error");
            }
        });
        Ok(sender)
    }
}

/// Sends one request on a pooled connection of `node` and reads the whole response.
pub(crate) async fn send(
    connector: &Connector,
    node: &Node,
    req: http::Request<Bytes>,
) -> Result<http::Response<Bytes>> {
    let _permit = node
        .conns
        .permits
        .clone()
        .acquire_owned()
        .await
        .map_err(|_| Error::connect("connection pool closed"))?;
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
    // A reused connection may turn out closed by the server (its keep-alive timeout) just
    // before or while the request goes out; then the request is sent again on another
    // connection, without the node being blamed. Bounded: at most `max` idle connections
    // exist, and a failure on a fresh connection ends the loop.
    for _ in 0..=node.conns.max {
        let (mut sender, reused) = match node.conns.take_idle() {
            Some(s) => (s, true),
            None => (connector.connect(node).await?, false),
        };
        if sender.ready().await.is_err() {
            if reused {
                continue;
            }
            return Err(Error::connect(
                "connection closed before the request was sent",
            ));
        }
        match sender.try_send_request(build(&parts)).await {
            Ok(resp) => {
                let (head, body) = resp.into_parts();
                let body = body.collect().await.map_err(map_body_error)?.to_bytes();
                node.conns.put_idle(sender);
                return Ok(http::Response::from_parts(head, body));
            }
            Err(e) => {
                let e = e.into_error();
                // No response byte came back: on a reused connection that is a stale
                // keep-alive connection, not a sign the node is down.
                if reused && !(e.is_parse() || e.is_parse_status() || e.is_timeout()) {
                    tracing::debug!(target: "elasticsearch", node = %node.id, error = %e, "stale connection; resending");
                    continue;
                }
                return Err(map_hyper_error(e));
            }
        }
    }
    Err(Error::connect("no usable connection"))
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
