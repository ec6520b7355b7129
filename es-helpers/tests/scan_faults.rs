//! The fault matrix for scan traffic (issues 8 and 17): a scroll scan through the fault proxy
//! in front of osmem-server, whose first page arrives and whose next page
//! (`POST /_search/scroll`) meets one fault at a time. For each: no panic, the hits of the
//! first page and then exactly one error of the kind a user would expect, the deliveries the
//! proxy counted, and the scroll released on the server whenever the server can still be
//! reached. A scroll continuation is not idempotent (a resend returns the page after it), so
//! after any fault that may follow its execution it is sent once and the error is the lost
//! page's (`ErrorKind::Scan`, the 10 documents yielded before it, the transport's error
//! kept); only a 429 (the server refused the work) is resent. Also the first page meeting a
//! refused connection.
//!
//! Summarized in RELIABILITY.md; rerun with
//! `cargo test -p es-helpers --test scan_faults -- --nocapture`.

mod common;

use common::{Num, capture_ids, eventually, faulty_client, scroll_alive, seed};

use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use es_api::Client;
use es_api::es_transport::{ErrorKind as TransportKind, Request, Transport};
use es_helpers::ErrorKind;
use es_helpers::scan::Scan;
use es_tests::{Action, FaultProxy, Mode, OsmemServer, ProxyResponse, RequestInfo};
use futures_util::StreamExt;
use serde_json::{Value, json};

const RETRIES: u32 = 2;
const DOCS: u64 = 25;
const PAGE: u32 = 10;
/// The transport's request timeout in every case that is not about timeouts: generous, so
/// that a page slowed by a loaded machine does not fail the case.
const TIMEOUT: Duration = Duration::from_secs(10);
/// The request timeout of the stall case (the proxy holds the stalled request until the case
/// ends, far past it); the first page must be answered within it.
const STALL_TIMEOUT: Duration = Duration::from_secs(2);
/// The transport's `max_response_size`.
const MAX_RESPONSE: usize = 1 << 20;
/// How long a case may wait for something it expects (the stream's end, the killer's
/// stalled read).
const DEADLINE: Duration = Duration::from_secs(30);

/// Awaits `fut`, failing the test if it takes longer than [`DEADLINE`].
async fn within<F: Future>(what: &str, fut: F) -> F::Output {
    tokio::time::timeout(DEADLINE, fut)
        .await
        .unwrap_or_else(|_| panic!("{what}: not done within {DEADLINE:?}"))
}

/// Whether a proxied request is the next page.
fn is_next_page(method: &str, path: &str) -> bool {
    method == "POST" && path.split('?').next() == Some("/_search/scroll")
}

/// What the error of a case must be: the transport's kind, and whether the page is lost
/// (`ErrorKind::Scan` with the count before it) or refused (`ErrorKind::Transport`).
#[derive(Debug, Clone, Copy, PartialEq)]
enum Fails {
    Lost(TransportKind),
    Transport(TransportKind),
}

struct Case {
    name: &'static str,
    action: Action,
    fails: Fails,
    /// `POST /_search/scroll` requests the proxy read in full.
    deliveries: u64,
    /// Whether the scroll is cleared on the server afterwards.
    released: bool,
    /// The transport's request timeout.
    timeout: Duration,
}

