//! Issue 17 for scan and reindex: what happens when the server did the work and the answer
//! was lost, and when a page says less than it seems to. Over osmem-server behind the fault
//! proxy, which forwards a page request to the server (so the server executed it) and then
//! replaces or edits the answer; every request the server executed is counted from the
//! proxy's view.
//!
//! - A scroll continuation whose answer is lost (a gateway's 502) is not resent (a resend
//!   returns the next page and skips one): the scan ends with an error saying how many
//!   documents came before it, the transport's error kept, the scroll released; a reindex by
//!   scroll fails the same way instead of reporting a shorter success.
//! - A point-in-time page whose answer is lost is resent (the same `search_after` returns
//!   the same page): every document exactly once, also sliced, also through a reindex.
//! - A page with `timed_out: true` (no failed shard) is an error, in both modes.
//! - A short point-in-time page does not end the scan: only an empty page does.
//!
//! Rerun with `cargo test -p es-helpers --test answer_lost_scan -- --nocapture`.

mod common;

use common::{eventually, faulty_client, open_pits, remember_ids, scroll_alive, seed};

use std::collections::BTreeSet;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use es_api::Client;
use es_api::es_transport::{Request, RequestOptions};
use es_helpers::ErrorKind;
use es_helpers::reindex::Reindex;
use es_helpers::scan::Scan;
use es_tests::{FaultProxy, OsmemServer, ProxyResponse, RequestInfo};
use futures_util::StreamExt;
use serde_json::{Value, json};

const DOCS: u64 = 50;
const PAGE: u32 = 10;
const RETRIES: u32 = 2;
const TIMEOUT: Duration = Duration::from_secs(10);
/// How long a scan may take before the test fails (a hang is a failure, not a wait).
const DEADLINE: Duration = Duration::from_secs(60);

/// Whether a proxied request is a scroll continuation.
fn is_continuation(info: &RequestInfo) -> bool {
    info.method == "POST" && info.path_only() == "/_search/scroll"
}

/// Whether a proxied request is a point-in-time page (`POST /_search` with a `pit`).
fn is_pit_page(info: &RequestInfo) -> bool {
    info.method == "POST" && info.path_only() == "/_search"
}

/// What the server executed and handed out, as the proxy saw it.
#[derive(Default)]
struct Seen {
    /// The bodies of the page requests the server answered (the ones `of` picks), in order.
    pages: Mutex<Vec<String>>,
    /// Every `_scroll_id` / `pit_id` the server handed out, once each.
    ids: Mutex<Vec<String>>,
}

impl Seen {
    fn pages(&self) -> Vec<String> {
        self.pages.lock().unwrap().clone()
    }
}

/// Forwards everything; records the ids and the page requests `of` picks; the answer to the
/// `nth` of those (1-based) goes through `change` before it reaches the client.
fn edit_nth(
    proxy: &FaultProxy,
    of: fn(&RequestInfo) -> bool,
    nth: usize,
    change: impl Fn(ProxyResponse) -> ProxyResponse + Send + Sync + 'static,
) -> Arc<Seen> {
    let seen = Arc::new(Seen::default());
    let s = seen.clone();
    proxy.set_rewriter(Arc::new(move |info: &RequestInfo, resp: ProxyResponse| {
        if let Some(body) = resp.body_json() {
            remember_ids(&s.ids, &body);
        }
        if !of(info) {
            return resp;
        }
        let n = {
            let mut pages = s.pages.lock().unwrap();
            pages.push(info.body_str().unwrap_or("").to_owned());
            pages.len()
        };
        if n == nth { change(resp) } else { resp }
    }));
    seen
}

/// A gateway's answer after its backend did the work: 502, not from Elasticsearch.
fn bad_gateway(_: ProxyResponse) -> ProxyResponse {
    ProxyResponse::new(502)
        .with_header("Content-Type", "text/plain")
        .with_body("502 Bad Gateway")
}

/// Sets `timed_out: true` on a page, leaving its hits and `_shards` (no failure) as they are.
fn timed_out(resp: ProxyResponse) -> ProxyResponse {
    let mut body = resp.body_json().expect("a JSON page");
    assert_eq!(body["_shards"]["failed"], json!(0), "{body}");
    body["timed_out"] = json!(true);
    resp.with_body(serde_json::to_vec(&body).unwrap())
}

/// Drops the last 3 hits of a page: a short page that is not the end.
fn short(resp: ProxyResponse) -> ProxyResponse {
    let mut body = resp.body_json().expect("a JSON page");
    let hits = body["hits"]["hits"].as_array_mut().expect("hits");
    assert_eq!(hits.len(), PAGE as usize, "a full page to shorten");
    hits.truncate(hits.len() - 3);
    resp.with_body(serde_json::to_vec(&body).unwrap())
}

