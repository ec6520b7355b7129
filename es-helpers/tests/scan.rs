//! Scan against a real osmem-server: typed hits, order, and the server-side context being
//! released when the stream ends, fails, or is dropped early. (Exactly-once over 100,000
//! documents in every mode: `hundred_thousand.rs`.)

mod common;

use common::{Num, capture_ids, client, eventually, open_pits, remember_ids, scroll_alive, seed};

use std::sync::{Arc, Mutex};
use std::time::Duration;

use es_helpers::ErrorKind;
use es_helpers::scan::{PitApi, Scan};
use es_tests::{Action, FaultProxy, OsmemServer, ProxyResponse, RequestInfo};
use futures_util::{StreamExt, TryStreamExt};
use serde::Deserialize;
use serde_json::{Value, json};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn typed_hits_order_and_release_at_the_end() {
    let server = OsmemServer::start_with_args(&["-no-ja"]);
    let direct = client(&server.url());
    seed(&direct, "nums", 2500).await;
    let proxy = FaultProxy::start(server.addr());
    let ids = capture_ids(&proxy);
    let c = client(&proxy.url());

    // Typed, filtered, sorted (preserve_order keeps the query's sort).
    let hits: Vec<_> = Scan::new(&c, "nums")
        .query(json!({"query": {"term": {"even": true}}, "sort": [{"n": "desc"}]}))
        .preserve_order(true)
        .size(300)
        .stream::<Num>()
        .try_collect()
        .await
        .expect("scan");
    assert_eq!(hits.len(), 1250);
    let ns: Vec<u64> = hits.iter().map(|h| h.source.as_ref().unwrap().n).collect();
    assert!(ns.windows(2).all(|w| w[0] > w[1]), "descending");
    assert_eq!(
        hits[0].source.as_ref(),
        Some(&Num {
            n: 2498,
            even: true
        })
    );
    assert_eq!(hits[0].id.as_deref(), Some("2498"));
    assert_eq!(hits[0].index, "nums");
    // The scroll was cleared once exhausted.
    let scroll_id = ids.lock().unwrap().first().cloned().expect("a scroll id");
    assert!(!scroll_alive(&direct, &scroll_id).await);
    assert_eq!(
        proxy.requests_for("/_search/scroll"),
        1 + 2500 / 2 / 300 + 1,
        "pages + the clear"
    );

    // Point in time, OpenSearch flavour (explicit), then auto-detected: closed at the end.
    for api in [PitApi::OpenSearch, PitApi::Auto] {
        let hits: Vec<_> = Scan::new(&c, "nums")
            .point_in_time()
            .pit_api(api)
            .size(700)
            .stream::<Num>()
            .try_collect()
            .await
            .expect("pit");
        assert_eq!(hits.len(), 2500);
        assert_eq!(open_pits(&direct).await, 0);
    }
    // Elasticsearch's API on a server without it: a clean error.
    let err = Scan::new(&c, "nums")
        .point_in_time()
        .pit_api(PitApi::Elasticsearch)
        .stream::<Value>()
        .try_collect::<Vec<_>>()
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Transport);
    // Sliced scroll, a missing index.
    let hits: Vec<_> = Scan::new(&c, "nums")
        .slices(3)
        .size(400)
        .stream::<Value>()
        .try_collect()
        .await
        .expect("slices");
    assert_eq!(hits.len(), 2500);
    let err = Scan::new(&c, "missing")
        .stream::<Value>()
        .try_collect::<Vec<_>>()
        .await
        .unwrap_err();
    assert_eq!(err.status().map(|s| s.as_u16()), Some(404));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn early_drop_and_errors_release_the_context() {
    let server = OsmemServer::start_with_args(&["-no-ja"]);
    let direct = client(&server.url());
    seed(&direct, "drop", 1000).await;
    let proxy = FaultProxy::start(server.addr());
    let ids = capture_ids(&proxy);
    let c = client(&proxy.url());

    // Scroll: take a few hits from the first page, drop the stream.
    let mut hits = Scan::new(&c, "drop").size(100).stream::<Value>();
    for _ in 0..150 {
        hits.next().await.expect("a hit").expect("ok");
    }
    let scroll_id = ids.lock().unwrap().last().cloned().expect("scroll id");
    assert!(
        scroll_alive(&direct, &scroll_id).await,
        "alive while scanning"
    );
    drop(hits);
    assert!(
        eventually(async || !scroll_alive(&direct, &scroll_id).await).await,
        "the scroll was cleared after the drop"
    );

    // Point in time: same.
    let mut hits = Scan::new(&c, "drop")
        .point_in_time()
        .slices(2)
        .size(100)
        .stream::<Value>();
    hits.next().await.expect("a hit").expect("ok");
    assert_eq!(open_pits(&direct).await, 1);
    drop(hits);
    assert!(
        eventually(async || open_pits(&direct).await == 0).await,
        "the point in time was closed after the drop"
    );

    // An error on the second page: the stream yields it, then ends, and the scroll is cleared.
    ids.lock().unwrap().clear();
    proxy.set_rule(Arc::new(|info: &RequestInfo| {
        (info.method == "POST" && info.path_only() == "/_search/scroll")
            .then(|| Action::status(500))
    }));
    let mut hits = Scan::new(&c, "drop").size(100).stream::<Value>();
    let mut ok = 0;
    let mut errors = 0;
    while let Some(h) = hits.next().await {
        match h {
            Ok(_) => ok += 1,
            Err(e) => {
                assert_eq!(e.status().map(|s| s.as_u16()), Some(500));
                errors += 1;
            }
        }
    }
    assert_eq!((ok, errors), (100, 1));
    let scroll_id = ids.lock().unwrap().last().cloned().expect("scroll id");
    assert!(
        !scroll_alive(&direct, &scroll_id).await,
        "cleared after the error"
    );

    // A search error in PIT mode closes the point in time.
    proxy.set_rule(Arc::new(|info: &RequestInfo| {
        (info.path_only() == "/_search").then(|| Action::status(500))
    }));
    let err = Scan::new(&c, "drop")
        .point_in_time()
        .stream::<Value>()
        .try_collect::<Vec<_>>()
        .await
        .unwrap_err();
    assert_eq!(err.status().map(|s| s.as_u16()), Some(500));
    assert_eq!(open_pits(&direct).await, 0);
}

