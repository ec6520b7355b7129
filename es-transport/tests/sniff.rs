//! Sniffing over real sockets: a real `_nodes/http`, crafted ones, failures.

use std::sync::Arc;
use std::time::Duration;

use es_tests::proxy::{Action, FaultProxy, Mode};
use es_tests::server::OsmemServer;
use es_transport::{ManualClock, Request, Transport};

/// A `_nodes/_all/http` body naming the given proxies, as `hostname/ip:port`.
fn nodes_body(ports: &[u16], master_only_port: Option<u16>) -> String {
    let mut nodes = serde_json::Map::new();
    for (i, p) in ports.iter().enumerate() {
        nodes.insert(
            format!("node-{i}"),
            serde_json::json!({"name": format!("n{i}"), "roles": ["data", "ingest"],
                "http": {"publish_address": format!("localhost/127.0.0.1:{p}")}}),
        );
    }
    if let Some(p) = master_only_port {
        nodes.insert(
            "master".into(),
            serde_json::json!({"roles": ["master"], "http": {"publish_address": format!("127.0.0.1:{p}")}}),
        );
    }
    serde_json::json!({"_nodes": {"total": nodes.len()}, "cluster_name": "c", "nodes": nodes})
        .to_string()
}

fn serve_nodes(proxy: &FaultProxy, body: String) {
    proxy.set_rule(Arc::new(move |req| {
        (req.path_only() == "/_nodes/_all/http").then(|| Action::json(200, body.clone()))
    }));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sniff_on_start_with_real_server() {
    let server = OsmemServer::start();
    // Seed with "localhost:port": the sniff replaces it with the published 127.0.0.1 address.
    let seed = format!("localhost:{}", server.port());
    let t = Transport::builder(seed.as_str())
        .sniff_on_start(true)
        .build()
        .unwrap();
    t.send(Request::get("/")).await.unwrap();
    let nodes: Vec<String> = t.nodes().iter().map(ToString::to_string).collect();
    assert_eq!(nodes, [server.url()]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sniffed_nodes_take_the_traffic_and_master_only_is_skipped() {
    let server = OsmemServer::start();
    let seed = FaultProxy::start(server.addr());
    let a = FaultProxy::start(server.addr());
    let b = FaultProxy::start(server.addr());
    let master = FaultProxy::start(server.addr());
    serve_nodes(
        &seed,
        nodes_body(&[a.port(), b.port()], Some(master.port())),
    );
    let t = Transport::builder(seed.url().as_str())
        .sniff_on_start(true)
        .build()
        .unwrap();
    for _ in 0..10 {
        t.send(Request::get("/")).await.unwrap();
    }
    assert_eq!(seed.requests_for("/_nodes/_all/http"), 1);
    assert_eq!(
        seed.requests_for("/"),
        0,
        "the seed is no longer in the pool"
    );
    assert_eq!(a.requests() + b.requests(), 10);
    assert!(a.requests() > 0 && b.requests() > 0);
    assert_eq!(master.requests(), 0);
    let mut nodes: Vec<String> = t.nodes().iter().map(|n| n.host().to_owned()).collect();
    nodes.sort();
    assert_eq!(
        nodes,
        ["localhost", "localhost"],
        "the hostname part of publish_address is used"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn user_filter_and_credentials_kept() {
    let server = OsmemServer::start();
    let seed = FaultProxy::start(server.addr());
    let a = FaultProxy::start(server.addr());
    let b = FaultProxy::start(server.addr());
    serve_nodes(&seed, nodes_body(&[a.port(), b.port()], None));
    let b_port = b.port();
    let seed_url = seed.url().replace("http://", "http://elastic:changeme@");
    let t = Transport::builder(seed_url.as_str())
        .sniff_on_start(true)
        .sniffed_node_filter(move |n| n.port == b_port)
        .build()
        .unwrap();
    t.send(Request::get("/")).await.unwrap();
    let nodes = t.nodes();
    assert_eq!(nodes.len(), 1);
    assert_eq!(nodes[0].port(), b.port());
    assert!(
        nodes[0].credentials().is_some(),
        "credentials of the seed carry over"
    );
    assert_eq!(b.requests(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failed_sniff_keeps_nodes_and_never_fails_the_request() {
    let server = OsmemServer::start();
    let seed = FaultProxy::start(server.addr());
    for bad in [
        Action::status(500),
        Action::json(200, "{not json"),
        Action::json(200, r#"{"nodes":{}}"#),
    ] {
        seed.set_rule(Arc::new(move |req| {
            (req.path_only() == "/_nodes/_all/http").then(|| bad.clone())
        }));
        let t = Transport::builder(seed.url().as_str())
            .sniff_on_start(true)
            .build()
            .unwrap();
        let r = t.send(Request::get("/")).await.unwrap();
        assert_eq!(r.status(), 200);
        assert_eq!(t.nodes()[0].to_string(), seed.url());
        assert!(t.sniff().await.is_err());
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sniff_on_connection_fail_and_interval() {
    let server = OsmemServer::start();
    let seed = FaultProxy::start(server.addr());
    let a = FaultProxy::start(server.addr());
    let dead = FaultProxy::start(server.addr());
    dead.set_mode(Mode::Refuse);
    serve_nodes(&seed, nodes_body(&[a.port()], None));
    let t = Transport::builder([dead.url(), seed.url()])
        .randomize_nodes_in_pool(false)
        .sniff_on_connection_fail(true)
        .build()
        .unwrap();
    // The dead node fails, the request is retried on the seed, a sniff runs in the background.
    t.send(Request::get("/")).await.unwrap();
    let mut sniffed = false;
    for _ in 0..100 {
        if t.nodes().len() == 1 && t.nodes()[0].port() == a.port() {
            sniffed = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(sniffed, "nodes: {:?}", t.nodes());

    // Interval: driven by the injected clock.
    let clock = ManualClock::new();
    let t = Transport::builder(seed.url().as_str())
        .sniff_interval(Duration::from_secs(300))
        .clock(clock.clone())
        .build()
        .unwrap();
    seed.reset_counters();
    t.send(Request::get("/")).await.unwrap();
    clock.advance(Duration::from_secs(299));
    t.send(Request::get("/")).await.unwrap();
    assert_eq!(seed.requests_for("/_nodes/_all/http"), 0);
    clock.advance(Duration::from_secs(1));
    t.send(Request::get("/")).await.unwrap();
    for _ in 0..100 {
        if seed.requests_for("/_nodes/_all/http") == 1 && t.nodes()[0].port() == a.port() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(seed.requests_for("/_nodes/_all/http"), 1);
    assert_eq!(t.nodes()[0].port(), a.port());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn seeds_are_the_fallback_when_every_sniffed_address_changes() {
    let server = OsmemServer::start();
    let seed = FaultProxy::start(server.addr());
    let a = FaultProxy::start(server.addr());
    let b = FaultProxy::start(server.addr());
    serve_nodes(&seed, nodes_body(&[a.port()], None));
    let t = Transport::builder(seed.url().as_str())
        .sniff_on_start(true)
        .sniff_on_connection_fail(true)
        .max_retries(0)
        .build()
        .unwrap();
    t.send(Request::get("/")).await.unwrap();
    assert_eq!(t.nodes().len(), 1);
    assert_eq!(t.nodes()[0].port(), a.port());
    // The cluster moves: `a` is gone, the seed now publishes `b`.
    a.set_mode(Mode::Refuse);
    serve_nodes(&seed, nodes_body(&[b.port()], None));
    let err = t.send(Request::get("/")).await.unwrap_err();
    assert!(err.is_connect(), "{err}");
    // The failure triggers a sniff: `a` cannot answer it, so the seed is asked again.
    let mut found = false;
    for _ in 0..200 {
        if t.nodes().iter().any(|n| n.port() == b.port()) && t.nodes().len() == 1 {
            found = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(found, "nodes: {:?}", t.nodes());
    t.send(Request::get("/")).await.unwrap();
    assert!(b.requests_for("/") >= 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sniffed_nodes_are_https_when_any_seed_is() {
    // The sniff answer comes over http from the first seed; sniffed nodes must still be
    // https because the second seed is. (They are not contacted here: only their URLs count.)
    let server = OsmemServer::start();
    let seed = FaultProxy::start(server.addr());
    serve_nodes(&seed, nodes_body(&[9443], None));
    let t = Transport::builder([seed.url(), "https://127.0.0.1:1".to_owned()])
        .randomize_nodes_in_pool(false)
        .sniff_interval(Duration::from_secs(3600))
        .build()
        .unwrap();
    let n = t.sniff().await.unwrap();
    assert_eq!(n, 1);
    let nodes: Vec<String> = t.nodes().iter().map(ToString::to_string).collect();
    assert_eq!(nodes, ["https://localhost:9443"]);
}
