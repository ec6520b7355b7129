//! `cargo xtask bench transport`: our transport against a bare hyper-util client, same
//! null server (another process), same runtime, same run. Reports requests/s and client
//! CPU per request, and the ratio ours / bare.

mod support;

use std::sync::Arc;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use support::{Measure, NullServer, best_of, measure};

const SEQ: u64 = 20_000;
const CONC: u64 = 64_000;
const IN_FLIGHT: u64 = 64;
const PATH: &str = "/bench/_doc/1";

fn rt() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap()
}

fn ours(url: &str, n: u64, in_flight: u64) -> Measure {
    ours_pool(&[url.to_owned()], n, in_flight)
}

/// Our transport over a pool of `urls` (round-robin), `in_flight` tasks.
fn ours_pool(urls: &[String], n: u64, in_flight: u64) -> Measure {
    let rt = rt();
    let t = es_transport::Transport::builder(urls.to_vec())
        .connections_per_node(in_flight as usize)
        .build()
        .unwrap();
    let run = |n: u64| {
        rt.block_on(async {
            let mut set = tokio::task::JoinSet::new();
            for _ in 0..in_flight {
                let t = t.clone();
                set.spawn(async move {
                    for _ in 0..n / in_flight {
                        let r = t.send(es_transport::Request::get(PATH)).await.unwrap();
                        assert_eq!(r.body().len(), 129);
                    }
                });
            }
            while set.join_next().await.is_some() {}
        })
    };
    run(in_flight * 50); // warm up: connections open
    measure(n, || run(n))
}

fn bare(url: &str, n: u64, in_flight: u64) -> Measure {
    let rt = rt();
    let client: Client<_, Full<Bytes>> = Client::builder(TokioExecutor::new()).build_http();
    let client = Arc::new(client);
    let uri: http::Uri = format!("{url}{PATH}").parse().unwrap();
    let run = |n: u64| {
        rt.block_on(async {
            let mut set = tokio::task::JoinSet::new();
            for _ in 0..in_flight {
                let client = client.clone();
                let uri = uri.clone();
                set.spawn(async move {
                    for _ in 0..n / in_flight {
                        let req = http::Request::get(uri.clone())
                            .body(Full::new(Bytes::new()))
                            .unwrap();
                        let resp = client.request(req).await.unwrap();
                        let body = resp.into_body().collect().await.unwrap().to_bytes();
                        assert_eq!(body.len(), 129);
                    }
                });
            }
            while set.join_next().await.is_some() {}
        })
    };
    run(in_flight * 50);
    measure(n, || run(n))
}

fn main() {
    if std::env::args().any(|a| a == "--list") {
        return; // `cargo test --benches` compatibility
    }
    let server = NullServer::start();
    println!(
        "transport benchmark against a null server at {} (best of 3 runs each)",
        server.url
    );
    println!(
        "{:<28} {:>12} {:>16}",
        "client / mode", "requests/s", "CPU µs/request"
    );
    // `BENCH_ONLY=ours` (or `bare`) runs one client only, for profiling.
    let only = std::env::var("BENCH_ONLY").unwrap_or_default();
    if !only.is_empty() {
        let url = server.url.clone();
        let m = if only == "bare" {
            bare(&url, CONC, IN_FLIGHT)
        } else {
            ours(&url, CONC, IN_FLIGHT)
        };
        println!(
            "{only} / 64 in flight: {:.0} req/s, {:.1} µs CPU/request",
            m.per_sec(),
            m.cpu_us_per_op()
        );
        return;
    }
    let mut rows = Vec::new();
    for (mode, n, inflight) in [("sequential", SEQ, 1), ("64 in flight", CONC, IN_FLIGHT)] {
        let b = best_of(3, || bare(&server.url, n, inflight));
        let o = best_of(3, || ours(&server.url, n, inflight));
        for (name, m) in [("hyper-util (bare)", b), ("es-transport", o)] {
            println!(
                "{:<28} {:>12.0} {:>16.1}",
                format!("{name} / {mode}"),
                m.per_sec(),
                m.cpu_us_per_op()
            );
        }
        rows.push((
            mode,
            o.cpu_us_per_op() / b.cpu_us_per_op(),
            o.per_sec() / b.per_sec(),
        ));
    }
    println!();
    for (mode, cpu, rps) in rows {
        println!(
            "{mode}: es-transport / bare hyper-util = {cpu:.2}x CPU per request, {rps:.2}x requests/s"
        );
    }

    // Pool scale: the same load over 64 nodes and over 1 (all null-server ports), 64 in
    // flight; node selection and per-node state must not cost more as the pool grows.
    let wide = NullServer::start_with_listeners(64);
    assert_eq!(wide.urls.len(), 64);
    let one = best_of(3, || ours_pool(&wide.urls[..1], CONC, IN_FLIGHT));
    let many = best_of(3, || ours_pool(&wide.urls, CONC, IN_FLIGHT));
    println!();
    for (name, m) in [
        ("es-transport / 1-node pool", one),
        ("es-transport / 64-node pool", many),
    ] {
        println!(
            "{:<28} {:>12.0} {:>16.1}",
            name,
            m.per_sec(),
            m.cpu_us_per_op()
        );
    }
    println!(
        "pool scale: 64-node / 1-node = {:.2}x CPU per request (target <= 1.05x)",
        many.cpu_us_per_op() / one.cpu_us_per_op()
    );
}
