//! [`CountingServer`]: a minimal HTTP/1.1 keep-alive server that answers
//! every request at once and counts connections and requests.
//!
//! Used to test connection reuse and as the "null server" for benchmarks.
//! The default request path does not allocate per request beyond reading
//! the body: the response is written from a prebuilt buffer.

use std::fmt;
use std::io::{self, Read};
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::thread::JoinHandle;
use std::time::Duration;

use bytes::Bytes;
use tokio::io::AsyncWriteExt;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::oneshot;

use crate::wire::{self, Conn, ProxyResponse, RequestInfo};

/// How long an idle connection is kept open.
const IDLE_TIMEOUT: Duration = Duration::from_secs(120);
/// Requests served on one connection before it is closed.
const MAX_REQUESTS_PER_CONN: u64 = u64::MAX / 2;
/// Largest decompressed `_bulk` body the bulk responder reads.
const MAX_INFLATED: u64 = 1 << 30;

/// Responder hook: `Some((status, body))` answers the request with this
/// status and JSON body; `None` falls back to the fixed response.
pub type Responder = Arc<dyn Fn(&RequestInfo) -> Option<(u16, Bytes)> + Send + Sync>;

/// Options for a [`CountingServer`].
#[derive(Clone)]
pub struct CountingServerBuilder {
    status: u16,
    body: Bytes,
    delay: Option<Duration>,
    responder: Option<Responder>,
}

impl fmt::Debug for CountingServerBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CountingServerBuilder")
            .field("status", &self.status)
            .field("body", &self.body)
            .field("delay", &self.delay)
            .field("responder", &self.responder.is_some())
            .finish()
    }
}

impl Default for CountingServerBuilder {
    fn default() -> Self {
        Self {
            status: 200,
            body: Bytes::from_static(b"{\"ok\":true}"),
            delay: None,
            responder: None,
        }
    }
}

impl CountingServerBuilder {
    /// Status of the fixed response (default 200).
    pub fn status(mut self, status: u16) -> Self {
        self.status = status;
        self
    }

    /// Body of the fixed response (default `{"ok":true}`).
    pub fn body(mut self, body: impl Into<Bytes>) -> Self {
        self.body = body.into();
        self
    }

    /// Wait this long before answering each request.
    pub fn delay(mut self, delay: Duration) -> Self {
        self.delay = Some(delay);
        self
    }

    /// Computes responses per request (see [`Responder`]).
    pub fn responder(mut self, responder: Responder) -> Self {
        self.responder = Some(responder);
        self
    }

    /// Answers `POST`/`PUT` `/_bulk` (and `/{index}/_bulk`) with an
    /// all-success bulk response; shorthand for
    /// `.responder(bulk_responder())`.
    pub fn bulk(self) -> Self {
        self.responder(bulk_responder())
    }

    /// Starts the server.
    ///
    /// # Panics
    ///
    /// If no loopback port can be bound or the runtime cannot be built.
    #[track_caller]
    pub fn start(self) -> CountingServer {
        match self.try_start() {
            Ok(s) => s,
            Err(e) => panic!("CountingServer::start: {e}"),
        }
    }

    /// Like [`CountingServerBuilder::start`], returning an error instead of panicking.
    pub fn try_start(self) -> io::Result<CountingServer> {
        let mut one = self.try_start_many(1)?;
        Ok(one.remove(0))
    }