/// Remembers every `_scroll_id` / `pit_id` the server hands out, and rewrites `_shards` of
/// the responses `shards_for` picks.
fn capture_ids_and_rewrite_shards(
    proxy: &FaultProxy,
    shards_for: impl Fn(&RequestInfo) -> Option<Value> + Send + Sync + 'static,
) -> Arc<Mutex<Vec<String>>> {
    let ids = Arc::new(Mutex::new(Vec::new()));
    let seen = ids.clone();
    proxy.set_rewriter(Arc::new(move |info: &RequestInfo, resp: ProxyResponse| {
        let Some(mut body) = resp.body_json() else {
            return resp;
        };
        remember_ids(&seen, &body);
        match shards_for(info) {
            Some(shards) if body.get("hits").is_some() => {
                body["_shards"] = shards;
                resp.with_body(serde_json::to_vec(&body).unwrap())
            }
            _ => resp,
        }
    }));
    ids
}

fn one_shard_failed() -> Value {
    json!({"total": 2, "successful": 1, "skipped": 0, "failed": 1, "failures": [
        {"shard": 1, "index": "rel", "node": "n1",
         "reason": {"type": "boom_exception", "reason": "shard 1 broke"}}
    ]})
}

/// Items 7 and 8: a first page with failed shards is an error naming the reasons, and
/// releases the scroll (of every slice) and the point in time, checked on the server.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_first_page_with_failed_shards_releases_the_context() {
    let server = OsmemServer::start_with_args(&["-no-ja"]);
    let direct = client(&server.url());
    seed(&direct, "rel", 500).await;
    let proxy = FaultProxy::start(server.addr());
    let c = client(&proxy.url());

    // Scroll, two slices: the first page of each has a failed shard.
    let ids = capture_ids_and_rewrite_shards(&proxy, |info| {
        (info.path_only() == "/rel/_search").then(one_shard_failed)
    });
    let err = Scan::new(&c, "rel")
        .size(100)
        .slices(2)
        .stream::<Value>()
        .try_collect::<Vec<_>>()
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Scan);
    let msg = err.to_string();
    assert!(msg.contains("1 of 2 shards failed"), "{msg}");
    assert!(
        msg.contains("[rel][1] boom_exception: shard 1 broke"),
        "{msg}"
    );
    let scrolls = ids.lock().unwrap().clone();
    assert!(!scrolls.is_empty());
    for id in &scrolls {
        assert!(
            eventually(async || !scroll_alive(&direct, id).await).await,
            "scroll {id} was left open"
        );
    }

    // Point in time: the same first page closes it.
    proxy.set_rewriter(Arc::new(|info: &RequestInfo, resp: ProxyResponse| {
        if info.path_only() != "/_search" {
            return resp;
        }
        let mut body = resp.body_json().expect("json");
        body["_shards"] = one_shard_failed();
        resp.with_body(serde_json::to_vec(&body).unwrap())
    }));
    let err = Scan::new(&c, "rel")
        .point_in_time()
        .stream::<Value>()
        .try_collect::<Vec<_>>()
        .await
        .unwrap_err();
    assert!(err.to_string().contains("boom_exception"), "{err}");
    assert_eq!(open_pits(&direct).await, 0);

    // Hits that do not fit `T`: the first page's scroll is cleared too.
    proxy.clear_rewriter();
    let ids = capture_ids(&proxy);
    #[derive(Debug, Deserialize)]
    #[allow(dead_code)]
    struct Wrong {
        missing_field: String,
    }
    let err = Scan::new(&c, "rel")
        .size(50)
        .stream::<Wrong>()
        .try_collect::<Vec<_>>()
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Serialization, "{err}");
    let id = ids.lock().unwrap().first().cloned().expect("a scroll id");
    assert!(!scroll_alive(&direct, &id).await, "cleared after the error");
}