fn case(name: &'static str, action: Action, fails: Fails, deliveries: u64) -> Case {
    Case {
        name,
        action,
        fails,
        deliveries,
        released: true,
        timeout: TIMEOUT,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn scan_fault_matrix() {
    let server = OsmemServer::start_with_args(&["-no-ja"]);
    let direct = Client::new(Transport::new(server.url().as_str()).unwrap());
    seed(&direct, "scan-faults", DOCS).await;
    let proxy = FaultProxy::start(server.addr());
    // The scroll ids the server hands out through the proxy.
    let ids = capture_ids(&proxy);
    // Over the 1 MiB limit: a 2 MiB body, and a gzip bomb inflating to 8 MiB.
    let big = vec![b' '; 2 << 20];
    let bomb = es_tests::wire::gzip(&vec![b' '; 8 << 20]);

    let all = 1 + u64::from(RETRIES);
    let cases = [
        case(
            "reset mid-response",
            Action::ResetMidResponse,
            Fails::Lost(TransportKind::Connect),
            1,
        ),
        case(
            "closed after the request was written",
            Action::Close,
            Fails::Lost(TransportKind::Connect),
            1,
        ),
        // Timeouts are not retried by default (`retry_on_timeout` off).
        Case {
            timeout: STALL_TIMEOUT,
            ..case(
                "stall past the request timeout",
                Action::Stall,
                Fails::Lost(TransportKind::Timeout),
                1,
            )
        },
        case(
            "429",
            Action::status(429),
            Fails::Transport(TransportKind::Api),
            all,
        ),
        case(
            "502",
            Action::status(502),
            Fails::Lost(TransportKind::Api),
            1,
        ),
        case(
            "503",
            Action::status(503),
            Fails::Lost(TransportKind::Api),
            1,
        ),
        case(
            "504",
            Action::status(504),
            Fails::Lost(TransportKind::Api),
            1,
        ),
        case(
            "not HTTP",
            Action::Garbage(Bytes::from_static(b"SSH-2.0-OpenSSH\r\n")),
            Fails::Lost(TransportKind::InvalidResponse),
            1,
        ),
        case(
            "truncated JSON",
            Action::json(200, r#"{"_scroll_id":"x","hits":{"hits":[{"#),
            Fails::Lost(TransportKind::Serialization),
            1,
        ),
        case(
            "valid JSON of the wrong shape",
            Action::json(200, r#"{"hits":{"hits":42}}"#),
            Fails::Lost(TransportKind::Serialization),
            1,
        ),
        // The product check passed on the first answer of this transport (it is checked
        // once, as elasticsearch-py does), so the page is read as JSON and fails as such,
        // the body quoted in the error.
        case(
            "200 with an HTML body (no product header)",
            Action::respond(
                ProxyResponse::new(200)
                    .with_header("Content-Type", "text/html")
                    .with_body("<html><body>Login</body></html>"),
            ),
            Fails::Lost(TransportKind::Serialization),
            1,
        ),
        case(
            "a 2 MiB body over a 1 MiB limit",
            Action::json(200, big),
            Fails::Lost(TransportKind::ResponseTooLarge),
            1,
        ),
        case(
            "gzip bomb (8 MiB inflated)",
            Action::respond(ProxyResponse::json(200, bomb).with_header("Content-Encoding", "gzip")),
            Fails::Lost(TransportKind::ResponseTooLarge),
            1,
        ),
        case(
            "an empty body labelled gzip",
            Action::respond(
                ProxyResponse::json(200, Bytes::new()).with_header("Content-Encoding", "gzip"),
            ),
            Fails::Lost(TransportKind::Serialization),
            1,
        ),
        // The node goes away while it holds the request: neither the retries nor the
        // release can reach it; the scroll lives until its keep-alive ends on the server.
        Case {
            name: "node killed mid-request",
            action: Action::Stall,
            fails: Fails::Lost(TransportKind::Connect),
            deliveries: 1,
            released: false,
            timeout: TIMEOUT,
        },
    ];
    for c in cases {
        ids.lock().unwrap().clear();
        proxy.reset_counters();
        let action = c.action.clone();
        proxy.set_rule(Arc::new(move |info: &RequestInfo| {
            is_next_page(&info.method, info.path_only()).then(|| action.clone())
        }));
        let what = c.name;
        let client = faulty_client(&proxy, RETRIES, c.timeout, MAX_RESPONSE);
        // Kills the node once the proxy holds the next page's request.
        let killer = (what == "node killed mid-request").then(|| {
            let h = proxy.handle();
            tokio::spawn(async move {
                let deadline = Instant::now() + DEADLINE;
                while !h
                    .request_log()
                    .iter()
                    .any(|r| is_next_page(&r.method, &r.path))
                {
                    assert!(
                        Instant::now() < deadline,
                        "the next page never reached the proxy"
                    );
                    tokio::time::sleep(Duration::from_millis(5)).await;
                }
                tokio::time::sleep(Duration::from_millis(100)).await;
                h.set_mode(Mode::Refuse);
            })
        });
        let mut hits = Scan::new(&client, "scan-faults")
            .size(PAGE)
            .keep_alive(Duration::from_secs(60))
            .stream::<Num>();
        let (mut ok, mut errors) = (0u32, Vec::new());
        within(what, async {
            while let Some(h) = hits.next().await {
                match h {
                    Ok(_) => ok += 1,
                    Err(e) => errors.push(e),
                }
            }
        })
        .await;
        drop(hits);
        if let Some(k) = killer {
            within(what, k).await.unwrap();
        }
        assert_eq!(ok, PAGE, "{what}: the first page's hits, then the error");
        assert_eq!(
            errors.len(),
            1,
            "{what}: one error, then the end: {errors:?}"
        );
        let e = &errors[0];
        let t = e.transport_error().expect("the transport's error");
        assert!(t.may_have_reached_server(), "{what}: {e}");
        assert!(e.may_have_reached_server(), "{what}: {e}");
        match c.fails {
            Fails::Lost(kind) => {
                assert_eq!(e.kind(), ErrorKind::Scan, "{what}: {e}");
                assert_eq!(e.documents_yielded(), Some(u64::from(PAGE)), "{what}: {e}");
                assert_eq!(t.kind(), kind, "{what}: {e}");
            }
            Fails::Transport(kind) => {
                assert_eq!(e.kind(), ErrorKind::Transport, "{what}: {e}");
                assert_eq!(e.documents_yielded(), None, "{what}: {e}");
                assert_eq!(t.kind(), kind, "{what}: {e}");
            }
        }
        let deliveries = proxy
            .request_log()
            .iter()
            .filter(|r| is_next_page(&r.method, &r.path))
            .count() as u64;
        assert_eq!(
            deliveries, c.deliveries,
            "{what}: deliveries of the next page"
        );
        proxy.clear_rule();
        proxy.set_mode(Mode::Forward);
        let id = ids
            .lock()
            .unwrap()
            .first()
            .cloned()
            .expect("the first page's scroll id");
        if c.released {
            assert!(
                eventually(async || !scroll_alive(&direct, &id).await).await,
                "{what}: the scroll was cleared"
            );
        } else {
            assert!(
                scroll_alive(&direct, &id).await,
                "{what}: the node was gone, so was the release"
            );
            let clear = Request::delete("/_search/scroll")
                .with_json_body(json!({"scroll_id": id}).to_string());
            direct.transport().send(clear).await.unwrap();
        }
        println!(
            "{what}: {PAGE} hits, then {e}; {deliveries} deliveries; released: {}",
            c.released
        );
    }

    // A refused connection on the first page: no hits, no context to release.
    let client = faulty_client(&proxy, RETRIES, TIMEOUT, MAX_RESPONSE);
    proxy.reset_counters();
    proxy.set_mode(Mode::Refuse);
    let mut hits = Scan::new(&client, "scan-faults")
        .size(PAGE)
        .stream::<Value>();
    let first = within("refused", hits.next()).await.expect("an item");
    let e = first.expect_err("refused");
    assert_eq!(
        e.transport_error().map(|t| t.kind()),
        Some(TransportKind::Connect),
        "{e}"
    );
    assert!(
        !e.transport_error().unwrap().may_have_reached_server(),
        "{e}"
    );
    assert_eq!(e.transport_error().unwrap().attempts(), 1 + RETRIES, "{e}");
    assert!(
        within("refused", hits.next()).await.is_none(),
        "the stream ends after the error"
    );
    proxy.set_mode(Mode::Forward);

    // No fault: every document once.
    let n = within(
        "no fault",
        Scan::new(&client, "scan-faults")
            .size(PAGE)
            .stream::<Num>()
            .count(),
    )
    .await;
    assert_eq!(n as u64, DOCS);
}
