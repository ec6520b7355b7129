//! [`FaultProxy`]: a small HTTP/1.1-aware fault-injecting proxy.
//!
//! The proxy listens on `127.0.0.1:0` in front of an upstream address
//! (usually an [`OsmemServer`](crate::OsmemServer)) and, for every request,
//! does what the current [`Mode`] says (or what the per-request rule hook
//! returns). It runs on its own Tokio runtime in a background thread, so it
//! works from sync tests and from `#[tokio::test]` tests of any flavour, and
//! it stops when dropped.
//!
//! ```no_run
//! use std::sync::Arc;
//! use es_tests::{Action, FaultProxy, Mode, OsmemServer, RequestInfo};
//!
//! let server = OsmemServer::start();
//! let proxy = FaultProxy::start(server.addr());
//! proxy.set_mode(Mode::status_retry_after(503, 1));
//! proxy.set_mode(Mode::Forward);
//! proxy.set_rule(Arc::new(|req: &RequestInfo| {
//!     (req.path_only() == "/_nodes/_all/http").then(|| Action::json(200, r#"{"nodes":{}}"#))
//! }));
//! ```

use std::collections::HashMap;
use std::fmt;
use std::io;
use std::net::SocketAddr;
use std::ops::Deref;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::thread::{JoinHandle, ThreadId};
use std::time::Duration;

use bytes::Bytes;
use tokio::io::AsyncWriteExt;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{mpsc, oneshot, watch};

use crate::wire::{self, Conn, ProxyResponse, RequestInfo};

/// How long an idle client connection is kept open.
const IDLE_TIMEOUT: Duration = Duration::from_secs(120);
/// Connect timeout towards the upstream.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
/// Time allowed for the upstream to answer one request.
const UPSTREAM_TIMEOUT: Duration = Duration::from_secs(120);
/// Longest a stalled connection is held.
const MAX_STALL: Duration = Duration::from_secs(600);
/// How long `set_mode` waits for the listener to close or re-bind.
const CONTROL_TIMEOUT: Duration = Duration::from_secs(10);
/// Requests served on one client connection before it is closed.
const MAX_REQUESTS_PER_CONN: u64 = 10_000_000;
/// Entries kept in the request log.
const MAX_LOG: usize = 100_000;

/// What the proxy does with connections and requests (unless the rule hook
/// decides otherwise for a request).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum Mode {
    /// Forward each request to the upstream and return its response
    /// (passed through the rewriter hook, if any). If the upstream cannot be
    /// reached or fails mid-response the client gets a 502 (504 when the
    /// upstream does not answer within 120 s).
    #[default]
    Forward,
    /// Refuse connections at TCP level: the listener is closed so `connect()`
    /// gets `ECONNREFUSED`, and open client connections are closed. Leaving
    /// this mode re-binds the same port.
    Refuse,
    /// Accept, then reset at once (`SO_LINGER 0` + close → RST) without
    /// reading. Requests on connections that were already open are read,
    /// then the connection is reset. The rule hook is not consulted for
    /// connections reset on accept.
    Reset,
    /// Forward, write only part of the response (the head and half the
    /// body), then reset the connection.
    ResetMidResponse,
    /// Read the request and never answer; the connection is held until the
    /// mode is set again (to anything) or the proxy stops.
    Stall,
    /// Answer this response without forwarding.
    Status {
        /// Status code.
        status: u16,
        /// Headers (`Content-Length` is added).
        headers: Vec<(String, String)>,
        /// Body.
        body: Bytes,
    },
    /// Answer these raw bytes (not valid HTTP) and close.
    Garbage(Bytes),
}

impl Mode {
    /// `Mode::Status` with this status, an Elasticsearch-style JSON error
    /// body and `Content-Type: application/json` (no product header, like a
    /// load balancer in front of a dead node).
    pub fn status(status: u16) -> Self {
        let (status, headers, body) = error_parts(status);
        Mode::Status {
            status,
            headers,
            body,
        }
    }

    /// Like [`Mode::status`] plus a `Retry-After: <secs>` header (e.g. 503 or 429).
    pub fn status_retry_after(status: u16, secs: u64) -> Self {
        let (status, mut headers, body) = error_parts(status);
        headers.push(("Retry-After".to_string(), secs.to_string()));
        Mode::Status {
            status,
            headers,
            body,
        }
    }

