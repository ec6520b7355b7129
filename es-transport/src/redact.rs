//! Redaction of secrets in JSON bodies and headers before they are logged, put in error
//! messages or printed by `Debug`.
//!
//! A small scanner over the text (not a parser), so it also works on NDJSON, on truncated
//! bodies and on text that is JSON only in parts: wherever an object key is one of
//! [`SECRET_KEYS`] (compared case-insensitively, after decoding JSON escapes such as
//! `\u0070`), its value (a string, a number, or a whole object or array) is replaced by
//! `"[redacted]"`. Everything else is kept byte for byte.
//!
//! Some secrets sit under keys too common to redact everywhere (`value`, `content`,
//! `state`, `redirect`). They are redacted when the whole top-level object (of the body,
//! or of an NDJSON line) has the shape of the security answer or request that carries
//! them, that is when every top-level key belongs to that shape:
//! - a connector secret, `{"id", "value"}` (`connector.secret_get` answers,
//!   `connector.secret_post` / `secret_put` requests): `value` is the secret itself;
//! - the SAML and OpenID Connect single sign-on bodies (`security.saml_*`,
//!   `security.oidc_*`; keys `acs`, `content`, `id`, `ids`, `invalidated`, `iss`,
//!   `login_hint`, `nonce`, `query_string`, `realm`, `redirect`, `redirect_uri`,
//!   `relay_state`, `state`):
//!   - `content`: the base64 SAML response or logout response (`saml_authenticate`,
//!     `saml_complete_logout`), a signed assertion that logs its bearer in;
//!   - `query_string`: the signed SAML logout request or response from the identity
//!     provider (`saml_invalidate`, `saml_complete_logout`);
//!   - `redirect`: a URL carrying a SAML request, an OIDC `state` / `nonce` or an
//!     `id_token_hint` (`saml_prepare_authentication`, `saml_logout`, `saml_invalidate`,
//!     `oidc_prepare_authentication`, `oidc_logout` answers);
//!   - `state`, `nonce`: the values that bind an OIDC authentication response to the
//!     session that started it (`oidc_prepare_authentication`, `oidc_authenticate`).
//!
//! The SAML `ids` (request ids, checked against `InResponseTo`), `realm`, `acs`, `iss` and
//! `login_hint` are not credentials and are kept; so are the enrollment certificates
//! (`http_ca_cert`, `transport_ca_cert`, `transport_cert`), which are public.
//!
//! Limit: the scanner follows the quotes of the text, so text that is not JSON before a
//! secret (an unmatched `"`) can hide that secret's key from it.

use std::borrow::Cow;
use std::fmt;
use std::ops::Range;

use http::{HeaderMap, HeaderName, HeaderValue};

/// Object keys whose values are never logged, wherever they are.
///
/// - `password`, `passwd`, `new_password`: user passwords (`security.put_user`,
///   `change_password`, `get_token`, `grant_api_key`, reindex from a remote cluster).
/// - `password_hash`: a password hash is enough to attack the password offline.
/// - `secure_settings_password`: the keystore password of `nodes.reload_secure_settings`.
/// - `api_key`: API key secrets (`create_api_key` answers, `grant_api_key`, remote
///   reindex, inference services).
/// - `encoded`: the base64 `id:api_key` of API key answers, a ready `Authorization` value.
/// - `token`: service and enrollment tokens (`{"name", "value"}` of
///   `create_service_token`, `enroll_kibana`) and the tokens of `invalidate_token`,
///   `saml_logout`, `oidc_logout`.
/// - `access_token`, `refresh_token`: OAuth tokens (`get_token`, `saml_authenticate`,
///   `oidc_authenticate`, `delegate_pki`, `grant_api_key`, `activate_user_profile`).
/// - `kerberos_ticket`, `kerberos_authentication_response_token`: Kerberos (SPNEGO)
///   tickets of `get_token`, in and out.
/// - `redirect_uri`: the OIDC redirect of `oidc_authenticate`, carrying the authorization
///   code.
/// - `client_secret`, `client_authentication`: OAuth / OIDC client secrets (realm
///   settings, inference services).
/// - `secret`, `secret_key`, `private_key`: generic secrets (AWS secret keys of
///   inference services, snapshot repository settings).
/// - `access_key`: the AWS access key id paired with `secret_key` (inference services).
/// - `secret_parameters`: the secret request parameters of custom inference services.
/// - `http_ca_key`, `transport_key`: the private keys in `security.enroll_node` answers.
/// - `cluster_credentials`: remote cluster credentials (`cluster.remote_info`).
/// - `authorization`, `proxy-authorization`, `es-secondary-authorization`, `x-api-key`,
///   `cookie`, `set-cookie`: credential headers written as JSON (the `headers` of a
///   remote reindex source or of a watcher HTTP input).
///
/// See the module documentation for the keys redacted only in the shape of the body that
/// carries them (`value` of connector secrets, `content`, `state`, ... of SAML and OIDC).
pub const SECRET_KEYS: &[&str] = &[
    "password",
    "passwd",
    "new_password",
    "password_hash",
    "secure_settings_password",
    "api_key",
    "encoded",
    "token",
    "access_token",
    "refresh_token",
    "kerberos_ticket",
    "kerberos_authentication_response_token",
    "redirect_uri",
    "client_secret",
    "client_authentication",
    "secret",
    "secret_key",
    "private_key",
    "access_key",
    "secret_parameters",
    "http_ca_key",
    "transport_key",
    "cluster_credentials",
    "authorization",
    "proxy-authorization",
    "es-secondary-authorization",
    "x-api-key",
    "cookie",
    "set-cookie",
];

