//! The fault matrix for bulk traffic (issue 8): a [`Bulk`] run of 300 documents with explicit
//! ids `0..300`, in chunks of 50 (6 requests), through the fault proxy in front of
//! osmem-server, where the 2nd chunk (ids `50..100`) meets one fault at a time. The other
//! chunks go through untouched.
//!
//! Faults in answers (truncated JSON, wrong shape, HTML, a huge body, a gzip bomb, an empty
//! gzip body, a 504 from a gateway) are made by forwarding the chunk to the server and then
//! rewriting its answer: the server really executed the chunk. Faults before an answer
//! (refused, killed, closed, stalled, 429/502/503/504) happen at the proxy.
//!
//! Each case runs twice, on a fresh client and a fresh index:
//! - with the helper's defaults (`raise_on_exception(true)`, through [`Bulk::run`]): the run
//!   ends at the 2nd chunk with the error a user would expect;
//! - with `raise_on_exception(false)` (through [`Bulk::stream`]): the run goes on, and exactly
//!   the 2nd chunk's 50 items are reported failed, with the expected status.
//!
//! And for each run: the requests of the 2nd chunk the proxy read (the transport's and the
//! helper's resends, as configured: transport `max_retries(2)`, helper `max_retries(2)`, only
//! 429 resent by the helper unless opted in), the ones the server executed (counted where the
//! proxy forwards, and seen again in the documents' `_version`), the helper's request count,
//! and the final state of the index: the exact count, every id once, each document's
//! `_version`.
//!
//! Summarized in RELIABILITY.md; rerun with
//! `cargo test -p es-helpers --test bulk_faults -- --nocapture`.

mod common;

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use bytes::Bytes;
use common::faulty_client;
use es_api::Client;
use es_api::es_transport::{ErrorKind as TransportKind, Request, Transport};
use es_helpers::ErrorKind;
use es_helpers::bulk::{Bulk, BulkAction, BulkStats};
use es_tests::{Action, FaultProxy, Mode, OsmemServer, ProxyResponse, RequestInfo};
use futures_util::StreamExt;
use serde_json::{Value, json};
use tokio::sync::Semaphore;

const DOCS: u64 = 300;
const CHUNK: u64 = 50;
/// The faulty chunk's ids: the 2nd chunk.
const FAULTY: std::ops::Range<u64> = 50..100;
/// The transport's `max_retries`.
const T_RETRIES: u32 = 2;
/// The helper's `max_retries`.
const B_RETRIES: u32 = 2;
/// The transport's request timeout in every case that is not about timeouts: generous, so
/// that a chunk slowed by a loaded machine does not fail the case.
const TIMEOUT: Duration = Duration::from_secs(10);
/// The request timeout of the stall cases (the proxy holds the stalled request until the
/// case ends, far past it); the other requests of those runs must be answered within it.
const STALL_TIMEOUT: Duration = Duration::from_secs(2);
/// The transport's `max_response_size`.
const MAX_RESPONSE: usize = 1 << 20;
/// How long a case may wait for something it expects (the killer for the stalled read).
const DEADLINE: Duration = Duration::from_secs(30);

/// Whether a request is the 2nd chunk (its body holds the action of id 50).
fn is_faulty_chunk(info: &RequestInfo) -> bool {
    const NEEDLE: &[u8] = br#""_id":"50""#;
    info.method == "POST"
        && info.path_only().ends_with("/_bulk")
        && info.body.windows(NEEDLE.len()).any(|w| w == NEEDLE)
}

type Rewrite = Arc<dyn Fn(ProxyResponse) -> ProxyResponse + Send + Sync>;

/// What happens to the 2nd chunk's requests.
#[derive(Clone)]
enum Fault {
    /// The proxy does this instead of (or, for `ResetMidResponse`, around) forwarding.
    Act(Action),
    /// Forwarded to the server, whose answer is then replaced by this.
    Rewrite(Rewrite),
    /// The proxy refuses connections while the 2nd chunk is sent.
    Refuse,
    /// The proxy holds the request, then goes away (listener and connections closed) while
    /// the 2nd chunk is in flight; it comes back after the 2nd chunk failed.
    Kill,
}