    /// `n` servers with these settings, each on its own port, all served by one thread
    /// (one current-thread runtime): so that a benchmark of a pool of many nodes costs the
    /// server side no more threads, wake-ups or context switches than one node does.
    /// Each server stops accepting when stopped; the thread ends, closing every
    /// connection of the group, when the last server of the group is stopped or dropped.
    ///
    /// # Errors
    ///
    /// If a loopback port cannot be bound or the runtime cannot be built.
    pub fn try_start_many(self, n: usize) -> io::Result<Vec<CountingServer>> {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()?;
        let fixed = ProxyResponse::json(self.status, self.body.clone());
        let (keep, keep_head_len) = wire::serialize_response(&fixed, false, false);
        let (close, close_head_len) = wire::serialize_response(&fixed, false, true);
        let mut loops = Vec::with_capacity(n);
        let mut servers = Vec::with_capacity(n);
        for _ in 0..n.max(1) {
            let listener = std::net::TcpListener::bind("127.0.0.1:0")?;
            listener.set_nonblocking(true)?;
            let addr = listener.local_addr()?;
            let shared = Arc::new(Shared {
                counters: Counters::default(),
                keep: Bytes::from(keep.clone()),
                keep_head_len,
                close: Bytes::from(close.clone()),
                close_head_len,
                delay: self.delay,
                responder: self.responder.clone(),
            });
            let (shutdown_tx, shutdown_rx) = oneshot::channel();
            loops.push((shared.clone(), listener, shutdown_rx));
            servers.push((shared, addr, shutdown_tx));
        }
        let first_port = servers[0].1.port();
        let thread = std::thread::Builder::new()
            .name(format!("counting-server-{first_port}"))
            .spawn(move || {
                rt.block_on(async move {
                    let mut set = tokio::task::JoinSet::new();
                    for (shared, listener, shutdown_rx) in loops {
                        set.spawn(accept_loop(shared, listener, shutdown_rx));
                    }
                    while set.join_next().await.is_some() {}
                });
                rt.shutdown_timeout(Duration::from_secs(1));
            })?;
        let runner = Arc::new(Runner(Some(thread)));
        Ok(servers
            .into_iter()
            .map(|(shared, addr, shutdown_tx)| CountingServer {
                shared,
                addr,
                shutdown: Some(shutdown_tx),
                runner: Some(runner.clone()),
            })
            .collect())
    }
}

/// The thread serving a group of servers; joined when the last server lets go of it.
struct Runner(Option<JoinHandle<()>>);

impl Drop for Runner {
    fn drop(&mut self) {
        if let Some(t) = self.0.take() {
            let _ = t.join();
        }
    }
}

#[derive(Debug, Default)]
struct Counters {
    connections: AtomicU64,
    open: AtomicU64,
    max_open: AtomicU64,
    requests: AtomicU64,
}

struct Shared {
    counters: Counters,
    keep: Bytes,
    keep_head_len: usize,
    close: Bytes,
    close_head_len: usize,
    delay: Option<Duration>,
    responder: Option<Responder>,
}

/// A minimal HTTP/1.1 keep-alive server on `127.0.0.1:<random port>` that
/// answers every request with a fixed JSON body (headers
/// `Content-Type: application/json`, `X-Elastic-Product: Elasticsearch`) and
/// counts connections and requests. Stops on drop.
pub struct CountingServer {
    shared: Arc<Shared>,
    addr: SocketAddr,
    shutdown: Option<oneshot::Sender<()>>,
    runner: Option<Arc<Runner>>,
}

impl fmt::Debug for CountingServer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CountingServer")
            .field("addr", &self.addr)
            .field("counters", &self.shared.counters)
            .finish_non_exhaustive()
    }
}

impl CountingServer {
    /// Starts a server with the defaults (200, `{"ok":true}`, no delay).
    ///
    /// # Panics
    ///
    /// If no loopback port can be bound.
    #[track_caller]
    pub fn start() -> Self {
        CountingServerBuilder::default().start()
    }

    /// Options for a server.
    pub fn builder() -> CountingServerBuilder {
        CountingServerBuilder::default()
    }

    /// `http://127.0.0.1:<port>`.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The listening address.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The listening port.
    pub fn port(&self) -> u16 {
        self.addr.port()
    }

    /// TCP connections accepted so far.
    pub fn connections(&self) -> u64 {
        self.shared.counters.connections.load(Ordering::SeqCst)
    }

    /// Connections open right now.
    pub fn open_connections(&self) -> u64 {
        self.shared.counters.open.load(Ordering::SeqCst)
    }

    /// Most connections open at the same time so far (as seen by the
    /// server: a connection counts as open from accept until the server
    /// reads its end of stream, which happens at once for idle connections).
    pub fn max_open_connections(&self) -> u64 {
        self.shared.counters.max_open.load(Ordering::SeqCst)
    }

    /// Requests answered (or being answered) so far.
    pub fn requests(&self) -> u64 {
        self.shared.counters.requests.load(Ordering::SeqCst)
    }

