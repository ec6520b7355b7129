//! Minimal HTTP/1.1 wire handling shared by the fault proxy, the counting
//! server and the raw client: request and response heads (via `httparse`),
//! `Content-Length`, chunked and read-to-close bodies, and serialization.
//!
//! Everything here is defensive: sizes are capped, every loop either consumes
//! input or returns, and malformed input yields an [`io::ErrorKind::InvalidData`]
//! error instead of a panic.

use std::io;

use bytes::{Buf, Bytes, BytesMut};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};

/// Largest request or response head (request line + headers) accepted.
pub(crate) const MAX_HEAD: usize = 64 * 1024;
/// Largest body accepted (1 GiB).
pub(crate) const MAX_BODY: usize = 1 << 30;
/// Most headers accepted in one head.
const MAX_HEADERS: usize = 128;
/// Largest chunk-size line or trailer section accepted.
const MAX_CHUNK_LINE: usize = 4096;
/// Interim (1xx) responses skipped before a final response.
const MAX_INTERIM: usize = 8;

/// A request as seen by the proxy's rule and rewriter hooks and by the
/// counting server's responder.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RequestInfo {
    /// Method, e.g. `GET`.
    pub method: String,
    /// Request target including the query string, e.g. `/_search?size=1`.
    pub path: String,
    /// Headers in arrival order (names as sent).
    pub headers: Vec<(String, String)>,
    /// The request body (de-chunked; still compressed if it was sent compressed).
    pub body: Bytes,
}

impl RequestInfo {
    /// The first header named `name` (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        find_header(&self.headers, name)
    }

    /// The path without the query string.
    pub fn path_only(&self) -> &str {
        self.path.split('?').next().unwrap_or("")
    }

    /// The query string (without `?`), if any.
    pub fn query(&self) -> Option<&str> {
        self.path.split_once('?').map(|(_, q)| q)
    }

    /// The body as UTF-8 text, if it is valid UTF-8.
    pub fn body_str(&self) -> Option<&str> {
        std::str::from_utf8(&self.body).ok()
    }

    /// The body parsed as JSON, if it is valid JSON.
    pub fn body_json(&self) -> Option<serde_json::Value> {
        serde_json::from_slice(&self.body).ok()
    }
}

/// An HTTP response: what the proxy forwards (and hands to a rewriter), what
/// the raw client returns.
///
/// When written to a client, `Content-Length` is recomputed from `body` and
/// any `Transfer-Encoding`/`Connection` headers are replaced, so a rewriter
/// may change the body freely.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ProxyResponse {
    /// Status code.
    pub status: u16,
    /// Headers in order (names as received).
    pub headers: Vec<(String, String)>,
    /// The body (de-chunked; still compressed if it was sent compressed).
    pub body: Bytes,
}

impl ProxyResponse {
    /// A response with this status, no headers and an empty body.
    pub fn new(status: u16) -> Self {
        Self {
            status,
            headers: Vec::new(),
            body: Bytes::new(),
        }
    }

    /// A JSON response that looks like Elasticsearch sent it: headers
    /// `Content-Type: application/json` and `X-Elastic-Product: Elasticsearch`.
    pub fn json(status: u16, body: impl Into<Bytes>) -> Self {
        Self::new(status)
            .with_header("Content-Type", "application/json")
            .with_header("X-Elastic-Product", "Elasticsearch")
            .with_body(body)
    }

    /// Adds a header (keeps existing ones with the same name).
    pub fn with_header(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.headers.push((name.into(), value.into()));
        self
    }

    /// Replaces the body.
    pub fn with_body(mut self, body: impl Into<Bytes>) -> Self {
        self.body = body.into();
        self
    }

    /// The first header named `name` (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        find_header(&self.headers, name)
    }

    /// Removes every header named `name` and adds `name: value`.
    pub fn set_header(&mut self, name: &str, value: impl Into<String>) {
        self.remove_header(name);
        self.headers.push((name.to_string(), value.into()));
    }

    /// Removes every header named `name` (case-insensitive).
    pub fn remove_header(&mut self, name: &str) {
        self.headers.retain(|(n, _)| !n.eq_ignore_ascii_case(name));
    }

    /// The body as UTF-8 text, if it is valid UTF-8.
    pub fn body_str(&self) -> Option<&str> {
        std::str::from_utf8(&self.body).ok()
    }

    /// The body parsed as JSON, if it is valid JSON.
    pub fn body_json(&self) -> Option<serde_json::Value> {
        serde_json::from_slice(&self.body).ok()
    }
}

