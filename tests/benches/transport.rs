//! `cargo xtask bench transport`: our transport against a bare hyper-util client and `wrk`,
//! same null server (another process), same run. Reports requests/s and client CPU per
//! request, and the ratios ours / bare and ours / wrk.
//!
//! `wrk` (Debian package `wrk`) runs as a child process for `WRK_SECS` seconds (default 2)
//! at 1 connection on 1 thread (`-t1 -c1`, our sequential mode) and 64 connections on 2
//! threads (`-t2 -c64`, our 64 in flight on 2 workers), GET of the same path; its CPU is the
//! child's user + system time (`getrusage(RUSAGE_CHILDREN)` around its wait) divided by the
//! requests it reports. Without `wrk` on the `PATH` those rows are skipped with how to
//! install it.
//!
//! Pool scale: the same 64-in-flight load over a 64-node and a 1-node pool (ports of one
//! null-server process), for es-transport and, as a control, for bare hyper-util sending
//! round-robin to the same ports; with the TCP connections each client opened.

mod support;

use std::process::Command;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

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
    ours_pool(&[url.to_owned()], n, in_flight).0
}

/// Our transport over a pool of `urls` (round-robin), `in_flight` tasks; with the TCP
/// connections it opened (warm-up included).
fn ours_pool(urls: &[String], n: u64, in_flight: u64) -> (Measure, u64) {
    ours_pool_with(urls, n, in_flight, in_flight as usize)
}

/// [`ours_pool`] with at most `per_node` connections per node.
fn ours_pool_with(urls: &[String], n: u64, in_flight: u64, per_node: usize) -> (Measure, u64) {
    let rt = rt();
    let t = es_transport::Transport::builder(urls.to_vec())
        .connections_per_node(per_node)
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
    let m = measure(n, || run(n));
    let opened = t.node_stats().iter().map(|s| s.connections_opened).sum();
    (m, opened)
}

fn bare(url: &str, n: u64, in_flight: u64) -> Measure {
    bare_pool(&[url.to_owned()], n, in_flight)
}