    fn to_action(&self) -> Action {
        match self {
            Mode::Forward => Action::Forward,
            Mode::Refuse => Action::Close,
            Mode::Reset => Action::Reset,
            Mode::ResetMidResponse => Action::ResetMidResponse,
            Mode::Stall => Action::Stall,
            Mode::Status {
                status,
                headers,
                body,
            } => Action::Status {
                status: *status,
                headers: headers.clone(),
                body: body.clone(),
            },
            Mode::Garbage(b) => Action::Garbage(b.clone()),
        }
    }
}

fn error_parts(status: u16) -> (u16, Vec<(String, String)>, Bytes) {
    let body = serde_json::json!({
        "error": {
            "type": "fault_proxy",
            "reason": format!("fault proxy answered {status}"),
        },
        "status": status,
    })
    .to_string();
    (
        status,
        vec![("Content-Type".to_string(), "application/json".to_string())],
        Bytes::from(body),
    )
}

/// What to do with one request; returned by the rule hook to override the
/// mode for that request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    /// Forward to the upstream (see [`Mode::Forward`]).
    Forward,
    /// Close the connection without answering (the per-request analogue of
    /// [`Mode::Refuse`]).
    Close,
    /// Reset the connection without answering.
    Reset,
    /// Forward, write part of the response, then reset.
    ResetMidResponse,
    /// Never answer (see [`Mode::Stall`]).
    Stall,
    /// Answer this response without forwarding.
    Status {
        /// Status code.
        status: u16,
        /// Headers (`Content-Length` is added).
        headers: Vec<(String, String)>,
        /// Body.
        body: Bytes,
    },
    /// Answer these raw bytes and close.
    Garbage(Bytes),
    /// Wait this long, then forward.
    Delay(Duration),
}

impl Action {
    /// An answer with this status and an Elasticsearch-style JSON error body
    /// (see [`Mode::status`]).
    pub fn status(status: u16) -> Self {
        let (status, headers, body) = error_parts(status);
        Action::Status {
            status,
            headers,
            body,
        }
    }

    /// Like [`Action::status`] plus `Retry-After: <secs>`.
    pub fn status_retry_after(status: u16, secs: u64) -> Self {
        let (status, mut headers, body) = error_parts(status);
        headers.push(("Retry-After".to_string(), secs.to_string()));
        Action::Status {
            status,
            headers,
            body,
        }
    }

    /// A JSON answer that looks like Elasticsearch sent it (headers
    /// `Content-Type: application/json`, `X-Elastic-Product: Elasticsearch`).
    pub fn json(status: u16, body: impl Into<Bytes>) -> Self {
        Self::respond(ProxyResponse::json(status, body))
    }

    /// Answer this response.
    pub fn respond(resp: ProxyResponse) -> Self {
        Action::Status {
            status: resp.status,
            headers: resp.headers,
            body: resp.body,
        }
    }
}

/// Per-request rule hook: `Some(action)` overrides the mode for that request.
pub type Rule = Arc<dyn Fn(&RequestInfo) -> Option<Action> + Send + Sync>;

/// Response rewriter hook, applied to every forwarded response.
pub type Rewriter = Arc<dyn Fn(&RequestInfo, ProxyResponse) -> ProxyResponse + Send + Sync>;

/// One entry of the proxy's request log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestRecord {
    /// Method.
    pub method: String,
    /// Path with query.
    pub path: String,
}

#[derive(Debug, Clone, Copy, Default)]
struct ConnState {
    generation: u64,
    refusing: bool,
}

enum Control {
    Listen(bool, std::sync::mpsc::Sender<Result<(), String>>),
}

struct Shared {
    addr: SocketAddr,
    upstream: Mutex<SocketAddr>,
    mode: Mutex<Mode>,
    rule: Mutex<Option<Rule>>,
    rewriter: Mutex<Option<Rewriter>>,
    mode_change: Mutex<()>,
    state_tx: watch::Sender<ConnState>,
    ctrl: mpsc::UnboundedSender<Control>,
    proxy_thread: Mutex<Option<ThreadId>>,
    connections: AtomicU64,
    requests: AtomicU64,
    per_path: Mutex<HashMap<String, u64>>,
    log: Mutex<Vec<RequestRecord>>,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

impl Shared {
    fn count_request(&self, info: &RequestInfo) {
        self.requests.fetch_add(1, Ordering::SeqCst);
        *lock(&self.per_path)
            .entry(info.path_only().to_string())
            .or_insert(0) += 1;
        let mut log = lock(&self.log);
        if log.len() < MAX_LOG {
            log.push(RequestRecord {
                method: info.method.clone(),
                path: info.path.clone(),
            });
        }
    }
}

/// A cheap, cloneable, thread-safe handle to a [`FaultProxy`]: change its
/// mode, hooks and upstream, and read its counters. [`FaultProxy`]
/// dereferences to it.
#[derive(Clone)]
pub struct ProxyHandle {
    shared: Arc<Shared>,
}

impl fmt::Debug for ProxyHandle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ProxyHandle")
            .field("addr", &self.shared.addr)
            .field("upstream", &*lock(&self.shared.upstream))
            .field("mode", &*lock(&self.shared.mode))
            .finish_non_exhaustive()
    }
}

