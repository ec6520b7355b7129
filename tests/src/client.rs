//! A tiny HTTP/1.1 client over a fresh TCP connection, independent of the
//! code under test: for seeding fixtures into a server and for checking what
//! a proxy or server answers.

use std::io;
use std::net::SocketAddr;
use std::time::Duration;

use bytes::Bytes;
use tokio::io::AsyncWriteExt;
use tokio::net::TcpStream;

use crate::wire::{self, Conn, ProxyResponse, RequestInfo};

/// Sends one request on a new connection and reads the response; the whole
/// exchange must finish within `timeout`. `Content-Length` is set from the
/// body; `Host` is added when absent.
pub async fn request(
    addr: SocketAddr,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: impl Into<Bytes>,
    timeout: Duration,
) -> io::Result<ProxyResponse> {
    let mut info = RequestInfo {
        method: method.to_string(),
        path: path.to_string(),
        headers: headers
            .iter()
            .map(|(n, v)| ((*n).to_string(), (*v).to_string()))
            .collect(),
        body: body.into(),
    };
    if info.header("host").is_none() {
        info.headers.push(("Host".to_string(), addr.to_string()));
    }
    info.headers
        .push(("Connection".to_string(), "close".to_string()));
    let is_head = method.eq_ignore_ascii_case("HEAD");
    let exchange = async {
        let stream = TcpStream::connect(addr).await?;
        let _ = stream.set_nodelay(true);
        let mut conn = Conn::new(stream);
        conn.io.write_all(&wire::serialize_request(&info)).await?;
        match conn.read_response(is_head).await? {
            Some((resp, _)) => Ok(resp),
            None => Err(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                "connection closed before a response",
            )),
        }
    };
    tokio::time::timeout(timeout, exchange)
        .await
        .map_err(|_| io::Error::new(io::ErrorKind::TimedOut, "request timed out"))?
}

/// [`request`] for sync code (and usable from async code: it runs on its
/// own thread and runtime).
pub fn request_blocking(
    addr: SocketAddr,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: impl Into<Bytes>,
    timeout: Duration,
) -> io::Result<ProxyResponse> {
    let method = method.to_string();
    let path = path.to_string();
    let headers: Vec<(String, String)> = headers
        .iter()
        .map(|(n, v)| ((*n).to_string(), (*v).to_string()))
        .collect();
    let body = body.into();
    std::thread::scope(|s| {
        s.spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()?;
            let refs: Vec<(&str, &str)> = headers
                .iter()
                .map(|(n, v)| (n.as_str(), v.as_str()))
                .collect();
            rt.block_on(request(addr, &method, &path, &refs, body, timeout))
        })
        .join()
        .unwrap_or_else(|_| Err(io::Error::other("request thread panicked")))
    })
}
