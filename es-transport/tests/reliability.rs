//! Reliability over real sockets against a raw server that sends exactly the bytes a test
//! chooses: requests are never delivered twice unasked, the network cannot exhaust memory,
//! a healthy node is never blamed, bad per-request settings never fall back silently.
//!
//! Each test counts deliveries at the server (requests it read in full), not attempts the
//! client reports, so a silent resend cannot hide.

use std::io::Write;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use es_tests::counting::CountingServer;
use es_transport::{Credentials, ErrorKind, ManualClock, Request, RequestOptions, Transport};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// What the raw server does with one request it has read.
#[derive(Clone)]
enum Reply {
    /// Write these bytes and keep the connection open for the next request.
    Bytes(Vec<u8>),
    /// Close the connection without a byte of response.
    Close,
    /// Never answer (hold the connection).
    Stall,
}

/// `(connection index, request index on that connection, method, path) -> Reply`.
type Script = Arc<dyn Fn(u64, u64, &str, &str) -> Reply + Send + Sync>;

struct RawServer {
    port: u16,
    deliveries: Arc<AtomicU64>,
    connections: Arc<AtomicU64>,
}

impl RawServer {
    async fn start(script: Script) -> RawServer {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let deliveries = Arc::new(AtomicU64::new(0));
        let connections = Arc::new(AtomicU64::new(0));
        let (d, c) = (deliveries.clone(), connections.clone());
        tokio::spawn(async move {
            loop {
                let Ok((sock, _)) = listener.accept().await else {
                    return;
                };
                let conn = c.fetch_add(1, Ordering::SeqCst);
                tokio::spawn(serve(sock, conn, script.clone(), d.clone()));
            }
        });
        RawServer {
            port,
            deliveries,
            connections,
        }
    }

    fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    fn deliveries(&self) -> u64 {
        self.deliveries.load(Ordering::SeqCst)
    }
}

async fn serve(mut sock: TcpStream, conn: u64, script: Script, deliveries: Arc<AtomicU64>) {
    let mut buf = Vec::new();
    let mut n = 0;
    loop {
        // Read one request: head, then Content-Length bytes of body.
        let head_end = loop {
            if let Some(p) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
                break p + 4;
            }
            let mut chunk = [0u8; 8192];
            match sock.read(&mut chunk).await {
                Ok(0) | Err(_) => return,
                Ok(k) => buf.extend_from_slice(&chunk[..k]),
            }
        };
        let head = String::from_utf8_lossy(&buf[..head_end]).into_owned();
        let len: usize = head
            .lines()
            .find_map(|l| {
                let (k, v) = l.split_once(':')?;
                k.eq_ignore_ascii_case("content-length")
                    .then(|| v.trim().parse().ok())?
            })
            .unwrap_or(0);
        while buf.len() < head_end + len {
            let mut chunk = [0u8; 8192];
            match sock.read(&mut chunk).await {
                Ok(0) | Err(_) => return,
                Ok(k) => buf.extend_from_slice(&chunk[..k]),
            }
        }
        buf.drain(..head_end + len);
        deliveries.fetch_add(1, Ordering::SeqCst);
        let mut first = head.lines().next().unwrap_or("").split(' ');
        let method = first.next().unwrap_or("").to_owned();
        let path = first.next().unwrap_or("").to_owned();
        match script(conn, n, &method, &path) {
            Reply::Bytes(b) => {
                if sock.write_all(&b).await.is_err() {
                    return;
                }
            }
            Reply::Close => return,
            Reply::Stall => {
                tokio::time::sleep(Duration::from_secs(3600)).await;
                return;
            }
        }
        n += 1;
    }
}

