//! Scan against a real osmem-server: typed hits, order, and the server-side context being
//! released when the stream ends, fails, or is dropped early. (Exactly-once over 100,000
//! documents in every mode: `hundred_thousand.rs`.)

use std::sync::{Arc, Mutex};
use std::time::Duration;

use es_api::Client;
use es_api::es_transport::{Request, RequestOptions, Transport};
use es_helpers::ErrorKind;
use es_helpers::bulk::{Bulk, BulkAction};
use es_helpers::scan::{PitApi, Scan};
use es_tests::{Action, FaultProxy, OsmemServer, ProxyResponse, RequestInfo};
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
    let actions =
        (0..n).map(|i| BulkAction::index(json!({"n": i, "even": i % 2 == 0})).id(i.to_string()));
    let s = Bulk::new(client)
        .index(index)
        .chunk_size(1000)
        .param("refresh", "true")
        .run_iter(actions)
        .await
        .expect("seed");
    assert_eq!(s.succeeded(), n);
}

/// Remembers every `_scroll_id` / `pit_id` the server hands out.
fn capture_ids(proxy: &FaultProxy) -> Arc<Mutex<Vec<String>>> {
    let ids = Arc::new(Mutex::new(Vec::new()));
    let seen = ids.clone();
    proxy.set_rewriter(Arc::new(move |_: &RequestInfo, resp: ProxyResponse| {
        if let Some(body) = resp.body_json() {
            for key in ["_scroll_id", "pit_id"] {
                if let Some(id) = body[key].as_str() {
                    let mut ids = seen.lock().unwrap();
                    if !ids.iter().any(|i| i == id) {
                        ids.push(id.to_owned());
                    }
                }
            }
        }
        resp
    }));
    ids
}

/// Whether the server still knows this scroll id.
async fn scroll_alive(direct: &Client, id: &str) -> bool {
    let req = Request::post("/_search/scroll")
        .with_json_body(json!({"scroll": "1m", "scroll_id": id}).to_string())
        .with_options(RequestOptions::new().ignore_status([404]).max_retries(0));
    let status = direct
        .transport()
        .send(req)
        .await
        .expect("scroll")
        .status()
        .as_u16();
    assert!(status == 200 || status == 404, "{status}");
    status == 200
}

async fn open_pits(direct: &Client) -> usize {
    let v: Value = direct
        .transport()
        .send(Request::get("/_search/point_in_time/_all"))
        .await
        .expect("pits")
        .json()
        .expect("json");
    v["pits"].as_array().map_or(0, Vec::len)
}

/// Waits for the spawned release to reach the server.
async fn eventually(mut check: impl AsyncFnMut() -> bool) -> bool {
    for _ in 0..50 {
        if check().await {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    false
}

#[derive(Debug, Deserialize, PartialEq)]
struct Num {
    n: u64,
    even: bool,
}

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
    let ns: Vec<u64> = hits.iter().map(|h| h.source().unwrap().n).collect();
    assert!(ns.windows(2).all(|w| w[0] > w[1]), "descending");
    assert_eq!(
        hits[0].source(),
        Some(&Num {
            n: 2498,
            even: true
        })
    );
    assert_eq!(hits[0].id(), "2498");
    assert_eq!(hits[0].index(), "nums");
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