impl ProxyHandle {
    /// `http://127.0.0.1:<port>`.
    pub fn url(&self) -> String {
        format!("http://{}", self.shared.addr)
    }

    /// The address the proxy listens on (stable across [`Mode::Refuse`]).
    pub fn addr(&self) -> SocketAddr {
        self.shared.addr
    }

    /// The port the proxy listens on.
    pub fn port(&self) -> u16 {
        self.shared.addr.port()
    }

    /// The current mode.
    pub fn mode(&self) -> Mode {
        lock(&self.shared.mode).clone()
    }

    /// Sets the mode. Returns once it is in effect: after switching to
    /// [`Mode::Refuse`] new connections are refused, and after switching
    /// away from it the port is listening again.
    ///
    /// # Panics
    ///
    /// If the port cannot be re-bound within 10 s when leaving
    /// [`Mode::Refuse`].
    #[track_caller]
    pub fn set_mode(&self, mode: Mode) {
        if let Err(e) = self.try_set_mode(mode) {
            panic!("FaultProxy::set_mode: {e}");
        }
    }

    /// Like [`ProxyHandle::set_mode`], returning an error instead of panicking.
    pub fn try_set_mode(&self, mode: Mode) -> Result<(), String> {
        let _serial = lock(&self.shared.mode_change);
        let refusing = mode == Mode::Refuse;
        *lock(&self.shared.mode) = mode;
        let (ack_tx, ack_rx) = std::sync::mpsc::channel();
        let result = if self
            .shared
            .ctrl
            .send(Control::Listen(!refusing, ack_tx))
            .is_err()
        {
            // The proxy has stopped: nothing is listening anyway.
            Ok(())
        } else if *lock(&self.shared.proxy_thread) == Some(std::thread::current().id()) {
            // Called from a hook on the proxy's own thread: waiting would
            // deadlock; the change applies once the hook returns.
            Ok(())
        } else {
            match ack_rx.recv_timeout(CONTROL_TIMEOUT) {
                Ok(r) => r,
                Err(std::sync::mpsc::RecvTimeoutError::Disconnected) => Ok(()),
                Err(std::sync::mpsc::RecvTimeoutError::Timeout) => {
                    Err("timed out waiting for the proxy listener".to_string())
                }
            }
        };
        self.shared.state_tx.send_modify(|s| {
            s.generation += 1;
            s.refusing = refusing;
        });
        result
    }

    /// Sets the upstream address; later requests go there (upstream
    /// connections to the old address are dropped when next used).
    pub fn set_upstream(&self, upstream: SocketAddr) {
        *lock(&self.shared.upstream) = upstream;
    }

    /// The current upstream address.
    pub fn upstream(&self) -> SocketAddr {
        *lock(&self.shared.upstream)
    }

    /// Installs the per-request rule hook (replacing any previous one).
    pub fn set_rule(&self, rule: Rule) {
        *lock(&self.shared.rule) = Some(rule);
    }

    /// Removes the rule hook.
    pub fn clear_rule(&self) {
        *lock(&self.shared.rule) = None;
    }

    /// Installs the response rewriter (replacing any previous one).
    pub fn set_rewriter(&self, rewriter: Rewriter) {
        *lock(&self.shared.rewriter) = Some(rewriter);
    }

    /// Removes the response rewriter.
    pub fn clear_rewriter(&self) {
        *lock(&self.shared.rewriter) = None;
    }

    /// TCP connections accepted so far.
    pub fn connections(&self) -> u64 {
        self.shared.connections.load(Ordering::SeqCst)
    }