/// What the defaults-run must end with.
#[derive(Debug, Clone, Copy)]
enum Want {
    /// `ErrorKind::Transport` with this transport kind, status, attempts of the last
    /// transport send, and `may_have_reached_server()`.
    Transport {
        kind: TransportKind,
        status: Option<u16>,
        attempts: u32,
        reached: bool,
    },
    /// `ErrorKind::Serialization`: an answer that is not a bulk response.
    Serialization,
}

struct Case {
    name: &'static str,
    fault: Fault,
    /// Apply the fault to the first N requests of the 2nd chunk only (then forward).
    first: Option<u64>,
    retry_on_connection_error: bool,
    retry_on_timeout: bool,
    /// The transport's request timeout.
    timeout: Duration,
    /// `None`: the run succeeds.
    want: Option<Want>,
    /// Status of the 2nd chunk's items when they fail (0: no answer).
    item_status: u16,
    /// Requests of the 2nd chunk the helper sent (1 + its resends).
    sends: u64,
    /// Requests of the 2nd chunk the proxy read (all transport attempts of all sends).
    reads: u64,
    /// Requests of the 2nd chunk the server executed (0: its documents are absent).
    executed: u64,
}

fn transport_err(kind: TransportKind, status: Option<u16>, attempts: u32, reached: bool) -> Want {
    Want::Transport {
        kind,
        status,
        attempts,
        reached,
    }
}

fn case(name: &'static str, fault: Fault, want: Option<Want>, reads: u64, executed: u64) -> Case {
    Case {
        name,
        fault,
        first: None,
        retry_on_connection_error: false,
        retry_on_timeout: false,
        timeout: TIMEOUT,
        want,
        item_status: 0,
        sends: 1,
        reads,
        executed,
    }
}

fn rewrite(f: impl Fn(ProxyResponse) -> ProxyResponse + Send + Sync + 'static) -> Fault {
    Fault::Rewrite(Arc::new(f))
}

/// Counters and the current fault, shared with the proxy's hooks.
#[derive(Default)]
struct Hooks {
    fault: Mutex<Option<(Fault, Option<u64>)>>,
    /// 2nd-chunk requests the proxy read.
    reads: AtomicU64,
    /// 2nd-chunk requests the server answered (the proxy forwarded them).
    forwarded: AtomicU64,
}

impl Hooks {
    fn install(self: &Arc<Self>, proxy: &FaultProxy) {
        let hooks = self.clone();
        proxy.set_rule(Arc::new(move |info: &RequestInfo| {
            if !is_faulty_chunk(info) {
                return None;
            }
            let n = hooks.reads.fetch_add(1, Ordering::SeqCst) + 1;
            let fault = hooks.fault.lock().unwrap().clone();
            match fault {
                Some((Fault::Act(a), first)) if first.is_none_or(|f| n <= f) => Some(a),
                Some((Fault::Kill, _)) => Some(Action::Stall),
                _ => None,
            }
        }));
        let hooks = self.clone();
        proxy.set_rewriter(Arc::new(move |info: &RequestInfo, resp: ProxyResponse| {
            if !is_faulty_chunk(info) {
                return resp;
            }
            let n = hooks.forwarded.fetch_add(1, Ordering::SeqCst) + 1;
            let fault = hooks.fault.lock().unwrap().clone();
            match fault {
                Some((Fault::Rewrite(f), first)) if first.is_none_or(|f| n <= f) => f(resp),
                _ => resp,
            }
        }));
    }
}

/// The documents, with a gate before ids 50 and 100: each opens when the chunk before it is
/// done, so that the proxy can be changed between chunks.
fn actions(gate: Arc<Semaphore>) -> impl futures_util::Stream<Item = BulkAction<Value>> + Send {
    futures_util::stream::iter(0..DOCS).then(move |i| {
        let gate = gate.clone();
        async move {
            if i == FAULTY.start || i == FAULTY.end {
                gate.acquire().await.expect("gate").forget();
            }
            BulkAction::index(json!({ "n": i })).id(i.to_string())
        }
    })
}

