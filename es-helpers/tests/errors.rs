//! The helpers' error against a real osmem-server: typed status predicates, the status type
//! shared with es-api, and `?` across es-api and helper calls.

use es_api::es_transport::http::StatusCode;
use es_api::{Client, ErrorExt};
use es_helpers::ErrorKind;
use es_helpers::bulk::{Bulk, BulkAction};
use es_tests::OsmemServer;
use serde_json::{Value, json};

/// One function mixing a client call and a helper call: `?` converts the client's error.
async fn seed_then_get(client: &Client, id: &str) -> es_helpers::Result<Value> {
    Bulk::new(client)
        .index("errs")
        .refresh(true)
        .run_iter([BulkAction::index(json!({"n": 1})).id("1")])
        .await?;
    let resp = client.get("errs", id).send().await?;
    Ok(resp.json::<Value>()?)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn predicates_and_conversion() {
    let server = OsmemServer::start_with_args(&["-no-ja"]);
    let client = Client::from_url(&server.url()).expect("client");

    let found = seed_then_get(&client, "1").await.expect("found");
    assert_eq!(found["_source"]["n"], json!(1));

    // A client 404 through `?`: a Transport error of the helpers, with a StatusCode.
    let err = seed_then_get(&client, "missing").await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Transport);
    assert_eq!(err.status(), Some(StatusCode::NOT_FOUND));
    assert!(err.is_not_found());
    assert!(!err.is_conflict() && !err.is_too_many_requests());
    assert!(!err.is_unauthorized() && !err.is_forbidden());
    // The same predicates through es-api's trait, for code generic over both errors.
    fn not_found(e: &impl ErrorExt) -> bool {
        e.is_not_found()
    }
    assert!(not_found(&err));
    assert!(not_found(
        err.transport_error().expect("the client's error")
    ));

    // A rejected item: the status of the first failed item.
    let err = Bulk::new(&client)
        .index("errs")
        .run_iter([BulkAction::create(json!({"n": 2})).id("1")])
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::BulkItems);
    assert_eq!(err.status(), Some(StatusCode::CONFLICT));
    assert!(err.is_conflict() && !err.is_not_found());
}
