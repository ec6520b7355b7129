//! Bulk when the server did the work and the answer was lost (issue 17): the fault proxy
//! forwards a chunk to osmem-server, which executes it, and then replaces the answer with a
//! gateway's 502. What the server executed is counted at the proxy and read back from the
//! index; what the caller is told must agree with it.
//!
//! Rerun with `cargo test -p es-helpers --test answer_lost_bulk -- --nocapture`.

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use common::faulty_client;
use es_api::Client;
use es_api::es_transport::{Request, RequestOptions, Transport};
use es_helpers::ErrorKind;
use es_helpers::bulk::{Bulk, BulkAction};
use es_tests::{FaultProxy, OsmemServer, ProxyResponse, RequestInfo};
use serde_json::{Value, json};

/// The transport's `max_retries`: with the old rule, a lost answer was resent this often.
const T_RETRIES: u32 = 3;

/// The proxy forwards `_bulk` requests and replaces the answers of the first `lose` of them
/// with a 502 from a gateway; it counts the `_bulk` requests the server executed.
fn lose_answers(proxy: &FaultProxy, lose: u64) -> Arc<AtomicU64> {
    let executed = Arc::new(AtomicU64::new(0));
    let seen = executed.clone();
    proxy.set_rewriter(Arc::new(move |info: &RequestInfo, resp: ProxyResponse| {
        if !info.path_only().ends_with("/_bulk") {
            return resp;
        }
        let n = seen.fetch_add(1, Ordering::SeqCst) + 1;
        if n <= lose {
            ProxyResponse::new(502)
                .with_header("Content-Type", "text/plain")
                .with_body("bad gateway: upstream closed the connection")
        } else {
            resp
        }
    }));
    executed
}

async fn count(direct: &Client, index: &str) -> u64 {
    let t = direct.transport();
    t.send(Request::post(format!("/{index}/_refresh")))
        .await
        .expect("refresh");
    t.send(Request::get(format!("/{index}/_count")))
        .await
        .expect("count")
        .json::<Value>()
        .expect("json")["count"]
        .as_u64()
        .expect("count")
}

async fn get(direct: &Client, index: &str, id: &str) -> Value {
    direct
        .transport()
        .send(Request::get(format!("/{index}/_doc/{id}")))
        .await
        .expect("get")
        .json::<Value>()
        .expect("json")
}

struct Setup {
    _server: OsmemServer,
    proxy: FaultProxy,
    direct: Client,
    client: Client,
}

fn setup() -> Setup {
    let server = OsmemServer::start();
    let direct = Client::new(Transport::new(server.url().as_str()).unwrap());
    let proxy = FaultProxy::start(server.addr());
    let client = faulty_client(&proxy, T_RETRIES, Duration::from_secs(10), 1 << 20);
    Setup {
        _server: server,
        proxy,
        direct,
        client,
    }
}

