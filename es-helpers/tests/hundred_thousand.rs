//! The 100,000-document scenarios, sharing one seeded server: bulk through a proxy that
//! rejects a third of the items with 429 and resets connections loses nothing; then scans in
//! every mode return each document exactly once.

use std::collections::HashSet;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use es_api::Client;
use es_api::es_transport::{Request, Transport};
use es_helpers::bulk::{Bulk, BulkAction};
use es_helpers::scan::{Scan, ScanMode};
use es_tests::{Action, FaultProxy, OsmemServer, ProxyResponse, RequestInfo};
use futures_util::TryStreamExt;
use serde::Serialize;
use serde_json::{Value, json};

const N: u64 = 100_000;

#[derive(Serialize)]
struct Doc<'a> {
    n: u64,
    title: &'a str,
    tags: [&'a str; 2],
}

fn client(url: &str) -> Client {
    Client::new(
        Transport::builder(url.to_owned())
            .build()
            .expect("transport"),
    )
}

async fn count(client: &Client, index: &str) -> u64 {
    let t = client.transport();
    t.send(Request::post(format!("/{index}/_refresh")))
        .await
        .expect("refresh");
    let resp = t
        .send(Request::get(format!("/{index}/_count")))
        .await
        .expect("count");
    resp.json::<Value>().expect("json")["count"]
        .as_u64()
        .expect("count")
}

/// A tiny deterministic PRNG for the proxy's choices.
fn next(state: &Mutex<u64>) -> u64 {
    let mut s = state.lock().unwrap();
    *s ^= *s << 13;
    *s ^= *s >> 7;
    *s ^= *s << 17;
    *s
}

/// Marks about a third of the items of every forwarded `_bulk` response as 429.
fn rewrite_429(rng: Arc<Mutex<u64>>, rejected: Arc<AtomicU64>) -> es_tests::Rewriter {
    Arc::new(move |info: &RequestInfo, resp: ProxyResponse| {
        if !info.path_only().ends_with("/_bulk") || resp.status != 200 {
            return resp;
        }
        let Some(mut body) = resp.body_json() else {
            return resp;
        };
        let mut n = 0;
        if let Some(items) = body["items"].as_array_mut() {
            for item in items {
                if !next(&rng).is_multiple_of(3) {
                    continue;
                }
                let Some((_, v)) = item.as_object_mut().and_then(|m| m.iter_mut().next()) else {
                    continue;
                };
                let (index, id) = (v["_index"].clone(), v["_id"].clone());
                *v = json!({"_index": index, "_id": id, "status": 429,
                    "error": {"type": "es_rejected_execution_exception", "reason": "rejected by the test proxy"}});
                n += 1;
            }
        }
        if n == 0 {
            return resp;
        }
        rejected.fetch_add(n, Ordering::Relaxed);
        body["errors"] = json!(true);
        resp.with_body(serde_json::to_vec(&body).unwrap())
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nothing_is_lost_then_every_scan_mode_sees_each_doc_once() {
    let server = OsmemServer::start_with_args(&["-no-ja"]);
    let proxy = FaultProxy::start(server.addr());
    let rejected = Arc::new(AtomicU64::new(0));
    proxy.set_rewriter(rewrite_429(
        Arc::new(Mutex::new(0x9E37_79B9_7F4A_7C15)),
        rejected.clone(),
    ));
    // Every 7th bulk request: the connection is reset, before forwarding or mid-response
    // (after the server indexed the chunk).
    let bulk_requests = Arc::new(AtomicU64::new(0));
    let counter = bulk_requests.clone();
    proxy.set_rule(Arc::new(move |info: &RequestInfo| {
        if !info.path_only().ends_with("/_bulk") {
            return None;
        }
        match counter.fetch_add(1, Ordering::Relaxed) % 14 {
            6 => Some(Action::Reset),
            13 => Some(Action::ResetMidResponse),
            _ => None,
        }
    }));
    let client = client(&proxy.url());
    let progress_calls = Arc::new(AtomicU64::new(0));
    let pc = progress_calls.clone();
    let title =
        "a document of about two hundred bytes, once serialized with its tags and its number";
    let actions = (0..N).map(move |n| {
        BulkAction::index(Doc {
            n,
            title,
            tags: ["alpha", "beta"],
        })
        .id(n.to_string())
    });
    let started = Instant::now();
    let summary = Bulk::new(&client)
        .index("lost")
        .chunk_size(1000)
        .concurrency(4)
        .max_retries(30)
        .initial_backoff(Duration::from_millis(1))
        .max_backoff(Duration::from_millis(20))
        .on_progress(move |_| {
            pc.fetch_add(1, Ordering::Relaxed);
        })
        .run_iter(actions)
        .await
        .expect("bulk");
    let took = started.elapsed();
    assert_eq!(summary.succeeded(), N, "{summary:?}");
    assert_eq!(summary.failed(), 0);
    assert!(
        rejected.load(Ordering::Relaxed) > N / 4,
        "the proxy rejected too few: {rejected:?}"
    );
    assert!(progress_calls.load(Ordering::Relaxed) >= N / 1000);
    proxy.clear_rule();
    proxy.clear_rewriter();

    eprintln!(
        "bulk of {N} through the proxy: {took:?}, {} item resends ({} items rejected by the proxy), {} requests",
        summary.retried(),
        rejected.load(Ordering::Relaxed),
        summary.stats().requests
    );

    let direct = self::client(&server.url());
    assert_eq!(count(&direct, "lost").await, N);
    for (mode, slices) in [
        (ScanMode::Scroll, 1),
        (ScanMode::PointInTime, 1),
        (ScanMode::PointInTime, 3),
        (ScanMode::Scroll, 2),
    ] {
        let started = Instant::now();
        let mut seen = HashSet::with_capacity(N as usize);
        let mut hits = Scan::new(&direct, "lost")
            .size(5000)
            .mode(mode)
            .slices(slices)
            .query(json!({"_source": ["n"]}))
            .stream::<Value>();
        while let Some(hit) = hits.try_next().await.expect("scan") {
            let n = hit
                .id
                .as_deref()
                .expect("id")
                .parse::<u64>()
                .expect("numeric id");
            assert_eq!(hit.source.as_ref().expect("source")["n"], n);
            assert!(seen.insert(n), "{mode:?}/{slices}: duplicate id {n}");
        }
        assert_eq!(seen.len() as u64, N, "{mode:?}/{slices}");
        assert!(seen.iter().all(|&n| n < N));
        eprintln!(
            "scan {mode:?} in {slices} slice(s): {:?}",
            started.elapsed()
        );
    }
    // Every scroll and point in time was released.
    let pits: Value = direct
        .transport()
        .send(Request::get("/_search/point_in_time/_all"))
        .await
        .expect("pits")
        .json()
        .expect("json");
    assert_eq!(pits["pits"].as_array().map(Vec::len), Some(0), "{pits}");
}
