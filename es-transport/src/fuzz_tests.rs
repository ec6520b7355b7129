//! Mutation fuzzing of every parser that reads bytes from the network or the user, on the
//! stable toolchain (this machine has no nightly compiler for `cargo fuzz`'s sanitizers).
//!
//! Each target starts from a small corpus of valid inputs (from Elasticsearch's reference
//! documentation) and runs `FUZZ_ITERS` (default 20,000) mutated inputs through the parser,
//! made by the mutator shared with es-api's typed-response targets (`es_tests::fuzz`): byte
//! flips, insertions of interesting bytes, deletions, truncations, splices of two corpus
//! entries and repeated runs. The property is the same everywhere: no panic, and
//! where the parser has a bound (the gzip size cap) the bound holds. Seeds are fixed, so a
//! failure reproduces; a crash found here becomes a named regression test below the targets.
//!
//! This is not coverage-guided: it finds shallow panics (indexing, slicing at a char
//! boundary, arithmetic overflow in debug builds), not deep paths.

use std::time::Duration;

use bytes::Bytes;
use http::StatusCode;

use crate::error::ApiError;
use crate::layer::compression::{gunzip, gzip};
use crate::layer::retry::parse_retry_after;
use crate::sniff::parse_nodes;
use crate::{CloudId, NodeUrl};

/// The suite's inputs per target (`FUZZ_ITERS` overrides).
const DEFAULT_ITERS: usize = 20_000;

/// Yields `FUZZ_ITERS` (default 20,000) mutated inputs built from `corpus`: the shared
/// mutator of `es_tests::fuzz`.
fn mutations(corpus: &[&[u8]], seed: u64) -> impl Iterator<Item = Vec<u8>> {
    es_tests::fuzz::mutations(corpus, seed, es_tests::fuzz::iterations(DEFAULT_ITERS))
}

fn text(v: &[u8]) -> String {
    String::from_utf8_lossy(v).into_owned()
}

#[test]
fn fuzz_host_urls() {
    let corpus: &[&[u8]] = &[
        b"localhost",
        b"localhost:9200",
        b"https://elastic:changeme@es1.internal:9243/prefix/",
        b"http://[::1]:9200",
        b"10.0.0.1",
        b"https://user:p%40ss@host",
    ];
    for input in mutations(corpus, 1) {
        if let Ok(url) = text(&input).parse::<NodeUrl>() {
            // Whatever parsed must render and be usable as a node.
            let _ = url.to_string();
            let _ = crate::pool::Node::new(url, 1);
        }
    }
}

#[test]
fn fuzz_cloud_id() {
    // Cloud IDs of the Elastic Cloud docs' format: name:base64(host$es_id$kibana_id).
    let corpus: &[&[u8]] = &[
        b"my-deployment:ZXUtY2VudHJhbC0xLmF3cy5jbG91ZC5lcy5pbyRhYmNkJGVmZ2g=",
        b"staging:dXMtZWFzdC0xLmF3cy5mb3VuZC5pbzo5MjQzJGFiYyRkZWY=",
        b":dXMtZWFzdC0xLmF3cy5mb3VuZC5pbyRjZWM2ZjI2MWE3NGJmMjRjZTMzYmI4ODExYjg0Mjk0ZiQ=",
    ];
    for input in mutations(corpus, 2) {
        let _ = CloudId::parse(&text(&input));
    }
}

#[test]
fn fuzz_sniff_bodies() {
    // `GET /_nodes/_all/http`, shaped as in the nodes-info API reference.
    let corpus: &[&[u8]] = &[
        br#"{"_nodes":{"total":2,"successful":2,"failed":0},"cluster_name":"c","nodes":{"a":{"name":"n1","roles":["data","master"],"attributes":{"zone":"z1"},"http":{"bound_address":["127.0.0.1:9200"],"publish_address":"127.0.0.1:9200"}},"b":{"name":"n2","roles":["master"],"http":{"publish_address":"es2.local/10.0.0.2:9201"}}}}"#,
        br#"{"nodes":{"x":{"roles":[],"http":{"publish_address":"[::1]:9200"}}}}"#,
        br#"{"nodes":{"y":{"roles":["ingest"]}}}"#,
    ];
    for input in mutations(corpus, 3) {
        let _ = parse_nodes(&input);
    }
}

#[test]
fn fuzz_retry_after() {
    let corpus: &[&[u8]] = &[
        b"120",
        b"0",
        b"1.5",
        b"Wed, 21 Oct 2015 07:28:00 GMT",
        b"1e308",
        b"-1",
    ];
    for input in mutations(corpus, 4) {
        if let Ok(v) = http::HeaderValue::from_bytes(&input)
            && let Some(d) = parse_retry_after(&v)
        {
            assert!(d <= Duration::from_secs(86_400), "{input:?} -> {d:?}");
        }
    }
}

