//! Bulk's promises against a real osmem-server (and the fault proxy): failed items keep only
//! their own bytes, `run()` and `stream()` share one success rule, a panicking input is an
//! error, `flush_after` sends a partial chunk of a slow source, resends follow the documented
//! policy, and names are percent-encoded.

use std::time::{Duration, Instant};

use bytes::Bytes;
use es_api::Client;
use es_api::es_transport::http::StatusCode;
use es_api::es_transport::{Request, RequestOptions, Transport};
use es_helpers::ErrorKind;
use es_helpers::bulk::{Bulk, BulkAction};
use es_tests::{Action, FaultProxy, OsmemServer, RequestInfo};
use futures_util::{StreamExt, TryStreamExt};
use serde::{Serialize, Serializer};
use serde_json::{Value, json};
use std::sync::Arc;

fn client(url: &str) -> Client {
    Client::new(
        Transport::builder(url.to_owned())
            .build()
            .expect("transport"),
    )
}

async fn count(client: &Client, index: &str) -> u64 {
    let path = format!("/{}", es_api::params::encode::encode(index));
    let t = client.transport();
    t.send(Request::post(format!("{path}/_refresh")))
        .await
        .expect("refresh");
    let v: Value = t
        .send(Request::get(format!("{path}/_count")))
        .await
        .expect("count")
        .json()
        .expect("json");
    v["count"].as_u64().expect("count")
}

/// Item 1: 200 chunks with one failing item each. After the run, each failure is the only
/// owner of its action's bytes: reclaiming that memory shows how much each one kept alive.
/// A view into the chunk kept (most of) the chunk; a copy keeps exactly its own bytes.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failed_items_keep_only_their_own_bytes() {
    const CHUNKS: usize = 200;
    const PER_CHUNK: usize = 50;
    let server = OsmemServer::start_with_args(&["-no-ja"]);
    let client = client(&server.url());
    let filler = "x".repeat(200);
    let actions = (0..CHUNKS * PER_CHUNK).map(move |i| {
        if i % PER_CHUNK == PER_CHUNK / 2 {
            // An update of a missing document: 404 document_missing_exception.
            BulkAction::update_doc(json!({"f": 1})).id(format!("missing-{i}"))
        } else {
            BulkAction::index(json!({"f": filler})).id(i.to_string())
        }
    });
    let summary = Bulk::new(&client)
        .index("mem")
        .chunk_size(PER_CHUNK)
        .raise_on_error(false)
        .run_iter(actions)
        .await
        .expect("run");
    assert_eq!(summary.failed(), CHUNKS as u64);
    assert_eq!(summary.succeeded(), (CHUNKS * (PER_CHUNK - 1)) as u64);
    assert_eq!(summary.stats().chunks, CHUNKS as u64);
    let chunk_bytes = summary.bytes() / CHUNKS as u64;
    let actions: Vec<Bytes> = summary
        .failures()
        .iter()
        .map(|f| {
            assert_eq!(f.status(), 404);
            f.action().expect("a failure keeps its action").clone()
        })
        .collect();
    drop(summary);
    let own: usize = actions.iter().map(Bytes::len).sum();
    let retained: usize = actions
        .into_iter()
        .map(|b| b.try_into_mut().expect("the sole owner").capacity())
        .sum();
    assert!(
        retained <= own,
        "200 failures retain {retained} bytes for {own} bytes of actions (a chunk is {chunk_bytes} bytes)"
    );
}

/// Item 2: osmem answers a delete of a missing document with 404 under `errors: false`;
/// `run()` and `stream()` both call it a failure, unless 404 is ignored.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn run_and_stream_share_one_success_rule() {
    let server = OsmemServer::start_with_args(&["-no-ja"]);
    let client = client(&server.url());
    let actions = || {
        vec![
            BulkAction::index(json!({"n": 1})).id("1"),
            BulkAction::delete("never-indexed").cast(),
        ]
    };
    // The server's flag says no errors: the rule must not trust it.
    let raw =
        client
            .transport()
            .send(Request::post("/agree/_bulk").with_ndjson_body(
                "{\"index\":{\"_id\":\"0\"}}\n{}\n{\"delete\":{\"_id\":\"nope\"}}\n",
            ))
            .await
            .expect("raw bulk")
            .json::<Value>()
            .expect("json");
    assert_eq!(raw["errors"], json!(false), "{raw}");
    assert_eq!(raw["items"][1]["delete"]["status"], json!(404), "{raw}");

    let bulk = Bulk::new(&client).index("agree").raise_on_error(false);
    let summary = bulk.run_iter(actions()).await.expect("run");
    assert_eq!((summary.succeeded(), summary.failed()), (1, 1));
    let failure = &summary.failures()[0];
    assert_eq!(
        (failure.status(), failure.result()),
        (404, Some("not_found"))
    );
    let items: Vec<_> = bulk
        .stream_iter(actions())
        .try_collect()
        .await
        .expect("stream");
    let oks: Vec<(u16, bool)> = items.iter().map(|i| (i.status(), i.is_ok())).collect();
    assert_eq!(oks, [(200, true), (404, false)]);

    // raise_on_error: the 404 ends the run with an error.
    let err = Bulk::new(&client)
        .index("agree")
        .run_iter(actions())
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::BulkItems);
    assert!(err.is_not_found(), "{err}");
    assert_eq!(err.status(), Some(StatusCode::NOT_FOUND));

    // ignore_status([404]): a success in both.
    let bulk = Bulk::new(&client).index("agree").ignore_status([404]);
    let summary = bulk.run_iter(actions()).await.expect("run");
    assert_eq!((summary.succeeded(), summary.failed()), (2, 0));
    let items: Vec<_> = bulk
        .stream_iter(actions())
        .try_collect()
        .await
        .expect("stream");
    assert!(items.iter().all(|i| i.is_ok()), "{items:?}");
}

