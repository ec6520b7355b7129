//! The fault matrix: search and bulk traffic through the fault proxy in front of
//! osmem-server, one fault at a time. For each: no panic, the error kind a user would
//! expect, the attempts the client reports, the deliveries the proxy counted (requests it
//! read in full), and whether the error says the request may have reached the server.
//!
//! The search is marked idempotent (as es-api marks `search`); the bulk is a raw, unmarked
//! `POST`, so it is not idempotent: after a failure that may have reached the server (a
//! connection cut after writing, a 502/503/504, an answer that is not HTTP) it is not
//! resent, where the search is; both are resent after a refused connection or a 429.
//!
//! Summarized in RELIABILITY.md; rerun with `cargo test -p es-transport --test fault_matrix`.

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use es_tests::proxy::{Action, FaultProxy, Mode};
use es_tests::server::OsmemServer;
use es_tests::wire::ProxyResponse;
use es_transport::{ErrorKind, Request, Transport};

const RETRIES: u32 = 2;

#[derive(Debug, Clone, Copy)]
enum Traffic {
    Search,
    Bulk,
}

impl Traffic {
    fn path(self) -> &'static str {
        match self {
            Traffic::Search => "/idx/_search",
            Traffic::Bulk => "/_bulk",
        }
    }

    fn request(self) -> Request {
        match self {
            Traffic::Search => Request::post(self.path())
                .with_json_body(r#"{"query":{"match_all":{}}}"#)
                .with_idempotent(true),
            Traffic::Bulk => Request::post(self.path())
                .with_ndjson_body("{\"index\":{\"_index\":\"idx\",\"_id\":\"1\"}}\n{\"a\":1}\n"),
        }
    }
}

/// What a case must produce.
struct Expect {
    /// `None`: the transport returns `Ok`.
    kind: Option<ErrorKind>,
    attempts: u32,
    deliveries: u64,
    /// `Some(r)`: `may_have_reached_server() == r`.
    reached: Option<bool>,
}

fn err(kind: ErrorKind, attempts: u32, deliveries: u64, reached: bool) -> Expect {
    Expect {
        kind: Some(kind),
        attempts,
        deliveries,
        reached: Some(reached),
    }
}

fn ok(deliveries: u64) -> Expect {
    Expect {
        kind: None,
        attempts: 1,
        deliveries,
        reached: None,
    }
}

fn on_path(proxy: &FaultProxy, path: &'static str, action: Action) {
    proxy.set_rule(Arc::new(move |req| {
        (req.path_only() == path).then(|| action.clone())
    }));
}

fn transport(proxy: &FaultProxy) -> Transport {
    Transport::builder(proxy.url().as_str())
        .max_retries(RETRIES)
        .retry_backoff(Duration::from_millis(5), Duration::from_millis(20))
        .request_timeout(Duration::from_millis(700))
        .max_response_size(64 << 20)
        .build()
        .unwrap()
}

