//! Async sending through the real transport against a loopback server.

mod support;

use es_api::Client;
use es_api::response::{BulkResponse, SearchResponse};
use serde::Deserialize;
use serde_json::json;
use support::serve;

#[derive(Debug, Deserialize, PartialEq)]
struct Doc {
    title: String,
}

#[tokio::test]
async fn send_and_await_directly() {
    let (url, requests) = serve(vec![
        (
            200,
            r#"{"took":1,"hits":{"total":{"value":1,"relation":"eq"},"hits":[{"_index":"i","_id":"1","_source":{"title":"a"}}]}}"#,
        ),
        (
            200,
            r#"{"took":2,"errors":false,"items":[{"index":{"_index":"i","_id":"1","status":201,"result":"created"}}]}"#,
        ),
    ]);
    let client = Client::from_url(&url).unwrap();
    let response = client
        .search()
        .index("i")
        .body(json!({"query": {"match_all": {}}}))
        .await
        .unwrap();
    assert!(!response.node().is_empty());
    let found: SearchResponse<Doc> = response.json().unwrap();
    assert_eq!(found.hits.hits[0].source, Some(Doc { title: "a".into() }));
    assert_eq!(requests.recv().unwrap(), "POST /i/_search HTTP/1.1");

    let lines = [
        json!({"index": {"_index": "i", "_id": "1"}}),
        json!({"title": "a"}),
    ];
    let bulk: BulkResponse = client
        .bulk()
        .refresh(true)
        .body(&lines)
        .send()
        .await
        .unwrap()
        .json()
        .unwrap();
    assert_eq!(bulk.items.len(), 1);
    assert_eq!(
        requests.recv().unwrap(),
        "POST /_bulk?refresh=true HTTP/1.1"
    );
}
