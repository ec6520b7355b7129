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

/// `Client::builder` takes several hosts and every transport setting in one chain: the first
/// host refuses connections, the request fails over to the second.
#[tokio::test]
async fn client_builder_over_two_nodes() {
    let (url, requests) = serve(vec![(
        200,
        r#"{"count":3,"_shards":{"total":1,"successful":1,"skipped":0,"failed":0}}"#,
    )]);
    let dead = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        format!("http://{}", l.local_addr().unwrap())
    };
    let client: Client = Client::builder([dead.as_str(), url.as_str()])
        .randomize_nodes_in_pool(false)
        .max_retries(1)
        .build()
        .unwrap();
    let response = client.count().index("i").send().await.unwrap();
    assert_eq!(response.attempts(), 2);
    assert_eq!(response.node(), url.trim_end_matches('/'));
    assert!(requests.recv().unwrap().ends_with("/i/_count HTTP/1.1"));
    // A bad setting is the builder's error, not a panic.
    let err = Client::builder(["not a url"]).build().unwrap_err();
    assert_eq!(err.kind(), es_api::ErrorKind::Config, "{err}");
}
