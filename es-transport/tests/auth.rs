//! Authentication over real sockets: each credential form reaches the server as the right
//! `Authorization` header, and wrong credentials are an API error 401. (That no secret shows
//! in logs is tested in `secrets_in_logs.rs`, alone in its binary.)

mod tls_support;

use std::sync::Arc;

use base64::Engine as _;
use es_transport::{Credentials, ErrorKind, Request, Transport};
use tls_support::{Handler, TestServer, ok_json};

const PASSWORD: &str = "s3cr3t-pa55";
const API_KEY: &str = "k3y-s3cr3t";
const TOKEN: &str = "t0ken-s3cr3t";

fn b64(s: &str) -> String {
    base64::engine::general_purpose::STANDARD.encode(s)
}

/// Answers 200 to `expected`, else 401 like Elasticsearch does.
fn expecting(expected: &'static str) -> Handler {
    Arc::new(move |req| {
        match req.headers.get("authorization") {
        Some(v) if v == expected => ok_json(r#"{"ok":true}"#),
        _ => http::Response::builder()
            .status(401)
            .header("content-type", "application/json")
            .header("www-authenticate", "Basic realm=\"security\"")
            .header("x-elastic-product", "Elasticsearch")
            .body(bytes::Bytes::from_static(
                br#"{"error":{"type":"security_exception","reason":"unable to authenticate user [elastic] for REST request [/]"},"status":401}"#,
            ))
            .unwrap(),
    }
    })
}

fn seen_auth(server: &TestServer) -> Option<String> {
    server
        .requests()
        .last()?
        .headers
        .get("authorization")
        .map(|v| v.to_str().unwrap().to_owned())
}

#[tokio::test]
async fn each_credential_form_sends_its_header() {
    let server = TestServer::plain(Arc::new(|_| ok_json("{}"))).await;
    let base = format!("http://127.0.0.1:{}", server.addr.port());
    let cases: Vec<(Transport, String)> = vec![
        (
            // Userinfo, percent-encoded.
            Transport::new(format!(
                "http://elastic:p%40ss%3Aword@127.0.0.1:{}",
                server.addr.port()
            ))
            .unwrap(),
            format!("Basic {}", b64("elastic:p@ss:word")),
        ),
        (
            Transport::builder(base.as_str())
                .basic_auth("elastic", PASSWORD)
                .build()
                .unwrap(),
            format!("Basic {}", b64(&format!("elastic:{PASSWORD}"))),
        ),
        (
            Transport::builder(base.as_str())
                .api_key("VuaCfGcBCdbkQm-e5aOx", API_KEY)
                .build()
                .unwrap(),
            format!("ApiKey {}", b64(&format!("VuaCfGcBCdbkQm-e5aOx:{API_KEY}"))),
        ),
        (
            Transport::builder(base.as_str())
                .auth(Credentials::encoded_api_key(b64(&format!("id:{API_KEY}"))))
                .build()
                .unwrap(),
            format!("ApiKey {}", b64(&format!("id:{API_KEY}"))),
        ),
        (
            Transport::builder(base.as_str())
                .bearer_auth(TOKEN)
                .build()
                .unwrap(),
            format!("Bearer {TOKEN}"),
        ),
    ];
    for (t, want) in cases {
        t.send(Request::get("/")).await.unwrap();
        assert_eq!(seen_auth(&server).as_deref(), Some(want.as_str()));
    }
    // Without credentials, no header.
    Transport::new(base.as_str())
        .unwrap()
        .send(Request::get("/"))
        .await
        .unwrap();
    assert_eq!(seen_auth(&server), None);
}

#[tokio::test]
async fn wrong_credentials_are_an_api_error_401() {
    let server = TestServer::plain(expecting("Basic ZWxhc3RpYzpyaWdodA==")).await; // elastic:right
    let url = format!("http://127.0.0.1:{}", server.addr.port());
    let ok = Transport::builder(url.as_str())
        .basic_auth("elastic", "right")
        .build()
        .unwrap();
    assert!(ok.send(Request::get("/")).await.is_ok());
    let bad = Transport::builder(url.as_str())
        .basic_auth("elastic", "wrong")
        .build()
        .unwrap();
    let err = bad.send(Request::get("/")).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Api);
    assert_eq!(err.status().map(|s| s.as_u16()), Some(401));
    assert_eq!(
        err.api_error().unwrap().error_type(),
        Some("security_exception")
    );
    assert_eq!(server.requests().len(), 2, "a 401 is not retried");
}