async fn run_case(
    name: &str,
    traffic: Traffic,
    proxy: &FaultProxy,
    expect: Expect,
) -> Option<es_transport::Response> {
    proxy.reset_counters();
    let t = transport(proxy);
    let result = t.send(traffic.request()).await;
    let deliveries = proxy.requests_for(traffic.path());
    let what = format!("{name} / {traffic:?}");
    match (&result, expect.kind) {
        (Ok(resp), None) => {
            assert_eq!(resp.meta().attempts(), expect.attempts, "{what}");
        }
        (Err(e), Some(kind)) => {
            assert_eq!(e.kind(), kind, "{what}: {e}");
            assert_eq!(e.attempts(), expect.attempts, "{what}: {e}");
            if let Some(r) = expect.reached {
                assert_eq!(e.may_have_reached_server(), r, "{what}: {e}");
            }
        }
        (r, k) => panic!("{what}: expected {k:?}, got {r:?}"),
    }
    assert_eq!(deliveries, expect.deliveries, "{what}: deliveries");
    proxy.clear_rule();
    proxy.set_mode(Mode::Forward);
    result.ok()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fault_matrix() {
    let server = OsmemServer::start();
    let proxy = FaultProxy::start(server.addr());
    let all = 1 + u64::from(RETRIES);
    let direct = Transport::new(server.url().as_str()).unwrap();
    direct.send(Request::put("/idx")).await.unwrap();
    for traffic in [Traffic::Search, Traffic::Bulk] {
        let path = traffic.path();
        // After a failure that may have reached the server: resent (3 attempts) only when
        // idempotent.
        let (lost, lost_all) = match traffic {
            Traffic::Search => (3, all),
            Traffic::Bulk => (1, 1),
        };

        proxy.set_mode(Mode::Refuse);
        run_case(
            "connection refused",
            traffic,
            &proxy,
            err(ErrorKind::Connect, 3, 0, false),
        )
        .await;

        // Node killed mid-request: the proxy holds the request, then goes away (closing the
        // connection and refusing new ones).
        on_path(&proxy, path, Action::Stall);
        let killer = {
            let h = proxy.handle();
            tokio::spawn(async move {
                tokio::time::sleep(Duration::from_millis(150)).await;
                h.set_mode(Mode::Refuse);
            })
        };
        run_case(
            "node killed mid-request",
            traffic,
            &proxy,
            err(ErrorKind::Connect, lost, 1, true),
        )
        .await;
        killer.await.unwrap();

        on_path(&proxy, path, Action::ResetMidResponse);
        run_case(
            "reset mid-response",
            traffic,
            &proxy,
            err(ErrorKind::Connect, lost, lost_all, true),
        )
        .await;

        on_path(&proxy, path, Action::Close);
        run_case(
            "closed after the request was written",
            traffic,
            &proxy,
            err(ErrorKind::Connect, lost, lost_all, true),
        )
        .await;

        on_path(&proxy, path, Action::Stall);
        run_case(
            "stall past the request timeout",
            traffic,
            &proxy,
            err(ErrorKind::Timeout, 1, 1, true),
        )
        .await;

        for status in [429, 502, 503, 504] {
            on_path(&proxy, path, Action::status(status));
            // A 429 is the server refusing the work: resent whatever the request.
            let (attempts, deliveries) = if status == 429 {
                (3, all)
            } else {
                (lost, lost_all)
            };
            let r = run_case(
                &format!("status {status}"),
                traffic,
                &proxy,
                err(ErrorKind::Api, attempts, deliveries, true),
            )
            .await;
            assert!(r.is_none());
        }

        on_path(
            &proxy,
            path,
            Action::Garbage(Bytes::from_static(b"SSH-2.0-OpenSSH\r\n")),
        );
        run_case(
            "not HTTP",
            traffic,
            &proxy,
            err(ErrorKind::InvalidResponse, lost, lost_all, true),
        )
        .await;

        // Answers the transport hands over whole; reading them as JSON is where they fail.
        on_path(
            &proxy,
            path,
            Action::json(200, r#"{"took":1,"timed_out":false,"hits":{"#),
        );
        let resp = run_case("truncated JSON", traffic, &proxy, ok(1))
            .await
            .unwrap();
        let e = resp.json::<serde_json::Value>().unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Serialization);

        on_path(
            &proxy,
            path,
            Action::json(200, r#"{"took":"soon","items":42}"#),
        );
        let resp = run_case("valid JSON of the wrong shape", traffic, &proxy, ok(1))
            .await
            .unwrap();
        #[derive(serde::Deserialize, Debug)]
        #[allow(dead_code)]
        struct Shape {
            took: u64,
        }
        assert_eq!(
            resp.json::<Shape>().unwrap_err().kind(),
            ErrorKind::Serialization
        );

        on_path(
            &proxy,
            path,
            Action::respond(
                ProxyResponse::new(200)
                    .with_header("Content-Type", "text/html")
                    .with_body("<html><body>Login</body></html>"),
            ),
        );
        run_case(
            "200 with an HTML body (no product header)",
            traffic,
            &proxy,
            err(ErrorKind::UnsupportedProduct, 1, 1, true),
        )
        .await;

        on_path(&proxy, path, Action::json(200, vec![b' '; 100 << 20]));
        run_case(
            "a 100 MB body over a 64 MiB limit",
            traffic,
            &proxy,
            err(ErrorKind::ResponseTooLarge, 1, 1, true),
        )
        .await;

        on_path(
            &proxy,
            path,
            Action::respond(
                ProxyResponse::json(200, es_tests::wire::gzip(&vec![b' '; 200 << 20]))
                    .with_header("Content-Encoding", "gzip"),
            ),
        );
        run_case(
            "gzip bomb (200 MiB inflated)",
            traffic,
            &proxy,
            err(ErrorKind::ResponseTooLarge, 1, 1, true),
        )
        .await;

        on_path(
            &proxy,
            path,
            Action::respond(
                ProxyResponse::json(200, Bytes::new()).with_header("Content-Encoding", "gzip"),
            ),
        );
        let resp = run_case("empty gzip body", traffic, &proxy, ok(1))
            .await
            .unwrap();
        assert!(resp.body().is_empty());

        // And with no fault, the same request goes through once.
        let resp = run_case("no fault", traffic, &proxy, ok(1)).await.unwrap();
        assert!(resp.status().is_success());
    }
    // Every bulk that reached the server carried the same id: one document, not one per
    // delivery.
    direct.send(Request::post("/idx/_refresh")).await.unwrap();
    let count: serde_json::Value = direct
        .send(Request::get("/idx/_count"))
        .await
        .unwrap()
        .json()
        .unwrap();
    assert_eq!(count["count"], 1, "{count}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_100_mb_body_under_the_default_limit_is_whole() {
    let server = OsmemServer::start();
    let proxy = FaultProxy::start(server.addr());
    on_path(
        &proxy,
        "/big/_search",
        Action::json(200, vec![b' '; 100 << 20]),
    );
    let t = Transport::new(proxy.url().as_str()).unwrap();
    let resp = t
        .send(Request::post("/big/_search").with_json_body("{}"))
        .await
        .unwrap();
    assert_eq!(resp.body().len(), 100 << 20);
}
