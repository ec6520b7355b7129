//! Percent-encoding of path parts and query values: the one place it happens (public so
//! that code sending raw requests, like the helpers, encodes names the same way).
//!
//! Everything but the RFC 3986 unreserved characters (`A-Z a-z 0-9 - . _ ~`) is encoded,
//! except `,` (the list separator Elasticsearch splits on) and `*` (wildcards), as the
//! official clients do. So `my index` → `my%20index`, `a+b` → `a%2Bb`, `a/b` → `a%2Fb`,
//! `<logs-{now/d}>` → `%3Clogs-%7Bnow%2Fd%7D%3E`, `a,b` → `a,b`.

use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};

/// Characters that are encoded: all but unreserved, `,` and `*`.
const ENCODE: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~')
    .remove(b',')
    .remove(b'*');

/// Appends `value`, percent-encoded for a path segment or a query value, to `out`.
///
/// ```
/// let mut path = String::from("/");
/// es_api::params::encode::encode_into(&mut path, "<logs-{now/d}>");
/// path.push_str("/_search");
/// assert_eq!(path, "/%3Clogs-%7Bnow%2Fd%7D%3E/_search");
/// ```
pub fn encode_into(out: &mut String, value: &str) {
    out.extend(utf8_percent_encode(value, ENCODE));
}

/// `value`, percent-encoded for a path segment or a query value (see the module docs for
/// which characters are kept).
///
/// ```
/// assert_eq!(es_api::params::encode::encode("my index"), "my%20index");
/// assert_eq!(es_api::params::encode::encode("logs-*,other"), "logs-*,other");
/// ```
pub fn encode(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    encode_into(&mut out, value);
    out
}

#[cfg(test)]
mod tests {
    use super::encode;

    #[test]
    fn encodes_tricky_names() {
        assert_eq!(encode("my-index_1.x~"), "my-index_1.x~");
        assert_eq!(encode("my index"), "my%20index");
        assert_eq!(encode("a+b"), "a%2Bb");
        assert_eq!(encode("a/b"), "a%2Fb");
        assert_eq!(encode("<logs-{now/d}>"), "%3Clogs-%7Bnow%2Fd%7D%3E");
        assert_eq!(encode("logs-*,other"), "logs-*,other");
        assert_eq!(encode("a&b=c?d#e%"), "a%26b%3Dc%3Fd%23e%25");
        assert_eq!(encode("é"), "%C3%A9");
    }
}
