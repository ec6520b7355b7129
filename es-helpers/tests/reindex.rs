//! Reindex between two osmem servers: counts and a sample of documents equal.

use es_api::Client;
use es_api::es_transport::{Request, Transport};
use es_helpers::bulk::{Bulk, BulkAction, OpType};
use es_helpers::reindex::Reindex;
use es_tests::OsmemServer;
use serde_json::{Value, json};

fn client(url: &str) -> Client {
    Client::new(
        Transport::builder(url.to_owned())
            .build()
            .expect("transport"),
    )
}

async fn get(client: &Client, path: &str) -> Value {
    client
        .transport()
        .send(Request::get(path.to_owned()))
        .await
        .expect(path)
        .json()
        .expect("json")
}

async fn count(client: &Client, index: &str) -> u64 {
    client
        .transport()
        .send(Request::post(format!("/{index}/_refresh")))
        .await
        .expect("refresh");
    get(client, &format!("/{index}/_count")).await["count"]
        .as_u64()
        .expect("count")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reindex_between_two_servers() {
    const N: u64 = 5000;
    let (a, b) = (
        OsmemServer::start_with_args(&["-no-ja"]),
        OsmemServer::start_with_args(&["-no-ja"]),
    );
    let (src, dst) = (client(&a.url()), client(&b.url()));
    let actions = (0..N).map(|i| {
        let a = BulkAction::index(json!({"n": i, "title": format!("document {i}"), "nested": {"x": [i, i + 1]}, "unicode": "é\"\\"})).id(format!("d{i}"));
        if i % 10 == 0 { a.routing("r") } else { a }
    });
    Bulk::new(&src)
        .index("source")
        .chunk_size(1000)
        .refresh(true)
        .run_iter(actions)
        .await
        .expect("seed");

    // A plain copy: sources copied as bytes.
    let summary = Reindex::new(&src, "source", &dst, "copy")
        .scan_with(|s| s.size(1000))
        .bulk_with(|b| b.chunk_size(1000).concurrency(2))
        .run()
        .await
        .expect("reindex");
    assert_eq!((summary.succeeded(), summary.failed()), (N, 0));
    assert_eq!(count(&dst, "copy").await, N);
    for i in (0..N).step_by(499) {
        let routing = if i % 10 == 0 { "?routing=r" } else { "" };
        let s = get(&src, &format!("/source/_doc/d{i}{routing}")).await;
        let d = get(&dst, &format!("/copy/_doc/d{i}{routing}")).await;
        assert_eq!(s["_source"], d["_source"], "d{i}");
        assert_eq!(d["found"], json!(true));
    }

    // A filtered, transformed copy with op_type create: existing ids fail with 409.
    Bulk::new(&dst)
        .index("moved")
        .refresh(true)
        .run_iter([BulkAction::index(json!({"old": true})).id("d2")])
        .await
        .expect("pre-existing");
    let summary = Reindex::new(&src, "source", &dst, "moved")
        .query(json!({"query": {"range": {"n": {"lt": 100}}}}))
        .op_type(OpType::Create)
        .transform(|mut hit| {
            let src = hit.source.as_mut()?;
            let n = src["n"].as_u64()?;
            if n % 2 == 1 {
                return None;
            }
            src["doubled"] = json!(n * 2);
            Some(hit)
        })
        .scan_with(|s| s.point_in_time().slices(2).size(30))
        .bulk_with(|b| b.raise_on_error(false))
        .run()
        .await
        .expect("reindex");
    assert_eq!((summary.succeeded(), summary.failed()), (49, 1));
    assert_eq!(summary.failures()[0].status(), 409);
    assert_eq!(count(&dst, "moved").await, 50);
    let d = get(&dst, "/moved/_doc/d4").await;
    assert_eq!(d["_source"]["doubled"], json!(8));
    assert_eq!(
        get(&dst, "/moved/_doc/d2").await["_source"],
        json!({"old": true})
    );

    // A scan error ends the reindex with that error.
    let err = Reindex::new(&src, "nope", &dst, "x")
        .run()
        .await
        .unwrap_err();
    assert!(err.is_not_found(), "{err}");
}

/// Compile-time check: the helpers' futures and streams can be spawned.
#[allow(dead_code)]
fn futures_and_streams_are_send(client: &Client) {
    fn send<T: Send + 'static>(_: T) {}
    let b = Bulk::new(client);
    send(async move { b.run_iter(Vec::<BulkAction<Value>>::new()).await });
    send(Bulk::new(client).stream_iter(Vec::<BulkAction<Value>>::new()));
    send(es_helpers::scan::Scan::new(client, "x").stream::<Value>());
    let r = Reindex::new(client, "a", client, "b");
    send(async move { r.run().await });
}

/// Item 10: hits without `_source` are failed items (reported, and raised by default), and a
/// transform can set the routing of what it writes.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn missing_sources_are_failures_and_transforms_set_routing() {
    let server = OsmemServer::start_with_args(&["-no-ja"]);
    let c = client(&server.url());
    Bulk::new(&c)
        .index("src")
        .refresh(true)
        .run_iter((0..20).map(|i| BulkAction::index(json!({"n": i})).id(format!("d{i}"))))
        .await
        .expect("seed");

    // `_source: false`: nothing to copy, every hit reported, in both paths.
    let summary = Reindex::new(&c, "src", &c, "nosrc")
        .query(json!({"_source": false}))
        .bulk_with(|b| b.raise_on_error(false))
        .run()
        .await
        .expect("reindex");
    assert_eq!((summary.succeeded(), summary.failed()), (0, 20));
    assert_eq!(summary.failures().len(), 20);
    let f = &summary.failures()[0];
    assert_eq!((f.status(), f.error_type()), (0, Some("missing_source")));
    assert_eq!(f.index(), Some("nosrc"));
    assert!(f.id().is_some_and(|id| id.starts_with('d')));
    assert_eq!(summary.stats().requests, 0, "nothing was sent");
    let summary = Reindex::new(&c, "src", &c, "nosrc")
        .query(json!({"_source": false}))
        .transform(Some)
        .bulk_with(|b| b.raise_on_error(false))
        .run()
        .await
        .expect("reindex");
    assert_eq!((summary.succeeded(), summary.failed()), (0, 20));
    // Raised by default, like any failed item.
    let err = Reindex::new(&c, "src", &c, "nosrc")
        .query(json!({"_source": false}))
        .run()
        .await
        .unwrap_err();
    assert_eq!(err.kind(), es_helpers::ErrorKind::BulkItems);
    assert_eq!(err.failed_items()[0].error_type(), Some("missing_source"));

    // A transform routes documents.
    let summary = Reindex::new(&c, "src", &c, "routed")
        .transform(|mut hit| {
            let n = hit.source.as_ref()?["n"].as_u64()?;
            hit.routing = Some(format!("r{}", n % 2));
            Some(hit)
        })
        .run()
        .await
        .expect("reindex");
    assert_eq!(summary.succeeded(), 20);
    assert_eq!(count(&c, "routed").await, 20);
    let d3 = get(&c, "/routed/_doc/d3?routing=r1").await;
    assert_eq!(
        (d3["found"].clone(), d3["_routing"].clone()),
        (json!(true), json!("r1")),
        "{d3}"
    );
    let hits = get(&c, "/routed/_search?q=n:4").await;
    assert_eq!(hits["hits"]["hits"][0]["_routing"], json!("r0"), "{hits}");
}