/// Item 8: skipped shards count inside `successful`: `failed > 0` is a failure even when
/// `successful + skipped == total`; a page whose `successful` includes its skipped shards is
/// complete. With `raise_on_error(false)` the scan goes on.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shard_failures_are_counted_as_elasticsearch_counts_them() {
    let server = OsmemServer::start_with_args(&["-no-ja"]);
    let direct = client(&server.url());
    seed(&direct, "shards", 300).await;
    let proxy = FaultProxy::start(server.addr());
    let c = client(&proxy.url());
    let shards = Arc::new(Mutex::new(Value::Null));
    let s = shards.clone();
    // The continuation pages (not the first) carry the rewritten `_shards`.
    capture_ids_and_rewrite_shards(&proxy, move |info| {
        let v = s.lock().unwrap().clone();
        (info.path_only() == "/_search/scroll" && !v.is_null()).then_some(v)
    });

    *shards.lock().unwrap() = json!({"total": 3, "successful": 2, "skipped": 1, "failed": 1,
        "failures": [{"shard": 2, "index": "shards", "reason": {"type": "x_exception", "reason": "gone"}}]});
    let mut hits = Scan::new(&c, "shards").size(100).stream::<Value>();
    let mut ok = 0;
    let err = loop {
        match hits.next().await.expect("an error before the end") {
            Ok(_) => ok += 1,
            Err(e) => break e,
        }
    };
    assert_eq!(ok, 100, "the first page, then the failing one");
    assert!(err.to_string().contains("1 of 3 shards failed"), "{err}");
    assert!(err.to_string().contains("x_exception: gone"), "{err}");
    assert!(hits.next().await.is_none());

    // Not raised: every hit, the failures logged.
    let all: Vec<_> = Scan::new(&c, "shards")
        .size(100)
        .raise_on_error(false)
        .stream::<Value>()
        .try_collect()
        .await
        .expect("scan");
    assert_eq!(all.len(), 300);

    // Complete: one shard skipped, counted in `successful`.
    *shards.lock().unwrap() = json!({"total": 3, "successful": 3, "skipped": 1, "failed": 0});
    let all: Vec<_> = Scan::new(&c, "shards")
        .size(100)
        .stream::<Value>()
        .try_collect()
        .await
        .expect("scan");
    assert_eq!(all.len(), 300);
}

