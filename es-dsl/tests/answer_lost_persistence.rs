//! Persistence when the server did the work and its answer is lost: the fault proxy forwards
//! the write to the server, then answers `502` as a gateway would. Each write must reach the
//! server as many times as it may safely be repeated (once, for every write whose repetition
//! would store a second document, run a script twice, or answer a conflict or "not found" for
//! its own work), and the caller must get an error saying the request may have reached the
//! server, never `Ok`.
//!
//! Every case runs twice: with the client's defaults and with a client whose options say
//! every request is idempotent (`RequestOptions::idempotent(true)`), which the document API
//! overrides for those writes. The transport allows 2 resends.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use es_dsl::es_api::{Client, RequestOptions, Transport};
use es_dsl::{Doc, Document, InlineScript};
use es_tests::{CountingServer, FaultProxy, OsmemServer, ProxyResponse, RequestInfo};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

/// Resends the transport may make.
const RETRIES: u32 = 2;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Document)]
#[es(index = "pages", shards = 1, replicas = 0)]
struct Page {
    #[es(keyword)]
    title: String,
    views: u64,
}

fn page(title: &str) -> Page {
    Page {
        title: title.into(),
        views: 0,
    }
}

/// The two clients of every case, through the proxy.
fn clients(proxy: &FaultProxy) -> Vec<(&'static str, Client)> {
    let client = Client::new(
        Transport::builder(proxy.url().as_str())
            .max_retries(RETRIES)
            .retry_backoff(Duration::from_millis(5), Duration::from_millis(20))
            .build()
            .expect("transport"),
    );
    let eager = client.options(RequestOptions::new().idempotent(true));
    vec![("defaults", client), ("idempotent(true)", eager)]
}

/// The gateway: requests `lost` picks are forwarded and executed, then answered `502`.
fn lose_answers(proxy: &FaultProxy, lost: impl Fn(&RequestInfo) -> bool + Send + Sync + 'static) {
    proxy.set_rewriter(Arc::new(move |info: &RequestInfo, resp: ProxyResponse| {
        if lost(info) {
            ProxyResponse::new(502)
                .with_header("Content-Type", "text/plain")
                .with_body(format!("bad gateway (the node answered {})", resp.status))
        } else {
            resp
        }
    }));
}

/// A write the proxy loses the answer of.
fn is_write(info: &RequestInfo, method: &str, path: &str) -> bool {
    info.method == method && info.path_only() == path
}

/// The caller was told the outcome is unknown: the gateway's 502, may have reached.
#[track_caller]
fn assert_unknown(err: &es_dsl::Error, what: &str) {
    let api = err
        .api()
        .unwrap_or_else(|| panic!("{what}: not a request error: {err}"));
    assert_eq!(api.status().map(|s| s.as_u16()), Some(502), "{what}: {err}");
    assert!(api.may_have_reached_server(), "{what}: {err}");
}

/// An osmem with the `pages` index, the proxy in front of it, and a client straight to it.
async fn osmem() -> (OsmemServer, FaultProxy, Client) {
    let server = OsmemServer::start();
    let proxy = FaultProxy::start(server.addr());
    let direct = Client::from_url(&server.url()).unwrap();
    Page::init(&direct).await.unwrap();
    (server, proxy, direct)
}

