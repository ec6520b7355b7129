//! Scan against a real osmem-server: which hits carry `sort` (point in time and
//! `preserve_order` keep it, a plain scroll sorted by `_doc` skips it), and `Scan::pages`,
//! the same hits a page at a time, with the scroll cleared at the end and the first error
//! ending the stream.

mod common;

use common::{Num, client, remember_ids, scroll_alive, seed};

use std::collections::BTreeSet;
use std::sync::{Arc, Mutex};

use es_helpers::scan::Scan;
use es_tests::{FaultProxy, OsmemServer, ProxyResponse, RequestInfo};
use futures_util::{StreamExt, TryStreamExt};
use serde_json::{Value, json};

/// What a test collects from the proxy.
type Seen<T> = Arc<Mutex<Vec<T>>>;

/// What the server sent, as the proxy saw it.
#[derive(Default)]
struct Captured {
    /// Every `_scroll_id` / `pit_id` the server handed out, once each.
    ids: Seen<String>,
    /// How many hits each response had.
    sizes: Seen<usize>,
    /// How many of each response's hits carried a non-empty `sort` array.
    sorted: Seen<usize>,
}

/// Records the raw responses the server sends through the proxy.
fn capture(proxy: &FaultProxy) -> Arc<Captured> {
    let captured = Arc::new(Captured::default());
    let seen = captured.clone();
    proxy.set_rewriter(Arc::new(move |_: &RequestInfo, resp: ProxyResponse| {
        if let Some(body) = resp.body_json() {
            remember_ids(&seen.ids, &body);
            if let Some(hits) = body["hits"]["hits"].as_array() {
                seen.sizes.lock().unwrap().push(hits.len());
                let sorted = hits
                    .iter()
                    .filter(|h| h["sort"].as_array().is_some_and(|s| !s.is_empty()))
                    .count();
                seen.sorted.lock().unwrap().push(sorted);
            }
        }
        resp
    }));
    captured
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sort_is_kept_where_it_means_something() {
    let server = OsmemServer::start_with_args(&["-no-ja"]);
    seed(&client(&server.url()), "sorted", 1200).await;
    let proxy = FaultProxy::start(server.addr());
    let seen = capture(&proxy);
    let c = client(&proxy.url());

    // A plain scroll sorts by `_doc`, and the server sends `"sort": [doc]` with every hit
    // (seen in the raw responses through the proxy): the values are skipped while parsing,
    // the rest of the hit is read.
    let hits: Vec<_> = Scan::new(&c, "sorted")
        .size(500)
        .stream::<Num>()
        .try_collect()
        .await
        .expect("scroll");
    assert_eq!(hits.len(), 1200);
    assert_eq!(*seen.sizes.lock().unwrap(), [500, 500, 200, 0]);
    assert_eq!(
        *seen.sorted.lock().unwrap(),
        [500, 500, 200, 0],
        "the server sent sort values with every hit"
    );
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
    let seen = capture(&proxy);
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
    assert_eq!(*seen.sizes.lock().unwrap(), [1000, 1000, 500, 0]);
    let ns: BTreeSet<u64> = pages
        .iter()
        .flatten()
        .map(|h| h.source.as_ref().unwrap().n)
        .collect();
    assert_eq!(ns, (0..2500).collect());
    let scroll_id = seen
        .ids
        .lock()
        .unwrap()
        .first()
        .cloned()
        .expect("a scroll id");
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