/// A top-level object shape whose `secrets` are redacted when all its keys are in `keys`.
struct Shape {
    keys: &'static [&'static str],
    secrets: &'static [&'static str],
}

/// The shapes described in the module documentation.
const SHAPES: &[Shape] = &[
    Shape {
        keys: &["id", "value"],
        secrets: &["value"],
    },
    Shape {
        keys: &[
            "acs",
            "content",
            "id",
            "ids",
            "invalidated",
            "iss",
            "login_hint",
            "nonce",
            "query_string",
            "realm",
            "redirect",
            "redirect_uri",
            "relay_state",
            "state",
        ],
        secrets: &["content", "query_string", "redirect", "nonce", "state"],
    },
];

/// What a redacted value becomes.
pub const REDACTED: &str = "\"[redacted]\"";

fn is_one_of(keys: &[&str], key: &[u8]) -> bool {
    keys.iter().any(|k| k.as_bytes().eq_ignore_ascii_case(key))
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

fn hex4(b: &[u8], at: usize) -> Option<u32> {
    let digits = b.get(at..at + 4)?;
    let s = std::str::from_utf8(digits).ok()?;
    u32::from_str_radix(s, 16).ok()
}

/// The contents of a JSON string (between its quotes) with the escapes decoded; borrowed
/// when there is no backslash. A malformed escape is kept as written; a lone surrogate
/// becomes U+FFFD.
fn unescape(raw: &[u8]) -> Cow<'_, [u8]> {
    if !raw.contains(&b'\\') {
        return Cow::Borrowed(raw);
    }
    let mut out = Vec::with_capacity(raw.len());
    let mut i = 0;
    fn push(out: &mut Vec<u8>, c: char) {
        out.extend_from_slice(c.encode_utf8(&mut [0; 4]).as_bytes());
    }
    while i < raw.len() {
        if raw[i] != b'\\' {
            out.push(raw[i]);
            i += 1;
            continue;
        }
        match raw.get(i + 1) {
            Some(b'u') => match hex4(raw, i + 2) {
                Some(hi @ 0xD800..=0xDBFF) => {
                    let lo = (raw.get(i + 6..i + 8) == Some(b"\\u"))
                        .then(|| hex4(raw, i + 8))
                        .flatten()
                        .filter(|lo| (0xDC00..=0xDFFF).contains(lo));
                    if let Some(lo) = lo {
                        let c = 0x10000 + ((hi - 0xD800) << 10) + (lo - 0xDC00);
                        push(&mut out, char::from_u32(c).unwrap_or('\u{FFFD}'));
                        i += 12;
                    } else {
                        push(&mut out, '\u{FFFD}');
                        i += 6;
                    }
                }
                Some(c) => {
                    push(&mut out, char::from_u32(c).unwrap_or('\u{FFFD}'));
                    i += 6;
                }
                None => {
                    out.push(b'\\');
                    i += 1;
                }
            },
            Some(&c) => {
                out.push(match c {
                    b'n' => b'\n',
                    b't' => b'\t',
                    b'r' => b'\r',
                    b'b' => 0x08,
                    b'f' => 0x0C,
                    other => other,
                });
                i += 2;
            }
            None => {
                out.push(b'\\');
                i += 1;
            }
        }
    }
    Cow::Owned(out)
}

