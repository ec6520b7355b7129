//! Helpers shared by the scan and fault tests. Each test binary uses some of them.
#![allow(dead_code)]

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use es_api::Client;
use es_api::es_transport::{Request, RequestOptions, Transport};
use es_helpers::bulk::{Bulk, BulkAction};
use es_tests::{FaultProxy, ProxyResponse, RequestInfo};
use serde::Deserialize;
use serde_json::{Value, json};

/// A client with the transport's defaults.
pub(crate) fn client(url: &str) -> Client {
    Client::new(
        Transport::builder(url.to_owned())
            .build()
            .expect("transport"),
    )
}

/// A client for the fault matrices: `retries` transport retries with a short backoff, this
/// request timeout and response size limit.
pub(crate) fn faulty_client(
    proxy: &FaultProxy,
    retries: u32,
    timeout: Duration,
    max_response_size: usize,
) -> Client {
    Client::new(
        Transport::builder(proxy.url().as_str())
            .max_retries(retries)
            .retry_backoff(Duration::from_millis(5), Duration::from_millis(20))
            .request_timeout(timeout)
            .max_response_size(max_response_size)
            .build()
            .expect("transport"),
    )
}

/// The documents [`seed`] writes.
#[derive(Debug, Deserialize, PartialEq)]
pub(crate) struct Num {
    pub(crate) n: u64,
    pub(crate) even: bool,
}

/// Indexes `n` documents `{"n": i, "even": …}` with ids `0..n`, then refreshes.
pub(crate) async fn seed(client: &Client, index: &str, n: u64) {
    let actions =
        (0..n).map(|i| BulkAction::index(json!({"n": i, "even": i % 2 == 0})).id(i.to_string()));
    let s = Bulk::new(client)
        .index(index)
        .chunk_size(1000)
        .refresh(true)
        .run_iter(actions)
        .await
        .expect("seed");
    assert_eq!(s.succeeded(), n);
}

/// Remembers every `_scroll_id` / `pit_id` the server hands out through the proxy.
pub(crate) fn capture_ids(proxy: &FaultProxy) -> Arc<Mutex<Vec<String>>> {
    let ids = Arc::new(Mutex::new(Vec::new()));
    let seen = ids.clone();
    proxy.set_rewriter(Arc::new(move |_: &RequestInfo, resp: ProxyResponse| {
        if let Some(body) = resp.body_json() {
            remember_ids(&seen, &body);
        }
        resp
    }));
    ids
}

/// Adds the `_scroll_id` / `pit_id` of a response body to `ids`, once each.
pub(crate) fn remember_ids(ids: &Mutex<Vec<String>>, body: &Value) {
    for key in ["_scroll_id", "pit_id"] {
        if let Some(id) = body[key].as_str() {
            let mut ids = ids.lock().unwrap();
            if !ids.iter().any(|i| i == id) {
                ids.push(id.to_owned());
            }
        }
    }
}

/// Whether the server still knows this scroll id (asked directly, not through a proxy).
pub(crate) async fn scroll_alive(direct: &Client, id: &str) -> bool {
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

/// The points in time open on the server.
pub(crate) async fn open_pits(direct: &Client) -> usize {
    let v: Value = direct
        .transport()
        .send(Request::get("/_search/point_in_time/_all"))
        .await
        .expect("pits")
        .json()
        .expect("json");
    v["pits"].as_array().map_or(0, Vec::len)
}

/// Polls `check` until it holds (true) or 10 s have passed (false): for a release the helper
/// spawned to reach the server.
pub(crate) async fn eventually(mut check: impl AsyncFnMut() -> bool) -> bool {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        if check().await {
            return true;
        }
        if Instant::now() >= deadline {
            return false;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}
