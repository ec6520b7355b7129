//! Secrets never show in the errors of answers that fail typed parsing, in redacted
//! bodies, or in the `Debug` of request options (issue 17, "Secrets").
//!
//! The typed-parse tests go over real sockets: a counting server answers each path with
//! exactly the bytes chosen here, and every test checks the server saw one request.

use std::sync::Arc;

use bytes::Bytes;
use es_tests::counting::{CountingServer, Responder};
use es_transport::redact::redact;
use es_transport::{ErrorKind, Request, RequestOptions, Transport};
use serde::Deserialize;

/// A `POST /_security/oauth2/token` answer, as in the get-token API reference.
#[derive(Debug, Deserialize)]
#[allow(dead_code)]
struct Token {
    access_token: String,
    #[serde(default)]
    refresh_token: Option<String>,
    expires_in: u64,
}

/// A server answering `GET {path}` with `body` (200, JSON) for each pair.
fn server(answers: &[(&'static str, String)]) -> CountingServer {
    let answers: Vec<(&'static str, Bytes)> = answers
        .iter()
        .map(|(p, b)| (*p, Bytes::from(b.clone())))
        .collect();
    let responder: Responder = Arc::new(move |req| {
        answers
            .iter()
            .find(|(p, _)| *p == req.path_only())
            .map(|(_, b)| (200, b.clone()))
    });
    CountingServer::builder().responder(responder).start()
}

/// Fails when `text` shows `secret` or any 6-byte piece of it.
#[track_caller]
fn assert_hides(secret: &str, text: &str) {
    let b = secret.as_bytes();
    for w in b.windows(6.min(b.len())) {
        let piece = String::from_utf8_lossy(w);
        assert!(
            !text.contains(&*piece),
            "`{piece}` of the secret `{secret}` shows in:\n{text}"
        );
    }
}

/// The `Display` and `Debug` of the error of parsing the answer to `path` as `T`.
async fn parse_error<T: serde::de::DeserializeOwned + std::fmt::Debug>(
    server: &CountingServer,
    path: &str,
) -> String {
    let t = Transport::new(server.url().as_str()).unwrap();
    let before = server.requests();
    let resp = t.send(Request::get(path)).await.unwrap();
    assert_eq!(
        server.requests(),
        before + 1,
        "one request reached the server"
    );
    let err = resp.json::<T>().unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Serialization);
    format!("{err}\n{err:?}")
}

const ACCESS: &str = "dGhpcyBpcyBub3Q=";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_token_answer_that_fails_typed_parsing_does_not_show_the_token() {
    let body = format!(r#"{{"access_token":"{ACCESS}", "expires_in": "oops"}}"#);
    let s = server(&[("/_security/oauth2/token", body)]);
    let shown = parse_error::<Token>(&s, "/_security/oauth2/token").await;
    assert_hides(ACCESS, &shown);
    // The error still says what is wrong, and where.
    assert!(shown.contains("expected u64"), "{shown}");
    assert!(shown.contains(r#""expires_in": "oops""#), "{shown}");
    assert!(shown.contains(r#""[redacted]", "expires_in""#), "{shown}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_excerpt_that_starts_or_ends_inside_a_secret_shows_none_of_it() {
    // Secrets longer than the excerpt's 40 bytes on each side: the window cuts them, and
    // the key of the first one is outside the window.
    let long_access = "QUNDRVNTLXRva2VuLXNlY3JldC1vbmUtdHdvLXRocmVlLWZvdXItZml2ZS1zaXgtc2V2ZW4";
    let long_refresh = "UkVGUkVTSC10b2tlbi1zZWNyZXQtb25lLXR3by10aHJlZS1mb3VyLWZpdmUtc2l4LXNldmVu";
    let s = server(&[
        (
            "/starts-inside",
            format!(r#"{{"access_token":"{long_access}","expires_in":"oops"}}"#),
        ),
        (
            "/ends-inside",
            format!(
                r#"{{"access_token":"a","expires_in":"oops","refresh_token":"{long_refresh}"}}"#
            ),
        ),
        (
            "/pretty",
            format!("{{\n  \"access_token\" : \"{long_access}\",\n  \"expires_in\" : true\n}}\n"),
        ),
    ]);
    let starts = parse_error::<Token>(&s, "/starts-inside").await;
    assert_hides(long_access, &starts);
    assert!(
        starts.contains(r#"[redacted]","expires_in":"oops""#),
        "{starts}"
    );
    let ends = parse_error::<Token>(&s, "/ends-inside").await;
    assert_hides(long_refresh, &ends);
    assert!(ends.contains(r#""refresh_token":"[redacted]""#), "{ends}");
    // A one-letter secret does not make every message look like it quotes it.
    assert!(ends.contains(r#"invalid type: string "oops""#), "{ends}");
    let pretty = parse_error::<Token>(&s, "/pretty").await;
    assert_hides(long_access, &pretty);
    assert!(pretty.contains("line 3"), "{pretty}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serdes_message_is_withheld_when_it_quotes_a_secret() {
    #[derive(Debug, Deserialize)]
    #[allow(dead_code)]
    struct User {
        password: u64,
    }
    #[derive(Debug, Deserialize)]
    #[allow(dead_code)]
    struct Flattened {
        #[serde(flatten)]
        user: User,
        n: u8,
    }
    let s = server(&[
        // The error is at the secret value itself: serde quotes the value.
        (
            "/at-the-secret",
            r#"{"access_token":123456789012345,"expires_in":1}"#.to_owned(),
        ),
        ("/user", r#"{"password":"hunter2-hunter2"}"#.to_owned()),
        // Flattened fields are buffered: the error is at the end of the object, far
        // from the value its message quotes.
        (
            "/flattened",
            r#"{"password":"hunter2-hunter2","n":1,"padding":"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"}"#.to_owned(),
        ),
        // Escapes in the secret: serde quotes the decoded text.
        ("/escaped", r#"{"password":"hunter\u0032-\"quoted\""}"#.to_owned()),
    ]);
    let at = parse_error::<Token>(&s, "/at-the-secret").await;
    assert_hides("123456789012345", &at);
    assert!(at.contains("invalid data at line 1 column"), "{at}");
    assert!(at.contains("withheld"), "{at}");
    let user = parse_error::<User>(&s, "/user").await;
    assert_hides("hunter2-hunter2", &user);
    let flat = parse_error::<Flattened>(&s, "/flattened").await;
    assert_hides("hunter2-hunter2", &flat);
    let escaped = parse_error::<User>(&s, "/escaped").await;
    assert_hides("hunter2-\"quoted\"", &escaped);
    assert_hides("hunter2-\\\"quoted", &escaped);
}

#[test]
fn the_transports_serializer_redacts_its_parse_errors_too() {
    // `Serializer::from_slice` goes through erased-serde and the same error excerpt.
    let t = Transport::new("http://localhost:9200").unwrap();
    let body = format!(r#"{{"access_token":"{ACCESS}","expires_in":"oops"}}"#);
    let err = t
        .serializer()
        .from_slice::<Token>(body.as_bytes())
        .unwrap_err();
    let shown = format!("{err}\n{err:?}");
    assert_hides(ACCESS, &shown);
    assert!(shown.contains(r#""expires_in":"oops""#), "{shown}");
}

#[test]
fn keys_written_with_escapes_are_secret_keys() {
    for body in [
        r#"{"\u0070assword":"hunter2-hunter2"}"#,
        r#"{"p\u0061ss\u0077ord":"hunter2-hunter2"}"#,
        r#"{"PASS\u0057ORD" : "hunter2-hunter2"}"#,
        r#"{"access\u005ftoken":"hunter2-hunter2"}"#,
        r#"{"\u0074\u006f\u006b\u0065\u006e":{"name":"t","value":"hunter2-hunter2"}}"#,
    ] {
        let r = redact(body);
        assert_hides("hunter2-hunter2", &r);
        assert!(r.contains(r#""[redacted]""#), "{body} -> {r}");
    }
    // An escape that decodes to another key is not a secret key.
    let kept = r#"{"pass\u0077orld":"visible"}"#;
    assert_eq!(redact(kept), kept);
}

#[test]
fn enrollment_keys_are_secret_and_certificates_are_not() {
    // `GET /_security/enroll/node`, shaped as in its API reference.
    let body = r#"{"http_ca_key":"S0VZLWh0dHAtY2Eta2V5LXNlY3JldA","http_ca_cert":"MIIJlAIBAzCCCV4GCSqG","transport_key":"VFJBTlNQT1JULWtleS1zZWNyZXQ","transport_cert":"MIIEJgIBAzCCA","transport_ca_cert":"MIIEJgIBAz","nodes_addresses":["192.168.1.2:9300"]}"#;
    let r = redact(body);
    assert_hides("S0VZLWh0dHAtY2Eta2V5LXNlY3JldA", &r);
    assert_hides("VFJBTlNQT1JULWtleS1zZWNyZXQ", &r);
    assert!(
        r.contains(r#""http_ca_cert":"MIIJlAIBAzCCCV4GCSqG""#),
        "{r}"
    );
    assert!(r.contains(r#""transport_cert":"MIIEJgIBAzCCA""#), "{r}");
    assert!(r.contains("192.168.1.2:9300"), "{r}");
}

#[test]
fn connector_secrets_are_redacted_in_their_shape_only() {
    // `GET /_connector/_secret/{id}` and `POST /_connector/_secret`.
    let answer = r#"{"id":"my-connector-secret-id","value":"c0nnect0r-s3cret"}"#;
    assert_eq!(
        redact(answer),
        r#"{"id":"my-connector-secret-id","value":"[redacted]"}"#
    );
    assert_eq!(
        redact(r#"{ "value" : "c0nnect0r-s3cret" }"#),
        r#"{ "value" : "[redacted]" }"#
    );
    // NDJSON lines are top-level objects too, and a cut answer still has the shape.
    let r = redact("{\"took\":1}\n{\"id\":\"i\",\"value\":\"c0nnect0r-s3cret\"}\n");
    assert_hides("c0nnect0r-s3cret", &r);
    assert_hides(
        "c0nnect0r-s3cret",
        &redact(r#"{"id":"i","value":"c0nnect0r-s3c"#),
    );
    // `value` anywhere else is data.
    for kept in [
        r#"{"hits":{"total":{"value":20,"relation":"eq"}}}"#,
        r#"{"aggregations":{"max_price":{"value":200.0}}}"#,
        r#"{"id":"x","value":"kept","result":"created"}"#,
        r#"[{"id":"x","value":"kept"}]"#,
    ] {
        assert_eq!(redact(kept), kept);
    }
}

#[test]
fn saml_and_oidc_credentials_are_redacted() {
    let cases: &[(&str, &[&str])] = &[
        // security.saml_authenticate request.
        (
            r#"{"content":"PHNhbWxwOlJlc3BvbnNlIHhtbG5zOnNhbWxwPSJ1cm46b2FzaXM","ids":["4fee3b046395c4e751011e97f8900b5273d56685"],"realm":"saml1"}"#,
            &["PHNhbWxwOlJlc3BvbnNlIHhtbG5zOnNhbWxwPSJ1cm46b2FzaXM"],
        ),
        // security.saml_invalidate request.
        (
            r#"{"query_string":"SAMLRequest=nZFda4MwFIb%2FiuS%2BmviRpqFaClKQdbvo2l3sLiRHK2hiEy3dv1%2B0FQqDXuwy5%2BR5z3vyrNbXtgkuYF2tVYbIAqMAlNCyVlWGjoftLEXr9&SigAlg=http%3A%2F%2Fwww.w3.org%2F2000%2F09%2Fxmldsig%23rsa-sha256&Signature=MsAYz2NFdovMG2mXf6TSpu5vlQQyEJAg%3D%3D","acs":"https://kibana.org/api/security/saml/callback","realm":"saml1"}"#,
            &["nZFda4MwFIb", "MsAYz2NFdovMG2mXf6TSpu5vlQQyEJAg"],
        ),
        // security.saml_prepare_authentication answer.
        (
            r#"{"redirect":"https://my-idp.org/login?SAMLRequest=fVJNb9swDP0rhu7%2BkO","realm":"saml1","id":"_989a34500a4f5bf0f00d195aa04a7804b4ed42a1"}"#,
            &["fVJNb9swDP0rhu7"],
        ),
        // security.oidc_prepare_authentication answer.
        (
            r#"{"redirect":"http://127.0.0.1:8080/c2id-login?scope=openid&response_type=id_token&state=4dbrihtIAt3wBTwo6DxK-vdk-sSyDBV8Yf0AjdkdT5I&nonce=WaBPH0KqPVdG5HHdSxPRjfoZbXMCicm5v1OiAj0DUFM","state":"4dbrihtIAt3wBTwo6DxK-vdk-sSyDBV8Yf0AjdkdT5I","nonce":"WaBPH0KqPVdG5HHdSxPRjfoZbXMCicm5v1OiAj0DUFM","realm":"oidc1"}"#,
            &[
                "4dbrihtIAt3wBTwo6DxK",
                "WaBPH0KqPVdG5HHdSxPRjfoZbXMCicm5v1OiAj0DUFM",
            ],
        ),
        // security.oidc_authenticate request: the redirect URI carries the code.
        (
            r#"{"redirect_uri":"https://oidc-kibana.elastic.co:5603/api/security/oidc/callback?code=jtI3Ntt8v3_XvcLzCFGq&state=4dbrihtIAt3wBTwo6DxK-vdk-sSyDBV8Yf0AjdkdT5I","state":"4dbrihtIAt3wBTwo6DxK-vdk-sSyDBV8Yf0AjdkdT5I","nonce":"WaBPH0KqPVdG5HHdSxPRjfoZbXMCicm5v1OiAj0DUFM","realm":"oidc1"}"#,
            &[
                "jtI3Ntt8v3_XvcLzCFGq",
                "4dbrihtIAt3wBTwo6DxK",
                "WaBPH0KqPVdG5HHdSxPRjfoZbXMCicm5v1OiAj0DUFM",
            ],
        ),
        // security.saml_logout / oidc_logout request and answer.
        (
            r#"{"token":"46ToAxZVaXVVZTVKOVF5YU04ZFJVUDVSZlV3","refresh_token":"mJdXLtmvTUSpoLwMvdBt_w"}"#,
            &[
                "46ToAxZVaXVVZTVKOVF5YU04ZFJVUDVSZlV3",
                "mJdXLtmvTUSpoLwMvdBt_w",
            ],
        ),
        (
            r#"{"redirect":"https://my-idp.org/logout/?SAMLRequest=lZLRTsIwFIZfZen9tA&id_token_hint=eyJhbGciOi"}"#,
            &["lZLRTsIwFIZfZen9tA", "eyJhbGciOi"],
        ),
    ];
    for (body, secrets) in cases {
        let r = redact(body);
        for s in *secrets {
            assert_hides(s, &r);
        }
        assert!(serde_json::from_str::<serde_json::Value>(&r).is_ok(), "{r}");
    }
    // The realm and the request ids are not credentials.
    let r = redact(cases[0].0);
    assert!(r.contains(r#""realm":"saml1""#), "{r}");
    assert!(
        r.contains("4fee3b046395c4e751011e97f8900b5273d56685"),
        "{r}"
    );
    // The same keys elsewhere are data: a query_string query, a job's state.
    for kept in [
        r#"{"query":{"query_string":{"query":"state:open AND content:x"}}}"#,
        r#"{"jobs":[{"job_id":"j","state":"opened"}],"count":1}"#,
        r#"{"_source":{"content":"the text","title":"t"}}"#,
    ] {
        assert_eq!(redact(kept), kept);
    }
}

#[test]
fn request_options_debug_hides_credential_headers() {
    let opts = RequestOptions::new()
        .header("Authorization", "ApiKey aGVhZGVyLXNlY3JldA==")
        .header("X-Api-Key", "xak-s3cret-value")
        .header("Cookie", "sid=c00kie-s3cret")
        .header("es-secondary-authorization", "Bearer s3c0nd-s3cret")
        .header("x-my-token", "t0k3n-s3cret")
        .header("x-trace-tag", "visible-tag")
        .idempotent(false);
    let shown = format!("{opts:?}");
    for s in [
        "aGVhZGVyLXNlY3JldA==",
        "xak-s3cret-value",
        "c00kie-s3cret",
        "s3c0nd-s3cret",
        "t0k3n-s3cret",
    ] {
        assert_hides(s, &shown);
    }
    for name in ["authorization", "x-api-key", "cookie", "x-my-token"] {
        assert!(shown.contains(name), "the header names show: {shown}");
    }
    assert!(shown.contains("visible-tag"), "{shown}");
    assert!(shown.contains("idempotent: Some(false)"), "{shown}");
    // Merged options (what `Client::options` keeps) print the same way.
    let merged = RequestOptions::new().merge(&opts);
    assert_hides("aGVhZGVyLXNlY3JldA==", &format!("{merged:#?}"));
}
