//! Bulk against a real osmem-server (and the fault proxy): per-item errors, raise
//! semantics, whole-request retries, bounded input consumption. (Nothing lost under 429s
//! and resets: `hundred_thousand.rs`.)

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use es_api::Client;
use es_api::es_transport::Transport;
use es_helpers::ErrorKind;
use es_helpers::bulk::{Bulk, BulkAction, OpType, RawJson};
use es_tests::{Action, CountingServer, FaultProxy, Mode, OsmemServer, RequestInfo};
use futures_util::{StreamExt, TryStreamExt};
use serde_json::{Value, json};

fn client(url: &str) -> Client {
    Client::new(
        Transport::builder(url.to_owned())
            .build()
            .expect("transport"),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn item_errors_are_reported_or_raised() {
    let server = OsmemServer::start();
    let client = client(&server.url());
    let seed = (0..10).map(|i| BulkAction::index(json!({"n": i})).id(i.to_string()));
    Bulk::new(&client)
        .index("items")
        .refresh(true)
        .run_iter(seed)
        .await
        .expect("seed");

    // Every op type and a few metadata fields, as a per-item stream.
    let actions: Vec<BulkAction<Value>> = vec![
        BulkAction::create(json!({"n": 1})).id("1"), // 409: exists
        BulkAction::create(json!({"n": 100})).id("100"), // 201
        BulkAction::update_doc(json!({"x": 1})).id("2"), // 200
        BulkAction::update_doc(json!({"x": 1}))
            .id("200")
            .doc_as_upsert(true), // 201
        BulkAction::delete("3").cast(),              // 200
        BulkAction::delete("300").cast(),            // 404
        BulkAction::index(json!({"n": 4})).id("4").routing("r"), // 2xx
        BulkAction::index(json!({"n": 5})).id("5").in_index("other"), // 201 in another index
    ];
    let mut items: Vec<_> = Bulk::new(&client)
        .index("items")
        .raise_on_error(false)
        .stream_iter(actions)
        .try_collect()
        .await
        .expect("stream");
    assert_eq!(items.len(), 8);
    items.sort_by_key(|i| i.id().unwrap_or_default().to_owned());
    let by_id = |id: &str| {
        items
            .iter()
            .find(|i| i.id() == Some(id))
            .unwrap_or_else(|| panic!("no item {id}"))
    };
    let dup = by_id("1");
    assert_eq!(
        (dup.op(), dup.status(), dup.is_ok()),
        (OpType::Create, 409, false)
    );
    assert_eq!(dup.error_type(), Some("version_conflict_engine_exception"));
    assert!(
        std::str::from_utf8(dup.action().expect("failed items keep their action"))
            .unwrap()
            .starts_with("{\"create\":{\"_id\":\"1\"}}\n")
    );
    assert_eq!(by_id("100").status(), 201);
    assert_eq!(by_id("2").result(), Some("updated"));
    assert!(by_id("200").is_ok());
    assert_eq!(by_id("3").result(), Some("deleted"));
    assert_eq!((by_id("300").status(), by_id("300").is_ok()), (404, false));
    assert!(by_id("4").is_ok());
    assert_eq!(by_id("5").index(), Some("other"));

    // The summary keeps the failures; ignore_status turns the 404 into a success.
    let summary = Bulk::new(&client)
        .index("items")
        .raise_on_error(false)
        .ignore_status([404])
        .run_iter(vec![
            BulkAction::<Value>::create(json!({})).id("1"),
            BulkAction::delete("404").cast(),
            BulkAction::delete("0").cast(),
        ])
        .await
        .expect("run");
    assert_eq!((summary.succeeded(), summary.failed()), (2, 1));
    assert_eq!(summary.failures()[0].status(), 409);

    // raise_on_error: the chunk's failures as an error.
    let err = Bulk::new(&client)
        .index("items")
        .run_iter(vec![
            BulkAction::create(RawJson::new("{}")).id("1"),
            BulkAction::create(RawJson::new("{}")).id("2"),
        ])
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::BulkItems);
    assert_eq!(err.failed_items().len(), 2);
    assert_eq!(err.status().map(|s| s.as_u16()), Some(409));

    // A document that cannot be serialized is reported, never sent.
    let mut bad = std::collections::HashMap::new();
    bad.insert(vec![1u8], 1);
    let summary = Bulk::new(&client)
        .index("items")
        .raise_on_error(false)
        .run_iter(vec![BulkAction::index(bad)])
        .await
        .expect("run");
    assert_eq!((summary.failed(), summary.failures()[0].status()), (1, 0));
    assert_eq!(summary.stats().requests, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn request_failures_raise_or_fail_items() {
    let server = OsmemServer::start();
    let proxy = FaultProxy::start(server.addr());
    proxy.set_mode(Mode::status(500));
    let client = client(&proxy.url());
    let actions = || (0..30).map(|i| BulkAction::index(json!({"n": i})).id(i.to_string()));
    let err = Bulk::new(&client)
        .index("x")
        .chunk_size(10)
        .run_iter(actions())
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Transport);
    assert_eq!(err.status().map(|s| s.as_u16()), Some(500));

    let summary = Bulk::new(&client)
        .index("x")
        .chunk_size(10)
        .raise_on_exception(false)
        .raise_on_error(false)
        .run_iter(actions())
        .await
        .expect("run");
    // A 500 to the whole request: it may have been (partly) executed, so the items'
    // outcome is unknown, neither succeeded nor failed.
    assert_eq!(
        (summary.succeeded(), summary.failed(), summary.unknown()),
        (0, 0, 30)
    );
    assert!(
        summary
            .failures()
            .iter()
            .all(|f| f.status() == 500 && f.action().is_some() && f.is_unknown())
    );

    // A whole-request 429 is retried by the helper after the transport gave up.
    proxy.set_mode(Mode::Forward);
    let left = Arc::new(AtomicU64::new(6));
    let l = left.clone();
    proxy.set_rule(Arc::new(move |_: &RequestInfo| {
        (l.fetch_update(Ordering::Relaxed, Ordering::Relaxed, |n| n.checked_sub(1))
            .is_ok())
        .then(|| Action::status(429))
    }));
    let summary = Bulk::new(&client)
        .index("x")
        .initial_backoff(Duration::from_millis(1))
        .request_options(es_api::RequestOptions::new().max_retries(0))
        .max_retries(10)
        .run_iter(actions())
        .await
        .expect("run");
    assert_eq!(summary.succeeded(), 30);
    assert_eq!(summary.retried(), 6 * 30);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn input_is_pulled_lazily_and_dropping_stops() {
    let server = CountingServer::builder().bulk().start();
    let client = client(&server.url());
    let pulled = Arc::new(AtomicU64::new(0));
    let p = pulled.clone();
    // An endless input: only what the chunks in flight need is ever pulled.
    let actions = futures_util::stream::iter(0u64..).map(move |n| {
        p.fetch_add(1, Ordering::Relaxed);
        BulkAction::index(json!({"n": n})).id(n.to_string())
    });
    let mut stream = Bulk::new(&client)
        .index("lazy")
        .chunk_size(100)
        .concurrency(2)
        .stream(actions);
    let mut got = 0u64;
    while let Some(item) = stream.next().await {
        assert!(item.expect("item").is_ok());
        got += 1;
        if got == 1000 {
            break;
        }
    }
    // In flight: at most `concurrency` chunks, one queued, one being built, one being yielded.
    let bound = got + (2 + 3) * 100;
    assert!(
        pulled.load(Ordering::Relaxed) <= bound,
        "pulled {} > {bound}",
        pulled.load(Ordering::Relaxed)
    );
    drop(stream);
    tokio::time::sleep(Duration::from_millis(100)).await;
    let after = pulled.load(Ordering::Relaxed);
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert_eq!(
        pulled.load(Ordering::Relaxed),
        after,
        "the producer stopped with the stream"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn client_options_reach_the_helpers_requests() {
    use es_api::RequestOptions;
    use es_tests::proxy::FaultProxy;
    use std::sync::{Arc, Mutex};

    let server = es_tests::server::OsmemServer::start();
    let proxy = FaultProxy::start(server.addr());
    let seen = Arc::new(Mutex::new(Vec::<Option<String>>::new()));
    let s = seen.clone();
    proxy.set_rule(Arc::new(move |req| {
        s.lock()
            .unwrap()
            .push(req.header("x-opaque-id").map(str::to_owned));
        None
    }));
    let client = es_api::Client::from_url(&proxy.url())
        .unwrap()
        .options(RequestOptions::new().opaque_id("nightly-load"));
    let docs = (0..10).map(|i| {
        es_helpers::bulk::BulkAction::index(serde_json::json!({"n": i})).id(i.to_string())
    });
    let summary = es_helpers::bulk::Bulk::new(&client)
        .index("opts")
        .refresh(true)
        .run_iter(docs)
        .await
        .unwrap();
    assert_eq!(summary.succeeded(), 10);
    let mut scan = es_helpers::scan::Scan::new(&client, "opts")
        .size(3)
        .stream::<serde_json::Value>();
    let mut n = 0;
    while let Some(hit) = futures_util::StreamExt::next(&mut scan).await {
        hit.unwrap();
        n += 1;
    }
    assert_eq!(n, 10);
    let seen = seen.lock().unwrap();
    assert!(seen.len() >= 3, "{seen:?}");
    assert!(
        seen.iter().all(|h| h.as_deref() == Some("nightly-load")),
        "{seen:?}"
    );
}

/// `on_progress` takes a stateful `FnMut` (here one owning a non-`Sync` channel sender) and
/// `on_progress_every(n)` calls it only when another `n` items are done, and at the end;
/// deletes need no type annotation.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn progress_every_n_items_and_untyped_deletes() {
    let server = OsmemServer::start();
    let client = client(&server.url());
    let (tx, rx) = std::sync::mpsc::channel::<u64>();
    let mut calls = 0u32;
    let summary = Bulk::new(&client)
        .index("progress")
        .chunk_size(100)
        .on_progress(move |s| {
            calls += 1;
            tx.send(s.done() * 1000 + u64::from(calls)).unwrap();
        })
        .on_progress_every(250)
        .run_iter((0..1000).map(|i| BulkAction::index(json!({"n": i})).id(i.to_string())))
        .await
        .expect("bulk");
    assert_eq!(summary.succeeded(), 1000);
    let seen: Vec<(u64, u64)> = rx.try_iter().map(|v| (v / 1000, v % 1000)).collect();
    // Chunks of 100 complete in order with one request in flight: 300 crosses 250, 500
    // crosses 500, 800 crosses 750, 1000 crosses 1000; then the final call.
    assert_eq!(
        seen,
        vec![(300, 1), (500, 2), (800, 3), (1000, 4), (1000, 5)],
        "done counts and call numbers"
    );

    let deleted = Bulk::new(&client)
        .index("progress")
        .refresh(true)
        .run_iter(["1", "2", "3"].map(BulkAction::delete))
        .await
        .expect("deletes");
    assert_eq!(deleted.succeeded(), 3);
}