/// The stream's items: the `n` of each hit, then the errors.
async fn drain(
    mut hits: es_helpers::scan::ScanStream<Value>,
) -> (Vec<u64>, Vec<es_helpers::Error>) {
    let (mut ns, mut errors) = (Vec::new(), Vec::new());
    tokio::time::timeout(DEADLINE, async {
        while let Some(h) = hits.next().await {
            match h {
                Ok(hit) => {
                    let src = hit.source.expect("a source");
                    let n = src["n"].as_u64().expect("n");
                    assert_eq!(hit.id.as_deref(), Some(n.to_string().as_str()));
                    ns.push(n);
                }
                Err(e) => errors.push(e),
            }
        }
    })
    .await
    .expect("the scan ended within the deadline");
    (ns, errors)
}

/// Every `n` in `0..DOCS`, each exactly once.
fn exactly_once(ns: &[u64]) {
    let distinct: BTreeSet<u64> = ns.iter().copied().collect();
    assert_eq!(ns.len() as u64, DOCS, "hits yielded");
    assert_eq!(distinct, (0..DOCS).collect(), "every document once");
}

struct Setup {
    _server: OsmemServer,
    proxy: FaultProxy,
    /// Straight to the server: checks and counts.
    direct: Client,
    /// Through the proxy, with the transport's retries.
    client: Client,
}

async fn setup(index: &str) -> Setup {
    let server = OsmemServer::start_with_args(&["-no-ja"]);
    let direct = common::client(&server.url());
    seed(&direct, index, DOCS).await;
    let proxy = FaultProxy::start(server.addr());
    let client = faulty_client(&proxy, RETRIES, TIMEOUT, 1 << 20);
    Setup {
        _server: server,
        proxy,
        direct,
        client,
    }
}

/// Issue 17, bug 1 (scroll): the 2nd page is executed, its answer lost. Before, the
/// continuation was resent with the same scroll id, got the 3rd page, and the scan ended
/// `Ok` with 40 of 50; now it is sent once and the scan ends with an error after the 10
/// documents of the first page, the scroll released.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lost_scroll_page_ends_the_scan_with_the_count_before_it() {
    let s = setup("lost-scroll").await;
    let seen = edit_nth(&s.proxy, is_continuation, 1, bad_gateway);
    let (ns, errors) = drain(Scan::new(&s.client, "lost-scroll").size(PAGE).stream()).await;
    assert_eq!(
        ns,
        (0..u64::from(PAGE)).collect::<Vec<_>>(),
        "the first page"
    );
    assert_eq!(errors.len(), 1, "one error, then the end: {errors:?}");
    let e = &errors[0];
    assert_eq!(e.kind(), ErrorKind::Scan, "{e}");
    assert_eq!(e.documents_yielded(), Some(u64::from(PAGE)), "{e}");
    assert!(e.to_string().contains("after 10 documents"), "{e}");
    assert!(e.may_have_reached_server(), "{e}");
    let t = e.transport_error().expect("the transport's error, kept");
    assert_eq!(t.status().map(|s| s.as_u16()), Some(502), "{e}");
    assert!(t.may_have_reached_server(), "{e}");
    assert_eq!(t.attempts(), 1, "not resent: {e}");
    assert!(std::error::Error::source(e).is_some(), "the source is kept");
    // The server executed the continuation once: no resend skipped the 2nd page.
    assert_eq!(seen.pages().len(), 1, "continuations executed");
    let id = seen
        .ids
        .lock()
        .unwrap()
        .first()
        .cloned()
        .expect("a scroll id");
    assert!(
        eventually(async || !scroll_alive(&s.direct, &id).await).await,
        "the scroll was released"
    );

    // `pages()`: the same count, after the first page.
    s.proxy.reset_counters();
    let seen = edit_nth(&s.proxy, is_continuation, 1, bad_gateway);
    let mut pages = Scan::new(&s.client, "lost-scroll")
        .size(PAGE)
        .pages::<Value>();
    let first = pages.next().await.expect("a page").expect("the first page");
    assert_eq!(first.len(), PAGE as usize);
    let e = pages
        .next()
        .await
        .expect("an item")
        .expect_err("the lost page");
    assert_eq!(e.documents_yielded(), Some(u64::from(PAGE)), "{e}");
    assert!(pages.next().await.is_none());
    assert_eq!(seen.pages().len(), 1);

    // Options saying every request is idempotent do not make the continuation resent.
    let seen = edit_nth(&s.proxy, is_continuation, 1, bad_gateway);
    let (ns, errors) = drain(
        Scan::new(&s.client, "lost-scroll")
            .size(PAGE)
            .request_options(RequestOptions::new().idempotent(true))
            .stream(),
    )
    .await;
    assert_eq!(ns.len(), PAGE as usize);
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert_eq!(errors[0].documents_yielded(), Some(u64::from(PAGE)));
    assert_eq!(seen.pages().len(), 1, "continuations executed");
}

