//! Scan against a real osmem-server: which hits carry `sort` (point in time and
//! `preserve_order` keep it, a plain scroll sorted by `_doc` skips it), and `Scan::pages`,
//! the same hits a page at a time, with the scroll cleared at the end and the first error
//! ending the stream.

mod common;

use common::scroll_alive;

use std::collections::BTreeSet;
use std::sync::{Arc, Mutex};

use es_api::Client;
use es_api::es_transport::Transport;
use es_helpers::bulk::{Bulk, BulkAction};
use es_helpers::scan::Scan;
use es_tests::{FaultProxy, OsmemServer, ProxyResponse, RequestInfo};
use futures_util::{StreamExt, TryStreamExt};
use serde::Deserialize;
use serde_json::{Value, json};

fn client(url: &str) -> Client {
    Client::new(
        Transport::builder(url.to_owned())
            .build()
            .expect("transport"),
    )
}

async fn seed(client: &Client, index: &str, n: u64) {
    let actions = (0..n).map(|i| BulkAction::index(json!({"n": i})).id(i.to_string()));
    let s = Bulk::new(client)
        .index(index)
        .chunk_size(1000)
        .refresh(true)
        .run_iter(actions)
        .await
        .expect("seed");
    assert_eq!(s.succeeded(), n);
}

#[derive(Debug, Deserialize)]
struct Num {
    n: u64,
}

/// What a test collects from the proxy.
type Seen<T> = Arc<Mutex<Vec<T>>>;

/// Remembers every `_scroll_id` the server hands out, and how many hits each response had.
fn capture_scrolls(proxy: &FaultProxy) -> (Seen<String>, Seen<usize>) {
    let ids = Arc::new(Mutex::new(Vec::new()));
    let sizes = Arc::new(Mutex::new(Vec::new()));
    let (seen, counted) = (ids.clone(), sizes.clone());
    proxy.set_rewriter(Arc::new(move |_: &RequestInfo, resp: ProxyResponse| {
        if let Some(body) = resp.body_json() {
            if let Some(id) = body["_scroll_id"].as_str() {
                let mut ids = seen.lock().unwrap();
                if !ids.iter().any(|i| i == id) {
                    ids.push(id.to_owned());
                }
            }
            if let Some(hits) = body["hits"]["hits"].as_array() {
                counted.lock().unwrap().push(hits.len());
            }
        }
        resp
    }));
    (ids, sizes)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sort_is_kept_where_it_means_something() {
    let server = OsmemServer::start_with_args(&["-no-ja"]);
    let c = client(&server.url());
    seed(&c, "sorted", 1200).await;

    // A plain scroll sorts by `_doc` (the server sends `"sort": [doc]` with every hit): the
    // values are skipped while parsing, the rest of the hit is read.
    let hits: Vec<_> = Scan::new(&c, "sorted")
        .size(500)
        .stream::<Num>()
        .try_collect()
        .await
        .expect("scroll");
    assert_eq!(hits.len(), 1200);
    assert!(hits.iter().all(|h| h.sort.is_none()), "no _doc sort values");
    assert!(hits.iter().all(|h| h.index == "sorted"));
    let ns: BTreeSet<u64> = hits.iter().map(|h| h.source.as_ref().unwrap().n).collect();
    assert_eq!(ns, (0..1200).collect());
    assert!(
        hits.iter()
            .all(|h| h.id.as_deref() == Some(h.source.as_ref().unwrap().n.to_string().as_str()))
    );

    // preserve_order: the query's sort values, one per hit.
    let hits: Vec<_> = Scan::new(&c, "sorted")
        .query(json!({"sort": [{"n": "desc"}]}))
        .preserve_order(true)
        .size(500)
        .stream::<Num>()
        .try_collect()
        .await
        .expect("preserve_order");
    assert_eq!(hits.len(), 1200);
    for (i, h) in hits.iter().enumerate() {
        let n = 1199 - i as u64;
        assert_eq!(h.source.as_ref().unwrap().n, n);
        assert_eq!(h.sort, Some(vec![json!(n)]), "hit {i}");
    }

    // Point in time: the query's sort values (what `search_after` continues from).
    let hits: Vec<_> = Scan::new(&c, "sorted")
        .query(json!({"sort": [{"n": "asc"}]}))
        .point_in_time()
        .size(500)
        .stream::<Num>()
        .try_collect()
        .await
        .expect("point in time");
    assert_eq!(hits.len(), 1200);
    for (i, h) in hits.iter().enumerate() {
        assert_eq!(h.source.as_ref().unwrap().n, i as u64);
        let sort = h.sort.as_ref().expect("sort values in point-in-time mode");
        assert_eq!(sort.first(), Some(&json!(i as u64)), "hit {i}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pages_yield_each_response_and_clear_the_scroll() {
    let server = OsmemServer::start_with_args(&["-no-ja"]);
    let direct = client(&server.url());
    seed(&direct, "paged", 2500).await;
    let proxy = FaultProxy::start(server.addr());
    let (ids, sizes) = capture_scrolls(&proxy);
    let c = client(&proxy.url());

    let pages: Vec<Vec<_>> = Scan::new(&c, "paged")
        .size(1000)
        .pages::<Num>()
        .try_collect()
        .await
        .expect("pages");
    // One item per non-empty response, in order, each as the server sent it.
    let lens: Vec<usize> = pages.iter().map(Vec::len).collect();
    assert_eq!(lens, [1000, 1000, 500]);
    assert_eq!(*sizes.lock().unwrap(), [1000, 1000, 500, 0]);
    let ns: BTreeSet<u64> = pages
        .iter()
        .flatten()
        .map(|h| h.source.as_ref().unwrap().n)
        .collect();
    assert_eq!(ns, (0..2500).collect());
    let scroll_id = ids.lock().unwrap().first().cloned().expect("a scroll id");
    assert!(
        !scroll_alive(&direct, &scroll_id).await,
        "cleared at the end"
    );

    // Sliced: pages of each slice, never empty, never over `size`; every hit once.
    let pages: Vec<Vec<_>> = Scan::new(&c, "paged")
        .size(400)
        .slices(2)
        .pages::<Value>()
        .try_collect()
        .await
        .expect("sliced pages");
    assert!(pages.iter().all(|p| !p.is_empty() && p.len() <= 400));
    let ids: BTreeSet<String> = pages
        .iter()
        .flatten()
        .map(|h| h.id.clone().expect("an id"))
        .collect();
    assert_eq!(ids.len(), 2500);
    assert_eq!(pages.iter().map(Vec::len).sum::<usize>(), 2500);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pages_end_at_the_first_error() {
    let server = OsmemServer::start_with_args(&["-no-ja"]);
    let c = client(&server.url());

    // A missing index: one error (the server's 404), then the end.
    let mut pages = Scan::new(&c, "missing").pages::<Value>();
    let err = pages
        .next()
        .await
        .expect("an item")
        .expect_err("a missing index");
    assert_eq!(err.status().map(|s| s.as_u16()), Some(404));
    assert!(pages.next().await.is_none());

    // A query that is not a JSON object: the serialization error, then the end.
    let mut pages = Scan::new(&c, "missing")
        .query(json!([1, 2]))
        .pages::<Value>();
    let err = pages
        .next()
        .await
        .expect("an item")
        .expect_err("a bad query");
    assert_eq!(err.kind(), es_helpers::ErrorKind::Serialization);
    assert!(pages.next().await.is_none());
}