/// The state of an open top-level object while its shape is still unknown.
struct Root {
    /// One bit per entry of [`SHAPES`]: whether every key seen so far belongs to it.
    fits: u32,
    /// The values of the keys that are secret in some shape, by that key's name.
    candidates: Vec<(&'static str, Range<usize>)>,
}

impl Root {
    fn new() -> Self {
        Root {
            fits: (1 << SHAPES.len()) - 1,
            candidates: Vec::new(),
        }
    }

    /// A key of the object, whose value starts at `start`.
    fn key(&mut self, b: &[u8], key: &[u8], start: usize) {
        for (n, shape) in SHAPES.iter().enumerate() {
            if !is_one_of(shape.keys, key) {
                self.fits &= !(1 << n);
            }
        }
        if self.fits == 0 {
            return;
        }
        let secret = SHAPES
            .iter()
            .flat_map(|s| s.secrets)
            .find(|k| k.as_bytes().eq_ignore_ascii_case(key));
        if let Some(name) = secret {
            self.candidates.push((name, start..value_end(b, start)));
        }
    }

    /// The object closed (or the text ended): its secret values, if it has a shape.
    fn finish(self, spans: &mut Vec<Range<usize>>) {
        for (n, shape) in SHAPES.iter().enumerate() {
            if self.fits & (1 << n) != 0 {
                spans.extend(
                    self.candidates
                        .iter()
                        .filter(|(name, _)| shape.secrets.contains(name))
                        .map(|(_, r)| r.clone()),
                );
            }
        }
    }
}

/// The byte ranges of the secret values in `b` (each a whole JSON value), sorted and
/// disjoint.
pub(crate) fn secret_spans(b: &[u8]) -> Vec<Range<usize>> {
    let mut spans: Vec<Range<usize>> = Vec::new();
    let mut depth = 0usize;
    let mut root: Option<Root> = None;
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'"' => {
                let Some(end) = string_end(b, i) else {
                    break;
                };
                let colon = skip_ws(b, end + 1);
                if colon < b.len() && b[colon] == b':' {
                    let key = unescape(&b[i + 1..end]);
                    let start = skip_ws(b, colon + 1);
                    if depth == 1
                        && let Some(r) = &mut root
                    {
                        r.key(b, &key, start);
                    }
                    if is_one_of(SECRET_KEYS, &key) {
                        let vend = value_end(b, start);
                        spans.push(start..vend);
                        i = vend.max(start + 1);
                        continue;
                    }
                    i = colon + 1;
                    continue;
                }
                i = end + 1;
            }
            b'{' | b'[' => {
                if depth == 0 {
                    root = (b[i] == b'{').then(Root::new);
                }
                depth += 1;
                i += 1;
            }
            b'}' | b']' => {
                depth = depth.saturating_sub(1);
                if depth == 0
                    && let Some(r) = root.take()
                {
                    r.finish(&mut spans);
                }
                i += 1;
            }
            _ => i += 1,
        }
    }
    if let Some(r) = root {
        r.finish(&mut spans);
    }
    // Shape secrets were added when their object closed, after the spans inside them.
    spans.sort_by_key(|r| r.start);
    let mut merged: Vec<Range<usize>> = Vec::with_capacity(spans.len());
    for r in spans {
        match merged.last_mut() {
            Some(last) if r.start < last.end => last.end = last.end.max(r.end),
            _ => merged.push(r),
        }
    }
    merged
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
    let spans = secret_spans(text.as_bytes());
    if spans.is_empty() {
        return Cow::Borrowed(text);
    }
    Cow::Owned(excerpt(text.as_bytes(), &spans, 0..text.len()))
}

/// [`redact`] over bytes, lossily decoded as UTF-8.
pub(crate) fn redact_bytes(body: &[u8]) -> String {
    let text = String::from_utf8_lossy(body);
    redact(&text).into_owned()
}