/// Issue 17, bug 1 (sliced scroll): a lost continuation of one slice ends the scan; the
/// count is every document the stream yielded, of every slice; that continuation was not
/// resent; every slice's scroll is released.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lost_page_of_a_sliced_scroll_ends_the_scan() {
    let s = setup("lost-sliced").await;
    let seen = edit_nth(&s.proxy, is_continuation, 1, bad_gateway);
    let (ns, errors) = drain(
        Scan::new(&s.client, "lost-sliced")
            .size(PAGE)
            .slices(2)
            .stream(),
    )
    .await;
    assert_eq!(errors.len(), 1, "{errors:?}");
    let e = &errors[0];
    assert_eq!(e.kind(), ErrorKind::Scan, "{e}");
    assert_eq!(e.documents_yielded(), Some(ns.len() as u64), "{e}");
    assert_eq!(e.status().map(|s| s.as_u16()), Some(502), "{e}");
    assert_eq!(BTreeSet::from_iter(ns.iter()).len(), ns.len(), "no repeats");
    // The lost continuation (the 1st) was executed once: no later continuation of that
    // slice carries its scroll id.
    let pages = seen.pages();
    let lost: Value = serde_json::from_str(&pages[0]).unwrap();
    let again = pages[1..]
        .iter()
        .filter(|b| serde_json::from_str::<Value>(b).unwrap()["scroll_id"] == lost["scroll_id"])
        .count();
    assert_eq!(again, 0, "resent: {pages:?}");
    tokio::time::sleep(Duration::from_millis(50)).await;
    let ids = seen.ids.lock().unwrap().clone();
    assert!(ids.len() >= 2, "both slices' scrolls: {ids:?}");
    for id in &ids {
        assert!(
            eventually(async || !scroll_alive(&s.direct, id).await).await,
            "scroll {id} was left open"
        );
    }
}

/// Issue 17, bug 1 (point in time): the 2nd page is executed, its answer lost; the
/// transport resends the same request (same `search_after`), which returns the same page:
/// every document exactly once. Before, the unmarked `POST /_search` was not resent and
/// the scan failed. Sliced too.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lost_point_in_time_page_is_resent_and_nothing_is_skipped() {
    let s = setup("lost-pit").await;
    let seen = edit_nth(&s.proxy, is_pit_page, 2, bad_gateway);
    let (ns, errors) = drain(
        Scan::new(&s.client, "lost-pit")
            .size(PAGE)
            .point_in_time()
            .stream(),
    )
    .await;
    assert!(errors.is_empty(), "{errors:?}");
    exactly_once(&ns);
    // 5 full pages, the lost one twice, then the empty page that ends the scan.
    let pages = seen.pages();
    assert_eq!(pages.len(), 7, "{pages:?}");
    assert_eq!(pages[1], pages[2], "the resend is the same request");
    assert!(pages[1].contains("search_after"), "{}", pages[1]);
    assert!(eventually(async || open_pits(&s.direct).await == 0).await);

    // Sliced: one slice's 2nd request is lost and resent.
    let seen = edit_nth(&s.proxy, is_pit_page, 3, bad_gateway);
    let (ns, errors) = drain(
        Scan::new(&s.client, "lost-pit")
            .size(PAGE)
            .point_in_time()
            .slices(2)
            .stream(),
    )
    .await;
    assert!(errors.is_empty(), "{errors:?}");
    exactly_once(&ns);
    let pages = seen.pages();
    assert!(
        pages.iter().filter(|b| **b == pages[2]).count() >= 2,
        "the lost request was resent: {pages:?}"
    );
    assert!(eventually(async || open_pits(&s.direct).await == 0).await);
}