fn idless(n: u64) -> Vec<BulkAction<Value>> {
    (0..n)
        .map(|i| BulkAction::index(json!({ "n": i })))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn idless_index_actions_are_executed_once_and_reported_unknown() {
    let s = setup();
    let executed = lose_answers(&s.proxy, 1);
    let err = Bulk::new(&s.client)
        .index("idless")
        .run_iter(idless(100))
        .await
        .expect_err("the answer was lost: not a success");
    assert_eq!(executed.load(Ordering::SeqCst), 1, "sent once");
    assert_eq!(count(&s.direct, "idless").await, 100, "no duplicate");
    assert_eq!(err.kind(), ErrorKind::Transport);
    assert_eq!(err.status().map(|s| s.as_u16()), Some(502));
    assert!(err.may_have_reached_server());
    let stats = err.bulk_stats().expect("the run's counts");
    assert_eq!(
        (stats.succeeded, stats.failed, stats.unknown),
        (0, 0, 100),
        "{stats:?}"
    );

    // Without raising: every item is reported, as unknown (neither succeeded nor failed).
    let executed = lose_answers(&s.proxy, 1);
    let summary = Bulk::new(&s.client)
        .index("idless2")
        .raise_on_exception(false)
        .raise_on_error(false)
        .run_iter(idless(100))
        .await
        .expect("reported per item");
    assert_eq!(executed.load(Ordering::SeqCst), 1);
    assert_eq!(count(&s.direct, "idless2").await, 100);
    assert_eq!(
        (summary.succeeded(), summary.failed(), summary.unknown()),
        (0, 0, 100)
    );
    assert_eq!(summary.failures().len(), 100);
    for item in summary.failures() {
        assert!(item.is_unknown() && !item.is_ok(), "{item}");
        assert!(item.may_have_reached_server());
        assert_eq!(item.error_type(), Some("outcome_unknown"));
        assert_eq!(item.status(), 502);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn actions_with_ids_are_resent_and_stored_once() {
    let s = setup();
    let executed = lose_answers(&s.proxy, 1);
    let actions = (0..100).map(|i| BulkAction::index(json!({ "n": i })).id(i.to_string()));
    let summary = Bulk::new(&s.client)
        .index("ids")
        .run_iter(actions)
        .await
        .expect("resent: an index with an id cannot change its outcome");
    assert_eq!(summary.succeeded(), 100);
    assert_eq!(summary.unknown(), 0);
    assert_eq!(
        executed.load(Ordering::SeqCst),
        2,
        "the lost answer was resent"
    );
    assert_eq!(count(&s.direct, "ids").await, 100);
    assert_eq!(get(&s.direct, "ids", "7").await["_version"], 2);

    // A chunk is resent only if every action in it is safe: one id-less action is enough
    // to keep it from being resent.
    let executed = lose_answers(&s.proxy, 1);
    let mut actions: Vec<BulkAction<Value>> = (0..10)
        .map(|i| BulkAction::index(json!({ "n": i })).id(i.to_string()))
        .collect();
    actions.push(BulkAction::index(json!({"n": 10})));
    let err = Bulk::new(&s.client)
        .index("mixed")
        .run_iter(actions)
        .await
        .expect_err("not resent");
    assert_eq!(executed.load(Ordering::SeqCst), 1);
    assert_eq!(count(&s.direct, "mixed").await, 11);
    assert_eq!(err.bulk_stats().map(|s| s.unknown), Some(11));

    // The caller may opt in per request (and take the duplicates).
    let executed = lose_answers(&s.proxy, 1);
    let summary = Bulk::new(&s.client)
        .index("opted-in")
        .request_options(RequestOptions::new().idempotent(true))
        .run_iter(idless(10))
        .await
        .expect("resent as asked");
    assert_eq!(summary.succeeded(), 10);
    assert_eq!(executed.load(Ordering::SeqCst), 2);
    assert_eq!(
        count(&s.direct, "opted-in").await,
        20,
        "the duplicates asked for"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn create_and_conditional_actions_are_not_resent() {
    let s = setup();
    // `create` with an id: a resend would answer 409 for a document it created.
    let executed = lose_answers(&s.proxy, 1);
    let actions = (0..5).map(|i| BulkAction::create(json!({ "n": i })).id(i.to_string()));
    let err = Bulk::new(&s.client)
        .index("create")
        .run_iter(actions)
        .await
        .expect_err("unknown, not a false 409");
    assert_eq!(executed.load(Ordering::SeqCst), 1);
    assert_eq!(err.status().map(|s| s.as_u16()), Some(502));
    assert_eq!(count(&s.direct, "create").await, 5);
    assert_eq!(get(&s.direct, "create", "3").await["_version"], 1);

    // `if_seq_no`: the same.
    let doc = get(&s.direct, "create", "3").await;
    let executed = lose_answers(&s.proxy, 1);
    let err = Bulk::new(&s.client)
        .index("create")
        .run_iter([BulkAction::index(json!({"n": 33}))
            .id("3")
            .if_seq_no(doc["_seq_no"].as_i64().unwrap())
            .if_primary_term(doc["_primary_term"].as_i64().unwrap())])
        .await
        .expect_err("unknown, not a false conflict");
    assert!(err.may_have_reached_server());
    assert_eq!(executed.load(Ordering::SeqCst), 1);
    assert_eq!(get(&s.direct, "create", "3").await["_version"], 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn raise_on_error_waits_for_the_chunks_in_flight_and_reports_their_counts() {
    let s = setup();
    // Ids 0..200 exist; the run creates 0..400 in chunks of 20, 4 in flight: every
    // chunk of the first 200 has 20 conflicts.
    let seed = (0..200).map(|i| BulkAction::index(json!({ "n": i })).id(i.to_string()));
    Bulk::new(&s.direct)
        .index("conflicts")
        .chunk_size(200)
        .run_iter(seed)
        .await
        .expect("seed");
    let actions = (0..400).map(|i| BulkAction::create(json!({ "n": i })).id(i.to_string()));
    let err = Bulk::new(&s.direct)
        .index("conflicts")
        .chunk_size(20)
        .concurrency(4)
        .run_iter(actions)
        .await
        .expect_err("conflicts");
    assert_eq!(err.kind(), ErrorKind::BulkItems);
    let stats = err.bulk_stats().expect("the run's counts");
    // Every chunk sent finished before the error came back: the counts are the server's.
    assert!(stats.chunks >= 1 && stats.chunks <= 6, "{stats:?}");
    assert_eq!(stats.succeeded, 0);
    assert_eq!(stats.failed, stats.chunks * 20, "{stats:?}");
    assert_eq!(err.failed_items().len() as u64, stats.failed);
    assert!(err.failed_items().iter().all(|i| i.status() == 409));
    assert_eq!(count(&s.direct, "conflicts").await, 200);

    // With successes: chunks of the new ids succeed while the first failed chunk is out.
    let actions = (150..400).map(|i| BulkAction::create(json!({ "n": i })).id(i.to_string()));
    let err = Bulk::new(&s.direct)
        .index("conflicts")
        .chunk_size(50)
        .concurrency(4)
        .run_iter(actions)
        .await
        .expect_err("conflicts in the first chunk");
    let stats = err.bulk_stats().expect("counts");
    assert_eq!(stats.failed, 50, "{stats:?}");
    assert_eq!(
        count(&s.direct, "conflicts").await,
        200 + stats.succeeded,
        "every success reported: {stats:?}"
    );
}