    /// Requests read so far (whatever was done with them).
    pub fn requests(&self) -> u64 {
        self.shared.requests.load(Ordering::SeqCst)
    }

    /// Requests read so far whose path (without query) is `path`.
    pub fn requests_for(&self, path: &str) -> u64 {
        lock(&self.shared.per_path).get(path).copied().unwrap_or(0)
    }

    /// The requests read so far, in order (the first 100,000).
    pub fn request_log(&self) -> Vec<RequestRecord> {
        lock(&self.shared.log).clone()
    }

    /// Resets every counter and the request log.
    pub fn reset_counters(&self) {
        self.shared.connections.store(0, Ordering::SeqCst);
        self.shared.requests.store(0, Ordering::SeqCst);
        lock(&self.shared.per_path).clear();
        lock(&self.shared.log).clear();
    }
}

/// A fault-injecting HTTP/1.1 proxy on `127.0.0.1:<random port>`; see the
/// [module docs](self). Dereferences to its [`ProxyHandle`]. Stops on drop.
pub struct FaultProxy {
    handle: ProxyHandle,
    shutdown: Option<oneshot::Sender<()>>,
    thread: Option<JoinHandle<()>>,
}

impl fmt::Debug for FaultProxy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("FaultProxy").field(&self.handle).finish()
    }
}

impl Deref for FaultProxy {
    type Target = ProxyHandle;

    fn deref(&self) -> &ProxyHandle {
        &self.handle
    }
}

impl FaultProxy {
    /// Starts a proxy in [`Mode::Forward`] in front of `upstream`.
    ///
    /// # Panics
    ///
    /// If no loopback port can be bound or the runtime cannot be built.
    #[track_caller]
    pub fn start(upstream: SocketAddr) -> Self {
        match Self::try_start(upstream) {
            Ok(p) => p,
            Err(e) => panic!("FaultProxy::start: {e}"),
        }
    }

    /// Like [`FaultProxy::start`], returning an error instead of panicking.
    pub fn try_start(upstream: SocketAddr) -> io::Result<Self> {
        let listener = std::net::TcpListener::bind("127.0.0.1:0")?;
        listener.set_nonblocking(true)?;
        let addr = listener.local_addr()?;
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()?;
        let (ctrl_tx, ctrl_rx) = mpsc::unbounded_channel();
        let (state_tx, _) = watch::channel(ConnState::default());
        let shared = Arc::new(Shared {
            addr,
            upstream: Mutex::new(upstream),
            mode: Mutex::new(Mode::Forward),
            rule: Mutex::new(None),
            rewriter: Mutex::new(None),
            mode_change: Mutex::new(()),
            state_tx,
            ctrl: ctrl_tx,
            proxy_thread: Mutex::new(None),
            connections: AtomicU64::new(0),
            requests: AtomicU64::new(0),
            per_path: Mutex::new(HashMap::new()),
            log: Mutex::new(Vec::new()),
        });
        let (shutdown_tx, shutdown_rx) = oneshot::channel();
        let thread_shared = shared.clone();
        let thread = std::thread::Builder::new()
            .name(format!("fault-proxy-{}", addr.port()))
            .spawn(move || {
                *lock(&thread_shared.proxy_thread) = Some(std::thread::current().id());
                rt.block_on(accept_loop(thread_shared, listener, ctrl_rx, shutdown_rx));
                rt.shutdown_timeout(Duration::from_secs(1));
            })?;
        Ok(Self {
            handle: ProxyHandle { shared },
            shutdown: Some(shutdown_tx),
            thread: Some(thread),
        })
    }

    /// A cloneable handle (e.g. to move into another task or thread).
    pub fn handle(&self) -> ProxyHandle {
        self.handle.clone()
    }

