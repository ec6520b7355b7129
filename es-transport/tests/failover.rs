//! Dead nodes, retries and timeouts over real sockets: osmem-server nodes behind our
//! fault-injecting proxy.

use std::sync::Arc;
use std::time::Duration;

use es_tests::proxy::{Action, FaultProxy, Mode};
use es_tests::server::OsmemServer;
use es_transport::{ErrorKind, ManualClock, Request, RequestOptions, Transport};

fn hits_per_node(t: &Transport) -> Vec<(String, u64)> {
    t.node_stats()
        .into_iter()
        .map(|s| (s.node, s.requests))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn killed_node_is_skipped_then_used_again() {
    let mut servers = [
        OsmemServer::start(),
        OsmemServer::start(),
        OsmemServer::start(),
    ];
    let urls: Vec<String> = servers.iter().map(OsmemServer::url).collect();
    let clock = ManualClock::new();
    let t = Transport::builder(urls.clone())
        .randomize_nodes_in_pool(false)
        .clock(clock.clone())
        .build()
        .unwrap();
    for _ in 0..9 {
        t.send(Request::get("/")).await.unwrap();
    }
    assert!(
        hits_per_node(&t).iter().all(|(_, n)| *n == 3),
        "{:?}",
        hits_per_node(&t)
    );

    // Kill node 1 mid-run: every request still succeeds.
    let addr = servers[1].addr();
    servers[1].stop();
    for _ in 0..30 {
        let r = t.send(Request::get("/")).await.unwrap();
        assert_ne!(r.meta().node(), urls[1]);
    }
    let stats = t.node_stats();
    assert!(stats[1].is_dead);
    assert_eq!(
        stats[1].failures, 1,
        "the dead node was tried once, then skipped: {stats:?}"
    );
    assert_eq!(stats[1].marked_dead, 1);

    // Still dead (backoff 1 s not over): skipped.
    clock.advance(Duration::from_millis(900));
    for _ in 0..10 {
        t.send(Request::get("/")).await.unwrap();
    }
    assert_eq!(t.node_stats()[1].requests, 4);

    // Comes back; once its dead time ends it is used again and marked alive.
    servers[1] = OsmemServer::start_on(addr);
    clock.advance(Duration::from_millis(100));
    for _ in 0..9 {
        t.send(Request::get("/")).await.unwrap();
    }
    let stats = t.node_stats();
    assert!(!stats[1].is_dead);
    assert!(stats[1].requests >= 6, "{stats:?}");
    assert_eq!(stats[1].marked_alive, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn repeated_failures_grow_the_backoff() {
    let server = OsmemServer::start();
    let bad = FaultProxy::start(server.addr());
    bad.set_mode(Mode::Refuse);
    let good = FaultProxy::start(server.addr());
    let clock = ManualClock::new();
    let t = Transport::builder([bad.url(), good.url()])
        .randomize_nodes_in_pool(false)
        .clock(clock.clone())
        .dead_node_backoff(Duration::from_secs(2), Duration::from_secs(5))
        .build()
        .unwrap();
    let tries_of_bad = |t: &Transport| t.node_stats()[0].requests;
    t.send(Request::get("/")).await.unwrap(); // bad fails (dead 2 s), retried on good
    assert_eq!(tries_of_bad(&t), 1);
    clock.advance(Duration::from_secs(2));
    t.send(Request::get("/")).await.unwrap(); // bad back in rotation, fails again: 4 s
    t.send(Request::get("/")).await.unwrap();
    assert_eq!(tries_of_bad(&t), 2);
    clock.advance(Duration::from_secs(3));
    for _ in 0..4 {
        t.send(Request::get("/")).await.unwrap();
    }
    assert_eq!(tries_of_bad(&t), 2, "4 s backoff not over after 3 s");
    clock.advance(Duration::from_secs(1));
    t.send(Request::get("/")).await.unwrap();
    t.send(Request::get("/")).await.unwrap();
    assert_eq!(tries_of_bad(&t), 3);
    // Capped at 5 s.
    clock.advance(Duration::from_secs(5));
    t.send(Request::get("/")).await.unwrap();
    t.send(Request::get("/")).await.unwrap();
    assert_eq!(tries_of_bad(&t), 4);
    assert_eq!(t.node_stats()[0].consecutive_failures, 4);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn all_nodes_failing_reports_attempts_and_nodes() {
    let server = OsmemServer::start();
    let proxies: Vec<FaultProxy> = (0..3).map(|_| FaultProxy::start(server.addr())).collect();
    for p in &proxies {
        p.set_mode(Mode::Reset);
    }
    let t = Transport::builder(proxies.iter().map(|p| p.url()).collect::<Vec<_>>())
        .max_retries(3)
        .build()
        .unwrap();
    let err = t.send(Request::get("/")).await.unwrap_err();
    assert!(err.is_connect(), "{err}");
    assert_eq!(err.attempts(), 4);
    assert_eq!(err.nodes_tried().len(), 4);
    let msg = err.to_string();
    assert!(msg.contains("after 4 attempts"), "{msg}");
    // With no live node left, the one whose dead time ends first is still tried.
    let err = t
        .send(Request::get("/").with_options(RequestOptions::new().max_retries(0)))
        .await
        .unwrap_err();
    assert_eq!(err.attempts(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn resets_mid_response_and_garbage_are_retried_elsewhere() {
    let server = OsmemServer::start();
    let bad = FaultProxy::start(server.addr());
    let good = FaultProxy::start(server.addr());
    let t = Transport::builder([bad.url(), good.url()])
        .randomize_nodes_in_pool(false)
        .build()
        .unwrap();
    bad.set_mode(Mode::ResetMidResponse);
    let r = t.send(Request::get("/")).await.unwrap();
    assert_eq!(r.meta().attempts(), 2);
    assert_eq!(r.meta().node(), good.url());

    let t = Transport::builder([bad.url(), good.url()])
        .randomize_nodes_in_pool(false)
        .build()
        .unwrap();
    bad.set_mode(Mode::Garbage(bytes::Bytes::from_static(
        b"\x00\x01 this is not HTTP\r\n\r\n",
    )));
    let r = t.send(Request::get("/")).await.unwrap();
    assert_eq!(r.meta().attempts(), 2);

    // Garbage alone, no retries: a clear error, not a panic.
    let t = Transport::builder(bad.url().as_str())
        .max_retries(0)
        .build()
        .unwrap();
    let err = t.send(Request::get("/")).await.unwrap_err();
    assert!(
        matches!(err.kind(), ErrorKind::InvalidResponse | ErrorKind::Connect),
        "{err:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn statuses_429_503_retry_without_killing_the_node() {
    let server = OsmemServer::start();
    let proxy = FaultProxy::start(server.addr());
    let n = Arc::new(std::sync::atomic::AtomicU32::new(0));
    let n2 = n.clone();
    // First two requests: 429 then 503; then forward.
    proxy.set_rule(Arc::new(move |_req| {
        match n2.fetch_add(1, std::sync::atomic::Ordering::SeqCst) {
            0 => Some(Action::status(429)),
            1 => Some(Action::status_retry_after(503, 0)),
            _ => None,
        }
    }));
    let t = Transport::builder(proxy.url().as_str())
        .retry_backoff(Duration::from_millis(10), Duration::from_millis(50))
        .build()
        .unwrap();
    let r = t.send(Request::get("/")).await.unwrap();
    assert_eq!(r.meta().attempts(), 3);
    let st = &t.node_stats()[0];
    assert!(!st.is_dead);
    assert_eq!(st.marked_dead, 0, "429/503 must not mark the node dead");

    // Exhausted: the API error carries the status and attempts.
    proxy.set_mode(Mode::status(503));
    proxy.clear_rule();
    let err = t
        .send(Request::get("/").with_options(RequestOptions::new().max_retries(2)))
        .await
        .unwrap_err();
    assert_eq!(err.status().map(|s| s.as_u16()), Some(503));
    assert_eq!(err.attempts(), 3);
    assert_eq!(err.api_error().unwrap().error_type(), Some("fault_proxy"));
    assert!(!t.node_stats()[0].is_dead);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn retry_after_is_honoured_and_dropping_stops_the_wait() {
    let server = OsmemServer::start();
    let proxy = FaultProxy::start(server.addr());
    proxy.set_mode(Mode::status_retry_after(429, 1));
    let t = Transport::builder(proxy.url().as_str())
        .retry_backoff(Duration::from_millis(1), Duration::from_secs(30))
        .build()
        .unwrap();
    // Dropped while waiting out Retry-After: no second attempt is made.
    let r = tokio::time::timeout(Duration::from_millis(300), t.send(Request::get("/"))).await;
    assert!(r.is_err());
    tokio::time::sleep(Duration::from_millis(1200)).await;
    assert_eq!(proxy.requests(), 1);

    // Honoured: the second attempt comes no sooner than 1 s after the first.
    let p2 = proxy.handle();
    proxy.set_rule(Arc::new(move |_| {
        if p2.requests() >= 3 {
            Some(Action::Forward)
        } else {
            None
        }
    }));
    let start = std::time::Instant::now();
    let r = t.send(Request::get("/")).await.unwrap();
    assert_eq!(r.meta().attempts(), 2);
    assert!(
        start.elapsed() >= Duration::from_secs(1),
        "{:?}",
        start.elapsed()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn timeouts_are_their_own_kind_and_retried_only_when_asked() {
    let server = OsmemServer::start();
    let stall = FaultProxy::start(server.addr());
    stall.set_mode(Mode::Stall);
    let good = FaultProxy::start(server.addr());
    let hosts = [stall.url(), good.url()];
    let t = Transport::builder(hosts.clone())
        .randomize_nodes_in_pool(false)
        .request_timeout(Duration::from_millis(200))
        .build()
        .unwrap();
    let err = t.send(Request::get("/")).await.unwrap_err();
    assert!(err.is_timeout(), "{err}");
    assert_eq!(err.attempts(), 1);
    assert_eq!(good.requests(), 0);

    let t = Transport::builder(hosts)
        .randomize_nodes_in_pool(false)
        .request_timeout(Duration::from_millis(200))
        .retry_on_timeout(true)
        .build()
        .unwrap();
    let r = t.send(Request::get("/")).await.unwrap();
    assert_eq!(r.meta().attempts(), 2);

    // A per-request timeout overrides the global one.
    let t = Transport::builder(stall.url().as_str())
        .request_timeout(Duration::from_secs(30))
        .build()
        .unwrap();
    let start = std::time::Instant::now();
    let err = t
        .send(
            Request::get("/")
                .with_options(RequestOptions::new().timeout(Duration::from_millis(100))),
        )
        .await;
    assert!(err.unwrap_err().is_timeout());
    assert!(start.elapsed() < Duration::from_secs(10));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connect_timeout_and_refused() {
    // Refused: a connection error naming the node.
    let server = OsmemServer::start();
    let p = FaultProxy::start(server.addr());
    p.set_mode(Mode::Refuse);
    let t = Transport::builder(p.url().as_str())
        .max_retries(0)
        .build()
        .unwrap();
    let err = t.send(Request::get("/")).await.unwrap_err();
    assert!(err.is_connect());
    assert_eq!(err.node(), Some(p.url().as_str()));
    // DNS failure is a connection error too.
    let t = Transport::builder("http://no-such-host.invalid:9200")
        .max_retries(0)
        .build()
        .unwrap();
    let err = t.send(Request::get("/")).await.unwrap_err();
    assert!(err.is_connect(), "{err}");
}

/// Prefers nodes whose port is the given one (a stand-in for "same zone").
#[derive(Debug)]
struct Prefer(u16);

impl es_transport::SelectNode for Prefer {
    fn select(&self, nodes: &[es_transport::NodeUrl]) -> usize {
        nodes.iter().position(|n| n.port() == self.0).unwrap_or(0)
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn user_selector_and_random_selector() {
    let server = OsmemServer::start();
    let a = FaultProxy::start(server.addr());
    let b = FaultProxy::start(server.addr());
    let t = Transport::builder([a.url(), b.url()])
        .selector(Prefer(b.port()))
        .build()
        .unwrap();
    for _ in 0..5 {
        t.send(Request::get("/")).await.unwrap();
    }
    assert_eq!((a.requests(), b.requests()), (0, 5));
    // The preferred node dies: the selector only sees live nodes, so traffic moves to a.
    b.set_mode(Mode::Refuse);
    for _ in 0..5 {
        t.send(Request::get("/")).await.unwrap();
    }
    assert_eq!(a.requests(), 5);

    b.set_mode(Mode::Forward);
    a.reset_counters();
    b.reset_counters();
    let t = Transport::builder([a.url(), b.url()])
        .selector(es_transport::Random)
        .build()
        .unwrap();
    for _ in 0..200 {
        t.send(Request::get("/")).await.unwrap();
    }
    assert!(
        a.requests() > 40 && b.requests() > 40,
        "{} / {}",
        a.requests(),
        b.requests()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connect_timeout_is_a_timeout() {
    // A listener with a backlog of 1 that never accepts: once its queue is full, further
    // SYNs are dropped and connect() hangs, as with an unreachable host.
    let sock = tokio::net::TcpSocket::new_v4().unwrap();
    sock.bind("127.0.0.1:0".parse().unwrap()).unwrap();
    let listener = sock.listen(1).unwrap();
    let addr = listener.local_addr().unwrap();
    let mut fillers = Vec::new();
    for _ in 0..4 {
        if let Ok(Ok(s)) = tokio::time::timeout(
            Duration::from_millis(200),
            tokio::net::TcpStream::connect(addr),
        )
        .await
        {
            fillers.push(s);
        }
    }
    let t = Transport::builder(format!("http://{addr}").as_str())
        .connect_timeout(Duration::from_millis(300))
        .request_timeout(Duration::from_secs(30))
        .max_retries(0)
        .build()
        .unwrap();
    let start = std::time::Instant::now();
    let err = t.send(Request::get("/")).await.unwrap_err();
    assert!(err.is_timeout(), "{err}");
    assert!(err.to_string().contains("connect timed out"), "{err}");
    assert!(start.elapsed() < Duration::from_secs(10));
    drop(listener);
}