/// The id of a failed item's action (`{"index":{"_id":"57"}}`).
fn action_id(action: &Bytes) -> u64 {
    let line = action.split(|&b| b == b'\n').next().unwrap_or_default();
    let v: Value = serde_json::from_slice(line).expect("the action line");
    v["index"]["_id"]
        .as_str()
        .and_then(|s| s.parse().ok())
        .expect("an id")
}

/// The index as the server has it: each id's `_version`, after checking `_count` and that
/// a search returns every id once.
async fn server_state(direct: &Client, index: &str) -> BTreeMap<u64, i64> {
    let t = direct.transport();
    t.send(Request::post(format!("/{index}/_refresh")))
        .await
        .expect("refresh");
    let count = t
        .send(Request::get(format!("/{index}/_count")))
        .await
        .expect("count")
        .json::<Value>()
        .expect("count json")["count"]
        .as_u64()
        .expect("count");
    let hits = t
        .send(Request::post(format!("/{index}/_search")).with_json_body(
            json!({"size": 1000, "_source": false, "query": {"match_all": {}}}).to_string(),
        ))
        .await
        .expect("search")
        .json::<Value>()
        .expect("search json");
    let mut ids: Vec<u64> = hits["hits"]["hits"]
        .as_array()
        .expect("hits")
        .iter()
        .map(|h| h["_id"].as_str().unwrap().parse().unwrap())
        .collect();
    let found = ids.len();
    ids.sort_unstable();
    ids.dedup();
    assert_eq!(found, ids.len(), "{index}: an id found twice");
    assert_eq!(
        count,
        ids.len() as u64,
        "{index}: _count and the search agree"
    );
    let all: Vec<String> = (0..DOCS).map(|i| i.to_string()).collect();
    let docs = t
        .send(
            Request::post(format!("/{index}/_mget"))
                .with_json_body(json!({ "ids": all }).to_string()),
        )
        .await
        .expect("mget")
        .json::<Value>()
        .expect("mget json");
    let versions: BTreeMap<u64, i64> = docs["docs"]
        .as_array()
        .expect("docs")
        .iter()
        .filter(|d| d["found"] == true)
        .map(|d| {
            (
                d["_id"].as_str().unwrap().parse().unwrap(),
                d["_version"].as_i64().expect("_version"),
            )
        })
        .collect();
    assert_eq!(
        versions.keys().copied().collect::<Vec<_>>(),
        ids,
        "{index}: _mget and the search agree"
    );
    versions
}

/// What each id's `_version` must be after a run: the chunks sent once are at version 1,
/// the faulty chunk at the number of times the server executed it (absent if never).
fn expected_versions(c: &Case, rest_sent: bool) -> BTreeMap<u64, i64> {
    (0..DOCS)
        .filter_map(|i| {
            if FAULTY.contains(&i) {
                (c.executed > 0).then_some((i, c.executed as i64))
            } else if i < FAULTY.start || rest_sent {
                Some((i, 1))
            } else {
                None
            }
        })
        .collect()
}

