//! No credential ever shows in logs (every target at TRACE, `elasticsearch` and
//! `elasticsearch.trace` included), in `Debug` output or in error messages, for failing
//! authenticated requests: 401s, a refused connection, a TLS failure. Also: building with
//! `verify_certs(false)` logs a WARN.
//!
//! Alone in its own test binary, with one test: `tracing` caches per-callsite interest
//! process-wide, so a scoped subscriber is only reliable when no other test thread logs.

mod tls_support;

use std::io::Write;
use std::sync::{Arc, Mutex};

use base64::Engine as _;
use es_transport::{Credentials, Request, Transport};
use tls_support::{Handler, TestServer, ok_json, self_signed};
use tracing_subscriber::filter::LevelFilter;

const PASSWORD: &str = "s3cr3t-pa55";
const API_KEY: &str = "k3y-s3cr3t";
const TOKEN: &str = "t0ken-s3cr3t";
const AWS_SECRET: &str = "aws-s3cr3t-key";
const AWS_TOKEN: &str = "aws-s3ssion-t0ken";

fn b64(s: &str) -> String {
    base64::engine::general_purpose::STANDARD.encode(s)
}

/// Always 401, like Elasticsearch with bad credentials.
fn unauthorized() -> Handler {
    Arc::new(|_| {
        http::Response::builder()
            .status(401)
            .header("content-type", "application/json")
            .header("x-elastic-product", "Elasticsearch")
            .body(bytes::Bytes::from_static(
                br#"{"error":{"type":"security_exception","reason":"unable to authenticate user [elastic]"},"status":401}"#,
            ))
            .unwrap()
    })
}

#[derive(Clone, Default)]
struct Capture(Arc<Mutex<Vec<u8>>>);

impl Write for Capture {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

fn assert_no_secret(what: &str, text: &str) {
    let secrets = [
        PASSWORD.to_owned(),
        API_KEY.to_owned(),
        TOKEN.to_owned(),
        AWS_SECRET.to_owned(),
        AWS_TOKEN.to_owned(),
        b64(&format!("elastic:{PASSWORD}")),
        b64(&format!("id:{API_KEY}")),
        b64(&format!("VuaCfGcBCdbkQm-e5aOx:{API_KEY}")),
        "s3cr3t".to_owned(),
    ];
    for s in &secrets {
        assert!(
            !text.contains(s.as_str()),
            "{what} contains the secret `{s}`:\n{text}"
        );
    }
}

fn source_chain(err: &es_transport::Error) -> String {
    let mut s = String::new();
    let mut cur: Option<&dyn std::error::Error> = std::error::Error::source(err);
    while let Some(e) = cur {
        s.push_str(&format!("{e} {e:?}\n"));
        cur = e.source();
    }
    s
}

#[tokio::test]
async fn credentials_never_appear_in_logs_debug_or_errors() {
    let cap = Capture::default();
    let w = cap.clone();
    // Everything at TRACE: both of our targets, and every dependency's.
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(LevelFilter::TRACE)
        .with_writer(move || w.clone())
        .with_ansi(false)
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);

    let server = TestServer::plain(unauthorized()).await;
    let port = server.addr.port();
    let url = format!("http://127.0.0.1:{port}");
    let tls_server = TestServer::tls(
        &[],
        &self_signed(&["localhost"]),
        None,
        Arc::new(|_| ok_json("{}")),
    )
    .await;
    // A port nobody listens on.
    let closed = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();