    /// Resets the counters; the maximum restarts from the connections open now.
    pub fn reset_counters(&self) {
        let c = &self.shared.counters;
        c.connections.store(0, Ordering::SeqCst);
        c.requests.store(0, Ordering::SeqCst);
        c.max_open
            .store(c.open.load(Ordering::SeqCst), Ordering::SeqCst);
    }

    /// Stops the server and closes every connection.
    pub fn stop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        // The last server of a group joins its thread (which then closes every connection).
        self.runner.take();
    }
}

impl Drop for CountingServer {
    fn drop(&mut self) {
        self.stop();
    }
}

async fn accept_loop(
    shared: Arc<Shared>,
    listener: std::net::TcpListener,
    mut shutdown_rx: oneshot::Receiver<()>,
) {
    let listener = match TcpListener::from_std(listener) {
        Ok(l) => l,
        Err(e) => {
            eprintln!("counting server: cannot register listener: {e}");
            return;
        }
    };
    loop {
        tokio::select! {
            _ = &mut shutdown_rx => return,
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => {
                    let c = &shared.counters;
                    c.connections.fetch_add(1, Ordering::SeqCst);
                    let open = c.open.fetch_add(1, Ordering::SeqCst) + 1;
                    c.max_open.fetch_max(open, Ordering::SeqCst);
                    // Created before spawning so the gauge is decremented
                    // even if the task is dropped before its first poll.
                    let guard = OpenGuard(shared.clone());
                    let _ = stream.set_nodelay(true);
                    tokio::spawn(serve(shared.clone(), stream, guard));
                }
                Err(e) => {
                    eprintln!("counting server: accept failed: {e}");
                    tokio::time::sleep(Duration::from_millis(20)).await;
                }
            },
        }
    }
}

/// Decrements the open-connection gauge when a connection task ends
/// (including when the runtime drops it at shutdown).
struct OpenGuard(Arc<Shared>);

impl Drop for OpenGuard {
    fn drop(&mut self) {
        self.0.counters.open.fetch_sub(1, Ordering::SeqCst);
    }
}

async fn serve(shared: Arc<Shared>, stream: TcpStream, _guard: OpenGuard) {
    let mut conn = Conn::new(stream);
    let want_info = shared.responder.is_some();
    for _ in 0..MAX_REQUESTS_PER_CONN {
        let req = match tokio::time::timeout(IDLE_TIMEOUT, conn.read_request(want_info)).await {
            Ok(Ok(Some(r))) => r,
            Ok(Err(e)) if e.kind() == io::ErrorKind::InvalidData => {
                let resp = ProxyResponse::new(400).with_body(format!("bad request: {e}"));
                let (bytes, _) = wire::serialize_response(&resp, false, true);
                let _ = conn.io.write_all(&bytes).await;
                return;
            }
            _ => return,
        };
        shared.counters.requests.fetch_add(1, Ordering::SeqCst);
        if let Some(d) = shared.delay {
            tokio::time::sleep(d).await;
        }
        let custom = match (&shared.responder, &req.info) {
            (Some(responder), Some(info)) => responder(info),
            _ => None,
        };
        let written = match custom {
            Some((status, body)) => {
                let resp = ProxyResponse::json(status, body);
                let (bytes, _) = wire::serialize_response(&resp, req.is_head, !req.keep_alive);
                conn.io.write_all(&bytes).await
            }
            None => {
                let (buf, head_len) = if req.keep_alive {
                    (&shared.keep, shared.keep_head_len)
                } else {
                    (&shared.close, shared.close_head_len)
                };
                let bytes = if req.is_head {
                    buf.get(..head_len).unwrap_or_default()
                } else {
                    &buf[..]
                };
                conn.io.write_all(bytes).await
            }
        };
        if written.is_err() || !req.keep_alive {
            return;
        }
    }
}

