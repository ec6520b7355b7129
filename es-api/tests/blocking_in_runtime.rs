//! `send_blocking()` on threads of a tokio runtime: tokio refuses a nested `block_on`
//! ("Cannot start a runtime from within a runtime"); the blocking facade hands the request to
//! a helper thread instead, so these calls answer rather than panic.
#![cfg(feature = "blocking")]

mod support;

use es_api::Client;
use support::serve;

const INFO: &str = r#"{"name":"n","cluster_name":"c","version":{"number":"9.1.0"},"tagline":"t"}"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn send_blocking_inside_spawn_blocking_block_in_place_and_a_task() {
    let (url, requests) = serve(vec![(200, INFO), (200, INFO), (200, INFO)]);
    let client = Client::from_url(&url).unwrap();

    let c = client.clone();
    let status = tokio::task::spawn_blocking(move || c.info().send_blocking().map(|r| r.status()))
        .await
        .unwrap()
        .expect("inside spawn_blocking");
    assert_eq!(status, 200);

    let status = tokio::task::block_in_place(|| client.info().send_blocking().map(|r| r.status()))
        .expect("inside block_in_place");
    assert_eq!(status, 200);

    // Straight inside an async task (discouraged, documented): it blocks this worker, but on
    // a multi-thread runtime it answers.
    let status = client
        .info()
        .send_blocking()
        .expect("inside a task")
        .status();
    assert_eq!(status, 200);
    for _ in 0..3 {
        assert_eq!(requests.recv().unwrap(), "GET / HTTP/1.1");
    }
}