    #[allow(unused_mut)]
    let mut builders = vec![
        Transport::builder(url.as_str()).basic_auth("elastic", PASSWORD),
        Transport::builder(url.as_str()).api_key("VuaCfGcBCdbkQm-e5aOx", API_KEY),
        Transport::builder(url.as_str())
            .auth(Credentials::encoded_api_key(b64(&format!("id:{API_KEY}")))),
        Transport::builder(url.as_str()).bearer_auth(TOKEN),
        Transport::builder(format!("http://elastic:{PASSWORD}@127.0.0.1:{port}")),
        Transport::builder(format!("http://elastic:{PASSWORD}@127.0.0.1:{closed}")).max_retries(1),
        Transport::builder(format!(
            "https://elastic:{PASSWORD}@localhost:{}",
            tls_server.addr.port()
        ))
        .max_retries(0),
        Transport::builder(format!("https://localhost:{}", tls_server.addr.port()))
            .api_key("id", API_KEY)
            .max_retries(0),
    ];
    #[cfg(feature = "aws")]
    {
        use es_transport::aws::{Credentials, SharedCredentialsProvider, SigV4Layer};
        let creds = Credentials::new(
            "AKIDEXAMPLE",
            AWS_SECRET,
            Some(AWS_TOKEN.to_owned()),
            None,
            "test",
        );
        builders.push(
            Transport::builder(url.as_str())
                .http_compress(true)
                .aws_sigv4(SigV4Layer::new(
                    "us-east-1",
                    SharedCredentialsProvider::new(creds),
                )),
        );
    }
    let n = builders.len();
    let mut failures = 0;
    for b in builders {
        assert_no_secret("builder Debug", &format!("{b:?}"));
        let t = b.build().unwrap();
        assert_no_secret("transport Debug", &format!("{t:?}"));
        let nodes = t.nodes();
        assert_no_secret(
            "nodes",
            &format!(
                "{nodes:?} {}",
                nodes.iter().map(ToString::to_string).collect::<String>()
            ),
        );
        let err = t
            .send(Request::post("/idx/_search").with_json_body(r#"{"query":{"match_all":{}}}"#))
            .await
            .unwrap_err();
        failures += 1;
        assert_no_secret("error Display", &err.to_string());
        assert_no_secret("error Debug", &format!("{err:?}"));
        assert_no_secret("error source chain", &source_chain(&err));
    }
    // Secrets in bodies: a user's password in the request, an API key in the response.
    let keys = TestServer::plain(Arc::new(|_| {
        ok_json(&format!(
            r#"{{"id":"VuaCfGcBCdbkQm-e5aOx","name":"my-api-key","api_key":"{API_KEY}","encoded":"{}"}}"#,
            b64(&format!("VuaCfGcBCdbkQm-e5aOx:{API_KEY}"))
        ))
    }))
    .await;
    let t = Transport::builder(format!("http://127.0.0.1:{}", keys.addr.port()).as_str())
        .product_check(false)
        .build()
        .unwrap();
    t.send(Request::put("/_security/user/bob").with_json_body(format!(
        r#"{{"password":"{PASSWORD}","roles":["admin"],"full_name":"Bob"}}"#
    )))
    .await
    .unwrap();
    t.send(Request::post("/_security/api_key").with_json_body(r#"{"name":"my-api-key"}"#))
        .await
        .unwrap();
    // And in an error body that is not an Elasticsearch error object.
    let leaky = TestServer::plain(Arc::new(|_| {
        http::Response::builder()
            .status(500)
            .header("x-elastic-product", "Elasticsearch")
            .body(bytes::Bytes::from(format!(r#"{{"token":"{TOKEN}"}}"#)))
            .unwrap()
    }))
    .await;
    let t = Transport::builder(format!("http://127.0.0.1:{}", leaky.addr.port()).as_str())
        .max_retries(0)
        .build()
        .unwrap();
    let err = t.send(Request::get("/")).await.unwrap_err();
    assert_no_secret("error with a secret in its body", &format!("{err} {err:?}"));
    assert!(err.to_string().contains("[redacted]"), "{err}");

    // A bad URL in an error message.
    let err = Transport::new(format!("ftp://elastic:{PASSWORD}@host")).unwrap_err();
    assert_no_secret("config error", &format!("{err} {err:?}"));
    assert_no_secret(
        "credentials Debug",
        &format!("{:?}", Credentials::basic("elastic", PASSWORD)),
    );

    // verify_certs(false) warns each time a transport is built with it.
    for _ in 0..2 {
        Transport::builder("https://localhost:9200")
            .verify_certs(false)
            .build()
            .unwrap();
    }

    drop(_guard);
    let logs = String::from_utf8(cap.0.lock().unwrap().clone()).unwrap();
    assert_eq!(failures, n);
    assert!(
        logs.contains(" elasticsearch: "),
        "the `elasticsearch` target was captured: {logs}"
    );
    assert!(
        logs.contains("elasticsearch.trace") && logs.contains("curl -XPOST"),
        "the trace target was captured: {logs}"
    );
    assert!(
        logs.contains("[status:401"),
        "the failures were logged: {logs}"
    );
    assert!(
        logs.contains("/_security/user/bob") && logs.contains("\"full_name\": \"Bob\""),
        "the body with the password was traced: {logs}"
    );
    assert!(
        logs.contains("#  \"password\": \"[redacted]\"")
            || logs.contains("\"password\": \"[redacted]\""),
        "{logs}"
    );
    assert!(logs.contains("\"api_key\": \"[redacted]\""), "{logs}");
    assert_no_secret("the logs", &logs);
    let warnings = logs
        .lines()
        .filter(|l| l.contains("WARN") && l.contains("verify_certs(false)"))
        .count();
    assert_eq!(warnings, 2, "{logs}");
}