/// A [`Responder`] that answers `POST`/`PUT` to `/_bulk` or `/{index}/_bulk`
/// with an all-success bulk response (see [`bulk_success_body`]) and leaves
/// every other request to the fixed response.
pub fn bulk_responder() -> Responder {
    let next_id = Arc::new(AtomicU64::new(1));
    Arc::new(move |info: &RequestInfo| {
        let method_ok =
            info.method.eq_ignore_ascii_case("POST") || info.method.eq_ignore_ascii_case("PUT");
        let path = info.path_only();
        let default_index = if path == "/_bulk" {
            None
        } else if let Some(index) = path
            .strip_suffix("/_bulk")
            .and_then(|p| p.strip_prefix('/'))
            .filter(|p| !p.is_empty() && !p.contains('/'))
        {
            Some(index)
        } else {
            return None;
        };
        if !method_ok {
            return None;
        }
        let gzip = info
            .header("content-encoding")
            .is_some_and(|v| v.trim().eq_ignore_ascii_case("gzip"));
        let body = if gzip {
            let mut out = Vec::new();
            let decoder = flate2::read::MultiGzDecoder::new(&info.body[..]);
            if decoder.take(MAX_INFLATED).read_to_end(&mut out).is_err() {
                let err =
                    r#"{"error":{"type":"parse_exception","reason":"bad gzip body"},"status":400}"#;
                return Some((400, Bytes::from_static(err.as_bytes())));
            }
            Bytes::from(out)
        } else {
            info.body.clone()
        };
        Some((200, bulk_success_body(&body, default_index, &next_id)))
    })
}