fn ok(body: &str) -> Vec<u8> {
    format!(
        "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nX-Elastic-Product: Elasticsearch\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    )
    .into_bytes()
}

fn gz(data: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    e.write_all(data).unwrap();
    e.finish().unwrap()
}

fn gzip_ok(gzipped: &[u8]) -> Vec<u8> {
    let mut v = format!(
        "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Encoding: gzip\r\nX-Elastic-Product: Elasticsearch\r\nContent-Length: {}\r\n\r\n",
        gzipped.len()
    )
    .into_bytes();
    v.extend_from_slice(gzipped);
    v
}

/// First request on each connection answered, the second read and then the connection
/// closed: a keep-alive connection that dies after the request was written.
fn close_after_second() -> Script {
    Arc::new(|_conn, n, _, _| {
        if n == 0 {
            Reply::Bytes(ok("{}"))
        } else {
            Reply::Close
        }
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn closed_after_write_is_never_resent_silently() {
    let server = RawServer::start(close_after_second()).await;
    let t = Transport::builder(server.url().as_str())
        .max_retries(0)
        .build()
        .unwrap();
    t.send(Request::get("/")).await.unwrap();
    assert_eq!(server.deliveries(), 1);
    let err = t
        .send(
            Request::post("/_bulk").with_ndjson_body("{\"index\":{\"_index\":\"i\"}}\n{\"a\":1}\n"),
        )
        .await
        .unwrap_err();
    assert_eq!(
        server.deliveries(),
        2,
        "the bulk reached the server exactly once"
    );
    assert!(err.is_connect(), "{err}");
    assert!(err.may_have_reached_server(), "{err}");
    assert_eq!(err.attempts(), 1, "{err}");
    // A stale keep-alive connection is not a sign the node is down.
    assert_eq!(t.node_stats()[0].marked_dead, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_resend_after_write_is_a_counted_attempt() {
    let server = RawServer::start(close_after_second()).await;
    let t = Transport::builder(server.url().as_str())
        .max_retries(1)
        .build()
        .unwrap();
    t.send(Request::get("/")).await.unwrap();
    let resp = t
        .send(
            Request::put("/i/_doc/1")
                .with_json_body("{}")
                .with_idempotent(true),
        )
        .await
        .unwrap();
    assert_eq!(server.deliveries(), 3);
    assert_eq!(resp.meta().attempts(), 2, "the resend is visible");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_request_that_is_not_idempotent_is_not_resent_after_write() {
    let server = RawServer::start(close_after_second()).await;
    let t = Transport::builder(server.url().as_str())
        .max_retries(3)
        .build()
        .unwrap();
    t.send(Request::get("/")).await.unwrap();
    // An id-less index (unmarked POST): a resend would store a second document.
    let err = t
        .send(Request::post("/i/_doc").with_json_body("{}"))
        .await
        .unwrap_err();
    assert_eq!(server.deliveries(), 2, "delivered once, not resent");
    assert_eq!(err.attempts(), 1, "{err}");
    assert!(err.may_have_reached_server(), "{err}");
    // Opted in per request: resent (the first request on a new connection is answered).
    t.send(Request::get("/")).await.unwrap();
    let resp = t
        .send(
            Request::post("/i/_doc")
                .with_json_body("{}")
                .with_options(es_transport::RequestOptions::new().idempotent(true)),
        )
        .await
        .unwrap();
    assert_eq!(resp.meta().attempts(), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deliveries_are_exactly_one_plus_max_retries() {
    let server = RawServer::start(Arc::new(|_, _, _, _| Reply::Close)).await;
    for retries in [0u32, 2, 3] {
        let before = server.deliveries();
        let t = Transport::builder(server.url().as_str())
            .max_retries(retries)
            .build()
            .unwrap();
        let err = t
            .send(
                Request::post("/_bulk")
                    .with_ndjson_body("{}\n")
                    .with_idempotent(true),
            )
            .await
            .unwrap_err();
        assert_eq!(
            server.deliveries() - before,
            u64::from(retries) + 1,
            "{err}"
        );
        assert_eq!(err.attempts(), retries + 1);
        assert!(err.may_have_reached_server());
        // Not marked idempotent: exactly one delivery, whatever `max_retries`.
        let before = server.deliveries();
        let err = t
            .send(Request::post("/_bulk").with_ndjson_body("{}\n"))
            .await
            .unwrap_err();
        assert_eq!(server.deliveries() - before, 1, "{err}");
        assert_eq!(err.attempts(), 1);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refused_connection_never_reached_the_server() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let t = Transport::builder(format!("http://127.0.0.1:{port}").as_str())
        .max_retries(0)
        .build()
        .unwrap();
    let err = t.send(Request::get("/")).await.unwrap_err();
    assert!(err.is_connect());
    assert!(!err.may_have_reached_server(), "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn waiting_for_a_connection_is_not_the_nodes_fault() {
    let server = CountingServer::builder()
        .delay(Duration::from_millis(400))
        .start();
    // Unbounded pool wait: 6 requests over 2 connections all succeed though the third wave
    // waits 800 ms, longer than the 600 ms attempt timeout.
    let t = Transport::builder(server.url().as_str())
        .connections_per_node(2)
        .request_timeout(Duration::from_millis(600))
        .pool_wait_timeout(Some(None))
        .product_check(false)
        .build()
        .unwrap();
    let tasks: Vec<_> = (0..6)
        .map(|_| {
            let t = t.clone();
            tokio::spawn(async move { t.send(Request::get("/")).await })
        })
        .collect();
    for task in tasks {
        task.await.unwrap().unwrap();
    }
    assert_eq!(t.node_stats()[0].marked_dead, 0);
    assert!(server.max_open_connections() <= 2);

    // A short pool wait: 2 are sent, 4 give up queued, and the node stays alive.
    server.reset_counters();
    let t = Transport::builder(server.url().as_str())
        .connections_per_node(2)
        .request_timeout(Duration::from_millis(600))
        .pool_wait_timeout(Some(Some(Duration::from_millis(100))))
        .product_check(false)
        .build()
        .unwrap();
    let tasks: Vec<_> = (0..6)
        .map(|_| {
            let t = t.clone();
            tokio::spawn(async move { t.send(Request::get("/")).await })
        })
        .collect();
    let mut ok = 0;
    let mut queued = 0;
    for task in tasks {
        match task.await.unwrap() {
            Ok(_) => ok += 1,
            Err(e) => {
                assert_eq!(e.kind(), ErrorKind::PoolTimeout, "{e}");
                assert!(!e.may_have_reached_server());
                assert_eq!(e.attempts(), 1, "not retried: {e}");
                queued += 1;
            }
        }
    }
    assert_eq!((ok, queued), (2, 4));
    assert_eq!(server.requests(), 2);
    let st = &t.node_stats()[0];
    assert_eq!(st.marked_dead, 0);
    assert!(!st.is_dead);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn empty_gzip_body_is_empty() {
    let empty_gzip =
        b"HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\nX-Elastic-Product: Elasticsearch\r\nContent-Length: 0\r\n\r\n"
            .to_vec();
    let server =
        RawServer::start(Arc::new(move |_, _, _, _| Reply::Bytes(empty_gzip.clone()))).await;
    let t = Transport::new(server.url().as_str()).unwrap();
    for req in [Request::head("/i"), Request::get("/i")] {
        let resp = t.send(req).await.unwrap();
        assert_eq!(resp.status(), 200);
        assert!(resp.body().is_empty());
        assert_eq!(resp.meta().attempts(), 1);
    }
    assert_eq!(server.deliveries(), 2);
    assert_eq!(t.node_stats()[0].marked_dead, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn gzip_bomb_and_oversized_bodies_are_refused() {
    // 64 MiB of zeros in about 64 KiB of gzip.
    let bomb = Arc::new(gzip_ok(&gz(&vec![b'0'; 64 << 20])));
    assert!(bomb.len() < 1 << 20);
    let big_len = 20usize << 20;
    let b = bomb.clone();
    let server = RawServer::start(Arc::new(move |_, _, _, path| match path {
        "/bomb" => Reply::Bytes(b.to_vec()),
        "/declared" => Reply::Bytes(
            format!("HTTP/1.1 200 OK\r\nContent-Length: {big_len}\r\n\r\n").into_bytes(),
        ),
        // Chunked, no length up front: 16 chunks of 1 MiB.
        _ => {
            let mut v = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n".to_vec();
            let chunk = vec![b'x'; 1 << 20];
            for _ in 0..16 {
                v.extend_from_slice(format!("{:x}\r\n", chunk.len()).as_bytes());
                v.extend_from_slice(&chunk);
                v.extend_from_slice(b"\r\n");
            }
            v.extend_from_slice(b"0\r\n\r\n");
            Reply::Bytes(v)
        }
    }))
    .await;
    let t = Transport::builder(server.url().as_str())
        .max_response_size(8 << 20)
        .product_check(false)
        .build()
        .unwrap();
    for path in ["/bomb", "/declared", "/chunked"] {
        let before = server.deliveries();
        let err = t.send(Request::get(path)).await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::ResponseTooLarge, "{path}: {err}");
        assert!(err.to_string().contains("8388608"), "{err}");
        assert_eq!(server.deliveries() - before, 1, "{path}: not retried");
    }
    assert_eq!(t.node_stats()[0].marked_dead, 0);
    // Under a larger limit the same bomb inflates fine.
    let t = Transport::builder(server.url().as_str())
        .max_response_size(64 << 20)
        .build()
        .unwrap();
    assert_eq!(
        t.send(Request::get("/bomb")).await.unwrap().body().len(),
        64 << 20
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_per_request_settings_fail_before_sending() {
    let server = CountingServer::start();
    let t = Transport::builder(server.url().as_str())
        .basic_auth("service", "pw")
        .product_check(false)
        .build()
        .unwrap();
    let cases = [
        RequestOptions::new().auth(Credentials::bearer("tok\nen")),
        RequestOptions::new().header("x-bad", "a\r\nb"),
        RequestOptions::new().header("bad header", "v"),
        RequestOptions::new().opaque_id("job\n42"),
    ];
    for opts in cases {
        let err = t
            .send(Request::get("/").with_options(opts))
            .await
            .unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Config, "{err}");
        assert!(!err.may_have_reached_server());
        assert!(err.to_string().contains("not sent"), "{err}");
    }
    assert_eq!(
        server.requests(),
        0,
        "nothing went out, under any principal"
    );
    assert!(RequestOptions::new().try_header("x-ok", "1").is_ok());
    assert!(RequestOptions::new().try_header("x-bad", "\n").is_err());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn idle_connections_expire() {
    let server = CountingServer::start();
    let clock = ManualClock::new();
    let t = Transport::builder(server.url().as_str())
        .clock(clock.clone())
        .product_check(false)
        .build()
        .unwrap();
    t.send(Request::get("/")).await.unwrap();
    clock.advance(Duration::from_secs(89));
    t.send(Request::get("/")).await.unwrap();
    assert_eq!(server.connections(), 1, "reused within the idle timeout");
    clock.advance(Duration::from_secs(90));
    t.send(Request::get("/")).await.unwrap();
    assert_eq!(
        server.connections(),
        2,
        "an idle connection past 90 s is not reused"
    );

    // None keeps them.
    server.reset_counters();
    let t = Transport::builder(server.url().as_str())
        .clock(clock.clone())
        .idle_timeout(None)
        .product_check(false)
        .build()
        .unwrap();
    t.send(Request::get("/")).await.unwrap();
    clock.advance(Duration::from_secs(3600));
    t.send(Request::get("/")).await.unwrap();
    assert_eq!(server.connections(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stalled_server_is_a_timeout_that_may_have_reached_it() {
    let server = RawServer::start(Arc::new(|_, _, _, _| Reply::Stall)).await;
    let t = Transport::builder(server.url().as_str())
        .tcp_keepalive(Duration::from_secs(1))
        .request_timeout(Duration::from_millis(300))
        .max_retries(0)
        .build()
        .unwrap();
    let err = t.send(Request::get("/")).await.unwrap_err();
    assert!(err.is_timeout(), "{err}");
    assert!(err.may_have_reached_server());
    assert_eq!(server.connections.load(Ordering::SeqCst), 1);
}