/// The bytes of `window` of `body` as (lossy) text, every part of a secret value in
/// `spans` (from [`secret_spans`] over the whole body) replaced by `"[redacted]"`: a
/// window that starts or ends inside a secret shows none of it.
pub(crate) fn excerpt(body: &[u8], spans: &[Range<usize>], window: Range<usize>) -> String {
    let mut out = String::with_capacity(window.len());
    let mut at = window.start;
    // An empty span is a key cut after its colon: shown as redacted where it stands.
    let shows = |s: &&Range<usize>| {
        if s.is_empty() {
            (window.start..=window.end).contains(&s.start)
        } else {
            s.end > window.start && s.start < window.end
        }
    };
    for s in spans.iter().filter(shows) {
        if s.start > at {
            out.push_str(&String::from_utf8_lossy(&body[at..s.start]));
        }
        out.push_str(REDACTED);
        at = s.end.max(at);
    }
    if at < window.end {
        out.push_str(&String::from_utf8_lossy(&body[at..window.end]));
    }
    out
}

/// Whether `at` (a byte offset of `body`) is inside a secret value or just after one.
pub(crate) fn touches(spans: &[Range<usize>], at: usize) -> bool {
    spans.iter().any(|s| s.start <= at && at <= s.end + 1)
}

/// Whether `message` quotes a secret value of `body` (whose secret spans are `spans`):
/// any string, number or literal inside a secret value, as written in the body, decoded,
/// or escaped the way `Debug` (and serde's `invalid type: string "..."`) writes it; one
/// shorter than 4 bytes only when quoted as serde quotes (`"ab"`, `` `12` ``), so that a
/// one-letter secret does not match every message.
pub(crate) fn quotes_secret(message: &str, body: &[u8], spans: &[Range<usize>]) -> bool {
    let shown = |t: &[u8]| {
        if t.is_empty() {
            return false;
        }
        let t = String::from_utf8_lossy(t);
        let escaped = format!("{t:?}");
        if t.len() < 4 {
            return message.contains(&escaped) || message.contains(&format!("`{t}`"));
        }
        message.contains(&*t) || message.contains(&escaped[1..escaped.len() - 1])
    };
    for s in spans {
        let v = &body[s.clone()];
        let mut i = 0;
        while i < v.len() {
            match v[i] {
                b'"' => {
                    let end = string_end(v, i).unwrap_or(v.len());
                    let raw = &v[i + 1..end.max(i + 1)];
                    if shown(raw) || shown(&unescape(raw)) {
                        return true;
                    }
                    i = end + 1;
                }
                c if c.is_ascii_whitespace() || b",:{}[]".contains(&c) => i += 1,
                _ => {
                    let start = i;
                    while i < v.len() && !v[i].is_ascii_whitespace() && !b",:{}[]\"".contains(&v[i])
                    {
                        i += 1;
                    }
                    if shown(&v[start..i]) {
                        return true;
                    }
                }
            }
        }
    }
    false
}

/// Header names whose values are credentials.
const SENSITIVE_HEADERS: &[&str] = &[
    "authorization",
    "proxy-authorization",
    "cookie",
    "set-cookie",
    "x-api-key",
    "es-secondary-authorization",
];

/// Parts of a header name that suggest a credential (`x-amz-security-token`,
/// `x-my-auth`, `x-session-id`, ...).
const SENSITIVE_NAME_PARTS: &[&str] = &[
    "auth",
    "token",
    "secret",
    "key",
    "password",
    "cookie",
    "session",
    "credential",
];

/// Whether the value of a header is a credential and must not be printed: the header is
/// marked [`HeaderValue::is_sensitive`], is one of `Authorization`, `Proxy-Authorization`,
/// `Cookie`, `Set-Cookie`, `X-Api-Key`, `es-secondary-authorization`, or its name contains
/// `auth`, `token`, `secret`, `key`, `password`, `cookie`, `session` or `credential`.
///
/// # Example
/// ```
/// use es_transport::redact::is_sensitive_header;
/// use http::{HeaderName, HeaderValue};
///
/// let v = HeaderValue::from_static("x");
/// assert!(is_sensitive_header(&HeaderName::from_static("authorization"), &v));
/// assert!(is_sensitive_header(&HeaderName::from_static("x-amz-security-token"), &v));
/// assert!(!is_sensitive_header(&HeaderName::from_static("content-type"), &v));
/// ```
pub fn is_sensitive_header(name: &HeaderName, value: &HeaderValue) -> bool {
    let name = name.as_str();
    value.is_sensitive()
        || SENSITIVE_HEADERS.contains(&name)
        || SENSITIVE_NAME_PARTS.iter().any(|p| name.contains(p))
}

