//! Persistent connections over real sockets: reuse and the per-node cap.

use es_tests::counting::CountingServer;
use es_transport::{Request, Transport};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sequential_requests_reuse_one_connection() {
    let server = CountingServer::start();
    let t = Transport::new(server.url().as_str()).unwrap();
    for _ in 0..1000 {
        let r = t.send(Request::get("/")).await.unwrap();
        assert_eq!(r.status(), 200);
    }
    assert_eq!(server.requests(), 1000);
    assert_eq!(
        server.connections(),
        1,
        "1,000 sequential requests must use one connection"
    );
    assert_eq!(t.node_stats()[0].connections_opened, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_requests_respect_the_cap() {
    let server = CountingServer::builder()
        .delay(std::time::Duration::from_millis(5))
        .start();
    let t = Transport::builder(server.url().as_str())
        .connections_per_node(25)
        .build()
        .unwrap();
    let mut tasks = Vec::new();
    for _ in 0..200 {
        let t = t.clone();
        tasks.push(tokio::spawn(async move {
            t.send(Request::get("/")).await.map(|r| r.status())
        }));
    }
    for task in tasks {
        assert_eq!(task.await.unwrap().unwrap(), 200);
    }
    assert_eq!(server.requests(), 200);
    assert!(
        server.connections() <= 25,
        "opened {} connections, cap is 25",
        server.connections()
    );
    assert!(server.max_open_connections() <= 25);
    // The cap is reached, not just respected by being slow.
    assert!(
        server.connections() >= 10,
        "opened only {}",
        server.connections()
    );
}

#[tokio::test]
async fn default_cap_is_ten() {
    let server = CountingServer::builder()
        .delay(std::time::Duration::from_millis(5))
        .start();
    let t = Transport::new(server.url().as_str()).unwrap();
    let mut set = tokio::task::JoinSet::new();
    for _ in 0..50 {
        let t = t.clone();
        set.spawn(async move { t.send(Request::get("/")).await });
    }
    while let Some(r) = set.join_next().await {
        r.unwrap().unwrap();
    }
    assert!(
        server.connections() <= 10,
        "opened {}",
        server.connections()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn server_closing_idle_connections_is_invisible() {
    use es_tests::proxy::{FaultProxy, Mode};
    let server = es_tests::server::OsmemServer::start();
    let proxy = FaultProxy::start(server.addr());
    let t = Transport::new(proxy.url().as_str()).unwrap();
    let mut resends = 0;
    for round in 0..20 {
        let before = proxy.requests();
        let r = t.send(Request::get("/")).await.unwrap();
        // Usually hyper sees the close first and hands the request back unsent (resent
        // silently, 1 attempt). When the close races the write, the request may have
        // reached the server: then the resend is a counted attempt, never a silent one.
        let attempts = r.meta().attempts();
        assert!(attempts <= 2, "round {round}: {attempts}");
        resends += u64::from(attempts - 1);
        assert!(
            proxy.requests() - before <= u64::from(attempts),
            "round {round}"
        );
        // Closing every client connection while it sits idle in our pool (as a server's
        // keep-alive timeout does); the proxy listens again right after.
        proxy.set_mode(Mode::Refuse);
        proxy.set_mode(Mode::Forward);
    }
    let st = &t.node_stats()[0];
    assert_eq!(st.marked_dead, 0, "{st:?}");
    assert_eq!(st.failures, 0, "{st:?}");
    assert_eq!(st.stale_connections, resends, "{st:?}");
}

/// A server that answers the first request on each connection and resets the connection
/// (RST, not FIN) when a second request arrives on it, after reading it: what a server or
/// load balancer closing an idle keep-alive connection looks like when the close races our
/// write. The request may have reached the server, so the resend is a counted attempt; the
/// node is not blamed, since a reused connection going away is not a broken node.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reset_of_a_reused_connection_is_counted_not_blamed() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        loop {
            let Ok((mut sock, _)) = listener.accept().await else {
                return;
            };
            tokio::spawn(async move {
                let mut buf = Vec::new();
                let mut served = 0;
                let mut chunk = [0u8; 4096];
                loop {
                    let Ok(n) = sock.read(&mut chunk).await else {
                        return;
                    };
                    if n == 0 {
                        return;
                    }
                    buf.extend_from_slice(&chunk[..n]);
                    while let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
                        buf.drain(..end + 4);
                        if served == 1 {
                            let _ = sock.set_zero_linger();
                            return; // dropped with linger 0: RST
                        }
                        served += 1;
                        let body = br#"{"ok":true}"#;
                        let head = format!(
                            "HTTP/1.1 200 OK\r\nx-elastic-product: Elasticsearch\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n",
                            body.len()
                        );
                        if sock.write_all(head.as_bytes()).await.is_err()
                            || sock.write_all(body).await.is_err()
                        {
                            return;
                        }
                    }
                }
            });
        }
    });
    let t = Transport::new(format!("http://{addr}").as_str()).unwrap();
    let first = t.send(Request::get("/")).await.unwrap();
    assert_eq!(first.meta().attempts(), 1);
    let second = t.send(Request::get("/")).await.unwrap();
    assert_eq!(second.status(), 200);
    assert_eq!(second.meta().attempts(), 2, "the reset attempt is counted");
    let st = &t.node_stats()[0];
    assert_eq!(st.stale_connections, 1, "{st:?}");
    assert_eq!(st.failures, 0, "{st:?}");
    assert_eq!(st.marked_dead, 0, "{st:?}");
    assert_eq!(st.connections_opened, 2, "{st:?}");

    // With retries off, the same reset is an error that says it may have reached the server.
    let t = Transport::builder(format!("http://{addr}").as_str())
        .max_retries(0)
        .build()
        .unwrap();
    t.send(Request::get("/")).await.unwrap();
    let err = t.send(Request::get("/")).await.unwrap_err();
    assert!(err.may_have_reached_server(), "{err}");
    assert!(!t.node_stats()[0].is_dead);
}