/// The number of `pages` documents at the server.
async fn stored(direct: &Client) -> u64 {
    es_dsl::refresh::<Page>(direct).await.unwrap();
    Page::search().count(direct).await.unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_new_document_is_stored_once() {
    for n in 0..2 {
        let (_server, proxy, direct) = osmem().await;
        let (name, client) = clients(&proxy).swap_remove(n);
        lose_answers(&proxy, |i| is_write(i, "POST", "/pages/_doc"));
        let err = page("new").save(&client).await.unwrap_err();
        assert_unknown(&err, name);
        assert_eq!(proxy.requests_for("/pages/_doc"), 1, "{name}: deliveries");
        assert_eq!(stored(&direct).await, 1, "{name}: documents at the server");

        // `create` under an id: a resend would be refused (409) for the document it created.
        lose_answers(&proxy, |i| i.path_only() == "/pages/_create/fixed");
        let err = page("created").create(&client, "fixed").await.unwrap_err();
        assert_unknown(&err, name);
        assert!(!err.is_conflict(), "{name}: {err}");
        assert_eq!(proxy.requests_for("/pages/_create/fixed"), 1, "{name}");
        let at_server = Page::get(&direct, "fixed").await.unwrap().unwrap();
        assert_eq!(at_server.version, Some(1), "{name}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bulk_of_new_documents_is_stored_once() {
    for n in 0..2 {
        let (_server, proxy, direct) = osmem().await;
        let (name, client) = clients(&proxy).swap_remove(n);
        lose_answers(&proxy, |i| i.path_only().ends_with("/_bulk"));
        let err = Page::bulk(&client, [page("a"), page("b"), page("c")])
            .await
            .unwrap_err();
        let helpers = err.helpers().unwrap_or_else(|| panic!("{name}: {err}"));
        assert_eq!(
            helpers.status().map(|s| s.as_u16()),
            Some(502),
            "{name}: {err}"
        );
        assert!(helpers.may_have_reached_server(), "{name}: {err}");
        let bulks: u64 = proxy
            .request_log()
            .iter()
            .filter(|r| r.path.contains("/_bulk"))
            .count() as u64;
        assert_eq!(bulks, 1, "{name}: deliveries");
        assert_eq!(stored(&direct).await, 3, "{name}: documents at the server");
    }
}

/// A checked save (`if_seq_no`): a resend would be refused as a conflict with the write it
/// made, so the caller would hear 409 for its own success.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_checked_save_is_written_once_and_not_reported_as_a_conflict() {
    for n in 0..2 {
        let (_server, proxy, direct) = osmem().await;
        let (name, client) = clients(&proxy).swap_remove(n);
        let id = page("before").save(&direct).await.unwrap().id;
        let mut doc = Page::get(&client, &id).await.unwrap().unwrap();
        let path = format!("/pages/_doc/{id}");
        lose_answers(&proxy, {
            let path = path.clone();
            move |i| is_write(i, "PUT", &path)
        });
        doc.title = "after".into();
        let err = doc.save(&client).await.unwrap_err();
        assert_unknown(&err, name);
        assert!(!err.is_conflict(), "{name}: {err}");
        let puts = proxy
            .request_log()
            .iter()
            .filter(|r| r.method == "PUT" && r.path.starts_with(&format!("{path}?")))
            .count();
        assert_eq!(puts, 1, "{name}: deliveries");
        let at_server = Page::get(&direct, &id).await.unwrap().unwrap();
        assert_eq!(
            (at_server.title.as_str(), at_server.version),
            ("after", Some(2)),
            "{name}: one write"
        );
    }
}

/// A checked partial update and a checked delete: once each, and the error is the gateway's
/// (not a 409, not a 404 from a resend that found its own work done).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_checked_update_and_delete_are_sent_once() {
    for n in 0..2 {
        let (_server, proxy, direct) = osmem().await;
        let (name, client) = clients(&proxy).swap_remove(n);
        let id = page("p").save(&direct).await.unwrap().id;
        let update = format!("/pages/_update/{id}");
        let delete = format!("/pages/_doc/{id}");
        lose_answers(&proxy, {
            let (update, delete) = (update.clone(), delete.clone());
            move |i| is_write(i, "POST", &update) || is_write(i, "DELETE", &delete)
        });
        let mut doc = Page::get(&client, &id).await.unwrap().unwrap();
        let err = doc.update(&client, json!({"views": 7})).await.unwrap_err();
        assert_unknown(&err, name);
        assert_eq!(proxy.requests_for(&update), 1, "{name}: update deliveries");
        let at_server = Page::get(&direct, &id).await.unwrap().unwrap();
        assert_eq!((at_server.views, at_server.version), (7, Some(2)), "{name}");

        let err = at_server.delete(&client).await.unwrap_err();
        assert_unknown(&err, name);
        assert!(!err.is_not_found(), "{name}: {err}");
        let deletes = proxy
            .request_log()
            .iter()
            .filter(|r| r.method == "DELETE")
            .count();
        assert_eq!(deletes, 1, "{name}: delete deliveries");
        assert!(Page::get(&direct, &id).await.unwrap().is_none(), "{name}");

        // Unchecked, a delete is still sent once: a resend would answer 404 for the
        // document this one deleted.
        let other = page("q").save(&direct).await.unwrap();
        let path = format!("/pages/_doc/{}", other.id);
        lose_answers(&proxy, {
            let path = path.clone();
            move |i| is_write(i, "DELETE", &path)
        });
        let err = other.delete_unchecked(&client).await.unwrap_err();
        assert_unknown(&err, name);
        assert!(!err.is_not_found(), "{name}: {err}");
        assert_eq!(
            proxy.requests_for(&path),
            1,
            "{name}: unchecked delete deliveries"
        );
        assert_eq!(stored(&direct).await, 0, "{name}");
    }
}

/// An update with an upsert of a document that does not exist: the server stores the
/// upsert; a resend would find it and merge the partial document into it (another document).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_upsert_is_sent_once() {
    for n in 0..2 {
        let (_server, proxy, direct) = osmem().await;
        let (name, client) = clients(&proxy).swap_remove(n);
        let mut doc = Doc {
            id: "not-yet".into(),
            index: "pages".into(),
            seq_no: None,
            primary_term: None,
            version: None,
            routing: None,
            source: page("not yet"),
        };
        let update = format!("/pages/_update/{}", doc.id);
        lose_answers(&proxy, {
            let update = update.clone();
            move |i| is_write(i, "POST", &update)
        });
        let err = doc
            .update_with()
            .partial(json!({"title": "partial"}))
            .upsert(&page("from upsert"))
            .retry_on_conflict(1)
            .send(&client)
            .await
            .unwrap_err();
        assert_unknown(&err, name);
        assert_eq!(proxy.requests_for(&update), 1, "{name}: deliveries");
        let at_server = Page::get(&direct, &doc.id).await.unwrap().unwrap();
        assert_eq!(
            (at_server.title.as_str(), at_server.version),
            ("from upsert", Some(1)),
            "{name}"
        );
    }
}

