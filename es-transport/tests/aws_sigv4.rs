//! AWS SigV4 signing (feature `aws`), checked by a loopback server that verifies every
//! signature independently: the canonical request, string to sign and HMAC chain are
//! recomputed here from the bytes received (with `ring`, not the signing crate). The verifier
//! is itself checked against AWS's published SigV4 test vectors first.
//!
//! Needs the `aws` feature (`required-features` in Cargo.toml).

mod tls_support;

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use es_transport::aws::{Credentials, ProvideCredentials, SharedCredentialsProvider, SigV4Layer};
use es_transport::{ErrorKind, Request, Transport};
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, percent_decode_str, utf8_percent_encode};
use ring::{digest, hmac};
use tls_support::{Handler, Seen, TestServer, ok_json};

const AKID: &str = "AKIDEXAMPLE";
const SECRET: &str = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";

// ===== an independent SigV4 verifier =====

/// RFC 3986 unreserved characters stay; everything else is `%XX`.
const UNRESERVED: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'~');

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

fn sha256_hex(b: &[u8]) -> String {
    hex(digest::digest(&digest::SHA256, b).as_ref())
}

fn hmac(key: &[u8], data: &str) -> Vec<u8> {
    hmac::sign(&hmac::Key::new(hmac::HMAC_SHA256, key), data.as_bytes())
        .as_ref()
        .to_vec()
}

/// The path as sent, encoded once more (every service but S3 double-encodes).
fn canonical_uri(path: &str) -> String {
    let p = if path.is_empty() { "/" } else { path };
    p.split('/')
        .map(|seg| utf8_percent_encode(seg, UNRESERVED).to_string())
        .collect::<Vec<_>>()
        .join("/")
}

fn canonical_query(query: &str) -> String {
    let enc = |s: &str| {
        utf8_percent_encode(&percent_decode_str(s).decode_utf8_lossy(), UNRESERVED).to_string()
    };
    let mut pairs: Vec<(String, String)> = query
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (k, v) = p.split_once('=').unwrap_or((p, ""));
            (enc(k), enc(v))
        })
        .collect();
    pairs.sort();
    pairs
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join("&")
}

/// Checks the request's SigV4 signature with `secret`; returns the credential scope.
fn verify(
    method: &str,
    path_and_query: &str,
    headers: &http::HeaderMap,
    body: &[u8],
    secret: &str,
) -> Result<String, String> {
    let auth = headers
        .get("authorization")
        .ok_or("no Authorization header")?
        .to_str()
        .unwrap();
    let rest = auth
        .strip_prefix("AWS4-HMAC-SHA256 ")
        .ok_or("not AWS4-HMAC-SHA256")?;
    let mut credential = "";
    let mut signed = "";
    let mut signature = "";
    for part in rest.split(", ") {
        match part.split_once('=') {
            Some(("Credential", v)) => credential = v,
            Some(("SignedHeaders", v)) => signed = v,
            Some(("Signature", v)) => signature = v,
            _ => return Err(format!("bad Authorization part `{part}`")),
        }
    }
    let (_akid, scope) = credential.split_once('/').ok_or("bad credential")?;
    let scope_parts: Vec<&str> = scope.split('/').collect();
    let [date, region, service, "aws4_request"] = scope_parts[..] else {
        return Err(format!("bad scope {scope}"));
    };
    let amz_date = headers
        .get("x-amz-date")
        .ok_or("no x-amz-date")?
        .to_str()
        .unwrap();
    if !amz_date.starts_with(date) {
        return Err("x-amz-date and the scope disagree".into());
    }
    let payload_hash = sha256_hex(body);
    if let Some(h) = headers.get("x-amz-content-sha256")
        && h != payload_hash.as_str()
    {
        return Err("x-amz-content-sha256 is not the hash of the body received".into());
    }
    let (path, query) = path_and_query
        .split_once('?')
        .unwrap_or((path_and_query, ""));
    let mut canonical_headers = String::new();
    for name in signed.split(';') {
        let values: Vec<String> = headers
            .get_all(name)
            .iter()
            .map(|v| {
                v.to_str()
                    .unwrap()
                    .split_whitespace()
                    .collect::<Vec<_>>()
                    .join(" ")
            })
            .collect();
        if values.is_empty() {
            return Err(format!("signed header `{name}` not received"));
        }
        canonical_headers.push_str(&format!("{name}:{}\n", values.join(",")));
    }
    for must in ["host", "x-amz-date"] {
        if !signed.split(';').any(|n| n == must) {
            return Err(format!("`{must}` is not signed"));
        }
    }
    let creq = format!(
        "{method}\n{}\n{}\n{canonical_headers}\n{signed}\n{payload_hash}",
        canonical_uri(path),
        canonical_query(query)
    );
    let sts = format!(
        "AWS4-HMAC-SHA256\n{amz_date}\n{scope}\n{}",
        sha256_hex(creq.as_bytes())
    );
    let k = hmac(format!("AWS4{secret}").as_bytes(), date);
    let k = hmac(&k, region);
    let k = hmac(&k, service);
    let k = hmac(&k, "aws4_request");
    let expected = hex(&hmac(&k, &sts));
    if expected != signature {
        return Err(format!("signature mismatch for canonical request:\n{creq}"));
    }
    Ok(scope.to_owned())
}

