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

/// The error of a body that is not the `T` asked for: serde's message and the body around
/// the error, with every secret value of the body redacted (see [`crate::redact`]).
///
/// The excerpt is cut from the whole body with its secret values already known, so a
/// window that starts or ends inside a secret shows none of it, even when the secret's key
/// is outside the window. serde's own message quotes the offending value (`invalid type:
/// string "..."`): when the error is at a secret value, or the message quotes one, only
/// the kind of error and its position are kept.
pub(crate) fn json_error(e: &serde_json::Error, body: &[u8]) -> Error {
    let message = e.to_string();
    let (line, column) = (e.line(), e.column());
    let at = offset_of(body, line, column);
    let spans = crate::redact::secret_spans(body);
    let message = if crate::redact::touches(&spans, at)
        || crate::redact::quotes_secret(&message, body, &spans)
    {
        let what = match e.classify() {
            serde_json::error::Category::Io => "I/O error",
            serde_json::error::Category::Syntax => "invalid JSON",
            serde_json::error::Category::Data => "invalid data",
            serde_json::error::Category::Eof => "unexpected end of the body",
        };
        format!(
            "{what} at line {line} column {column} (serde's message is withheld: it quotes a secret value)"
        )
    } else {
        message
    };
    let window = at.saturating_sub(40)..(at + 40).min(body.len());
    let around = crate::redact::excerpt(body, &spans, window);
    Error::serialization(format!("{message}; body near the error: `{around}`"))
}

/// The byte offset of serde_json's 1-based `line` and `column` in `body` (0 for line 0).
fn offset_of(body: &[u8], line: usize, column: usize) -> usize {
    // serde_json reports a line and a column (both 1-based): find the line's start first, so
    // that the excerpt of a pretty-printed (multi-line) body is where the error is.
    let line_start = if line <= 1 {
        0
    } else {
        body.iter()
            .enumerate()
            .filter(|(_, b)| **b == b'\n')
            .nth(line - 2)
            .map_or(body.len(), |(i, _)| i + 1)
    };
    (line_start + column.saturating_sub(1)).min(body.len())
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
