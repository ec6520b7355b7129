//! The endpoint table's resend rule over real sockets (issue 17): a raw counting server plays
//! a gateway whose backend did the work and then lost the answer (every request answered
//! 502). Each delivery is an execution, so the deliveries say how often the server ran the
//! request: once for anything whose resend could change the outcome, `1 + max_retries` for
//! reads and id-based writes.
//!
//! Rerun with `cargo test -p es-api --test answer_lost`.

use std::time::Duration;

use es_api::es_transport::{RequestOptions, Transport};
use es_api::{Client, SendFuture};
use es_tests::counting::CountingServer;
use serde_json::json;

const RETRIES: u32 = 3;
/// Deliveries of a request that may be resent.
const RESENT: u64 = 1 + RETRIES as u64;

fn client(server: &CountingServer) -> Client {
    Client::new(
        Transport::builder(server.url().as_str())
            .max_retries(RETRIES)
            .retry_backoff(Duration::from_millis(1), Duration::from_millis(2))
            .build()
            .unwrap(),
    )
}

/// Sends the request, which must fail with the gateway's 502 saying it may have been
/// executed, and returns how many times the server received it.
async fn deliveries(
    server: &CountingServer,
    what: &str,
    send: SendFuture<es_api::Response>,
) -> u64 {
    server.reset_counters();
    let err = send.await.expect_err(what);
    assert_eq!(err.status().map(|s| s.as_u16()), Some(502), "{what}: {err}");
    assert!(err.may_have_reached_server(), "{what}: {err}");
    let n = server.requests();
    assert_eq!(u64::from(err.attempts()), n, "{what}: attempts reported");
    n
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_endpoint_class_over_a_gateway_that_loses_answers() {
    let server = CountingServer::builder().status(502).start();
    let c = client(&server);
    let script = json!({"script": {"source": "ctx._source.views += 1"}});
    let cases: Vec<(&str, SendFuture<es_api::Response>, u64)> = vec![
        // Not idempotent: sent once.
        (
            "scripted update",
            c.update("idx", "1").body(&script).send(),
            1,
        ),
        (
            "scripted update with retry_on_conflict",
            c.update("idx", "1")
                .body(&script)
                .retry_on_conflict(3)
                .send(),
            1,
        ),
        (
            "partial update with if_seq_no",
            c.update("idx", "1")
                .body(json!({"doc": {"a": 1}}))
                .if_seq_no(4)
                .if_primary_term(1)
                .send(),
            1,
        ),
        (
            "partial update with an upsert",
            c.update("idx", "1")
                .body(json!({"doc": {"a": 1}, "upsert": {"a": 0}}))
                .send(),
            1,
        ),
        (
            "index without an id",
            c.index("idx").body(json!({"a": 1})).send(),
            1,
        ),
        (
            "index with op_type=create",
            c.index("idx")
                .id("1")
                .op_type(es_api::params::OpType::Create)
                .body(json!({"a": 1}))
                .send(),
            1,
        ),
        (
            "create",
            c.create("idx", "1").body(json!({"a": 1})).send(),
            1,
        ),
        (
            "bulk",
            c.bulk()
                .body([json!({"index": {"_index": "idx"}}), json!({"a": 1})])
                .send(),
            1,
        ),
        (
            "scroll continuation",
            c.scroll()
                .body(json!({"scroll": "1m", "scroll_id": "abc"}))
                .send(),
            1,
        ),
        (
            "update_by_query",
            c.update_by_query("idx").body(&script).send(),
            1,
        ),
        (
            "delete_by_query",
            c.delete_by_query("idx")
                .body(json!({"query": {"match_all": {}}}))
                .send(),
            1,
        ),
        (
            "reindex",
            c.reindex()
                .body(json!({"source": {"index": "a"}, "dest": {"index": "b"}}))
                .send(),
            1,
        ),
        ("indices.create", c.indices().create("idx").send(), 1),
        (
            "index without an id through Client::call",
            c.call("index", [("index", json!("idx"))], Some(json!({"a": 1})))
                .send(),
            1,
        ),
        (
            "search marked not idempotent by the caller",
            c.search()
                .index("idx")
                .options(RequestOptions::new().idempotent(false))
                .send(),
            1,
        ),
        // Idempotent: resent.
        (
            "search",
            c.search().index("idx").body(json!({})).send(),
            RESENT,
        ),
        ("count", c.count().index("idx").send(), RESENT),
        ("get", c.get("idx", "1").send(), RESENT),
        ("mget", c.mget().body(json!({"ids": ["1"]})).send(), RESENT),
        (
            "index with an id",
            c.index("idx").id("1").body(json!({"a": 1})).send(),
            RESENT,
        ),
        (
            "partial update",
            c.update("idx", "1").body(json!({"doc": {"a": 1}})).send(),
            RESENT,
        ),
        (
            "partial update with doc_as_upsert",
            c.update("idx", "1")
                .body(json!({"doc": {"a": 1}, "doc_as_upsert": true}))
                .send(),
            RESENT,
        ),
        ("delete by id", c.delete("idx", "1").send(), RESENT),
        (
            "put mapping",
            c.indices()
                .put_mapping("idx")
                .body(json!({"properties": {}}))
                .send(),
            RESENT,
        ),
        (
            "search through Client::call",
            c.call("search", [("index", json!("idx"))], None).send(),
            RESENT,
        ),
        (
            "bulk opted in by the caller",
            c.bulk()
                .body([json!({"index": {"_index": "idx"}}), json!({"a": 1})])
                .options(RequestOptions::new().idempotent(true))
                .send(),
            RESENT,
        ),
    ];
    let mut wrong = Vec::new();
    for (what, send, want) in cases {
        let got = deliveries(&server, what, send).await;
        if got != want {
            wrong.push(format!("{what}: {got} deliveries, want {want}"));
        }
    }
    assert!(wrong.is_empty(), "{wrong:#?}");
}