/// A document whose `Serialize` panics for one value of `n`.
struct Fragile {
    n: u64,
    panic_at: u64,
}

impl Serialize for Fragile {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        assert!(
            self.n != self.panic_at,
            "cannot serialize document {}",
            self.n
        );
        json!({"n": self.n}).serialize(s)
    }
}

/// Item 3: a panic in the iterator or in a document's `Serialize` ends the run with an
/// `Input` error saying how many actions were read; those were all sent.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_panicking_input_is_an_error_not_a_short_success() {
    let server = OsmemServer::start_with_args(&["-no-ja"]);
    let client = client(&server.url());

    // The iterator panics when asked for its 251st action.
    let actions = (0..1000u64).map(|i| {
        assert!(i != 250, "the source broke at {i}");
        BulkAction::index(json!({"n": i})).id(i.to_string())
    });
    let err = Bulk::new(&client)
        .index("panic-iter")
        .chunk_size(100)
        .concurrency(2)
        .run_iter(actions)
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Input, "{err}");
    assert_eq!(err.input_actions_read(), Some(250));
    let msg = err.to_string();
    assert!(msg.contains("after 250 actions"), "{msg}");
    assert!(msg.contains("the source broke at 250"), "{msg}");
    assert_eq!(count(&client, "panic-iter").await, 250);

    // A document's Serialize panics (the 131st); as a stream: the items of the 130 read
    // before come first, then the error, then the end.
    let actions =
        (0..1000u64).map(|n| BulkAction::index(Fragile { n, panic_at: 130 }).id(n.to_string()));
    let mut stream = Bulk::new(&client)
        .index("panic-ser")
        .chunk_size(50)
        .stream_iter(actions);
    let mut ok = 0;
    let err = loop {
        match stream.next().await.expect("an error before the end") {
            Ok(item) => {
                assert!(item.is_ok(), "{item}");
                ok += 1;
            }
            Err(e) => break e,
        }
    };
    assert_eq!(ok, 130);
    assert_eq!(err.kind(), ErrorKind::Input);
    assert_eq!(err.input_actions_read(), Some(130));
    assert!(
        err.to_string().contains("cannot serialize document 130"),
        "{err}"
    );
    assert!(stream.next().await.is_none());
    assert_eq!(count(&client, "panic-ser").await, 130);
}

/// Item 4: a slow source (a queue that goes quiet) gets its partial chunk sent after
/// `flush_after`; actions closer together than that still share a chunk.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn flush_after_sends_a_partial_chunk_of_a_quiet_source() {
    let server = OsmemServer::start_with_args(&["-no-ja"]);
    let client = client(&server.url());

    // Five actions, then nothing for ever (the stream never ends).
    let quiet = futures_util::stream::iter(
        (0..5).map(|i| BulkAction::index(json!({"n": i})).id(i.to_string())),
    )
    .chain(futures_util::stream::pending());
    let started = Instant::now();
    let mut stream = Bulk::new(&client)
        .index("flush")
        .chunk_size(100)
        .flush_after(Duration::from_millis(200))
        .stream(quiet);
    let first_five: Vec<_> = tokio::time::timeout(
        Duration::from_secs(10),
        (&mut stream).take(5).try_collect::<Vec<_>>(),
    )
    .await
    .expect("the partial chunk was sent")
    .expect("items");
    assert!(first_five.iter().all(|i| i.is_ok()));
    assert!(started.elapsed() >= Duration::from_millis(200));
    assert_eq!(stream.stats().requests, 1);
    drop(stream);

    // Ten actions 20 ms apart, then quiet: one chunk (the deadline is from the last action).
    let paced = futures_util::stream::iter(0..10)
        .then(|i| async move {
            tokio::time::sleep(Duration::from_millis(20)).await;
            BulkAction::index(json!({"n": i})).id(format!("p{i}"))
        })
        .chain(futures_util::stream::pending());
    let mut stream = Bulk::new(&client)
        .index("flush")
        .chunk_size(100)
        .flush_after(Duration::from_secs(1))
        .stream(paced);
    let ten: Vec<_> = tokio::time::timeout(
        Duration::from_secs(10),
        (&mut stream).take(10).try_collect::<Vec<_>>(),
    )
    .await
    .expect("the partial chunk was sent")
    .expect("items");
    assert_eq!(ten.len(), 10);
    assert_eq!(stream.stats().requests, 1, "{:?}", stream.stats());
}

