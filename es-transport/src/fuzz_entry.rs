//! Entry points for coverage-guided fuzzing (`fuzz/`, run with `cargo fuzz`): each takes
//! raw bytes, runs one parser that reads bytes from the network or the user, and panics only
//! when a property the parser promises is broken (a panic inside the parser is the other
//! finding). Feature `fuzzing`, hidden: not a stable API. The stable-toolchain mutation
//! tests (`fuzz_tests.rs`) run the same parsers with more detailed properties.

use std::time::Duration;

use bytes::Bytes;
use http::StatusCode;

use crate::error::ApiError;
use crate::{CloudId, NodeUrl};

/// The gzip cap the inflate target checks.
const GUNZIP_CAP: usize = 4096;

fn text(data: &[u8]) -> String {
    String::from_utf8_lossy(data).into_owned()
}

/// A host string: whatever parses renders and becomes a node.
pub fn host_url(data: &[u8]) {
    if let Ok(url) = text(data).parse::<NodeUrl>() {
        let shown = url.to_string();
        assert!(
            shown.parse::<NodeUrl>().is_ok(),
            "{shown} does not parse back"
        );
        let _ = crate::pool::Node::new(url, 1);
    }
}

/// A Cloud ID.
pub fn cloud_id(data: &[u8]) {
    let _ = CloudId::parse(&text(data));
}

/// A `GET /_nodes/_all/http` answer.
pub fn sniff_body(data: &[u8]) {
    let _ = crate::sniff::parse_nodes(data);
}

/// A `Retry-After` value: at most a day.
pub fn retry_after(data: &[u8]) {
    if let Ok(v) = http::HeaderValue::from_bytes(data)
        && let Some(d) = crate::layer::retry::parse_retry_after(&v)
    {
        assert!(d <= Duration::from_secs(86_400), "{d:?}");
    }
}

/// A gzip body inflated under a cap: never more than the cap.
pub fn gunzip_capped(data: &[u8]) {
    if let Ok(out) = crate::layer::compression::gunzip(data, GUNZIP_CAP) {
        assert!(out.len() <= GUNZIP_CAP, "{} bytes", out.len());
    }
}

/// An error body: its rendering is bounded and redactable.
pub fn error_body(data: &[u8]) {
    let api = ApiError::from_response(
        StatusCode::BAD_REQUEST,
        Default::default(),
        Bytes::copy_from_slice(data),
    );
    let shown = api.to_string();
    assert!(shown.len() < 64 * 1024, "{} bytes", shown.len());
    let _ = crate::redact::redact(&shown);
}

/// Redaction of a body: bounded growth.
pub fn redaction(data: &[u8]) {
    let s = text(data);
    let r = crate::redact::redact(&s);
    assert!(r.len() <= s.len() + 16 * s.matches(':').count() + 16);
}

/// The error `Response::json` builds for a body that is not the type asked for: bounded, and
/// no secret value's bytes in it.
pub fn json_error(data: &[u8]) {
    let Err(e) = serde_json::from_slice::<std::collections::BTreeMap<String, u8>>(data) else {
        return;
    };
    let shown = crate::response::json_error(&e, data).to_string();
    assert!(shown.len() < 1024, "{shown}");
    let spans = crate::redact::secret_spans(data);
    let inside = |at: usize, len: usize| spans.iter().any(|s| s.start <= at && at + len <= s.end);
    for span in &spans {
        let value = &data[span.clone()];
        let secret = value
            .strip_prefix(b"\"")
            .and_then(|v| v.strip_suffix(b"\""))
            .unwrap_or(value);
        // Long enough to be unmistakable, not text any error shows anyway, and nowhere in
        // the input but inside secret values (the same bytes elsewhere, after a broken key,
        // are not known to be secret).
        let len = secret.len();
        let everywhere_secret = data
            .windows(len.max(1))
            .enumerate()
            .filter(|(_, w)| *w == secret)
            .all(|(at, _)| inside(at, len));
        if len >= 12 && secret.iter().all(u8::is_ascii_alphanumeric) && everywhere_secret {
            assert!(
                !shown.as_bytes().windows(len).any(|w| w == secret),
                "a secret value in: {shown}"
            );
        }
    }
}

#[cfg(test)]
mod tests {
    /// Every seed of `fuzz/corpus/<target>/` passes its target: the corpora `cargo fuzz`
    /// starts from stay valid, in `cargo test`.
    /// A target: its name (the `fuzz/corpus` folder) and its entry point.
    type Target = (&'static str, fn(&[u8]));

    #[test]
    fn the_fuzz_seed_corpora_pass() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../fuzz/corpus");
        let targets: [Target; 8] = [
            ("host_url", super::host_url),
            ("cloud_id", super::cloud_id),
            ("sniff_body", super::sniff_body),
            ("retry_after", super::retry_after),
            ("gunzip_capped", super::gunzip_capped),
            ("error_body", super::error_body),
            ("redaction", super::redaction),
            ("json_error", super::json_error),
        ];
        for (name, run) in targets {
            let seeds: Vec<_> = std::fs::read_dir(dir.join(name))
                .unwrap_or_else(|e| panic!("fuzz/corpus/{name}: {e}"))
                .map(|e| e.unwrap().path())
                .collect();
            assert!(!seeds.is_empty(), "{name}: no seeds");
            for seed in seeds {
                run(&std::fs::read(&seed).unwrap());
            }
        }
    }
}
