//! Redaction of secrets in JSON bodies before they are logged or put in error messages.
//!
//! A small scanner over the text (not a parser), so it also works on NDJSON, on truncated
//! bodies and on text that is JSON only in parts: wherever an object key is one of
//! [`SECRET_KEYS`] (compared case-insensitively), its value (a string, a number, or a whole
//! object or array) is replaced by `"[redacted]"`. Everything else is kept byte for byte.

use std::borrow::Cow;

/// Object keys whose values are never logged.
///
/// They cover the security APIs: users (`password`, `password_hash`), API keys (`api_key`,
/// `encoded`), tokens (`token`, `access_token`, `refresh_token`), OAuth / OIDC
/// (`client_secret`), Kerberos tickets, client authentication of realms, and generic
/// `secret` / `private_key` settings.
pub const SECRET_KEYS: &[&str] = &[
    "password",
    "passwd",
    "new_password",
    "password_hash",
    "api_key",
    "encoded",
    "token",
    "access_token",
    "refresh_token",
    "client_secret",
    "secret",
    "secret_key",
    "private_key",
    "kerberos_ticket",
    "client_authentication",
    "authorization",
];

/// What a redacted value becomes.
pub const REDACTED: &str = "\"[redacted]\"";

fn is_secret(key: &str) -> bool {
    SECRET_KEYS.iter().any(|k| k.eq_ignore_ascii_case(key))
}

/// The index of the closing quote of the string starting at `start` (a `"`), if any.
fn string_end(b: &[u8], start: usize) -> Option<usize> {
    let mut i = start + 1;
    while i < b.len() {
        match b[i] {
            b'\\' => i += 2,
            b'"' => return Some(i),
            _ => i += 1,
        }
    }
    None
}

fn skip_ws(b: &[u8], mut i: usize) -> usize {
    while i < b.len() && b[i].is_ascii_whitespace() {
        i += 1;
    }
    i
}

/// The end (exclusive) of the JSON value starting at `start`; the end of the input when
/// the value is cut short.
fn value_end(b: &[u8], start: usize) -> usize {
    match b.get(start) {
        None => start,
        Some(b'"') => string_end(b, start).map_or(b.len(), |e| e + 1),
        Some(b'{' | b'[') => {
            let mut depth = 0usize;
            let mut i = start;
            while i < b.len() {
                match b[i] {
                    b'"' => match string_end(b, i) {
                        Some(e) => i = e,
                        None => return b.len(),
                    },
                    b'{' | b'[' => depth += 1,
                    b'}' | b']' => {
                        depth -= 1;
                        if depth == 0 {
                            return i + 1;
                        }
                    }
                    _ => {}
                }
                i += 1;
            }
            b.len()
        }
        Some(_) => {
            let mut i = start;
            while i < b.len() && !matches!(b[i], b',' | b'}' | b']' | b'\n' | b'\r') {
                i += 1;
            }
            // Keep trailing spaces before the delimiter out of the value.
            while i > start && b[i - 1].is_ascii_whitespace() {
                i -= 1;
            }
            i
        }
    }
}

/// `text` with the value of every secret key replaced by `"[redacted]"`.
///
/// # Example
/// ```
/// use es_transport::redact::redact;
/// let body = r#"{"password":"hunter2","roles":["admin"]}"#;
/// assert_eq!(redact(body), r#"{"password":"[redacted]","roles":["admin"]}"#);
/// ```
pub fn redact(text: &str) -> Cow<'_, str> {
    let b = text.as_bytes();
    // Fast path: no secret key name anywhere.
    if !SECRET_KEYS
        .iter()
        .any(|k| contains_ignore_case(b, k.as_bytes()))
    {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len());
    let mut last = 0;
    let mut i = 0;
    while i < b.len() {
        if b[i] != b'"' {
            i += 1;
            continue;
        }
        let Some(end) = string_end(b, i) else {
            break;
        };
        let key = &text[i + 1..end];
        let colon = skip_ws(b, end + 1);
        if colon < b.len() && b[colon] == b':' && is_secret(key) {
            let start = skip_ws(b, colon + 1);
            let vend = value_end(b, start);
            out.push_str(&text[last..start]);
            out.push_str(REDACTED);
            last = vend;
            i = vend.max(start + 1);
            continue;
        }
        i = end + 1;
    }
    if last == 0 {
        return Cow::Borrowed(text);
    }
    out.push_str(&text[last.min(text.len())..]);
    Cow::Owned(out)
}

fn contains_ignore_case(hay: &[u8], needle: &[u8]) -> bool {
    hay.windows(needle.len())
        .any(|w| w.eq_ignore_ascii_case(needle))
}

/// [`redact`] over bytes, lossily decoded as UTF-8.
pub(crate) fn redact_bytes(body: &[u8]) -> String {
    let text = String::from_utf8_lossy(body);
    redact(&text).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn put_user_password() {
        // PUT /_security/user/bob, from the create-or-update-users API reference.
        let body = r#"{
  "password" : "l0ng-r4nd0m-p@ssw0rd",
  "roles" : [ "admin", "other_role1" ],
  "full_name" : "Jack Nicholson"
}"#;
        let r = redact(body);
        assert!(!r.contains("l0ng-r4nd0m-p@ssw0rd"), "{r}");
        assert!(r.contains(r#""password" : "[redacted]""#), "{r}");
        assert!(r.contains("Jack Nicholson"));
    }

    #[test]
    fn create_api_key_response() {
        // From the create-API-key reference: id, name, expiration, api_key, encoded.
        let body = r#"{"id":"VuaCfGcBCdbkQm-e5aOx","name":"my-api-key","expiration":1544068612110,"api_key":"ui2lp2axTNmsyakw9tvNnw","encoded":"VnVhQ2ZHY0JDZGJrUW0tZTVhT3g6dWkybHAyYXhUTm1zeWFrdzl0dk5udw=="}"#;
        let r = redact(body);
        assert!(!r.contains("ui2lp2axTNmsyakw9tvNnw"), "{r}");
        assert!(!r.contains("VnVhQ2ZH"), "{r}");
        assert!(
            r.contains("VuaCfGcBCdbkQm-e5aOx"),
            "the id is not a secret: {r}"
        );
        assert!(serde_json::from_str::<serde_json::Value>(&r).is_ok(), "{r}");
    }

    #[test]
    fn nested_objects_numbers_ndjson_and_truncation() {
        let r = redact(
            r#"{"grant_type":"password","api_key":{"name":"k","role_descriptors":{"a":{}}},"n":1}"#,
        );
        assert_eq!(
            r,
            r#"{"grant_type":"password","api_key":"[redacted]","n":1}"#
        );
        assert_eq!(
            redact(r#"{"token": 12345 ,"x":2}"#),
            r#"{"token": "[redacted]" ,"x":2}"#
        );
        let nd = "{\"index\":{}}\n{\"PASSWORD\":\"a\\\"b\"}\n";
        assert_eq!(
            redact(nd),
            "{\"index\":{}}\n{\"PASSWORD\":\"[redacted]\"}\n"
        );
        assert_eq!(
            redact(r#"{"refresh_token":"abc"#),
            r#"{"refresh_token":"[redacted]""#
        );
        assert_eq!(
            redact(r#"{"access_token":"#),
            r#"{"access_token":"[redacted]""#
        );
    }

    #[test]
    fn leaves_other_text_alone() {
        let s = r#"{"query":{"match":{"title":"password reset"}}}"#;
        assert!(matches!(redact(s), Cow::Borrowed(_)));
        assert_eq!(
            redact("not json \"password\" here"),
            "not json \"password\" here"
        );
    }
}