fn find_header<'a>(headers: &'a [(String, String)], name: &str) -> Option<&'a str> {
    headers
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.as_str())
}

fn invalid(msg: impl Into<String>) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, msg.into())
}

/// How a message body is framed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum BodyKind {
    /// No body.
    Empty,
    /// Exactly this many bytes.
    Length(usize),
    /// `Transfer-Encoding: chunked`.
    Chunked,
    /// Everything until the peer closes (responses only).
    UntilClose,
}

/// Framing facts gathered from a head without allocating.
#[derive(Debug, Clone, Copy)]
struct Framing {
    body: BodyKind,
    keep_alive: bool,
    expect_continue: bool,
}

fn has_token(value: &[u8], token: &str) -> bool {
    value
        .split(|b| *b == b',')
        .any(|t| t.trim_ascii().eq_ignore_ascii_case(token.as_bytes()))
}

/// Reads framing headers. `is_request` selects request rules (no
/// read-to-close bodies; unknown transfer codings are an error).
fn framing(headers: &[httparse::Header<'_>], version: u8, is_request: bool) -> io::Result<Framing> {
    let mut content_length: Option<u64> = None;
    let mut chunked = false;
    let mut other_te = false;
    let mut close = false;
    let mut keep_alive_token = false;
    let mut expect_continue = false;
    for h in headers {
        let name = h.name;
        if name.eq_ignore_ascii_case("content-length") {
            let v = std::str::from_utf8(h.value)
                .ok()
                .and_then(|s| s.trim().parse::<u64>().ok())
                .ok_or_else(|| invalid("bad Content-Length"))?;
            if content_length.is_some_and(|old| old != v) {
                return Err(invalid("conflicting Content-Length headers"));
            }
            content_length = Some(v);
        } else if name.eq_ignore_ascii_case("transfer-encoding") {
            let last = h
                .value
                .split(|b| *b == b',')
                .map(|t| t.trim_ascii())
                .rfind(|t| !t.is_empty());
            if last.is_some_and(|t| t.eq_ignore_ascii_case(b"chunked")) {
                chunked = true;
                other_te = false;
            } else if last.is_some() {
                other_te = true;
            }
        } else if name.eq_ignore_ascii_case("connection") {
            close |= has_token(h.value, "close");
            keep_alive_token |= has_token(h.value, "keep-alive");
        } else if name.eq_ignore_ascii_case("expect") {
            expect_continue |= h.value.trim_ascii().eq_ignore_ascii_case(b"100-continue");
        }
    }
    let keep_alive = if version >= 1 {
        !close
    } else {
        keep_alive_token && !close
    };
    let body = if chunked {
        BodyKind::Chunked
    } else if other_te {
        if is_request {
            return Err(invalid("unsupported Transfer-Encoding"));
        }
        BodyKind::UntilClose
    } else if let Some(n) = content_length {
        let n = usize::try_from(n)
            .ok()
            .filter(|n| *n <= MAX_BODY)
            .ok_or_else(|| invalid("body too large"))?;
        if n == 0 {
            BodyKind::Empty
        } else {
            BodyKind::Length(n)
        }
    } else if is_request {
        BodyKind::Empty
    } else {
        BodyKind::UntilClose
    };
    let keep_alive = keep_alive && body != BodyKind::UntilClose;
    Ok(Framing {
        body,
        keep_alive,
        expect_continue,
    })
}

fn owned_headers(headers: &[httparse::Header<'_>]) -> Vec<(String, String)> {
    headers
        .iter()
        .map(|h| {
            (
                h.name.to_string(),
                String::from_utf8_lossy(h.value).into_owned(),
            )
        })
        .collect()
}

/// A request read from a connection.
#[derive(Debug)]
pub(crate) struct ReadRequest {
    /// Whether the connection may be used for another request afterwards.
    pub(crate) keep_alive: bool,
    /// Whether the method is `HEAD` (the response then carries no body).
    pub(crate) is_head: bool,
    /// The full request (only when asked for; the body is then in `info.body`).
    pub(crate) info: Option<RequestInfo>,
}

/// Head of a request, parsed from a buffer.
struct ParsedRequestHead {
    head_len: usize,
    framing: Framing,
    is_head: bool,
    info: Option<RequestInfo>,
}

fn parse_request_head(buf: &[u8], want_info: bool) -> io::Result<Option<ParsedRequestHead>> {
    let mut headers = [httparse::EMPTY_HEADER; MAX_HEADERS];
    let mut req = httparse::Request::new(&mut headers);
    let head_len = match req.parse(buf) {
        Ok(httparse::Status::Complete(n)) => n,
        Ok(httparse::Status::Partial) => return Ok(None),
        Err(e) => return Err(invalid(format!("bad request head: {e}"))),
    };
    let version = req.version.unwrap_or(1);
    let framing = framing(req.headers, version, true)?;
    let method = req.method.unwrap_or("");
    let is_head = method.eq_ignore_ascii_case("HEAD");
    let info = want_info.then(|| RequestInfo {
        method: method.to_string(),
        path: req.path.unwrap_or("/").to_string(),
        headers: owned_headers(req.headers),
        body: Bytes::new(),
    });
    Ok(Some(ParsedRequestHead {
        head_len,
        framing,
        is_head,
        info,
    }))
}

struct ParsedResponseHead {
    head_len: usize,
    status: u16,
    headers: Vec<(String, String)>,
    framing: Framing,
}

fn parse_response_head(buf: &[u8], head_request: bool) -> io::Result<Option<ParsedResponseHead>> {
    let mut headers = [httparse::EMPTY_HEADER; MAX_HEADERS];
    let mut resp = httparse::Response::new(&mut headers);
    let head_len = match resp.parse(buf) {
        Ok(httparse::Status::Complete(n)) => n,
        Ok(httparse::Status::Partial) => return Ok(None),
        Err(e) => return Err(invalid(format!("bad response head: {e}"))),
    };
    let status = resp.code.unwrap_or(0);
    let version = resp.version.unwrap_or(1);
    let mut framing = framing(resp.headers, version, false)?;
    if head_request || (100..200).contains(&status) || status == 204 || status == 304 {
        framing.body = BodyKind::Empty;
    }
    Ok(Some(ParsedResponseHead {
        head_len,
        status,
        headers: owned_headers(resp.headers),
        framing,
    }))
}

/// A connection with a read buffer.
#[derive(Debug)]
pub(crate) struct Conn<S> {
    /// The stream.
    pub(crate) io: S,
    /// Bytes read but not consumed yet.
    pub(crate) buf: BytesMut,
}

impl<S: AsyncRead + AsyncWrite + Unpin> Conn<S> {
    /// Wraps a stream.
    pub(crate) fn new(io: S) -> Self {
        Self {
            io,
            buf: BytesMut::with_capacity(16 * 1024),
        }
    }

    /// Reads more bytes into the buffer; `Ok(0)` on end of stream.
    async fn fill(&mut self) -> io::Result<usize> {
        if self.buf.capacity() - self.buf.len() < 4096 {
            self.buf.reserve(16 * 1024);
        }
        self.io.read_buf(&mut self.buf).await
    }

    /// Reads one request. `Ok(None)` when the peer closed (or reset) the
    /// connection before sending any byte of a new request.
    pub(crate) async fn read_request(
        &mut self,
        want_info: bool,
    ) -> io::Result<Option<ReadRequest>> {
        // Bounded: each pass either parses, fails, or reads >= 1 byte into a
        // buffer capped at MAX_HEAD.
        let head = loop {
            if !self.buf.is_empty() {
                if let Some(h) = parse_request_head(&self.buf, want_info)? {
                    break h;
                }
                if self.buf.len() > MAX_HEAD {
                    return Err(invalid("request head too large"));
                }
            }
            match self.fill().await {
                Ok(0) if self.buf.iter().all(|b| b.is_ascii_whitespace()) => return Ok(None),
                Ok(0) => return Err(io::ErrorKind::UnexpectedEof.into()),
                Ok(_) => {}
                Err(e) if self.buf.is_empty() && is_disconnect(&e) => return Ok(None),
                Err(e) => return Err(e),
            }
        };
        self.buf.advance(head.head_len);
        if head.framing.expect_continue && head.framing.body != BodyKind::Empty {
            self.io.write_all(b"HTTP/1.1 100 Continue\r\n\r\n").await?;
        }
        let body = self.read_body(head.framing.body).await?;
        let info = head.info.map(|mut i| {
            i.body = body;
            i
        });
        Ok(Some(ReadRequest {
            keep_alive: head.framing.keep_alive,
            is_head: head.is_head,
            info,
        }))
    }

    /// Reads one final response (skipping interim 1xx responses). Returns
    /// the response and whether the connection can be reused, or `Ok(None)`
    /// when the peer closed or reset the connection before sending any byte
    /// (a stale keep-alive connection).
    pub(crate) async fn read_response(
        &mut self,
        head_request: bool,
    ) -> io::Result<Option<(ProxyResponse, bool)>> {
        for interim in 0..=MAX_INTERIM {
            let head = loop {
                if !self.buf.is_empty() {
                    if let Some(h) = parse_response_head(&self.buf, head_request)? {
                        break h;
                    }
                    if self.buf.len() > MAX_HEAD {
                        return Err(invalid("response head too large"));
                    }
                }
                match self.fill().await {
                    Ok(0) if self.buf.is_empty() && interim == 0 => return Ok(None),
                    Ok(0) => return Err(io::ErrorKind::UnexpectedEof.into()),
                    Ok(_) => {}
                    Err(e) if self.buf.is_empty() && interim == 0 && is_disconnect(&e) => {
                        return Ok(None);
                    }
                    Err(e) => return Err(e),
                }
            };
            self.buf.advance(head.head_len);
            if (100..200).contains(&head.status) {
                continue;
            }
            let body = self.read_body(head.framing.body).await?;
            let resp = ProxyResponse {
                status: head.status,
                headers: head.headers,
                body,
            };
            return Ok(Some((resp, head.framing.keep_alive)));
        }
        Err(invalid("too many interim responses"))
    }

    async fn read_body(&mut self, kind: BodyKind) -> io::Result<Bytes> {
        match kind {
            BodyKind::Empty => Ok(Bytes::new()),
            BodyKind::Length(n) => {
                if self.buf.len() < n {
                    self.buf.reserve(n - self.buf.len());
                }
                while self.buf.len() < n {
                    if self.io.read_buf(&mut self.buf).await? == 0 {
                        return Err(io::ErrorKind::UnexpectedEof.into());
                    }
                }
                Ok(self.buf.split_to(n).freeze())
            }
            BodyKind::Chunked => self.read_chunked().await,
            BodyKind::UntilClose => {
                while self.fill().await? != 0 {
                    if self.buf.len() > MAX_BODY {
                        return Err(invalid("body too large"));
                    }
                }
                Ok(self.buf.split().freeze())
            }
        }
    }

    async fn read_chunked(&mut self) -> io::Result<Bytes> {
        let mut out = BytesMut::new();
        // Bounded: every non-final chunk adds >= 1 byte to `out`, which is
        // capped at MAX_BODY; partial reads add >= 1 byte to a capped buffer.
        loop {
            match httparse::parse_chunk_size(&self.buf) {
                Ok(httparse::Status::Complete((idx, size))) => {
                    let size = usize::try_from(size)
                        .ok()
                        .filter(|s| out.len().saturating_add(*s) <= MAX_BODY)
                        .ok_or_else(|| invalid("chunked body too large"))?;
                    self.buf.advance(idx);
                    if size == 0 {
                        self.skip_trailers().await?;
                        return Ok(out.freeze());
                    }
                    let need = size + 2;
                    if self.buf.len() < need {
                        self.buf.reserve(need - self.buf.len());
                    }
                    while self.buf.len() < need {
                        if self.io.read_buf(&mut self.buf).await? == 0 {
                            return Err(io::ErrorKind::UnexpectedEof.into());
                        }
                    }
                    let chunk = self.buf.split_to(need);
                    if chunk.get(size..) != Some(b"\r\n".as_slice()) {
                        return Err(invalid("chunk not followed by CRLF"));
                    }
                    out.extend_from_slice(chunk.get(..size).unwrap_or_default());
                }
                Ok(httparse::Status::Partial) => {
                    if self.buf.len() > MAX_CHUNK_LINE {
                        return Err(invalid("chunk size line too long"));
                    }
                    if self.fill().await? == 0 {
                        return Err(io::ErrorKind::UnexpectedEof.into());
                    }
                }
                Err(_) => return Err(invalid("bad chunk size")),
            }
        }
    }

    async fn skip_trailers(&mut self) -> io::Result<()> {
        let mut skipped = 0usize;
        loop {
            if let Some(pos) = self.buf.windows(2).position(|w| w == b"\r\n") {
                self.buf.advance(pos + 2);
                if pos == 0 {
                    return Ok(());
                }
                skipped += pos + 2;
                if skipped > MAX_HEAD {
                    return Err(invalid("trailers too large"));
                }
                continue;
            }
            if self.buf.len() > MAX_HEAD {
                return Err(invalid("trailers too large"));
            }
            if self.fill().await? == 0 {
                return Err(io::ErrorKind::UnexpectedEof.into());
            }
        }
    }
}

/// Whether an I/O error means the peer went away.
pub(crate) fn is_disconnect(e: &io::Error) -> bool {
    matches!(
        e.kind(),
        io::ErrorKind::ConnectionReset
            | io::ErrorKind::ConnectionAborted
            | io::ErrorKind::BrokenPipe
            | io::ErrorKind::UnexpectedEof
    )
}

/// The canonical reason phrase of a status code (empty when unknown).
pub(crate) fn reason(status: u16) -> &'static str {
    match status {
        100 => "Continue",
        200 => "OK",
        201 => "Created",
        202 => "Accepted",
        204 => "No Content",
        301 => "Moved Permanently",
        302 => "Found",
        304 => "Not Modified",
        400 => "Bad Request",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        405 => "Method Not Allowed",
        406 => "Not Acceptable",
        408 => "Request Timeout",
        409 => "Conflict",
        413 => "Payload Too Large",
        429 => "Too Many Requests",
        500 => "Internal Server Error",
        501 => "Not Implemented",
        502 => "Bad Gateway",
        503 => "Service Unavailable",
        504 => "Gateway Timeout",
        _ => "",
    }
}

/// Whether a response to this request/status carries no body.
fn bodyless(status: u16, head_request: bool) -> bool {
    head_request || (100..200).contains(&status) || status == 204 || status == 304
}

fn is_framing_header(name: &str) -> bool {
    [
        "content-length",
        "transfer-encoding",
        "connection",
        "keep-alive",
    ]
    .iter()
    .any(|h| name.eq_ignore_ascii_case(h))
}

/// Serializes a response. Returns the bytes and the length of the head.
///
/// `Content-Length` is recomputed from the body (kept as sent for bodyless
/// responses such as answers to `HEAD`), `Transfer-Encoding` and
/// `Connection` are dropped, and `Connection: close` is added when `close`.
pub(crate) fn serialize_response(
    resp: &ProxyResponse,
    head_request: bool,
    close: bool,
) -> (Vec<u8>, usize) {
    let no_body = bodyless(resp.status, head_request);
    let mut out = Vec::with_capacity(256 + if no_body { 0 } else { resp.body.len() });
    out.extend_from_slice(
        format!("HTTP/1.1 {} {}\r\n", resp.status, reason(resp.status)).as_bytes(),
    );
    for (name, value) in &resp.headers {
        let keep_length = no_body && name.eq_ignore_ascii_case("content-length");
        if is_framing_header(name) && !keep_length {
            continue;
        }
        push_header(&mut out, name, value);
    }
    if !no_body {
        push_header(&mut out, "content-length", &resp.body.len().to_string());
    }
    if close {
        push_header(&mut out, "connection", "close");
    }
    out.extend_from_slice(b"\r\n");
    let head_len = out.len();
    if !no_body {
        out.extend_from_slice(&resp.body);
    }
    (out, head_len)
}

fn push_header(out: &mut Vec<u8>, name: &str, value: &str) {
    // Never let a header smuggle a line break into the head.
    let clean = |s: &str| s.replace(['\r', '\n'], " ");
    out.extend_from_slice(clean(name).as_bytes());
    out.extend_from_slice(b": ");
    out.extend_from_slice(clean(value).as_bytes());
    out.extend_from_slice(b"\r\n");
}

/// Serializes a request for an upstream server: hop-by-hop headers are
/// dropped and `Content-Length` is set from the body.
pub(crate) fn serialize_request(info: &RequestInfo) -> Vec<u8> {
    const HOP: [&str; 9] = [
        "connection",
        "keep-alive",
        "proxy-connection",
        "transfer-encoding",
        "content-length",
        "expect",
        "te",
        "trailer",
        "upgrade",
    ];
    let mut out = Vec::with_capacity(256 + info.body.len());
    let method = if info.method.is_empty() {
        "GET"
    } else {
        info.method.as_str()
    };
    let path = if info.path.is_empty() {
        "/"
    } else {
        info.path.as_str()
    };
    out.extend_from_slice(format!("{method} {path} HTTP/1.1\r\n").as_bytes());
    for (name, value) in &info.headers {
        if HOP.iter().any(|h| name.eq_ignore_ascii_case(h)) {
            continue;
        }
        push_header(&mut out, name, value);
    }
    let wants_length = ["POST", "PUT", "PATCH"]
        .iter()
        .any(|m| method.eq_ignore_ascii_case(m));
    if !info.body.is_empty() || wants_length {
        push_header(&mut out, "content-length", &info.body.len().to_string());
    }
    out.extend_from_slice(b"\r\n");
    out.extend_from_slice(&info.body);
    out
}

/// `data` gzip-compressed (fast level): bodies for `Content-Encoding: gzip` answers.
pub fn gzip(data: &[u8]) -> Bytes {
    use std::io::Write;
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    e.write_all(data).expect("writing to a Vec");
    Bytes::from(e.finish().expect("writing to a Vec"))
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn parse_req(raw: &'static [u8]) -> io::Result<Option<ReadRequest>> {
        let (mut a, b) = tokio::io::duplex(1 << 16);
        a.write_all(raw).await?;
        drop(a);
        let mut conn = Conn::new(b);
        conn.read_request(true).await
    }

    #[tokio::test]
    async fn parses_content_length_and_chunked() {
        let r = parse_req(b"POST /x?y=1 HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\n\r\nabc")
            .await
            .expect("ok")
            .expect("some");
        let info = r.info.expect("info");
        assert_eq!(info.path_only(), "/x");
        assert_eq!(info.query(), Some("y=1"));
        assert_eq!(&info.body[..], b"abc");
        assert!(r.keep_alive);

        let r = parse_req(
            b"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n3\r\nabc\r\n2;x=y\r\nde\r\n0\r\nT: 1\r\n\r\n",
        )
        .await
        .expect("ok")
        .expect("some");
        assert!(!r.keep_alive);
        assert_eq!(&r.info.expect("info").body[..], b"abcde");
    }

    #[tokio::test]
    async fn rejects_garbage_without_panicking() {
        assert!(parse_req(b"\x00\x01\x02 garbage\r\n\r\n").await.is_err());
        assert!(
            parse_req(b"POST / HTTP/1.1\r\nContent-Length: 99999999999999999999\r\n\r\n")
                .await
                .is_err()
        );
        assert!(
            parse_req(b"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n")
                .await
                .is_err()
        );
        assert!(
            parse_req(b"POST / HTTP/1.1\r\nContent-Length: 10\r\n\r\nabc")
                .await
                .is_err()
        );
        assert!(parse_req(b"").await.expect("ok").is_none());
    }

    #[tokio::test]
    async fn response_round_trip() {
        let resp =
            ProxyResponse::json(201, "{\"a\":1}").with_header("Transfer-Encoding", "chunked");
        let (bytes, head_len) = serialize_response(&resp, false, false);
        assert!(head_len < bytes.len());
        let (mut a, b) = tokio::io::duplex(1 << 16);
        a.write_all(&bytes).await.expect("write");
        drop(a);
        let mut conn = Conn::new(b);
        let (back, keep) = conn.read_response(false).await.expect("ok").expect("some");
        assert!(keep);
        assert_eq!(back.status, 201);
        assert_eq!(&back.body[..], b"{\"a\":1}");
        assert_eq!(back.header("x-elastic-product"), Some("Elasticsearch"));
        assert_eq!(back.header("transfer-encoding"), None);
    }
}