/// Builds an all-success bulk response for an NDJSON bulk body: one item per
/// action line (`index`/`create` → 201 `created`, `update` → 200 `updated`,
/// `delete` → 200 `deleted`), using the action's `_index`/`_id` (falling back
/// to `default_index` and ids drawn from `next_id`). An action line that is
/// not a valid action yields a 400 item and `"errors":true`.
pub fn bulk_success_body(body: &[u8], default_index: Option<&str>, next_id: &AtomicU64) -> Bytes {
    use std::borrow::Cow;
    use std::io::Write as _;

    /// An action line: one of the four keys, with borrowed metadata (fast path).
    #[derive(serde::Deserialize)]
    struct ActionLine<'a> {
        #[serde(borrow)]
        index: Option<Meta<'a>>,
        #[serde(borrow)]
        create: Option<Meta<'a>>,
        #[serde(borrow)]
        update: Option<Meta<'a>>,
        #[serde(borrow)]
        delete: Option<Meta<'a>>,
    }
    #[derive(serde::Deserialize)]
    struct Meta<'a> {
        #[serde(borrow, default)]
        _index: Option<Cow<'a, str>>,
        #[serde(default)]
        _id: Option<serde_json::Value>,
    }

    let mut out: Vec<u8> = Vec::with_capacity(64 + body.len() / 2);
    out.extend_from_slice(br#"{"took":1,"errors":false,"items":["#);
    let mut errors = false;
    let mut expect_source = false;
    let mut count = 0usize;
    for line in body.split(|b| *b == b'\n') {
        let line = line.trim_ascii();
        if line.is_empty() {
            continue;
        }
        if expect_source {
            expect_source = false;
            continue;
        }
        if count > 0 {
            out.push(b',');
        }
        count += 1;
        let parsed = serde_json::from_slice::<ActionLine<'_>>(line)
            .ok()
            .and_then(|a| {
                let ops = [
                    ("index", a.index),
                    ("create", a.create),
                    ("update", a.update),
                    ("delete", a.delete),
                ];
                let mut found = ops.into_iter().filter_map(|(op, m)| m.map(|m| (op, m)));
                let first = found.next();
                // Exactly one action per line.
                if found.next().is_some() { None } else { first }
            });
        let Some((op, meta)) = parsed else {
            errors = true;
            out.extend_from_slice(
                br#"{"index":{"status":400,"error":{"type":"illegal_argument_exception","reason":"malformed action line"}}}"#,
            );
            continue;
        };
        expect_source = op != "delete";
        let index = meta._index.as_deref().or(default_index).unwrap_or("index");
        let (status, result) = match op {
            "update" => (200, "updated"),
            "delete" => (200, "deleted"),
            _ => (201, "created"),
        };
        let _ = write!(out, r#"{{"{op}":{{"_index":"#);
        let _ = serde_json::to_writer(&mut out, index);
        out.extend_from_slice(br#","_id":"#);
        match &meta._id {
            Some(serde_json::Value::String(id)) => {
                let _ = serde_json::to_writer(&mut out, id);
            }
            Some(serde_json::Value::Number(n)) => {
                let _ = write!(out, "\"{n}\"");
            }
            _ => {
                let _ = write!(out, "\"{}\"", next_id.fetch_add(1, Ordering::Relaxed));
            }
        }
        let _ = write!(
            out,
            r#","_version":1,"result":"{result}","_shards":{{"total":1,"successful":1,"failed":0}},"_seq_no":0,"_primary_term":1,"status":{status}}}}}"#
        );
    }
    out.extend_from_slice(b"]}");
    if errors {
        // Rare path: flip the flag written up front.
        let flag = br#""errors":false"#;
        if let Some(pos) = out.windows(flag.len()).position(|w| w == flag) {
            out.splice(pos..pos + flag.len(), br#""errors":true"#.iter().copied());
        }
    }
    Bytes::from(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bulk_body_counts_actions() {
        let body = b"{\"index\":{\"_index\":\"a\",\"_id\":\"1\"}}\n{\"x\":1}\n{\"delete\":{\"_index\":\"a\",\"_id\":\"2\"}}\n{\"create\":{}}\n{\"y\":2}\n{\"update\":{\"_id\":3}}\n{\"doc\":{}}\n";
        let ids = AtomicU64::new(7);
        let out = bulk_success_body(body, Some("d"), &ids);
        let v: serde_json::Value = serde_json::from_slice(&out).expect("json");
        assert_eq!(v["errors"], false);
        let items = v["items"].as_array().expect("items");
        assert_eq!(items.len(), 4);
        assert_eq!(items[0]["index"]["status"], 201);
        assert_eq!(items[1]["delete"]["result"], "deleted");
        assert_eq!(items[2]["create"]["_index"], "d");
        assert_eq!(items[2]["create"]["_id"], "7");
        assert_eq!(items[3]["update"]["_id"], "3");
        let bad = bulk_success_body(b"nope\n", None, &ids);
        let v: serde_json::Value = serde_json::from_slice(&bad).expect("json");
        assert_eq!(v["errors"], true);
    }

    /// One GET on a fresh keep-alive connection; returns the connection after the answer.
    fn get(addr: SocketAddr) -> std::net::TcpStream {
        use std::io::Write;
        let mut c = std::net::TcpStream::connect(addr).expect("connect");
        c.set_read_timeout(Some(Duration::from_secs(5)))
            .expect("timeout");
        c.write_all(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
            .expect("write");
        let mut got = Vec::new();
        let mut buf = [0u8; 1024];
        while !got.ends_with(b"{\"ok\":true}") {
            let n = c.read(&mut buf).expect("read");
            assert!(
                n > 0,
                "closed before the answer: {:?}",
                String::from_utf8_lossy(&got)
            );
            got.extend_from_slice(&buf[..n]);
        }
        assert!(
            got.starts_with(b"HTTP/1.1 200"),
            "{:?}",
            String::from_utf8_lossy(&got)
        );
        c
    }

    #[test]
    fn a_group_serves_every_port_from_one_thread() {
        let mut group = CountingServer::builder()
            .body(r#"{"ok":true}"#)
            .try_start_many(3)
            .expect("start");
        let ports: std::collections::BTreeSet<u16> =
            group.iter().map(CountingServer::port).collect();
        assert_eq!(ports.len(), 3);
        let mut conns: Vec<_> = group.iter().map(|s| get(s.addr())).collect();
        for s in &group {
            assert_eq!((s.requests(), s.connections()), (1, 1));
        }
        // Stopping one server stops its accepting only; the group's thread serves on.
        group[0].stop();
        let deadline = std::time::Instant::now() + Duration::from_secs(5);
        while std::net::TcpStream::connect(group[0].addr()).is_ok() {
            assert!(
                std::time::Instant::now() < deadline,
                "a stopped server still accepts"
            );
            std::thread::sleep(Duration::from_millis(10));
        }
        drop(get(group[1].addr()));
        // The last one stopped ends the thread and closes every open connection.
        group.clear();
        for c in &mut conns {
            let mut buf = [0u8; 16];
            assert_eq!(
                c.read(&mut buf).expect("read after stop"),
                0,
                "connection left open"
            );
        }
    }
}
