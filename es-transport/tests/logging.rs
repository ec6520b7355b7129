//! Logs: the `elasticsearch` line per request and the curl trace, without credentials; and
//! the spans as the fmt subscriber shows them: the request's log line inside `es.request`,
//! `es.attempt` nested under it, the resend count after a retry, the node's name after a
//! sniff. tests/otel_names.rs checks the OpenTelemetry fields one by one.
//!
//! Alone in its own test binary: `tracing` caches per-callsite interest process-wide, so a
//! scoped subscriber is only reliable when no other test thread logs at the same time.

use std::io::Write;
use std::sync::{Arc, Mutex};

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use es_tests::server::OsmemServer;
use es_tests::{Action, FaultProxy, RequestInfo};
use es_transport::{Request, Transport};

/// A writer collecting log output, for a `tracing` subscriber.
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a> tracing_subscriber::fmt::MakeWriter<'a> for Captured {
    type Writer = Captured;
    fn make_writer(&'a self) -> Self::Writer {
        self.clone()
    }
}

#[test]
fn logs_request_lines_and_curl_trace_without_credentials() {
    let server = OsmemServer::start();
    let captured = Captured::default();
    let subscriber = tracing_subscriber::fmt()
        .with_env_filter("elasticsearch=trace,elasticsearch.trace=debug")
        .with_writer(captured.clone())
        .with_ansi(false)
        .finish();
    // `GET /` through the proxy meets one 503, then goes through.
    let proxy = FaultProxy::start(server.addr());
    let calls = Arc::new(AtomicU64::new(0));
    let seen = calls.clone();
    proxy.set_rule(Arc::new(move |r: &RequestInfo| {
        (r.path_only() == "/" && seen.fetch_add(1, Ordering::SeqCst) == 0)
            .then(|| Action::status(503))
    }));
    let url = server.url().replace("http://", "http://elastic:s3cr3t-pw@");
    let node_name = Arc::new(Mutex::new(String::new()));
    tracing::subscriber::with_default(subscriber, || {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(async {
            let t = Transport::builder(url.as_str()).build().unwrap();
            t.send(
                Request::put("/logs/_doc/1?refresh=true").with_json_body(r#"{"msg":"it's here"}"#),
            )
            .await
            .unwrap();
            let _ = t
                .send(Request::get("/missing/_doc/1").with_endpoint("get"))
                .await
                .unwrap_err();
            let retried = Transport::builder(proxy.url().as_str())
                .max_retries(1)
                .retry_backoff(Duration::from_millis(1), Duration::from_millis(5))
                .build()
                .unwrap();
            retried
                .send(Request::get("/").with_endpoint("info"))
                .await
                .unwrap();
            assert!(!format!("{t:?}").contains("s3cr3t"));
            // After a sniff the attempt spans carry the node's name too.
            let sniffed = Transport::builder(server.url().as_str())
                .sniff_on_start(true)
                .build()
                .unwrap();
            sniffed.sniff().await.unwrap();
            let info: serde_json::Value = sniffed
                .send(Request::get("/"))
                .await
                .unwrap()
                .json()
                .unwrap();
            let name = info["name"].as_str().expect("the node's name").to_owned();
            sniffed.send(Request::get("/")).await.unwrap();
            *node_name.lock().unwrap() = name;
        });
    });
    let out = String::from_utf8(captured.0.lock().unwrap().clone()).unwrap();
    assert!(
        out.contains(&format!("PUT {}/logs/_doc/1 [status:201", server.url())),
        "{out}"
    );
    assert!(out.contains("curl -XPUT 'http://localhost:9200/logs/_doc/1?refresh=true&pretty' -H 'Content-Type: application/json' -d '{"), "{out}");
    assert!(out.contains(r#""msg": "it'\''s here""#), "{out}");
    assert!(out.contains("# [201]"), "{out}");
    // The command names localhost:9200; the comment line under it names the node used.
    assert!(
        out.contains(&format!("# node: {}\n# [201]", server.url())),
        "{out}"
    );
    assert!(out.contains("WARN") && out.contains("[status:404"), "{out}");
    // The 404's WARN line is logged inside its request span.
    let line = out
        .lines()
        .find(|l| l.contains("WARN") && l.contains("[status:404"))
        .unwrap_or_else(|| panic!("no 404 line: {out}"));
    let (span, _) = line
        .split_once("}: ")
        .unwrap_or_else(|| panic!("no span on the 404 line: {line}"));
    assert!(
        span.contains("es.request{") && span.contains("db.operation.name=\"get\""),
        "{line}"
    );
    // Its attempt: an `es.attempt` span nested in the `es.request` span (fmt prints the
    // chain `parent{..}:child{..}`), the first send.
    let attempt = out
        .lines()
        .find(|l| l.contains("db.operation.name=\"get\"") && l.contains("}:es.attempt{"))
        .unwrap_or_else(|| panic!("no 404 attempt line: {out}"));
    let (outer, inner) = attempt.split_once("}:es.attempt{").unwrap();
    assert!(outer.contains("es.request{"), "{attempt}");
    assert!(
        inner.starts_with("http.request.resend_count=0"),
        "{attempt}"
    );
    // After one retry, the second attempt of the `info` request is resend 1, under its
    // request span (tests/otel_names.rs checks the span ids).
    let resends: Vec<&str> = out
        .lines()
        .filter(|l| l.contains("db.operation.name=\"info\"") && l.contains("}:es.attempt{"))
        .filter_map(|l| l.split_once("}:es.attempt{").map(|(_, a)| a))
        .filter_map(|a| a.split_whitespace().next())
        .collect();
    assert!(resends.contains(&"http.request.resend_count=0"), "{out}");
    assert!(resends.contains(&"http.request.resend_count=1"), "{out}");
    assert!(
        out.lines().any(|l| l.contains("db.operation.name=\"info\"")
            && l.contains("[status:200")
            && l.contains("attempts:2")),
        "{out}"
    );
    assert_eq!(calls.load(Ordering::SeqCst), 2);
    let name = node_name.lock().unwrap().clone();
    assert!(
        out.contains(&format!("elasticsearch.node.name=\"{name}\"")),
        "{out}"
    );
    assert!(
        !out.contains("s3cr3t") && !out.contains("ZWxhc3RpYzpzM2NyM3QtcHc"),
        "credentials leaked: {out}"
    );
}