/// `Debug` of a header map with the values of [sensitive](is_sensitive_header) headers
/// printed as `"[redacted]"`.
pub(crate) struct HeadersDebug<'a>(pub(crate) &'a HeaderMap);

impl fmt::Debug for HeadersDebug<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        struct Redacted;
        impl fmt::Debug for Redacted {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(REDACTED)
            }
        }
        let mut m = f.debug_map();
        for (name, value) in self.0 {
            if is_sensitive_header(name, value) {
                m.entry(&name.as_str(), &Redacted);
            } else {
                m.entry(&name.as_str(), value);
            }
        }
        m.finish()
    }
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

    #[test]
    fn unescape_borrows_plain_keys_and_decodes_escapes() {
        assert!(matches!(unescape(b"password"), Cow::Borrowed(_)));
        assert_eq!(&*unescape(br"\u0070assword"), b"password");
        assert_eq!(&*unescape(br#"a\"b\\c\/d\n"#), b"a\"b\\c/d\n");
        // A surrogate pair, a lone surrogate, a malformed and a cut escape.
        assert_eq!(&*unescape(br"\ud83d\ude00"), "😀".as_bytes());
        assert_eq!(&*unescape(br"\ud83dx"), "\u{FFFD}x".as_bytes());
        assert_eq!(&*unescape(br"\uzzzz"), br"\uzzzz");
        assert_eq!(&*unescape(b"a\\"), b"a\\");
    }

    #[test]
    fn spans_are_sorted_and_disjoint_with_shapes_around_nested_secrets() {
        let body = br#"{"id":"i","value":{"password":"p","x":1}}"#;
        let spans = secret_spans(body);
        assert_eq!(spans.len(), 1, "{spans:?}");
        assert_eq!(&body[spans[0].clone()], br#"{"password":"p","x":1}"#);
        let two = br#"{"token":"a"} {"api_key":"b"}"#;
        let spans = secret_spans(two);
        assert_eq!(
            spans.iter().map(|r| &two[r.clone()]).collect::<Vec<_>>(),
            [&b"\"a\""[..], b"\"b\""]
        );
    }

    #[test]
    fn excerpt_redacts_the_parts_of_secrets_in_its_window() {
        let body = br#"{"password":"0123456789","n":1}"#;
        let spans = secret_spans(body);
        // Starts inside the secret, ends inside it, and a window of the secret only.
        assert_eq!(
            excerpt(body, &spans, 16..body.len()),
            r#""[redacted]","n":1}"#
        );
        assert_eq!(excerpt(body, &spans, 0..16), r#"{"password":"[redacted]""#);
        assert_eq!(excerpt(body, &spans, 14..18), r#""[redacted]""#);
        assert_eq!(excerpt(body, &spans, 24..body.len()), r#","n":1}"#);
    }

    #[test]
    fn short_secrets_count_only_when_quoted_as_serde_quotes() {
        let body = br#"{"token":"ab","secret":12,"password":"longer-one"}"#;
        let spans = secret_spans(body);
        assert!(!quotes_secret(
            "invalid type: map, expected abc",
            body,
            &spans
        ));
        assert!(quotes_secret(r#"invalid type: string "ab""#, body, &spans));
        assert!(quotes_secret("invalid type: integer `12`", body, &spans));
        assert!(quotes_secret("bad value longer-one here", body, &spans));
    }

    #[test]
    fn headers_debug_hides_sensitive_values() {
        let mut h = HeaderMap::new();
        let mut marked = HeaderValue::from_static("marked-s3cret");
        marked.set_sensitive(true);
        h.insert("x-plain-name", marked);
        h.insert(
            "proxy-authorization",
            HeaderValue::from_static("Basic cHJveHk="),
        );
        h.insert(
            "x-amz-security-token",
            HeaderValue::from_static("amz-s3cret"),
        );
        h.insert("content-type", HeaderValue::from_static("application/json"));
        let shown = format!("{:?}", HeadersDebug(&h));
        for s in ["marked-s3cret", "cHJveHk=", "amz-s3cret"] {
            assert!(!shown.contains(s), "{shown}");
        }
        assert!(
            shown.contains(r#""content-type": "application/json""#),
            "{shown}"
        );
        assert!(shown.contains(r#""x-plain-name": "[redacted]""#), "{shown}");
    }
}
