//! The blocking facade against a loopback server (a real socket, canned answers).
#![cfg(feature = "blocking")]

mod support;

use es_api::{Client, ErrorKind};
use support::serve;

#[test]
fn blocking_send_exists_and_errors() {
    let (url, requests) = serve(vec![
        (
            200,
            r#"{"name":"n","cluster_name":"c","version":{"number":"9.1.0"},"tagline":"t"}"#,
        ),
        (200, ""),
        (404, ""),
        (
            404,
            r#"{"error":{"type":"index_not_found_exception","reason":"no such index [x y]"},"status":404}"#,
        ),
        (
            404,
            r#"{"error":{"type":"index_not_found_exception","reason":"no such index"},"status":404}"#,
        ),
    ]);
    let client = Client::from_url(&url).unwrap();
    let info = client.info().send_blocking().unwrap();
    assert_eq!(info.status(), 200);
    let info: es_api::response::InfoResponse = info.json().unwrap();
    assert_eq!(info.version.number, "9.1.0");
    assert_eq!(requests.recv().unwrap(), "GET / HTTP/1.1");

    assert!(client.indices().exists("a").send_blocking().unwrap());
    assert_eq!(requests.recv().unwrap(), "HEAD /a HTTP/1.1");
    assert!(!client.indices().exists("b").send_blocking().unwrap());
    assert_eq!(requests.recv().unwrap(), "HEAD /b HTTP/1.1");

    let err = client.indices().get("x y").send_blocking().unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Api);
    assert_eq!(
        err.api_error().unwrap().error_type(),
        Some("index_not_found_exception")
    );
    assert_eq!(requests.recv().unwrap(), "GET /x%20y HTTP/1.1");

    let ignored = client
        .indices()
        .get("z")
        .ignore_status([404])
        .send_blocking()
        .unwrap();
    assert_eq!(ignored.status(), 404);
}