/// Item 5: by default the helper resends a chunk only after 429; a timeout (the request may
/// have been executed) ends the run after one send, unless resends are opted in. The
/// documented worst case: (1 + helper retries) × (1 + transport retries) sends.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn chunk_resends_follow_the_documented_policy() {
    let server = OsmemServer::start_with_args(&["-no-ja"]);
    let proxy = FaultProxy::start(server.addr());
    let client = client(&proxy.url());
    let actions = || (0..10).map(|i| BulkAction::index(json!({"n": i})).id(i.to_string()));
    let no_transport_retries = RequestOptions::new()
        .max_retries(0)
        .timeout(Duration::from_millis(300));

    // A request that times out: not resent by default.
    proxy.set_rule(Arc::new(|info: &RequestInfo| {
        info.path_only()
            .ends_with("/_bulk")
            .then_some(Action::Stall)
    }));
    let err = Bulk::new(&client)
        .index("resend")
        .initial_backoff(Duration::from_millis(1))
        .request_options(no_transport_retries.clone())
        .run_iter(actions())
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Transport);
    assert!(
        err.transport_error().expect("transport").is_timeout(),
        "{err}"
    );
    assert_eq!(proxy.requests_for("/resend/_bulk"), 1);

    // Opted in: 1 + max_retries sends.
    proxy.reset_counters();
    let err = Bulk::new(&client)
        .index("resend")
        .initial_backoff(Duration::from_millis(1))
        .max_retries(2)
        .retry_on_timeout(true)
        .request_options(no_transport_retries)
        .run_iter(actions())
        .await
        .unwrap_err();
    assert!(
        err.transport_error().expect("transport").is_timeout(),
        "{err}"
    );
    assert_eq!(proxy.requests_for("/resend/_bulk"), 3);

    // 429 is resent by default; with the transport's own retries the sends multiply:
    // (1 + 2) × (1 + 1) = 6.
    proxy.reset_counters();
    proxy.set_rule(Arc::new(|info: &RequestInfo| {
        info.path_only()
            .ends_with("/_bulk")
            .then(|| Action::status(429))
    }));
    let err = Bulk::new(&client)
        .index("resend")
        .initial_backoff(Duration::from_millis(1))
        .max_retries(2)
        .request_options(RequestOptions::new().max_retries(1))
        .run_iter(actions())
        .await
        .unwrap_err();
    assert!(err.is_too_many_requests(), "{err}");
    assert_eq!(proxy.requests_for("/resend/_bulk"), 6);
    // Nothing else was sent: the server has no index.
    proxy.clear_rule();
    let direct = self::client(&server.url());
    let status = direct
        .transport()
        .send(
            Request::get("/resend/_count").with_options(RequestOptions::new().ignore_status([404])),
        )
        .await
        .expect("count")
        .status();
    assert_eq!(status, StatusCode::NOT_FOUND);
}

/// Item 6: index names and `param()` values are percent-encoded in the bulk path.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn names_and_params_are_percent_encoded() {
    let server = OsmemServer::start_with_args(&["-no-ja"]);
    let proxy = FaultProxy::start(server.addr());
    let client = client(&proxy.url());
    let index = "q&x=1%{b}é";
    let summary = Bulk::new(&client)
        .index(index)
        .param("routing", "first")
        .param("routing", "r&x y") // replaces
        .refresh(true)
        .wait_for_active_shards(1)
        .run_iter((0..3).map(|i| BulkAction::index(json!({"n": i})).id(i.to_string())))
        .await
        .expect("bulk");
    assert_eq!(summary.succeeded(), 3);
    let log = proxy.request_log();
    assert_eq!(
        log[0].path,
        "/q%26x%3D1%25%7Bb%7D%C3%A9/_bulk?routing=r%26x%20y&refresh=true&wait_for_active_shards=1"
    );
    // The server saw the names as given.
    let direct = self::client(&server.url());
    let hit: Value = direct
        .transport()
        .send(Request::get(
            "/q%26x%3D1%25%7Bb%7D%C3%A9/_doc/1?routing=r%26x%20y",
        ))
        .await
        .expect("get")
        .json()
        .expect("json");
    assert_eq!(hit["_index"], json!(index), "{hit}");
    assert_eq!(hit["_routing"], json!("r&x y"), "{hit}");

    // A date-math name arrives intact (osmem has no date math: it names the index it got).
    let summary = Bulk::new(&client)
        .index("<logs-{now/d}>")
        .raise_on_error(false)
        .run_iter([BulkAction::index(json!({"n": 1}))])
        .await
        .expect("bulk");
    let failure = &summary.failures()[0];
    assert_eq!(failure.error_type(), Some("invalid_index_name_exception"));
    assert_eq!(failure.index(), Some("<logs-{now/d}>"));
}