/// Issue 17, bug 4: a server returns `_source` as it was sent, so a document indexed
/// pretty-printed comes back with raw line breaks; copied as bytes into a bulk body (whose
/// lines are its framing) it would break the request. The reindex puts each source on one
/// line (raw `\n` / `\r` are whitespace in valid JSON, so nothing changes): every document
/// arrives once, equal, escaped line breaks inside strings kept. osmem-server stores sources
/// compacted, so the proxy in front of the source sends its pages pretty-printed with CRLF
/// line breaks, as Elasticsearch would return documents sent that way.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pretty_printed_sources_are_copied_on_one_line() {
    use es_tests::{FaultProxy, ProxyResponse, RequestInfo};
    use std::sync::Arc;
    use std::sync::atomic::{AtomicU64, Ordering};

    const N: u64 = 30;
    let server = OsmemServer::start_with_args(&["-no-ja"]);
    let direct = client(&server.url());
    // Line breaks inside strings, escaped in JSON: kept as they are.
    fn doc(i: u64) -> Value {
        json!({"n": i, "text": format!("line one\nline two\r\n{i}"), "nested": {"a": [i, i + 1], "b": "x\ny"}})
    }
    Bulk::new(&direct)
        .index("pretty-src")
        .refresh(true)
        .run_iter((0..N).map(|i| BulkAction::index(doc(i)).id(format!("d{i}"))))
        .await
        .expect("seed");
    let proxy = FaultProxy::start(server.addr());
    // Sources with raw line breaks the proxy sent.
    let pretty = Arc::new(AtomicU64::new(0));
    let p = pretty.clone();
    proxy.set_rewriter(Arc::new(move |_: &RequestInfo, resp: ProxyResponse| {
        let Some(body) = resp.body_json() else {
            return resp;
        };
        let Some(hits) = body["hits"]["hits"].as_array() else {
            return resp;
        };
        p.fetch_add(hits.len() as u64, Ordering::SeqCst);
        let text = serde_json::to_string_pretty(&body)
            .unwrap()
            .replace('\n', "\r\n");
        resp.with_body(text)
    }));
    let via_proxy = client(&proxy.url());

    let summary = Reindex::new(&via_proxy, "pretty-src", &direct, "pretty-dst")
        .scan_with(|s| s.size(7))
        .bulk_with(|b| b.chunk_size(8))
        .run()
        .await
        .expect("reindex");
    assert_eq!(
        pretty.load(Ordering::SeqCst),
        N,
        "every source came pretty-printed"
    );
    assert_eq!((summary.succeeded(), summary.failed()), (N, 0));
    assert_eq!(summary.stats().requests, N.div_ceil(8), "bulk requests");
    assert_eq!(count(&direct, "pretty-dst").await, N, "each document once");
    for i in 0..N {
        let d = get(&direct, &format!("/pretty-dst/_doc/d{i}")).await;
        assert_eq!(d["_source"], doc(i), "d{i}");
        assert_eq!(d["_version"], json!(1), "d{i} written once");
    }
}