#[test]
fn fuzz_gunzip_with_the_cap() {
    let small = gzip(br#"{"took":1,"hits":{"hits":[]}}"#);
    let zeros = gzip(&vec![0u8; 1 << 16]);
    let two = [small.to_vec(), small.to_vec()].concat();
    let corpus: &[&[u8]] = &[&small, &zeros, &two];
    let max = 4096;
    for input in mutations(corpus, 5) {
        if let Ok(out) = gunzip(&input, max) {
            assert!(out.len() <= max);
        }
    }
}

#[test]
fn fuzz_error_bodies() {
    // Error bodies as the API conventions docs show them, plus a plain-string error.
    let corpus: &[&[u8]] = &[
        br#"{"error":{"root_cause":[{"type":"index_not_found_exception","reason":"no such index [x]","index":"x"}],"type":"index_not_found_exception","reason":"no such index [x]"},"status":404}"#,
        br#"{"error":"Incorrect HTTP method for uri [/_search] and method [PUT]","status":405}"#,
        br#"<html><body>502 Bad Gateway</body></html>"#,
        "{\"error\":{\"type\":\"x\",\"reason\":\"é€ ünïcödé\"},\"password\":\"p\"}".as_bytes(),
    ];
    for input in mutations(corpus, 6) {
        let api = ApiError::from_response(
            StatusCode::BAD_REQUEST,
            Default::default(),
            Bytes::from(input),
        );
        let shown = api.to_string();
        assert!(shown.len() < 64 * 1024);
        let _ = crate::redact::redact(&shown);
    }
}

#[test]
fn fuzz_redaction() {
    let corpus: &[&[u8]] = &[
        br#"{"password":"l0ng-r4nd0m-p@ssw0rd","roles":["admin"]}"#,
        br#"{"id":"i","api_key":"k","encoded":"ZTprCg=="}"#,
        b"{\"index\":{}}\n{\"token\":{\"name\":\"t\",\"value\":\"v\"}}\n",
        // Escaped keys, and the secrets redacted by the shape of their body: a connector
        // secret, a SAML authentication, an OIDC preparation, a node enrollment.
        br#"{"\u0070assword":"p","p\u0061ss\ud83d\ude00":"x"}"#,
        br#"{"id":"i","value":"connector-secret"}"#,
        br#"{"content":"PHNhbWxwOlJlc3BvbnNl","ids":["4fee3b04"],"realm":"saml1"}"#,
        br#"{"redirect":"http://idp/?state=s&nonce=n","state":"s","nonce":"n","realm":"oidc1"}"#,
        br#"{"http_ca_key":"MIIJ","http_ca_cert":"MIIJ","transport_key":"MIIE","nodes_addresses":[]}"#,
    ];
    for input in mutations(corpus, 7) {
        let s = text(&input);
        let r = crate::redact::redact(&s);
        // Redaction never grows text unboundedly and never keeps a secret string value
        // whose key survived intact.
        assert!(r.len() <= s.len() + 16 * s.matches(':').count() + 16);
    }
}

#[test]
fn fuzz_json_error_excerpt() {
    // Bodies that are not the `T` asked for: the serialization error quotes the body near
    // the error (`Response::json`), never a piece of a secret value: when every piece of
    // the marker secret in the input is inside a value the redaction knows as secret, no
    // piece of it shows in the excerpt, nor (for inputs without escapes, whose decoded
    // text is the text) anywhere in the error.
    const MARKER: &[u8] = b"Zq9xWv7Ku3Tb5";
    let corpus: &[&[u8]] = &[
        br#"{"took":5,"timed_out":false,"hits":{"total":{"value":20,"relation":"eq"},"hits":[]}}"#,
        b"{\n  \"_index\" : \"website\",\n  \"_id\" : \"124\",\n  \"found\" : false\n}\n",
        "{\"k\":\"é€ ünïcödé ✓\",\"n\":[1,2,3]}".as_bytes(),
        br#"{"access_token":"Zq9xWv7Ku3Tb5","expires_in":"oops","refresh_token":"Zq9xWv7Ku3Tb5"}"#,
        br#"{"access_token":"Zq9xWv7Ku3Tb5Zq9xWv7Ku3Tb5Zq9xWv7Ku3Tb5Zq9xWv7Ku3Tb5","n":"x"}"#,
        br#"{"id":"connector","value":"Zq9xWv7Ku3Tb5"}"#,
        br#"{"\u0070assword":"Zq9xWv7Ku3Tb5","n":[]}"#,
        b"{\n  \"token\" : {\"name\":\"t\",\"value\":\"Zq9xWv7Ku3Tb5\"},\n  \"n\" : 1\n}",
    ];
    let pieces: Vec<&[u8]> = MARKER.windows(6).collect();
    let (mut inputs, mut with_secrets) = (0usize, 0usize);
    for input in mutations(corpus, 8) {
        inputs += 1;
        let Err(e) = serde_json::from_slice::<std::collections::BTreeMap<String, u8>>(&input)
        else {
            continue;
        };
        let err = crate::response::json_error(&e, &input);
        let shown = err.to_string();
        assert!(shown.len() < 1024, "{err}");
        let spans = crate::redact::secret_spans(&input);
        let all_secret = pieces.iter().all(|p| {
            input
                .windows(p.len())
                .enumerate()
                .filter(|(_, w)| w == p)
                .all(|(at, _)| spans.iter().any(|s| s.start <= at && at + p.len() <= s.end))
        });
        if !all_secret || spans.is_empty() {
            continue;
        }
        with_secrets += 1;
        let excerpt = shown.split("body near the error: `").nth(1).unwrap_or("");
        let checked = if input.contains(&b'\\') {
            excerpt
        } else {
            &shown[..]
        };
        for p in &pieces {
            let p = std::str::from_utf8(p).unwrap();
            assert!(!checked.contains(p), "{:?}\n-> {shown}", text(&input));
        }
    }
    // The mutations keep enough secrets for the property to be tested.
    assert!(with_secrets * 10 > inputs, "{with_secrets} of {inputs}");
}