/// Issue 17, bug 2: a page with `timed_out: true` and no failed shard may hold only part
/// of its hits: an error, in both modes, with the context released. Before, the scan went
/// on and ended `Ok`. With `raise_on_error(false)` it is logged and the scan goes on.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_timed_out_page_is_an_error() {
    let s = setup("timed-out").await;

    let seen = edit_nth(&s.proxy, is_continuation, 1, timed_out);
    let (ns, errors) = drain(Scan::new(&s.client, "timed-out").size(PAGE).stream()).await;
    assert_eq!(ns.len(), PAGE as usize, "the first page, then the error");
    assert_eq!(errors.len(), 1, "{errors:?}");
    let e = &errors[0];
    assert_eq!(e.kind(), ErrorKind::Scan, "{e}");
    assert!(e.to_string().contains("timed_out"), "{e}");
    assert_eq!(seen.pages().len(), 1);
    let id = seen
        .ids
        .lock()
        .unwrap()
        .first()
        .cloned()
        .expect("a scroll id");
    assert!(eventually(async || !scroll_alive(&s.direct, &id).await).await);

    let seen = edit_nth(&s.proxy, is_pit_page, 2, timed_out);
    let (ns, errors) = drain(
        Scan::new(&s.client, "timed-out")
            .size(PAGE)
            .point_in_time()
            .stream(),
    )
    .await;
    assert_eq!(ns.len(), PAGE as usize, "the first page, then the error");
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert!(errors[0].to_string().contains("timed_out"), "{}", errors[0]);
    assert_eq!(seen.pages().len(), 2);
    assert!(eventually(async || open_pits(&s.direct).await == 0).await);

    // Not raised: the page's hits (all of them here) and the rest.
    edit_nth(&s.proxy, is_continuation, 1, timed_out);
    let (ns, errors) = drain(
        Scan::new(&s.client, "timed-out")
            .size(PAGE)
            .raise_on_error(false)
            .stream(),
    )
    .await;
    assert!(errors.is_empty(), "{errors:?}");
    exactly_once(&ns);
}

/// Issue 17, bug 3: a point-in-time page shorter than the page size is not the end (the
/// server may return a short page before the last one); only an empty page is. Before, the
/// scan ended `Ok` after the short page, 17 of 50.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_short_point_in_time_page_does_not_end_the_scan() {
    let s = setup("short").await;
    let seen = edit_nth(&s.proxy, is_pit_page, 2, short);
    let (ns, errors) = drain(
        Scan::new(&s.client, "short")
            .size(PAGE)
            .point_in_time()
            .stream(),
    )
    .await;
    assert!(errors.is_empty(), "{errors:?}");
    exactly_once(&ns);
    // 10 + 7 + 10 + 10 + 10 + 3, then the empty page.
    assert_eq!(seen.pages().len(), 7, "{:?}", seen.pages());
    assert!(eventually(async || open_pits(&s.direct).await == 0).await);
}

/// The target's documents, by id (refreshed first).
async fn target_docs(direct: &Client, index: &str) -> Vec<Value> {
    direct
        .transport()
        .send(Request::post(format!("/{index}/_refresh")))
        .await
        .expect("refresh");
    let req = Request::post(format!("/{index}/_search"))
        .with_json_body(json!({"size": 1000, "sort": [{"n": "asc"}]}).to_string());
    let body: Value = direct
        .transport()
        .send(req)
        .await
        .expect("search")
        .json()
        .expect("json");
    body["hits"]["hits"].as_array().cloned().unwrap_or_default()
}

/// Issue 17, bug 1 (reindex): a reindex scans by scroll by default; a lost continuation
/// fails it, saying how many documents were read, instead of a success with 40 of 50; the
/// target holds exactly those, once. By point in time, the lost page is resent and the copy
/// is complete.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reindex_whose_scroll_page_is_lost_fails() {
    let s = setup("re-src").await;
    let seen = edit_nth(&s.proxy, is_continuation, 1, bad_gateway);
    let err = tokio::time::timeout(
        DEADLINE,
        Reindex::new(&s.client, "re-src", &s.direct, "re-dst")
            .scan_with(|sc| sc.size(PAGE))
            .run(),
    )
    .await
    .expect("within the deadline")
    .expect_err("a lost page is a failure");
    assert_eq!(err.kind(), ErrorKind::Scan, "{err}");
    assert_eq!(err.documents_yielded(), Some(u64::from(PAGE)), "{err}");
    assert!(err.may_have_reached_server(), "{err}");
    assert_eq!(seen.pages().len(), 1, "continuations executed");
    let docs = target_docs(&s.direct, "re-dst").await;
    let ns: Vec<u64> = docs
        .iter()
        .map(|d| d["_source"]["n"].as_u64().unwrap())
        .collect();
    assert_eq!(
        ns,
        (0..u64::from(PAGE)).collect::<Vec<_>>(),
        "what was read, once"
    );

    let seen = edit_nth(&s.proxy, is_pit_page, 2, bad_gateway);
    let summary = tokio::time::timeout(
        DEADLINE,
        Reindex::new(&s.client, "re-src", &s.direct, "re-pit")
            .scan_with(|sc| sc.size(PAGE).point_in_time())
            .run(),
    )
    .await
    .expect("within the deadline")
    .expect("a lost point-in-time page is resent");
    assert_eq!((summary.succeeded(), summary.failed()), (DOCS, 0));
    assert_eq!(seen.pages().len(), 7);
    let docs = target_docs(&s.direct, "re-pit").await;
    let ns: Vec<u64> = docs
        .iter()
        .map(|d| d["_source"]["n"].as_u64().unwrap())
        .collect();
    assert_eq!(ns, (0..DOCS).collect::<Vec<_>>());
}
