//! Logs: the `elasticsearch` line per request and the curl trace, without credentials.
//!
//! Alone in its own test binary: `tracing` caches per-callsite interest process-wide, so a
//! scoped subscriber is only reliable when no other test thread logs at the same time.

use std::io::Write;
use std::sync::{Arc, Mutex};

use es_tests::server::OsmemServer;
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
            let _ = t.send(Request::get("/missing/_doc/1")).await.unwrap_err();
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
    // OpenTelemetry names: the request span, and one attempt span under it.
    assert!(out.contains("db.system.name=\"elasticsearch\""), "{out}");
    assert!(out.contains("server.address=\"127.0.0.1\""), "{out}");
    assert!(
        out.contains(&format!("server.port={}", server.port())),
        "{out}"
    );
    assert!(
        out.contains("es.attempt{http.request.resend_count=0"),
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