    /// Stops the proxy: closes the listener and every connection.
    pub fn stop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

impl Drop for FaultProxy {
    fn drop(&mut self) {
        self.stop();
    }
}

async fn accept_opt(listener: &Option<TcpListener>) -> io::Result<(TcpStream, SocketAddr)> {
    match listener {
        Some(l) => l.accept().await,
        None => std::future::pending().await,
    }
}

async fn bind_with_retry(addr: SocketAddr) -> Result<TcpListener, String> {
    let mut last = String::new();
    for _ in 0..100 {
        match TcpListener::bind(addr).await {
            Ok(l) => return Ok(l),
            Err(e) => last = e.to_string(),
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    Err(format!("could not re-bind {addr}: {last}"))
}

async fn accept_loop(
    shared: Arc<Shared>,
    listener: std::net::TcpListener,
    mut ctrl_rx: mpsc::UnboundedReceiver<Control>,
    mut shutdown_rx: oneshot::Receiver<()>,
) {
    let mut listener = match TcpListener::from_std(listener) {
        Ok(l) => Some(l),
        Err(e) => {
            eprintln!("fault proxy: cannot register listener: {e}");
            None
        }
    };
    loop {
        tokio::select! {
            _ = &mut shutdown_rx => return,
            cmd = ctrl_rx.recv() => match cmd {
                None => return,
                Some(Control::Listen(on, ack)) => {
                    let result = if !on {
                        listener = None;
                        Ok(())
                    } else if listener.is_none() {
                        bind_with_retry(shared.addr).await.map(|l| listener = Some(l))
                    } else {
                        Ok(())
                    };
                    let _ = ack.send(result);
                }
            },
            accepted = accept_opt(&listener) => match accepted {
                Ok((stream, _)) => on_accept(&shared, stream),
                Err(e) => {
                    eprintln!("fault proxy: accept failed: {e}");
                    tokio::time::sleep(Duration::from_millis(20)).await;
                }
            },
        }
    }
}

fn reset(stream: TcpStream) {
    let _ = stream.set_zero_linger();
    drop(stream);
}

fn on_accept(shared: &Arc<Shared>, stream: TcpStream) {
    shared.connections.fetch_add(1, Ordering::SeqCst);
    let _ = stream.set_nodelay(true);
    match &*lock(&shared.mode) {
        Mode::Reset => return reset(stream),
        Mode::Refuse => return,
        _ => {}
    }
    tokio::spawn(serve_conn(shared.clone(), stream));
}

/// Resolves once the proxy is refusing connections.
async fn wait_refusing(rx: &mut watch::Receiver<ConnState>) {
    loop {
        if rx.borrow_and_update().refusing {
            return;
        }
        if rx.changed().await.is_err() {
            return std::future::pending().await;
        }
    }
}

/// What to do with the client connection after a request.
enum Flow {
    Continue,
    Close,
    Reset,
}

struct Upstream {
    addr: SocketAddr,
    conn: Conn<TcpStream>,
}

async fn serve_conn(shared: Arc<Shared>, stream: TcpStream) {
    let mut state_rx = shared.state_tx.subscribe();
    let mut client = Conn::new(stream);
    let mut upstream: Option<Upstream> = None;
    for _ in 0..MAX_REQUESTS_PER_CONN {
        let flow = tokio::select! {
            flow = one_request(&shared, &mut client, &mut upstream) => flow,
            _ = wait_refusing(&mut state_rx) => Flow::Close,
        };
        match flow {
            Flow::Continue => {}
            Flow::Close => return,
            Flow::Reset => return reset(client.io),
        }
    }
}

async fn write_or_close(client: &mut Conn<TcpStream>, bytes: &[u8], keep_alive: bool) -> Flow {
    match client.io.write_all(bytes).await {
        Ok(()) if keep_alive => Flow::Continue,
        _ => Flow::Close,
    }
}

async fn one_request(
    shared: &Arc<Shared>,
    client: &mut Conn<TcpStream>,
    upstream: &mut Option<Upstream>,
) -> Flow {
    let req = match tokio::time::timeout(IDLE_TIMEOUT, client.read_request(true)).await {
        Ok(Ok(Some(r))) => r,
        Ok(Err(e)) if e.kind() == io::ErrorKind::InvalidData => {
            let resp = ProxyResponse::new(400)
                .with_header("Content-Type", "text/plain")
                .with_body(format!("fault proxy: bad request: {e}"));
            let (bytes, _) = wire::serialize_response(&resp, false, true);
            let _ = client.io.write_all(&bytes).await;
            return Flow::Close;
        }
        _ => return Flow::Close,
    };
    let info = req.info.unwrap_or_default();
    shared.count_request(&info);
    let rule = lock(&shared.rule).clone();
    let action = rule
        .and_then(|r| r(&info))
        .unwrap_or_else(|| lock(&shared.mode).to_action());
    let keep_alive = req.keep_alive;
    match action {
        Action::Close => Flow::Close,
        Action::Reset => Flow::Reset,
        Action::Stall => {
            let mut rx = shared.state_tx.subscribe();
            rx.borrow_and_update();
            let _ = tokio::time::timeout(MAX_STALL, rx.changed()).await;
            Flow::Close
        }
        Action::Garbage(bytes) => {
            let _ = client.io.write_all(&bytes).await;
            let _ = client.io.shutdown().await;
            Flow::Close
        }
        Action::Status {
            status,
            headers,
            body,
        } => {
            let resp = ProxyResponse {
                status,
                headers,
                body,
            };
            let (bytes, _) = wire::serialize_response(&resp, req.is_head, !keep_alive);
            write_or_close(client, &bytes, keep_alive).await
        }
        Action::Forward | Action::Delay(_) | Action::ResetMidResponse => {
            if let Action::Delay(d) = action {
                tokio::time::sleep(d).await;
            }
            let resp = match forward(shared, upstream, &info, req.is_head).await {
                Ok(resp) => {
                    let rewriter = lock(&shared.rewriter).clone();
                    match rewriter {
                        Some(rw) => rw(&info, resp),
                        None => resp,
                    }
                }
                Err(e) => {
                    let status = if e.kind() == io::ErrorKind::TimedOut {
                        504
                    } else {
                        502
                    };
                    ProxyResponse::new(status)
                        .with_header("Content-Type", "application/json")
                        .with_body(
                            serde_json::json!({
                                "error": {"type": "fault_proxy", "reason": format!("upstream error: {e}")},
                                "status": status,
                            })
                            .to_string(),
                        )
                }
            };
            if action == Action::ResetMidResponse {
                let (bytes, head_len) = wire::serialize_response(&resp, req.is_head, false);
                let cut = if bytes.len() > head_len + 1 {
                    head_len + (bytes.len() - head_len) / 2
                } else {
                    bytes.len() / 2
                };
                let _ = client
                    .io
                    .write_all(bytes.get(..cut).unwrap_or_default())
                    .await;
                let _ = client.io.flush().await;
                // Give the client a moment to read the partial response.
                tokio::time::sleep(Duration::from_millis(50)).await;
                return Flow::Reset;
            }
            let (bytes, _) = wire::serialize_response(&resp, req.is_head, !keep_alive);
            write_or_close(client, &bytes, keep_alive).await
        }
    }
}

/// Forwards one request, reusing the per-client upstream connection when it
/// points at the current upstream; a stale reused connection is retried once
/// on a fresh one.
async fn forward(
    shared: &Arc<Shared>,
    upstream: &mut Option<Upstream>,
    info: &RequestInfo,
    is_head: bool,
) -> io::Result<ProxyResponse> {
    let target = *lock(&shared.upstream);
    let bytes = wire::serialize_request(info);
    for attempt in 0..2 {
        let reused = upstream.as_ref().is_some_and(|u| u.addr == target);
        if !reused {
            *upstream = None;
            let stream = tokio::time::timeout(CONNECT_TIMEOUT, TcpStream::connect(target))
                .await
                .map_err(|_| {
                    io::Error::new(io::ErrorKind::TimedOut, "upstream connect timed out")
                })??;
            let _ = stream.set_nodelay(true);
            *upstream = Some(Upstream {
                addr: target,
                conn: Conn::new(stream),
            });
        }
        let Some(up) = upstream.as_mut() else {
            return Err(io::Error::other("no upstream connection"));
        };
        let exchange = async {
            up.conn.io.write_all(&bytes).await?;
            up.conn.read_response(is_head).await
        };
        let result = tokio::time::timeout(UPSTREAM_TIMEOUT, exchange).await;
        let stale_ok = reused && attempt == 0;
        match result {
            Ok(Ok(Some((resp, keep_alive)))) => {
                if !keep_alive {
                    *upstream = None;
                }
                return Ok(resp);
            }
            Ok(Ok(None)) if stale_ok => *upstream = None,
            Ok(Err(e)) if stale_ok && wire::is_disconnect(&e) => *upstream = None,
            Ok(Ok(None)) => {
                *upstream = None;
                return Err(io::Error::new(
                    io::ErrorKind::UnexpectedEof,
                    "upstream closed the connection without answering",
                ));
            }
            Ok(Err(e)) => {
                *upstream = None;
                return Err(e);
            }
            Err(_) => {
                *upstream = None;
                return Err(io::Error::new(
                    io::ErrorKind::TimedOut,
                    "upstream did not answer in time",
                ));
            }
        }
    }
    Err(io::Error::other("upstream connection failed twice"))
}
