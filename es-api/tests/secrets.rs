//! Secrets never show in the `Debug` of a client, nor in the error of a security answer
//! that fails typed parsing (issue 17, "Secrets"), over real sockets: a counting server
//! answers with exactly the bytes chosen here and counts the requests it executed.

use std::sync::Arc;

use bytes::Bytes;
use es_api::{Client, Credentials, ErrorKind, RequestOptions};
use es_tests::counting::{CountingServer, Responder};
use serde::Deserialize;
use serde_json::json;

/// Fails when `text` shows `secret` or any 6-byte piece of it.
#[track_caller]
fn assert_hides(secret: &str, text: &str) {
    for w in secret.as_bytes().windows(6.min(secret.len())) {
        let piece = String::from_utf8_lossy(w);
        assert!(
            !text.contains(&*piece),
            "`{piece}` of the secret `{secret}` shows in:\n{text}"
        );
    }
}

/// A server answering each `(path, body)` with 200 and that body.
fn server(answers: Vec<(&'static str, &'static str)>) -> CountingServer {
    let responder: Responder = Arc::new(move |req| {
        answers
            .iter()
            .find(|(p, _)| *p == req.path_only())
            .map(|(_, b)| (200, Bytes::from_static(b.as_bytes())))
    });
    CountingServer::builder().responder(responder).start()
}

const ACCESS: &str = "dGhpcyBpcyBub3QtYS1yZWFsLXRva2Vu";
const REFRESH: &str = "vLBPvmAB6KvwvJZr27cS";
const HTTP_CA_KEY: &str = "MIIJlAIBAzVoGCSqGSIb3DQEHAaCC";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_token_that_fails_typed_parsing_is_not_in_the_error() {
    #[derive(Debug, Deserialize)]
    #[allow(dead_code)]
    struct Token {
        access_token: String,
        expires_in: u64,
        refresh_token: String,
    }
    #[derive(Debug, Deserialize)]
    #[allow(dead_code)]
    struct Enrollment {
        http_ca_key: String,
        http_ca_cert: String,
        nodes_addresses: Vec<u16>,
    }
    // The get-token answer of the API reference, with a string where a number belongs;
    // the enroll-node answer with addresses that are not numbers.
    let s = server(vec![
        (
            "/_security/oauth2/token",
            r#"{"access_token":"dGhpcyBpcyBub3QtYS1yZWFsLXRva2Vu","type":"Bearer","expires_in":"1200s","refresh_token":"vLBPvmAB6KvwvJZr27cS"}"#,
        ),
        (
            "/_security/enroll/node",
            r#"{"http_ca_key":"MIIJlAIBAzVoGCSqGSIb3DQEHAaCC","http_ca_cert":"MIIJlAIBAzCC","nodes_addresses":["192.168.1.2:9300"]}"#,
        ),
    ]);
    let client = Client::from_url(&s.url()).unwrap();
    let answer = client
        .security()
        .get_token()
        .body(json!({"grant_type": "password", "username": "u", "password": "p"}))
        .await
        .unwrap();
    assert_eq!(s.requests(), 1);
    let err = answer.json::<Token>().unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Serialization);
    let shown = format!("{err}\n{err:?}");
    assert_hides(ACCESS, &shown);
    assert_hides(REFRESH, &shown);
    assert!(shown.contains(r#"invalid type: string "1200s""#), "{shown}");

    let answer = client.security().enroll_node().await.unwrap();
    assert_eq!(s.requests(), 2);
    let err = answer.json::<Enrollment>().unwrap_err();
    let shown = format!("{err}\n{err:?}");
    assert_hides(HTTP_CA_KEY, &shown);
    assert!(shown.contains("192.168.1.2:9300"), "{shown}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn client_debug_shows_no_credential_and_the_headers_are_still_sent() {
    // 401 unless the secret header arrives as set.
    let responder: Responder = Arc::new(|req| {
        let sent = req.header("x-api-key") == Some("xak-s3cret-value");
        Some(if sent {
            (
                200,
                Bytes::from_static(br#"{"tagline":"You Know, for Search"}"#),
            )
        } else {
            (
                401,
                Bytes::from_static(br#"{"error":"no key","status":401}"#),
            )
        })
    });
    let s = CountingServer::builder().responder(responder).start();
    let client = Client::builder(s.url().as_str())
        .basic_auth("elastic", "b4sic-s3cret")
        .build()
        .unwrap()
        .options(
            RequestOptions::new()
                .header("Authorization", "ApiKey aGVhZGVyLXMzY3JldA==")
                .header("X-Api-Key", "xak-s3cret-value")
                .header("es-secondary-authorization", "Bearer s3c0nd-s3cret")
                .header("x-trace-tag", "visible-tag")
                .auth(Credentials::bearer("b3arer-s3cret")),
        );
    let shown = format!("{client:?}\n{client:#?}");
    for secret in [
        "b4sic-s3cret",
        "aGVhZGVyLXMzY3JldA==",
        "xak-s3cret-value",
        "s3c0nd-s3cret",
        "b3arer-s3cret",
    ] {
        assert_hides(secret, &shown);
    }
    assert!(shown.contains("authorization"), "{shown}");
    assert!(shown.contains("visible-tag"), "{shown}");
    // Printing redacts; sending does not: the request goes out with its headers.
    client.info().await.unwrap();
    assert_eq!(s.requests(), 1);
}
