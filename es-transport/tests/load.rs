//! Load: 10,000 concurrent tasks share one transport over three nodes while one node flaps
//! (its listener closed and reopened every 200 ms, its open connections dropped) for
//! `LOAD_SECS` seconds (default 30). Every request completes or fails with a clear error
//! (a connection error, a timeout, or a pool-wait timeout), no task hangs past the end,
//! and memory stays flat: the resident set at the end is within a bound of the one after
//! warm-up. Peak RSS and requests/s are printed (`--nocapture`) and recorded in
//! RELIABILITY.md.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use es_tests::counting::CountingServer;
use es_tests::proxy::{FaultProxy, Mode};
use es_transport::{ErrorKind, Request, Transport};

const TASKS: usize = 10_000;

/// Resident set size of this process in KiB (Linux), from /proc/self/status.
fn rss_kib() -> Option<u64> {
    let s = std::fs::read_to_string("/proc/self/status").ok()?;
    s.lines()
        .find(|l| l.starts_with("VmRSS:"))?
        .split_whitespace()
        .nth(1)?
        .parse()
        .ok()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ten_thousand_tasks_with_a_flapping_node() {
    let secs: u64 = std::env::var("LOAD_SECS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(30);
    let servers: Vec<CountingServer> = (0..3).map(|_| CountingServer::start()).collect();
    let proxies: Vec<FaultProxy> = servers
        .iter()
        .map(|s| FaultProxy::start(s.addr()))
        .collect();
    let urls: Vec<String> = proxies.iter().map(|p| p.url()).collect();
    let t = Transport::builder(urls)
        .connections_per_node(32)
        .request_timeout(Duration::from_secs(5))
        .dead_node_backoff(Duration::from_millis(100), Duration::from_secs(1))
        .product_check(false)
        .build()
        .unwrap();

    let stop = Arc::new(AtomicBool::new(false));
    let ok = Arc::new(AtomicU64::new(0));
    let failed = Arc::new(AtomicU64::new(0));
    let flaps = Arc::new(AtomicU64::new(0));

    // The flapping node.
    let flapper = {
        let h = proxies[0].handle();
        let stop = stop.clone();
        let flaps = flaps.clone();
        tokio::spawn(async move {
            while !stop.load(Ordering::Relaxed) {
                tokio::time::sleep(Duration::from_millis(200)).await;
                h.set_mode(Mode::Refuse);
                tokio::time::sleep(Duration::from_millis(200)).await;
                h.set_mode(Mode::Forward);
                flaps.fetch_add(1, Ordering::Relaxed);
            }
            h.set_mode(Mode::Forward);
        })
    };

    let start = Instant::now();
    let tasks: Vec<_> = (0..TASKS)
        .map(|_| {
            let t = t.clone();
            let stop = stop.clone();
            let ok = ok.clone();
            let failed = failed.clone();
            tokio::spawn(async move {
                while !stop.load(Ordering::Relaxed) {
                    match t.send(Request::get("/")).await {
                        Ok(r) => {
                            assert_eq!(r.status(), 200);
                            ok.fetch_add(1, Ordering::Relaxed);
                        }
                        Err(e) => {
                            assert!(
                                matches!(
                                    e.kind(),
                                    ErrorKind::Connect
                                        | ErrorKind::Timeout
                                        | ErrorKind::PoolTimeout
                                ),
                                "unexpected error: {e}"
                            );
                            assert!(!e.to_string().is_empty());
                            failed.fetch_add(1, Ordering::Relaxed);
                        }
                    }
                }
            })
        })
        .collect();

    // Warm-up, then sample memory through the run.
    tokio::time::sleep(Duration::from_secs(secs.min(5))).await;
    let warm = rss_kib();
    let mut peak = warm.unwrap_or(0);
    let deadline = start + Duration::from_secs(secs);
    while Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(500)).await;
        peak = peak.max(rss_kib().unwrap_or(0));
    }
    let end = rss_kib();
    stop.store(true, Ordering::Relaxed);
    // No deadlock: every task ends within one request timeout of the stop.
    let joined = tokio::time::timeout(Duration::from_secs(30), async {
        for task in tasks {
            task.await.unwrap();
        }
    })
    .await;
    assert!(joined.is_ok(), "tasks still running 30 s after the stop");
    flapper.await.unwrap();
    let elapsed = start.elapsed().as_secs_f64();
    let (ok, failed) = (ok.load(Ordering::Relaxed), failed.load(Ordering::Relaxed));
    println!(
        "load: {TASKS} tasks, {secs} s, {} flaps: {ok} ok, {failed} failed, {:.0} req/s, RSS after warm-up {} KiB, at end {} KiB, peak {peak} KiB",
        flaps.load(Ordering::Relaxed),
        (ok + failed) as f64 / elapsed,
        warm.unwrap_or(0),
        end.unwrap_or(0),
    );
    assert!(ok > 0 && flaps.load(Ordering::Relaxed) > 0);
    // The healthy nodes carried the load: failures are a small part of it.
    assert!(failed * 10 < ok, "{failed} failures for {ok} successes");
    if let (Some(w), Some(e)) = (warm, end) {
        // Flat: no growth with the number of requests (allocator noise allowed).
        assert!(
            e < w + w / 2 + 16 * 1024,
            "RSS grew from {w} KiB to {e} KiB"
        );
    }
    let total: u64 = servers.iter().map(CountingServer::requests).sum();
    assert!(total >= ok, "every success was served: {total} < {ok}");
}