/// An unchecked partial update may be resent: applying it again stores the same document.
/// The caller still hears the unknown outcome, not `Ok`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unchecked_partial_update_may_be_resent_and_stores_the_same_document() {
    let (_server, proxy, direct) = osmem().await;
    let (_, client) = clients(&proxy).swap_remove(0);
    let mut doc = page("p").save(&direct).await.unwrap();
    let update = format!("/pages/_update/{}", doc.id);
    lose_answers(&proxy, {
        let update = update.clone();
        move |i| is_write(i, "POST", &update)
    });
    let err = doc
        .update_with()
        .partial(json!({"views": 3}))
        .retry_on_conflict(2)
        .send(&client)
        .await
        .unwrap_err();
    assert_unknown(&err, "partial update");
    assert_eq!(proxy.requests_for(&update), u64::from(1 + RETRIES));
    let at_server = Page::get(&direct, &doc.id).await.unwrap().unwrap();
    assert_eq!(
        at_server.source,
        Page {
            title: "p".into(),
            views: 3
        }
    );
}

/// `get` and `mget` are reads: resent after a lost answer, and the resend's answer is the
/// caller's.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reads_are_resent() {
    let (_server, proxy, direct) = osmem().await;
    let (_, client) = clients(&proxy).swap_remove(0);
    let doc = page("p").save(&direct).await.unwrap();
    let first_only = Arc::new(AtomicU64::new(0));
    lose_answers(&proxy, {
        let seen = first_only.clone();
        move |i| {
            (i.path_only().ends_with("/_mget") || i.path_only().starts_with("/pages/_doc/"))
                && seen.fetch_add(1, Ordering::SeqCst).is_multiple_of(2)
        }
    });
    let got = Page::get(&client, &doc.id).await.unwrap().unwrap();
    assert_eq!(got.source, doc.source);
    let many = Page::mget(&client, [doc.id.as_str(), "none"])
        .await
        .unwrap();
    assert_eq!(many[0].as_ref().map(|d| &d.source), Some(&doc.source));
    assert!(many[1].is_none());
    assert_eq!(
        first_only.load(Ordering::SeqCst),
        4,
        "each read delivered twice"
    );
}

