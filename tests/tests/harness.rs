//! Tests of the test harness itself (osmem-server, fault proxy, counting
//! server), using a tiny hand-written HTTP client over raw sockets.

use std::io;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use es_tests::{Action, CountingServer, FaultProxy, Mode, OsmemServer, ProxyResponse, RequestInfo};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

const T: Duration = Duration::from_secs(5);

/// A parsed response from the tiny client.
#[derive(Debug)]
struct Resp {
    status: u16,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl Resp {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body).expect("JSON body")
    }
}

fn raw_request(method: &str, path: &str, body: &str, close: bool) -> Vec<u8> {
    let mut r = format!("{method} {path} HTTP/1.1\r\nHost: test\r\n");
    if !body.is_empty() {
        r.push_str("Content-Type: application/json\r\n");
        r.push_str(&format!("Content-Length: {}\r\n", body.len()));
    }
    if close {
        r.push_str("Connection: close\r\n");
    }
    r.push_str("\r\n");
    r.push_str(body);
    r.into_bytes()
}

/// Reads one response with a Content-Length (or no) body from `stream`.
async fn read_response(stream: &mut TcpStream, buf: &mut Vec<u8>) -> io::Result<Resp> {
    let head_end = loop {
        if let Some(p) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break p;
        }
        let mut chunk = [0u8; 8192];
        let n = stream.read(&mut chunk).await?;
        if n == 0 {
            return Err(io::Error::new(io::ErrorKind::UnexpectedEof, "eof in head"));
        }
        buf.extend_from_slice(&chunk[..n]);
    };
    let head = String::from_utf8_lossy(&buf[..head_end]).into_owned();
    let mut lines = head.split("\r\n");
    let status_line = lines.next().unwrap_or("");
    let status: u16 = status_line
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidData, status_line.to_string()))?;
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(n, v)| (n.trim().to_string(), v.trim().to_string()))
        .collect();
    let len: usize = headers
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case("content-length"))
        .and_then(|(_, v)| v.parse().ok())
        .unwrap_or(0);
    buf.drain(..head_end + 4);
    while buf.len() < len {
        let mut chunk = [0u8; 8192];
        let n = stream.read(&mut chunk).await?;
        if n == 0 {
            return Err(io::Error::new(io::ErrorKind::UnexpectedEof, "eof in body"));
        }
        buf.extend_from_slice(&chunk[..n]);
    }
    let body = buf.drain(..len).collect();
    Ok(Resp {
        status,
        headers,
        body,
    })
}

/// One request on a fresh connection.
async fn http(addr: SocketAddr, method: &str, path: &str, body: &str) -> io::Result<Resp> {
    tokio::time::timeout(T, async {
        let mut s = TcpStream::connect(addr).await?;
        s.write_all(&raw_request(method, path, body, true)).await?;
        read_response(&mut s, &mut Vec::new()).await
    })
    .await
    .map_err(|_| io::Error::new(io::ErrorKind::TimedOut, "client timeout"))?
}

/// Reads everything until EOF (or error / timeout).
async fn read_all(s: &mut TcpStream, within: Duration) -> io::Result<Vec<u8>> {
    let mut out = Vec::new();
    tokio::time::timeout(within, s.read_to_end(&mut out))
        .await
        .map_err(|_| io::Error::new(io::ErrorKind::TimedOut, "client timeout"))??;
    Ok(out)
}

#[tokio::test]
async fn osmem_root_answers_with_product_header() {
    let mut server = OsmemServer::start();
    assert!(server.url().starts_with("http://127.0.0.1:"));
    assert_eq!(server.addr().port(), server.port());
    assert!(server.version().is_some());
    let r = http(server.addr(), "GET", "/", "").await.expect("GET /");
    assert_eq!(r.status, 200);
    assert_eq!(r.header("X-Elastic-Product"), Some("Elasticsearch"));
    assert!(r.json()["version"]["number"].is_string());

    // Stop, the port is dead; start_on brings it back on the same port.
    let addr = server.addr();
    server.stop();
    assert!(!server.is_running());
    assert!(http(addr, "GET", "/", "").await.is_err());
    let again = OsmemServer::start_on(addr);
    assert_eq!(again.addr(), addr);
    assert_eq!(http(addr, "GET", "/", "").await.expect("GET /").status, 200);
}