fn headers(pairs: &[(&str, &str)]) -> http::HeaderMap {
    pairs
        .iter()
        .map(|(k, v)| (k.parse::<http::HeaderName>().unwrap(), v.parse().unwrap()))
        .collect()
}

/// Method, path and query, headers besides `host` and `x-amz-date`, body.
type Vector = (
    &'static str,
    &'static str,
    Vec<(&'static str, String)>,
    &'static [u8],
);

#[test]
fn verifier_agrees_with_the_published_test_vectors() {
    // From AWS's SigV4 test suite (as shipped in aws-sigv4's aws-signing-test-suite/v4).
    let auth = |signed: &str, sig: &str| {
        format!(
            "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, SignedHeaders={signed}, Signature={sig}"
        )
    };
    let date = "20150830T123600Z";
    let host = "example.amazonaws.com";
    let cases: Vec<Vector> = vec![
        (
            "GET",
            "/",
            vec![(
                "authorization",
                auth(
                    "host;x-amz-date",
                    "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31",
                ),
            )],
            b"",
        ),
        (
            "GET",
            "/?Param2=value2&Param1=value1",
            vec![(
                "authorization",
                auth(
                    "host;x-amz-date",
                    "b97d918cfa904a5beff61c982a1b6f458b799221646efd99d3219ec94cdf2500",
                ),
            )],
            b"",
        ),
        (
            "POST",
            "/?Param1=value1",
            vec![(
                "authorization",
                auth(
                    "host;x-amz-date",
                    "28038455d6de14eafc1f9222cf5aa6f1a96197d7deb8263271d420d138af7f11",
                ),
            )],
            b"",
        ),
        (
            "GET",
            "/",
            vec![
                (
                    "x-amz-security-token",
                    "6e86291e8372ff2a2260956d9b8aae1d763fbf315fa00fa31553b73ebf194267".into(),
                ),
                (
                    "authorization",
                    auth(
                        "host;x-amz-date;x-amz-security-token",
                        "07ec1639c89043aa0e3e2de82b96708f198cceab042d4a97044c66dd9f74e7f8",
                    ),
                ),
            ],
            b"",
        ),
        (
            "POST",
            "/",
            vec![
                ("content-type", "application/x-www-form-urlencoded".into()),
                ("content-length", "13".into()),
                (
                    "x-amz-content-sha256",
                    "9095672bbd1f56dfc5b65f3e153adc8731a4a654192329106275f4c7b24d0b6e".into(),
                ),
                (
                    "authorization",
                    auth(
                        "content-length;content-type;host;x-amz-content-sha256;x-amz-date",
                        "d3875051da38690788ef43de4db0d8f280229d82040bfac253562e56c3f20e0b",
                    ),
                ),
            ],
            b"Param1=value1",
        ),
    ];
    for (method, pq, extra, body) in cases {
        let mut h = headers(&[("host", host), ("x-amz-date", date)]);
        for (k, v) in &extra {
            h.insert(k.parse::<http::HeaderName>().unwrap(), v.parse().unwrap());
        }
        assert_eq!(
            verify(method, pq, &h, body, SECRET),
            Ok("20150830/us-east-1/service/aws4_request".into()),
            "{method} {pq}"
        );
        assert!(verify(method, pq, &h, body, "wrong").is_err());
    }
    // double-url-encode: the path is encoded a second time.
    assert_eq!(
        canonical_uri(
            "/2015-03-31/functions/arn%3Aaws%3Alambda%3Aus-west-2%3A892717189312%3Afunction%3Amy-rusty-fun/invocations"
        ),
        "/2015-03-31/functions/arn%253Aaws%253Alambda%253Aus-west-2%253A892717189312%253Afunction%253Amy-rusty-fun/invocations"
    );
}

// ===== the signing layer against a verifying server =====

/// 200 when the signature verifies with `SECRET`, else 403 with the reason.
fn verifying() -> Handler {
    Arc::new(|req: &Seen| {
        match verify(
            &req.method,
            &req.path_and_query,
            &req.headers,
            &req.body,
            SECRET,
        ) {
            Ok(_) => ok_json(r#"{"acknowledged":true}"#),
            Err(why) => http::Response::builder()
                .status(403)
                .header("content-type", "application/json")
                .header("x-elastic-product", "Elasticsearch")
                .body(bytes::Bytes::from(
                    serde_json::json!({"error": {"type": "security_exception", "reason": why}})
                        .to_string(),
                ))
                .unwrap(),
        }
    })
}

fn at_2015() -> SystemTime {
    SystemTime::UNIX_EPOCH + Duration::from_secs(1_440_938_160) // 2015-08-30T12:36:00Z
}

fn signer(secret: &str, token: Option<&str>) -> SigV4Layer {
    let creds = Credentials::new(AKID, secret, token.map(str::to_owned), None, "test");
    SigV4Layer::new("eu-west-1", SharedCredentialsProvider::new(creds)).time_source(at_2015)
}

#[tokio::test]
async fn signed_requests_verify_on_the_server() {
    let server = TestServer::plain(verifying()).await;
    let url = format!("http://127.0.0.1:{}", server.addr.port());
    let t = Transport::builder(url.as_str())
        .aws_sigv4(signer(SECRET, None))
        .build()
        .unwrap();
    t.send(Request::get("/_cluster/health?level=indices&pretty"))
        .await
        .unwrap();
    t.send(
        Request::put("/my%20index/_doc/a%2Fb?refresh=true")
            .with_json_body(r#"{"title":"hé, ça marche"}"#),
    )
    .await
    .unwrap();
    t.send(
        Request::post("/logs-*/_search?q=title:hello%20world&size=5")
            .with_json_body(r#"{"size":1}"#),
    )
    .await
    .unwrap();
    t.send(Request::delete("/my%20index")).await.unwrap();
    let seen = server.requests();
    assert_eq!(seen.len(), 4);
    for r in &seen {
        assert_eq!(
            r.headers["x-amz-date"], "20150830T123600Z",
            "the injected time is used"
        );
        let scope = verify(&r.method, &r.path_and_query, &r.headers, &r.body, SECRET).unwrap();
        assert_eq!(scope, "20150830/eu-west-1/es/aws4_request");
    }
}

#[tokio::test]
async fn the_signature_covers_the_gzipped_body() {
    let server = TestServer::plain(verifying()).await;
    let url = format!("http://127.0.0.1:{}", server.addr.port());
    let t = Transport::builder(url.as_str())
        .http_compress(true)
        .aws_sigv4(signer(SECRET, Some("session-token")).service("aoss"))
        .build()
        .unwrap();
    let body =
        serde_json::json!({"query": {"match": {"title": "compressed ".repeat(200)}}}).to_string();
    t.send(Request::post("/idx/_search").with_json_body(body.clone()))
        .await
        .unwrap();
    let r = &server.requests()[0];
    assert_eq!(r.headers["content-encoding"], "gzip");
    assert!(r.body.len() < body.len() / 4, "the body went gzipped");
    assert_eq!(
        r.headers["x-amz-content-sha256"],
        sha256_hex(&r.body).as_str(),
        "hash of the gzipped bytes"
    );
    assert_eq!(r.headers["x-amz-security-token"], "session-token");
    let scope = verify(&r.method, &r.path_and_query, &r.headers, &r.body, SECRET).unwrap();
    assert_eq!(scope, "20150830/eu-west-1/aoss/aws4_request");
    let signed = r.headers["authorization"].to_str().unwrap();
    assert!(
        signed.contains("content-encoding") && signed.contains("x-amz-security-token"),
        "{signed}"
    );
}

#[tokio::test]
async fn a_wrong_secret_is_rejected_and_basic_auth_is_replaced() {
    let server = TestServer::plain(verifying()).await;
    let url = format!("http://127.0.0.1:{}", server.addr.port());
    let t = Transport::builder(url.as_str())
        .aws_sigv4(signer("not-the-secret", None))
        .build()
        .unwrap();
    let err = t.send(Request::get("/")).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Api);
    assert_eq!(err.status().map(|s| s.as_u16()), Some(403));
    assert!(err.to_string().contains("signature mismatch"), "{err}");
    // SigV4 replaces any other Authorization header.
    let t = Transport::builder(url.as_str())
        .basic_auth("u", "p")
        .aws_sigv4(signer(SECRET, None))
        .build()
        .unwrap();
    t.send(Request::get("/")).await.unwrap();
}

#[derive(Debug)]
struct Rotating(std::sync::atomic::AtomicU32);

/// A provider of the AWS SDK's kind (as `aws_config`'s chain is): new credentials each time,
/// and a failure on the third call.
impl ProvideCredentials for Rotating {
    fn provide_credentials<'a>(
        &'a self,
    ) -> aws_credential_types::provider::future::ProvideCredentials<'a>
    where
        Self: 'a,
    {
        let n = self.0.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        aws_credential_types::provider::future::ProvideCredentials::new(async move {
            if n == 2 {
                return Err(
                    aws_credential_types::provider::error::CredentialsError::not_loaded(
                        "credentials expired and could not be refreshed",
                    ),
                );
            }
            Ok(Credentials::new(
                format!("AKID{n}"),
                SECRET,
                None,
                None,
                "rotating",
            ))
        })
    }
}

#[tokio::test]
async fn a_provider_is_asked_for_each_request() {
    let server = TestServer::plain(verifying()).await;
    let url = format!("http://127.0.0.1:{}", server.addr.port());
    let layer = SigV4Layer::new(
        "us-east-1",
        SharedCredentialsProvider::new(Rotating(Default::default())),
    )
    .time_source(at_2015);
    let t = Transport::builder(url.as_str())
        .aws_sigv4(layer)
        .build()
        .unwrap();
    t.send(Request::get("/")).await.unwrap();
    t.send(Request::get("/")).await.unwrap();
    let err = t.send(Request::get("/")).await.unwrap_err();
    assert!(err.to_string().contains("could not be refreshed"), "{err}");
    let ids: Vec<String> = server
        .requests()
        .iter()
        .map(|r| {
            r.headers["authorization"]
                .to_str()
                .unwrap()
                .split('/')
                .next()
                .unwrap()
                .to_owned()
        })
        .collect();
    assert_eq!(
        ids,
        [
            "AWS4-HMAC-SHA256 Credential=AKID0",
            "AWS4-HMAC-SHA256 Credential=AKID1"
        ]
    );
}

/// Issue 8, item 3: a request that waits for a free connection is signed once it has one,
/// not before the wait (a signature dated before a long queue could expire on the way).
/// One connection per node; the first request holds it until the test releases the server;
/// the second is issued meanwhile and must not be signed until the first is answered.
#[tokio::test(flavor = "multi_thread", worker_threads = 3)]
async fn requests_are_signed_after_waiting_for_a_connection() {
    use std::sync::Mutex;
    use std::sync::mpsc;
    use std::time::Instant;

    let (arrived_tx, arrived_rx) = mpsc::channel::<()>();
    let (release_tx, release_rx) = mpsc::channel::<()>();
    let (arrived_tx, release_rx) = (Mutex::new(arrived_tx), Mutex::new(release_rx));
    let handler: Handler = Arc::new(move |r: &Seen| {
        if r.path_and_query.starts_with("/slow") {
            arrived_tx.lock().unwrap().send(()).unwrap();
            // Blocks one server worker until released (the test runtime has three).
            release_rx.lock().unwrap().recv().unwrap();
        }
        ok_json(r#"{"acknowledged":true}"#)
    });
    let server = TestServer::plain(handler).await;
    let signed_at: Arc<Mutex<Vec<Instant>>> = Arc::default();
    let clock = signed_at.clone();
    let layer = SigV4Layer::new(
        "eu-west-1",
        SharedCredentialsProvider::new(Credentials::new(AKID, SECRET, None, None, "test")),
    )
    .time_source(move || {
        clock.lock().unwrap().push(Instant::now());
        SystemTime::now()
    });
    let t = Transport::builder(server.url("http", "127.0.0.1").as_str())
        .connections_per_node(1)
        .aws_sigv4(layer)
        .build()
        .unwrap();

    let ta = t.clone();
    let a = tokio::spawn(async move { ta.send(Request::get("/slow")).await });
    tokio::task::block_in_place(|| arrived_rx.recv_timeout(Duration::from_secs(10)))
        .expect("the first request reached the server");
    let tb = t.clone();
    let b = tokio::spawn(async move { tb.send(Request::get("/fast")).await });
    // The second request is queued for the only connection now.
    tokio::time::sleep(Duration::from_millis(300)).await;
    let signed_while_queued = signed_at.lock().unwrap().len();
    let released = Instant::now();
    release_tx.send(()).unwrap();
    a.await.unwrap().expect("first request");
    b.await.unwrap().expect("second request");

    assert_eq!(
        signed_while_queued, 1,
        "only the request holding the connection was signed before it was released"
    );
    let times = signed_at.lock().unwrap().clone();
    assert_eq!(times.len(), 2, "one signature per request");
    assert!(
        times[1] >= released,
        "the queued request was signed after the wait"
    );
    // Both signatures verify on the server.
    for r in server.requests() {
        verify(&r.method, &r.path_and_query, &r.headers, &r.body, SECRET).unwrap();
    }
}