/// A scripted update. osmem runs no scripts, so the server here is a small one that does:
/// it keeps one document, `pages/1`, runs `ctx._source.views += 1` on each update it
/// receives (refusing `if_seq_no` with `retry_on_conflict`, as Elasticsearch does), and
/// answers `get`. The proxy in front of it loses each update's answer.
struct ScriptServer {
    views: Arc<AtomicU64>,
    updates: Arc<Mutex<Vec<String>>>,
    _server: CountingServer,
    proxy: FaultProxy,
}

impl ScriptServer {
    fn start() -> ScriptServer {
        let views = Arc::new(AtomicU64::new(0));
        let updates = Arc::new(Mutex::new(Vec::new()));
        let (v, u) = (views.clone(), updates.clone());
        let server = CountingServer::builder()
            .responder(Arc::new(move |info: &RequestInfo| {
                let seq_no = v.load(Ordering::SeqCst);
                let doc = |views: u64| {
                    json!({"_index": "pages", "_id": "1", "_version": views + 1,
                           "_seq_no": views, "_primary_term": 1, "found": true,
                           "_source": {"title": "counted", "views": views}})
                };
                let answer = match (info.method.as_str(), info.path_only()) {
                    ("GET", "/pages/_doc/1") => (200, doc(seq_no)),
                    ("POST", "/pages/_update/1") => {
                        let query = info.query().unwrap_or("").to_string();
                        u.lock().unwrap().push(query.clone());
                        let body = info.body_json().unwrap_or(Value::Null);
                        if query.contains("if_seq_no") && query.contains("retry_on_conflict") {
                            (400, json!({"error": {"type": "action_request_validation_exception",
                                "reason": "Validation Failed: 1: compare and write operations can not be retried;"},
                                "status": 400}))
                        } else if body["script"]["source"] != "ctx._source.views += 1" {
                            (400, json!({"error": {"type": "illegal_argument_exception",
                                "reason": format!("unexpected body {body}")}, "status": 400}))
                        } else {
                            let views = v.fetch_add(1, Ordering::SeqCst) + 1;
                            let mut written = doc(views);
                            written["result"] = json!("updated");
                            written["get"] = json!({"_source": written["_source"].clone(), "found": true});
                            (200, written)
                        }
                    }
                    _ => (400, json!({"error": {"type": "unexpected", "reason": info.path}})),
                };
                Some((answer.0, answer.1.to_string().into()))
            }))
            .start();
        let proxy = FaultProxy::start(server.addr());
        lose_answers(&proxy, |i| i.path_only() == "/pages/_update/1");
        ScriptServer {
            views,
            updates,
            _server: server,
            proxy,
        }
    }
}

/// The script runs exactly once at the server whether the update is checked (`if_seq_no`),
/// lets the server retry (`retry_on_conflict`: no condition sent) or is unchecked, and the
/// caller hears the unknown outcome.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_scripted_update_runs_once() {
    type Kind = fn(es_dsl::DocUpdate<'_, Page>) -> es_dsl::DocUpdate<'_, Page>;
    let kinds: [(&str, Kind, &str); 3] = [
        (
            "checked",
            |u| u,
            "_source=true&if_seq_no=0&if_primary_term=1",
        ),
        (
            "retry_on_conflict(3)",
            |u| u.retry_on_conflict(3),
            "_source=true&retry_on_conflict=3",
        ),
        ("unchecked", |u| u.unchecked(), "_source=true"),
    ];
    for (kind, with, query) in kinds {
        for n in 0..2 {
            let server = ScriptServer::start();
            let (name, client) = clients(&server.proxy).swap_remove(n);
            let what = format!("{kind}, {name}");
            let mut doc = Page::get(&client, "1").await.unwrap().unwrap();
            let err = with(
                doc.update_with()
                    .script(InlineScript::new("ctx._source.views += 1")),
            )
            .send(&client)
            .await
            .unwrap_err();
            assert_unknown(&err, &what);
            assert_eq!(server.views.load(Ordering::SeqCst), 1, "{what}: runs");
            let sent = server.updates.lock().unwrap().clone();
            assert_eq!(sent, [query], "{what}: one update, these parameters");
            // Read back through the client.
            let read = Page::get(&client, "1").await.unwrap().unwrap();
            assert_eq!(read.views, 1, "{what}");
        }
    }
}