/// Item 9: the first error of one slice ends the whole stream; every slice's scroll is
/// cleared; a shared point in time is closed once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_first_error_of_a_slice_stops_every_slice() {
    use std::sync::atomic::{AtomicBool, Ordering};
    let server = OsmemServer::start_with_args(&["-no-ja"]);
    let direct = client(&server.url());
    seed(&direct, "sl", 3000).await;
    let proxy = FaultProxy::start(server.addr());
    let ids = capture_ids(&proxy);
    let c = client(&proxy.url());

    // Scroll in 3 slices: the first continuation request fails.
    let failed = Arc::new(AtomicBool::new(false));
    let f = failed.clone();
    proxy.set_rule(Arc::new(move |info: &RequestInfo| {
        (info.method == "POST"
            && info.path_only() == "/_search/scroll"
            && !f.swap(true, Ordering::SeqCst))
        .then(|| Action::status(500))
    }));
    let mut hits = Scan::new(&c, "sl").slices(3).size(100).stream::<Value>();
    let mut errors = 0;
    while let Some(h) = hits.next().await {
        if h.is_err() {
            errors += 1;
            assert!(hits.next().await.is_none(), "nothing after the first error");
            break;
        }
    }
    assert_eq!(errors, 1);
    drop(hits);
    // A slice whose first page was still out when the error came clears its scroll itself.
    assert!(
        eventually(async || ids.lock().unwrap().len() == 3).await,
        "{ids:?}"
    );
    let scrolls = ids.lock().unwrap().clone();
    for id in &scrolls {
        assert!(
            eventually(async || !scroll_alive(&direct, id).await).await,
            "scroll {id} was left open; {:?}",
            proxy.request_log()
        );
    }

    // Point in time in 3 slices: the first `search_after` page fails.
    proxy.reset_counters();
    let failed = Arc::new(AtomicBool::new(false));
    let f = failed.clone();
    proxy.set_rule(Arc::new(move |info: &RequestInfo| {
        (info.path_only() == "/_search"
            && info.body_str().is_some_and(|b| b.contains("search_after"))
            && !f.swap(true, Ordering::SeqCst))
        .then(|| Action::status(500))
    }));
    let mut hits = Scan::new(&c, "sl")
        .point_in_time()
        .slices(3)
        .size(100)
        .stream::<Value>();
    let mut errors = 0;
    while let Some(h) = hits.next().await {
        if let Err(e) = h {
            assert_eq!(e.status().map(|s| s.as_u16()), Some(500), "{e}");
            errors += 1;
            assert!(hits.next().await.is_none(), "nothing after the first error");
            break;
        }
    }
    assert_eq!(errors, 1);
    drop(hits);
    assert!(eventually(async || open_pits(&direct).await == 0).await);
    tokio::time::sleep(Duration::from_millis(100)).await;
    let closes = proxy
        .request_log()
        .iter()
        .filter(|r| r.method == "DELETE")
        .count();
    assert_eq!(closes, 1, "{:?}", proxy.request_log());
}

/// Item 6: the scan's index is percent-encoded in every mode.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn index_names_are_percent_encoded() {
    let server = OsmemServer::start_with_args(&["-no-ja"]);
    let direct = client(&server.url());
    let index = "q&x=1%{b}é";
    seed(&direct, index, 25).await;
    for mode in [
        es_helpers::scan::ScanMode::Scroll,
        es_helpers::scan::ScanMode::PointInTime,
    ] {
        let hits: Vec<_> = Scan::new(&direct, index)
            .mode(mode)
            .size(10)
            .stream::<Num>()
            .try_collect()
            .await
            .expect("scan");
        assert_eq!(hits.len(), 25, "{mode:?}");
        assert!(hits.iter().all(|h| h.index == index));
    }
    assert_eq!(open_pits(&direct).await, 0);
}

/// `Scan::refuse`: one `Refused` error, nothing sent (in either mode), and the pages say the
/// same.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refused_scan_sends_nothing() {
    let server = es_tests::CountingServer::start();
    let c = client(&server.url());
    for scan in [
        Scan::new(&c, "docs").refuse("a knn search cannot be scanned"),
        Scan::new(&c, "docs")
            .point_in_time()
            .refuse("a knn search cannot be scanned"),
    ] {
        let items: Vec<_> = scan.stream::<Value>().collect().await;
        assert_eq!(items.len(), 1);
        let err = items.into_iter().next().unwrap().unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Refused, "{err}");
        assert!(!err.may_have_reached_server());
        assert_eq!(err.to_string(), "not sent: a knn search cannot be scanned");
        let pages: Vec<_> = scan.pages::<Value>().collect().await;
        assert_eq!(pages.len(), 1);
        assert!(pages[0].is_err());
    }
    assert_eq!(server.requests(), 0);
}
