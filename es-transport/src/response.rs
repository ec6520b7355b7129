//! A response: status, headers, body, and which node answered after how many attempts.

use std::time::Duration;

use bytes::Bytes;
use http::{HeaderMap, StatusCode};
use serde::de::DeserializeOwned;

use crate::error::{Error, Result};

/// What the transport knows about how a response was obtained.
#[derive(Debug, Clone)]
pub struct ResponseMeta {
    pub(crate) node: std::sync::Arc<str>,
    pub(crate) attempts: u32,
    pub(crate) duration: Duration,
}

impl ResponseMeta {
    /// The node (URL without credentials) that answered.
    pub fn node(&self) -> &str {
        &self.node
    }

    /// How many attempts it took (1 when the first one succeeded).
    pub fn attempts(&self) -> u32 {
        self.attempts
    }

    /// Time from the call to the complete response, retries and backoff included.
    pub fn duration(&self) -> Duration {
        self.duration
    }
}

/// A complete response from the cluster; the body is read in full and decompressed.
#[derive(Debug, Clone)]
pub struct Response {
    pub(crate) status: StatusCode,
    pub(crate) headers: HeaderMap,
    pub(crate) body: Bytes,
    pub(crate) meta: ResponseMeta,
}

impl Response {
    /// The status code.
    pub fn status(&self) -> StatusCode {
        self.status
    }

    /// The headers.
    pub fn headers(&self) -> &HeaderMap {
        &self.headers
    }

    /// The body.
    pub fn body(&self) -> &Bytes {
        &self.body
    }

    /// Takes the body.
    pub fn into_body(self) -> Bytes {
        self.body
    }

    /// The node, attempts and duration.
    pub fn meta(&self) -> &ResponseMeta {
        &self.meta
    }

    /// The body as UTF-8 text (invalid sequences replaced).
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    /// Parses the body as JSON into `T`.
    ///
    /// # Errors
    /// A [`crate::ErrorKind::Serialization`] error naming the position and a snippet of the body.
    pub fn json<T: DeserializeOwned>(&self) -> Result<T> {
        serde_json::from_slice(&self.body)
            .map_err(|e| json_error(&e, &self.body).with_node(&*self.meta.node))
    }
}

pub(crate) fn json_error(e: &serde_json::Error, body: &[u8]) -> Error {
    // serde_json reports a line and a column (both 1-based): find the line's start first, so
    // that the excerpt of a pretty-printed (multi-line) body is where the error is.
    let line_start = if e.line() <= 1 {
        0
    } else {
        body.iter()
            .enumerate()
            .filter(|(_, b)| **b == b'\n')
            .nth(e.line() - 2)
            .map_or(body.len(), |(i, _)| i + 1)
    };
    let at = (line_start + e.column().saturating_sub(1)).min(body.len());
    let start = at.saturating_sub(40);
    let end = (at + 40).min(body.len());
    let around = String::from_utf8_lossy(&body[start..end]);
    Error::serialization(format!("{e}; body near the error: `{around}`"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn resp(body: &'static [u8]) -> Response {
        Response {
            status: StatusCode::OK,
            headers: HeaderMap::new(),
            body: Bytes::from_static(body),
            meta: ResponseMeta {
                node: "http://a:9200".into(),
                attempts: 1,
                duration: Duration::ZERO,
            },
        }
    }

    #[test]
    fn error_context_of_a_multi_line_body_is_on_the_error_line() {
        let body: &'static [u8] =
            b"{\n  \"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\": 1,\n  \"b\": 2,\n  \"c\": @\n}";
        let err = resp(body).json::<serde_json::Value>().unwrap_err();
        let msg = err.to_string();
        assert!(msg.contains("line 4"), "{msg}");
        let near = msg.split("body near the error: `").nth(1).unwrap();
        assert!(
            near.contains("\"c\": @"),
            "the excerpt shows the error line: {msg}"
        );
    }

    #[test]
    fn json_ok_and_error_context() {
        let v: serde_json::Value = resp(br#"{"a":1}"#).json().unwrap();
        assert_eq!(v["a"], 1);
        let err = resp(br#"{"a":1,,}"#)
            .json::<serde_json::Value>()
            .unwrap_err();
        assert_eq!(err.kind(), crate::ErrorKind::Serialization);
        assert!(err.to_string().contains(",,"), "{err}");
    }
}