/// A bare hyper-util client sending round-robin to `urls` (one hyper-util pool key per
/// port), `in_flight` tasks.
fn bare_pool(urls: &[String], n: u64, in_flight: u64) -> Measure {
    let rt = rt();
    let client: Client<_, Full<Bytes>> = Client::builder(TokioExecutor::new()).build_http();
    let client = Arc::new(client);
    let uris: Arc<Vec<http::Uri>> = Arc::new(
        urls.iter()
            .map(|u| format!("{u}{PATH}").parse().unwrap())
            .collect(),
    );
    let next = Arc::new(AtomicUsize::new(0));
    let run = |n: u64| {
        rt.block_on(async {
            let mut set = tokio::task::JoinSet::new();
            for _ in 0..in_flight {
                let client = client.clone();
                let uris = uris.clone();
                let next = next.clone();
                set.spawn(async move {
                    for _ in 0..n / in_flight {
                        let uri = if uris.len() == 1 {
                            &uris[0]
                        } else {
                            &uris[next.fetch_add(1, Ordering::Relaxed) % uris.len()]
                        };
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

/// Children's CPU time (user + system) of the children waited for so far.
fn children_cpu() -> Duration {
    use nix::sys::resource::{UsageWho, getrusage};
    let ru = getrusage(UsageWho::RUSAGE_CHILDREN).expect("getrusage");
    let tv =
        |t: nix::sys::time::TimeVal| Duration::new(t.tv_sec() as u64, (t.tv_usec() as u32) * 1000);
    tv(ru.user_time()) + tv(ru.system_time())
}

/// `wrk -t{threads} -c{connections} -d{secs}s URL/PATH`: the requests it reports, its
/// requests/s, and its CPU (the child's user + system time). `Err`: why it did not run.
fn wrk(url: &str, threads: u64, connections: u64, secs: u64) -> Result<Measure, String> {
    let c0 = children_cpu();
    let out = Command::new("wrk")
        .args([
            format!("-t{threads}"),
            format!("-c{connections}"),
            format!("-d{secs}s"),
            format!("{url}{PATH}"),
        ])
        .output()
        .map_err(|e| {
            if e.kind() == std::io::ErrorKind::NotFound {
                "wrk is not installed (Debian/Ubuntu: `apt-get install wrk`)".to_owned()
            } else {
                format!("cannot run wrk: {e}")
            }
        })?;
    let cpu = children_cpu() - c0;
    let text = String::from_utf8_lossy(&out.stdout);
    if !out.status.success() {
        return Err(format!("wrk failed ({}): {text}", out.status));
    }
    if let Some(l) = text
        .lines()
        .find(|l| l.contains("Non-2xx") || l.contains("Socket errors"))
    {
        return Err(format!("wrk saw errors: {}", l.trim()));
    }
    // "  123456 requests in 2.00s, 30.52MB read" and "Requests/sec:  61728.00"
    let requests: u64 = text
        .lines()
        .find(|l| l.contains(" requests in "))
        .and_then(|l| l.split_whitespace().next())
        .and_then(|n| n.parse().ok())
        .ok_or_else(|| format!("cannot read wrk's request count: {text}"))?;
    let per_sec: f64 = text
        .lines()
        .find_map(|l| l.trim().strip_prefix("Requests/sec:"))
        .and_then(|n| n.trim().parse().ok())
        .ok_or_else(|| format!("cannot read wrk's requests/s: {text}"))?;
    Ok(Measure {
        ops: requests,
        wall: Duration::from_secs_f64(requests as f64 / per_sec),
        cpu,
    })
}

fn print_row(name: &str, m: &Measure) {
    println!(
        "{:<34} {:>12.0} {:>16.2}",
        name,
        m.per_sec(),
        m.cpu_us_per_op()
    );
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
    let wrk_secs: u64 = std::env::var("WRK_SECS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(2);
    let mut rows = Vec::new();
    let mut wrk_skipped = None;
    for (mode, n, inflight, wrk_threads) in [
        ("sequential", SEQ, 1, 1),
        ("64 in flight", CONC, IN_FLIGHT, 2),
    ] {
        let b = best_of(3, || bare(&server.url, n, inflight));
        let o = best_of(3, || ours(&server.url, n, inflight));
        let w = if wrk_skipped.is_none() {
            let mut runs = Vec::new();
            for _ in 0..3 {
                match wrk(&server.url, wrk_threads, inflight, wrk_secs) {
                    Ok(m) => runs.push(m),
                    Err(why) => {
                        println!("wrk row skipped: {why}");
                        wrk_skipped = Some(why);
                        break;
                    }
                }
            }
            runs.into_iter()
                .min_by(|a, b| a.cpu_us_per_op().total_cmp(&b.cpu_us_per_op()))
        } else {
            None
        };
        print_row(&format!("hyper-util (bare) / {mode}"), &b);
        print_row(&format!("es-transport / {mode}"), &o);
        if let Some(w) = &w {
            print_row(&format!("wrk -t{wrk_threads} -c{inflight} / {mode}"), w);
        }
        rows.push((mode, o, b, w));
    }
    println!();
    for (mode, o, b, w) in &rows {
        println!(
            "{mode}: es-transport / bare hyper-util = {:.2}x CPU per request, {:.2}x requests/s",
            o.cpu_us_per_op() / b.cpu_us_per_op(),
            o.per_sec() / b.per_sec()
        );
        if let Some(w) = w {
            println!(
                "{mode}: es-transport / wrk = {:.2}x CPU per request (target <= 1.10x), {:.2}x requests/s; bare hyper-util / wrk = {:.2}x",
                o.cpu_us_per_op() / w.cpu_us_per_op(),
                o.per_sec() / w.per_sec(),
                b.cpu_us_per_op() / w.cpu_us_per_op()
            );
        }
    }

    // Pool scale: the same load over 64 nodes and over 1 (all null-server ports), 64 in
    // flight; node selection and per-node state must not cost more as the pool grows. The
    // bare hyper-util rows are the control: the same spread over 64 ports without our pool.
    let wide = NullServer::start_with_listeners(64);
    assert_eq!(wide.urls.len(), 64);
    let mut opened = [0u64; 2];
    let mut best = |urls: &[String], slot: usize| {
        let mut runs = Vec::new();
        for _ in 0..3 {
            let (m, c) = ours_pool(urls, CONC, IN_FLIGHT);
            runs.push((m, c));
        }
        let (m, c) = runs
            .into_iter()
            .min_by(|a, b| a.0.cpu_us_per_op().total_cmp(&b.0.cpu_us_per_op()))
            .unwrap();
        opened[slot] = c;
        m
    };
    let one = best(&wide.urls[..1], 0);
    let many = best(&wide.urls, 1);
    let bare_one = best_of(3, || bare_pool(&wide.urls[..1], CONC, IN_FLIGHT));
    let bare_many = best_of(3, || bare_pool(&wide.urls, CONC, IN_FLIGHT));
    println!();
    print_row("es-transport / 1-node pool", &one);
    print_row("es-transport / 64-node pool", &many);
    print_row("hyper-util (bare) / 1 port", &bare_one);
    print_row("hyper-util (bare) / 64 ports", &bare_many);
    println!(
        "pool scale: 64-node / 1-node = {:.2}x CPU per request (target <= 1.05x); connections opened: {} vs {}",
        many.cpu_us_per_op() / one.cpu_us_per_op(),
        opened[1],
        opened[0]
    );
    println!(
        "pool scale control: bare hyper-util 64 ports / 1 port = {:.2}x CPU per request",
        bare_many.cpu_us_per_op() / bare_one.cpu_us_per_op()
    );
    // Diagnostic (`POOL_CONNS_PER_NODE=k`): the 64-node pool with at most k connections per
    // node, so that it cannot open more connections than the 1-node pool (64) when k = 1.
    if let Some(k) = std::env::var("POOL_CONNS_PER_NODE")
        .ok()
        .and_then(|v| v.parse::<usize>().ok())
    {
        let (m, c) = (0..3)
            .map(|_| ours_pool_with(&wide.urls, CONC, IN_FLIGHT, k))
            .min_by(|a, b| a.0.cpu_us_per_op().total_cmp(&b.0.cpu_us_per_op()))
            .unwrap();
        print_row(&format!("es-transport / 64 nodes, {k} conn/node"), &m);
        println!(
            "pool scale diagnostic: 64 nodes at {k} connection(s) per node / 1-node = {:.2}x CPU per request; connections opened: {c}",
            m.cpu_us_per_op() / one.cpu_us_per_op()
        );
    }
}