#[tokio::test]
async fn proxy_forwards_with_keep_alive() {
    let server = OsmemServer::start();
    let proxy = FaultProxy::start(server.addr());
    assert!(proxy.url().starts_with("http://127.0.0.1:"));

    let mut s = TcpStream::connect(proxy.addr()).await.expect("connect");
    let mut buf = Vec::new();
    let doc = r#"{"title":"hello"}"#;
    for (method, path, body) in [
        ("GET", "/", ""),
        ("PUT", "/books/_doc/1?refresh=true", doc),
        ("GET", "/books/_doc/1", ""),
    ] {
        s.write_all(&raw_request(method, path, body, false))
            .await
            .expect("write");
        let r = tokio::time::timeout(T, read_response(&mut s, &mut buf))
            .await
            .expect("in time")
            .expect("response");
        assert!(r.status == 200 || r.status == 201, "{method} {path}: {r:?}");
        assert_eq!(r.header("X-Elastic-Product"), Some("Elasticsearch"));
        if path == "/books/_doc/1" {
            assert_eq!(r.json()["_source"]["title"], "hello");
        }
    }
    // A chunked request body is forwarded too.
    let chunked = "POST /books/_search HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n7\r\n{\"size\"\r\n4\r\n:1}\n\r\n0\r\n\r\n";
    s.write_all(chunked.as_bytes()).await.expect("write");
    let r = read_response(&mut s, &mut buf).await.expect("search");
    assert_eq!(r.status, 200, "{}", String::from_utf8_lossy(&r.body));
    assert_eq!(r.json()["hits"]["hits"][0]["_id"], "1");

    assert_eq!(proxy.connections(), 1, "keep-alive: one client connection");
    assert_eq!(proxy.requests(), 4);
    assert_eq!(proxy.requests_for("/books/_doc/1"), 2);
    assert_eq!(proxy.request_log()[1].path, "/books/_doc/1?refresh=true");
    proxy.reset_counters();
    assert_eq!(proxy.requests(), 0);

    // Connection: close is honoured.
    s.write_all(&raw_request("GET", "/", "", true))
        .await
        .expect("write");
    let r = read_response(&mut s, &mut buf).await.expect("response");
    assert_eq!(r.status, 200);
    assert_eq!(r.header("connection"), Some("close"));
    assert!(read_all(&mut s, T).await.expect("eof").is_empty());

    // set_upstream switches to another server.
    let counting = CountingServer::start();
    proxy.set_upstream(counting.addr());
    let r = http(proxy.addr(), "GET", "/", "").await.expect("GET");
    assert_eq!(r.body, br#"{"ok":true}"#);
    assert_eq!(counting.requests(), 1);
}

#[tokio::test]
async fn proxy_status_mode() {
    let server = OsmemServer::start();
    let proxy = FaultProxy::start(server.addr());
    proxy.set_mode(Mode::status_retry_after(503, 1));
    let r = http(proxy.addr(), "GET", "/", "").await.expect("GET");
    assert_eq!(r.status, 503);
    assert_eq!(r.header("Retry-After"), Some("1"));
    assert_eq!(r.json()["status"], 503);

    proxy.set_mode(Mode::Status {
        status: 429,
        headers: vec![],
        body: "slow down".into(),
    });
    let r = http(proxy.addr(), "GET", "/", "").await.expect("GET");
    assert_eq!((r.status, &r.body[..]), (429, &b"slow down"[..]));

    proxy.set_mode(Mode::Forward);
    assert_eq!(
        http(proxy.addr(), "GET", "/", "")
            .await
            .expect("GET")
            .status,
        200
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn proxy_refuse_then_forward_on_same_port() {
    let server = OsmemServer::start();
    let proxy = FaultProxy::start(server.addr());
    let addr = proxy.addr();
    // An idle keep-alive connection opened before.
    let mut idle = TcpStream::connect(addr).await.expect("connect");
    idle.write_all(&raw_request("GET", "/", "", false))
        .await
        .expect("write");
    read_response(&mut idle, &mut Vec::new())
        .await
        .expect("response");

    proxy.set_mode(Mode::Refuse);
    let err = TcpStream::connect(addr).await.expect_err("refused");
    assert_eq!(err.kind(), io::ErrorKind::ConnectionRefused);
    // The existing connection is closed.
    assert!(
        read_all(&mut idle, T)
            .await
            .map(|b| b.is_empty())
            .unwrap_or(true)
    );

    proxy.set_mode(Mode::Forward);
    assert_eq!(proxy.addr(), addr);
    assert_eq!(http(addr, "GET", "/", "").await.expect("GET").status, 200);
}

#[tokio::test]
async fn proxy_reset_garbage_and_reset_mid_response() {
    let server = OsmemServer::start();
    let proxy = FaultProxy::start(server.addr());

    proxy.set_mode(Mode::Reset);
    let err = http(proxy.addr(), "GET", "/", "").await.expect_err("reset");
    assert!(
        matches!(
            err.kind(),
            io::ErrorKind::ConnectionReset
                | io::ErrorKind::UnexpectedEof
                | io::ErrorKind::BrokenPipe
        ),
        "{err:?}"
    );

    proxy.set_mode(Mode::Garbage("\u{1}garbage\r\n".into()));
    let mut s = TcpStream::connect(proxy.addr()).await.expect("connect");
    s.write_all(&raw_request("GET", "/", "", false))
        .await
        .expect("write");
    assert_eq!(
        read_all(&mut s, T).await.expect("garbage"),
        b"\x01garbage\r\n"
    );

    // Mid-response reset: a large body is cut short.
    proxy.set_mode(Mode::Forward);
    let big = format!(r#"{{"text":"{}"}}"#, "x".repeat(20_000));
    let r = http(proxy.addr(), "PUT", "/big/_doc/1?refresh=true", &big)
        .await
        .expect("PUT");
    assert!(r.status < 300, "{r:?}");
    proxy.set_mode(Mode::ResetMidResponse);
    let mut s = TcpStream::connect(proxy.addr()).await.expect("connect");
    s.write_all(&raw_request("GET", "/big/_doc/1", "", false))
        .await
        .expect("write");
    let result = tokio::time::timeout(T, read_response(&mut s, &mut Vec::new()))
        .await
        .expect("in time");
    assert!(result.is_err(), "response must be cut: {result:?}");
    // Mode::Reset resets on accept, before reading: its request is not counted.
    assert_eq!(proxy.requests(), 3);
    assert_eq!(proxy.connections(), 4);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn proxy_stall_holds_until_mode_changes() {
    let server = OsmemServer::start();
    let proxy = FaultProxy::start(server.addr());
    proxy.set_mode(Mode::Stall);
    let mut s = TcpStream::connect(proxy.addr()).await.expect("connect");
    s.write_all(&raw_request("GET", "/", "", false))
        .await
        .expect("write");
    let mut byte = [0u8; 1];
    let timed = tokio::time::timeout(Duration::from_millis(300), s.read(&mut byte)).await;
    assert!(timed.is_err(), "stalled request must not be answered");

    let started = Instant::now();
    proxy.set_mode(Mode::Forward);
    let rest = read_all(&mut s, T)
        .await
        .expect("closed after the mode changed");
    assert!(rest.is_empty());
    assert!(started.elapsed() < Duration::from_secs(2));
    assert_eq!(
        http(proxy.addr(), "GET", "/", "")
            .await
            .expect("GET")
            .status,
        200
    );
}

#[tokio::test]
async fn proxy_rule_and_rewriter_hooks() {
    let server = OsmemServer::start();
    let proxy = FaultProxy::start(server.addr());
    let nodes = r#"{"nodes":{"n1":{"http":{"publish_address":"127.0.0.1:1"}}}}"#;
    let seen = Arc::new(AtomicU64::new(0));
    let seen2 = seen.clone();
    proxy.set_rule(Arc::new(move |req: &RequestInfo| {
        if req.method == "GET" && req.path_only() == "/_nodes/_all/http" {
            return Some(Action::json(200, nodes));
        }
        if req.path_only() == "/slow" {
            return Some(Action::Delay(Duration::from_millis(200)));
        }
        if req.path_only() == "/counted" {
            let n = seen2.fetch_add(1, Ordering::SeqCst) + 1;
            return n.is_multiple_of(3).then(|| Action::status(429));
        }
        None
    }));

    let r = http(proxy.addr(), "GET", "/_nodes/_all/http", "")
        .await
        .expect("GET");
    assert_eq!(r.status, 200);
    assert_eq!(r.body, nodes.as_bytes());
    assert_eq!(r.header("X-Elastic-Product"), Some("Elasticsearch"));

    let mut statuses = Vec::new();
    for _ in 0..6 {
        statuses.push(
            http(proxy.addr(), "GET", "/counted", "")
                .await
                .expect("GET")
                .status,
        );
    }
    assert_eq!(statuses, [404, 404, 429, 404, 404, 429]);

    let started = Instant::now();
    assert_eq!(
        http(proxy.addr(), "GET", "/slow", "")
            .await
            .expect("GET")
            .status,
        404
    );
    assert!(started.elapsed() >= Duration::from_millis(200));

    proxy.set_rewriter(Arc::new(|req: &RequestInfo, mut resp: ProxyResponse| {
        if req.path_only() == "/" {
            resp.status = 299;
            resp.set_header("X-Rewritten", "yes");
            resp.body = r#"{"rewritten":true}"#.into();
        }
        resp
    }));
    let r = http(proxy.addr(), "GET", "/", "").await.expect("GET");
    assert_eq!(r.status, 299);
    assert_eq!(r.header("X-Rewritten"), Some("yes"));
    assert_eq!(r.json()["rewritten"], true);

    proxy.clear_rule();
    proxy.clear_rewriter();
    let r = http(proxy.addr(), "GET", "/_nodes/_all/http", "")
        .await
        .expect("GET");
    assert_eq!(r.status, 200);
    assert!(
        r.json()["nodes"]["osmem-node"].is_object(),
        "{:?}",
        r.json()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn counting_server_counts_connections() {
    let server = CountingServer::start();
    // Sequential requests on one keep-alive connection.
    let mut s = TcpStream::connect(server.addr()).await.expect("connect");
    let mut buf = Vec::new();
    for _ in 0..1000 {
        s.write_all(&raw_request("GET", "/", "", false))
            .await
            .expect("write");
        let r = read_response(&mut s, &mut buf).await.expect("response");
        assert_eq!(r.status, 200);
    }
    assert_eq!(server.connections(), 1);
    assert_eq!(server.requests(), 1000);
    assert_eq!(server.open_connections(), 1);
    drop(s);

    // Concurrent connections.
    server.reset_counters();
    let addr = server.addr();
    let mut tasks = Vec::new();
    for _ in 0..20 {
        tasks.push(tokio::spawn(async move {
            let r = http(addr, "POST", "/x", r#"{"a":1}"#)
                .await
                .expect("request");
            assert_eq!(r.header("X-Elastic-Product"), Some("Elasticsearch"));
            assert_eq!(r.json()["ok"], true);
        }));
    }
    for t in tasks {
        t.await.expect("task");
    }
    assert_eq!(server.connections(), 20);
    assert_eq!(server.requests(), 20);
    assert!(server.max_open_connections() <= 21);

    // Bulk responder and a fixed status.
    let bulk = CountingServer::builder().bulk().start();
    let body = "{\"index\":{\"_index\":\"a\",\"_id\":\"1\"}}\n{\"x\":1}\n{\"delete\":{\"_index\":\"a\",\"_id\":\"2\"}}\n";
    let r = http(bulk.addr(), "POST", "/_bulk", body)
        .await
        .expect("bulk");
    let v = r.json();
    assert_eq!(v["errors"], false);
    assert_eq!(v["items"].as_array().map(Vec::len), Some(2));
    assert_eq!(v["items"][0]["index"]["status"], 201);
    let r = http(bulk.addr(), "GET", "/", "").await.expect("GET");
    assert_eq!(r.json()["ok"], true);
    let fixed = CountingServer::builder().status(503).body("{}").start();
    assert_eq!(
        http(fixed.addr(), "GET", "/", "")
            .await
            .expect("GET")
            .status,
        503
    );
}

#[test]
fn sync_usage_and_library_client() {
    let server = OsmemServer::start();
    let proxy = FaultProxy::start(server.addr());
    let r = es_tests::client::request_blocking(proxy.addr(), "GET", "/", &[], "", T).expect("GET");
    assert_eq!(r.status, 200);
    assert_eq!(r.header("x-elastic-product"), Some("Elasticsearch"));
    proxy.set_mode(Mode::Stall);
    let err = es_tests::client::request_blocking(
        proxy.addr(),
        "GET",
        "/",
        &[],
        "",
        Duration::from_millis(200),
    )
    .expect_err("stalled");
    assert_eq!(err.kind(), io::ErrorKind::TimedOut);
}