/// Runs one case once; `raise`: the helper's defaults through `run`, else
/// `raise_on_exception(false)` through `stream`.
async fn run_case(
    c: &Case,
    raise: bool,
    n: usize,
    server: &OsmemServer,
    proxy: &FaultProxy,
    hooks: &Arc<Hooks>,
) {
    let mode = if raise { "defaults" } else { "continue" };
    let what = format!("{} ({mode})", c.name);
    let index = format!("bulk-faults-{n}-{mode}");
    let direct = Client::new(Transport::new(server.url().as_str()).unwrap());
    let client = faulty_client(proxy, T_RETRIES, c.timeout, MAX_RESPONSE);
    hooks.reads.store(0, Ordering::SeqCst);
    hooks.forwarded.store(0, Ordering::SeqCst);
    *hooks.fault.lock().unwrap() = Some((c.fault.clone(), c.first));

    let gate = Arc::new(Semaphore::new(0));
    let stats: Arc<Mutex<BulkStats>> = Arc::default();
    let (handle, transport) = (proxy.handle(), client.transport().clone());
    let fault = c.fault.clone();
    let (gate2, stats2) = (gate.clone(), stats.clone());
    let mut stage = 0u64;
    let mut bulk = Bulk::new(&client)
        .index(index.clone())
        .chunk_size(CHUNK as usize)
        .max_retries(B_RETRIES)
        .initial_backoff(Duration::from_millis(10))
        .max_backoff(Duration::from_millis(40))
        .retry_on_connection_error(c.retry_on_connection_error)
        .retry_on_timeout(c.retry_on_timeout)
        .on_progress(move |s: &BulkStats| {
            *stats2.lock().unwrap() = *s;
            while stage < s.chunks.min(2) {
                stage += 1;
                match (stage, &fault) {
                    // Before the 2nd chunk: refuse, and forget the kept-alive connection so
                    // that the chunk must connect.
                    (1, Fault::Refuse) => {
                        handle.set_mode(Mode::Refuse);
                        transport.close_idle_connections();
                    }
                    // After it: the node is back for the rest of the run.
                    (2, Fault::Refuse | Fault::Kill) => handle.set_mode(Mode::Forward),
                    _ => {}
                }
                gate2.add_permits(1);
            }
        });
    if !raise {
        bulk = bulk.raise_on_exception(false).raise_on_error(false);
    }
    let killer = matches!(c.fault, Fault::Kill).then(|| {
        let (hooks, h) = (hooks.clone(), proxy.handle());
        tokio::spawn(async move {
            let deadline = Instant::now() + DEADLINE;
            while hooks.reads.load(Ordering::SeqCst) == 0 {
                assert!(
                    Instant::now() < deadline,
                    "the 2nd chunk never reached the proxy"
                );
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
            tokio::task::spawn_blocking(move || h.set_mode(Mode::Refuse))
                .await
                .unwrap();
        })
    });

    let rest_sent;
    if raise {
        let result = bulk.run(actions(gate)).await;
        match (c.want, result) {
            (None, Ok(summary)) => {
                assert_eq!(summary.succeeded(), DOCS, "{what}");
                assert_eq!(summary.failed(), 0, "{what}");
                rest_sent = true;
            }
            (Some(want), Err(e)) => {
                match want {
                    Want::Transport {
                        kind,
                        status,
                        attempts,
                        reached,
                    } => {
                        assert_eq!(e.kind(), ErrorKind::Transport, "{what}: {e}");
                        let t = e.transport_error().expect("the transport's error");
                        assert_eq!(t.kind(), kind, "{what}: {e}");
                        assert_eq!(t.status().map(|s| s.as_u16()), status, "{what}: {e}");
                        assert_eq!(t.attempts(), attempts, "{what}: {e}");
                        assert_eq!(t.may_have_reached_server(), reached, "{what}: {e}");
                    }
                    Want::Serialization => {
                        assert_eq!(e.kind(), ErrorKind::Serialization, "{what}: {e}");
                    }
                }
                println!("{what}: {e}");
                rest_sent = false;
            }
            (want, result) => panic!("{what}: expected {want:?}, got {result:?}"),
        }
    } else {
        // The chunk's items are unknown (neither succeeded nor failed) when its request may
        // have been executed: it reached the server and was not refused with a 4xx.
        let unknown = match c.want {
            Some(Want::Transport {
                reached, status, ..
            }) => reached && !status.is_some_and(|s| (400..500).contains(&s)),
            Some(Want::Serialization) => true,
            None => false,
        };
        let mut items = bulk.stream(actions(gate));
        let mut failed = Vec::new();
        let mut ok = 0u64;
        while let Some(item) = items.next().await {
            let item = item.unwrap_or_else(|e| panic!("{what}: {e}"));
            if item.is_ok() {
                ok += 1;
                let id: u64 = item.id().expect("id").parse().unwrap();
                if FAULTY.contains(&id) {
                    // The faulty chunk went through after resends: the server's answer
                    // tells how many times it executed the chunk.
                    assert_eq!(item.attempts() as u64, c.sends, "{what}: {id}");
                    assert_eq!(item.version(), Some(c.executed as i64), "{what}: {id}");
                } else {
                    assert_eq!(item.attempts(), 1, "{what}: {id}");
                    assert_eq!(item.version(), Some(1), "{what}: {id}");
                }
            } else {
                assert_eq!(item.status(), c.item_status, "{what}: {item:?}");
                assert_eq!(item.attempts() as u64, c.sends, "{what}: {item:?}");
                assert_eq!(
                    item.error_type(),
                    Some(if unknown {
                        "outcome_unknown"
                    } else {
                        "request_failed"
                    }),
                    "{what}"
                );
                assert_eq!(item.is_unknown(), unknown, "{what}");
                failed.push(action_id(item.action().expect("the failed action")));
            }
        }
        failed.sort_unstable();
        if c.want.is_some() {
            assert_eq!(failed, FAULTY.collect::<Vec<_>>(), "{what}: failed items");
            assert_eq!(ok, DOCS - CHUNK, "{what}");
        } else {
            assert!(failed.is_empty(), "{what}: {failed:?}");
            assert_eq!(ok, DOCS, "{what}");
        }
        rest_sent = true;
    }
    if let Some(k) = killer {
        k.await.unwrap();
    }
    proxy.set_mode(Mode::Forward);

    // The counts of a run that ended with an error are not reported (the progress callback
    // does not fire for the chunk that ended it): checked on the runs that went to the end.
    if rest_sent {
        let s = *stats.lock().unwrap();
        assert_eq!(s.chunks, DOCS / CHUNK, "{what}: chunks");
        assert_eq!(
            s.requests,
            DOCS / CHUNK - 1 + c.sends,
            "{what}: helper requests"
        );
        assert_eq!(
            s.retried,
            (c.sends - 1) * CHUNK,
            "{what}: items resent by the helper"
        );
    }
    let reads = hooks.reads.load(Ordering::SeqCst);
    let executed = hooks.forwarded.load(Ordering::SeqCst);
    assert_eq!(reads, c.reads, "{what}: 2nd-chunk requests the proxy read");
    assert_eq!(executed, c.executed, "{what}: 2nd-chunk requests executed");
    let versions = server_state(&direct, &index).await;
    assert_eq!(
        versions,
        expected_versions(c, rest_sent),
        "{what}: ids and versions at the server"
    );
    println!(
        "{what}: {} helper sends, {reads} read, {executed} executed; {} documents at the server",
        c.sends,
        versions.len()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bulk_fault_matrix() {
    let server = OsmemServer::start();
    // The server's first write is slow: not part of a case.
    let direct = Client::new(Transport::new(server.url().as_str()).unwrap());
    Bulk::new(&direct)
        .index("warm-up")
        .run_iter([BulkAction::index(json!({"n": 0})).id("0")])
        .await
        .expect("warm-up");
    let proxy = FaultProxy::start(server.addr());
    let hooks = Arc::new(Hooks::default());
    hooks.install(&proxy);

    let t = 1 + u64::from(T_RETRIES);
    let b = 1 + u64::from(B_RETRIES);
    let connect = |attempts, reached| {
        Some(transport_err(
            TransportKind::Connect,
            None,
            attempts,
            reached,
        ))
    };
    let api = |status| Some(transport_err(TransportKind::Api, Some(status), 3, true));
    // Over the 1 MiB limit: a 2 MiB body, and a gzip bomb inflating to 8 MiB.
    let big = Bytes::from(vec![b' '; 2 << 20]);
    let bomb = es_tests::wire::gzip(&vec![b' '; 8 << 20]);

    let mut cases = vec![
        case("connection refused", Fault::Refuse, connect(3, false), 0, 0),
        case(
            "node killed mid-request",
            Fault::Kill,
            connect(3, true),
            1,
            0,
        ),
        // Forwarded, answered by the server, then cut: every delivery was executed.
        case(
            "reset mid-response after the server processed the chunk",
            Fault::Act(Action::ResetMidResponse),
            connect(3, true),
            t,
            t,
        ),
        case(
            "connection closed after the request was written",
            Fault::Act(Action::Close),
            connect(3, true),
            t,
            0,
        ),
        Case {
            timeout: STALL_TIMEOUT,
            ..case(
                "stall past the request timeout",
                Fault::Act(Action::Stall),
                Some(transport_err(TransportKind::Timeout, None, 1, true)),
                1,
                0,
            )
        },
        Case {
            item_status: 429,
            sends: b,
            ..case(
                "429 for the whole request",
                Fault::Act(Action::status(429)),
                api(429),
                t * b,
                0,
            )
        },
    ];
    for status in [502, 503, 504] {
        cases.push(Case {
            item_status: status,
            ..case(
                match status {
                    502 => "502",
                    503 => "503",
                    _ => "504",
                },
                Fault::Act(Action::status(status)),
                api(status),
                t,
                0,
            )
        });
    }
    cases.extend([
        // A gateway that timed out waiting for a node that did the work.
        Case {
            item_status: 504,
            ..case(
                "504 from a gateway after the server processed the chunk",
                rewrite(|r| {
                    ProxyResponse::new(504)
                        .with_header("Content-Type", "text/plain")
                        .with_body(format!("gateway timeout (upstream said {})", r.status))
                }),
                api(504),
                t,
                t,
            )
        },
        case(
            "truncated JSON",
            rewrite(|mut r| {
                r.body = r.body.slice(..r.body.len() / 2);
                r
            }),
            Some(Want::Serialization),
            1,
            1,
        ),
        case(
            "valid JSON of the wrong shape (no items, errors: false)",
            rewrite(|r| r.with_body(r#"{"took":1,"errors":false,"items":[]}"#)),
            Some(Want::Serialization),
            1,
            1,
        ),
        case(
            "200 with an HTML body",
            rewrite(|_| {
                ProxyResponse::new(200)
                    .with_header("Content-Type", "text/html")
                    .with_body("<html><body>Login</body></html>")
            }),
            Some(Want::Serialization),
            1,
            1,
        ),
        case(
            "a 2 MiB body over a 1 MiB limit",
            rewrite(move |_| ProxyResponse::json(200, big.clone())),
            Some(transport_err(
                TransportKind::ResponseTooLarge,
                None,
                1,
                true,
            )),
            1,
            1,
        ),
        case(
            "gzip bomb (8 MiB inflated)",
            rewrite(move |_| {
                ProxyResponse::json(200, bomb.clone()).with_header("Content-Encoding", "gzip")
            }),
            Some(transport_err(
                TransportKind::ResponseTooLarge,
                None,
                1,
                true,
            )),
            1,
            1,
        ),
        case(
            "an empty body labelled gzip",
            rewrite(|_| {
                ProxyResponse::json(200, Bytes::new()).with_header("Content-Encoding", "gzip")
            }),
            Some(Want::Serialization),
            1,
            1,
        ),
        // The helper resends after the transport's attempts all got 429: the 4th request
        // goes through.
        Case {
            first: Some(t),
            sends: 2,
            ..case(
                "429 on the first 3 requests",
                Fault::Act(Action::status(429)),
                None,
                t + 1,
                1,
            )
        },
        // Opted in: the chunk is resent after the transport's 3 attempts were cut after
        // the server executed them; the 4th is answered. Each id once, at version 4.
        Case {
            first: Some(t),
            sends: 2,
            retry_on_connection_error: true,
            ..case(
                "reset after processing on the first 3 requests, retry_on_connection_error",
                Fault::Act(Action::ResetMidResponse),
                None,
                t + 1,
                t + 1,
            )
        },
        // Opted in: the timed-out chunk is resent once (the transport does not retry a
        // timeout).
        Case {
            first: Some(1),
            sends: 2,
            retry_on_timeout: true,
            timeout: STALL_TIMEOUT,
            ..case(
                "stall on the first request, retry_on_timeout",
                Fault::Act(Action::Stall),
                None,
                2,
                1,
            )
        },
        case("no fault", Fault::Act(Action::Forward), None, 1, 1),
    ]);
    for (n, c) in cases.iter().enumerate() {
        for raise in [true, false] {
            run_case(c, raise, n, &server, &proxy, &hooks).await;
        }
    }
}
