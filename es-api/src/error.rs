//! The error type: the transport's [`Error`], re-exported so one error type crosses layers.
//!
//! API errors (status >= 400) are `ErrorKind::Api` with the parsed server error in
//! [`Error::api_error`]; invalid arguments (an empty path part, a path part no URL takes)
//! are `ErrorKind::Config`; a body that fails to serialize is `ErrorKind::Serialization`.
//! None of those leave the client.
//!
//! [`ErrorExt`] adds the status predicates (`is_not_found()`, `is_conflict()`, …): bring it
//! into scope with `use es_api::ErrorExt;`.

use http::StatusCode;

pub use es_transport::{ApiError, Error, ErrorKind};

/// A `Result` whose error is [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Typed predicates over the HTTP status of an error, so callers need not compare numbers.
///
/// Implemented for [`Error`] (true only for API errors: a connection failure or a timeout is
/// none of these) and for the helpers' error (`es_helpers::Error`).
///
/// # Example
/// ```no_run
/// # async fn run(client: es_api::Client) -> es_api::Result<()> {
/// use es_api::ErrorExt;
///
/// match client.get("docs", "1").send().await {
///     Ok(resp) => println!("{}", resp.status()),
///     Err(e) if e.is_not_found() => println!("no such document"),
///     Err(e) => return Err(e),
/// }
/// # Ok(()) }
/// ```
pub trait ErrorExt {
    /// The HTTP status the server answered with, when the error is an answer of the server.
    fn http_status(&self) -> Option<StatusCode>;

    /// Whether the server answered 404 Not Found (a missing index, document, alias, …).
    fn is_not_found(&self) -> bool {
        self.http_status() == Some(StatusCode::NOT_FOUND)
    }

    /// Whether the server answered 409 Conflict (a version conflict, a `create` of an
    /// existing id).
    fn is_conflict(&self) -> bool {
        self.http_status() == Some(StatusCode::CONFLICT)
    }

    /// Whether the server answered 401 Unauthorized (missing or wrong credentials).
    fn is_unauthorized(&self) -> bool {
        self.http_status() == Some(StatusCode::UNAUTHORIZED)
    }

    /// Whether the server answered 403 Forbidden (the user lacks a privilege).
    fn is_forbidden(&self) -> bool {
        self.http_status() == Some(StatusCode::FORBIDDEN)
    }

    /// Whether the server answered 429 Too Many Requests (rejected under load: retry later).
    fn is_too_many_requests(&self) -> bool {
        self.http_status() == Some(StatusCode::TOO_MANY_REQUESTS)
    }
}

impl ErrorExt for Error {
    fn http_status(&self) -> Option<StatusCode> {
        self.status()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use es_transport::{Request, RequestOptions, Transport};

    /// The error of a request to a server that answers `status` to everything.
    async fn api_error(status: u16) -> Error {
        let server = es_tests::CountingServer::builder()
            .status(status)
            .body(format!(
                r#"{{"error":{{"type":"t","reason":"r"}},"status":{status}}}"#
            ))
            .start();
        let t = Transport::builder(server.url()).build().unwrap();
        t.send(Request::get("/x").with_options(RequestOptions::new().max_retries(0)))
            .await
            .unwrap_err()
    }

    #[tokio::test]
    async fn predicates_follow_the_status() {
        let cases: [(u16, [bool; 5]); 6] = [
            (404, [true, false, false, false, false]),
            (409, [false, true, false, false, false]),
            (401, [false, false, true, false, false]),
            (403, [false, false, false, true, false]),
            (429, [false, false, false, false, true]),
            (400, [false, false, false, false, false]),
        ];
        for (status, want) in cases {
            let e = api_error(status).await;
            assert_eq!(e.http_status().map(|s| s.as_u16()), Some(status));
            let got = [
                e.is_not_found(),
                e.is_conflict(),
                e.is_unauthorized(),
                e.is_forbidden(),
                e.is_too_many_requests(),
            ];
            assert_eq!(got, want, "status {status}");
        }
        // Not an answer of the server: no status, no predicate.
        let e = Error::custom(ErrorKind::Connect, "refused");
        assert_eq!(e.http_status(), None);
        assert!(!e.is_not_found() && !e.is_too_many_requests());
    }
}
