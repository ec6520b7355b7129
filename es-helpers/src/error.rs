//! The one error type of the helpers: a transport failure, rejected bulk items, a failed scan,
//! an input that panicked.

use std::fmt;

use es_api::ErrorExt;
use es_api::es_transport::http::StatusCode;

use crate::bulk::{BulkItem, BulkStats};

/// A `Result` whose error is the helpers' [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// What kind of failure an [`Error`] is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ErrorKind {
    /// A request failed after the transport's (and the helper's) retries: see
    /// [`Error::transport_error`]. The request may have reached the server.
    Transport,
    /// Bulk items were rejected (`raise_on_error`): see [`Error::failed_items`].
    /// The request reached the server.
    BulkItems,
    /// A search page reported failed shards or `timed_out`, a scroll / point in time could
    /// not be continued, or a scroll continuation was lost ([`Error::documents_yielded`]
    /// says after how many documents; its cause, whatever its kind, an unreadable answer
    /// included, is [`Error::transport_error`]). The request reached the server.
    Scan,
    /// A document or a response could not be (de)serialized. For a response, the
    /// transport's error (with the node and the body near the failure) is
    /// [`Error::transport_error`].
    Serialization,
    /// The input of a bulk run (the actions' iterator or stream, or a document's `Serialize`
    /// impl) panicked: the run stopped there. Every action read before the panic was sent
    /// (or reported); the message says how many.
    Input,
    /// The helper was told not to send the request ([`Scan::refuse`](crate::scan::Scan::refuse):
    /// a caller that found the request cannot be carried out as asked): nothing was sent, the
    /// message says why.
    Refused,
}

/// The error of every helper.
///
/// Opaque: ask it with [`Error::kind`], [`Error::status`] and its predicates
/// ([`Error::is_not_found`], [`Error::is_conflict`], …), [`Error::transport_error`],
/// [`Error::failed_items`]. An [`es_api::Error`] converts into it, so `?` works on both in a
/// function returning [`Result`].
pub struct Error {
    inner: Box<Repr>,
}

struct Repr {
    kind: Inner,
    /// The counts of the bulk run this error ended, once its requests in flight finished.
    stats: Option<BulkStats>,
}

#[derive(thiserror::Error)]
enum Inner {
    #[error("request failed: {0}")]
    Transport(#[source] es_api::es_transport::Error),
    #[error("{}", items_message(.0))]
    Items(Vec<BulkItem>),
    #[error("scan failed: {0}")]
    Scan(String),
    /// A scan's next page could not be read after `yielded` documents; the cause.
    #[error(
        "scan failed: the next page was lost after {yielded} documents (not resent: a scroll continuation resent returns the page after it): {source}"
    )]
    ScanLost {
        yielded: u64,
        #[source]
        source: es_api::es_transport::Error,
    },
    #[error("serialization error: {0}")]
    Serialization(String),
    #[error("not sent: {0}")]
    Refused(String),
    #[error(
        "the bulk input failed after {after} actions (each of them was sent or reported): {message}"
    )]
    Input { after: u64, message: String },
}

/// `3 bulk item(s) failed; first: index [docs]/[7] status 409, ...`.
fn items_message(items: &[BulkItem]) -> String {
    match items.first() {
        Some(first) => format!("{} bulk item(s) failed; first: {first}", items.len()),
        None => format!("{} bulk item(s) failed", items.len()),
    }
}

impl Error {
    fn new(kind: Inner) -> Self {
        Error {
            inner: Box::new(Repr { kind, stats: None }),
        }
    }

    /// A scan whose next page was lost after `yielded` documents (the request may have been
    /// executed: a scroll continuation cannot be resent without skipping a page).
    pub(crate) fn scan_lost(yielded: u64, source: es_api::es_transport::Error) -> Self {
        Error::new(Inner::ScanLost { yielded, source })
    }

    /// Adds the failed items of a chunk that finished after a `BulkItems` error was raised.
    pub(crate) fn extend_items(&mut self, more: impl Iterator<Item = BulkItem>) {
        if let Inner::Items(items) = &mut self.inner.kind {
            items.extend(more);
        }
    }

    /// Attaches the counts of the bulk run this error ended.
    pub(crate) fn with_stats(mut self, stats: BulkStats) -> Self {
        self.inner.stats = Some(stats);
        self
    }

    /// For an error that ended a bulk run ([`Bulk::run`](crate::bulk::Bulk::run),
    /// [`BulkStream`](crate::bulk::BulkStream)): the run's counts, taken after every request
    /// in flight at the failure had finished, so `succeeded + failed + unknown` is every
    /// action the run sent.
    pub fn bulk_stats(&self) -> Option<BulkStats> {
        self.inner.stats
    }

    /// For a scan that ended because its next page was lost: how many documents it had
    /// yielded before.
    pub fn documents_yielded(&self) -> Option<u64> {
        match &self.inner.kind {
            Inner::ScanLost { yielded, .. } => Some(*yielded),
            _ => None,
        }
    }

    /// Whether the failed request may have been executed by the server (see
    /// [`es_api::es_transport::Error::may_have_reached_server`]): `false` only when it
    /// certainly was not, or for a panicking input (what was read before it was sent or
    /// reported). An answer that could not be read counts as reached.
    pub fn may_have_reached_server(&self) -> bool {
        match &self.inner.kind {
            Inner::Transport(e) | Inner::ScanLost { source: e, .. } => e.may_have_reached_server(),
            Inner::Items(_) | Inner::Scan(_) | Inner::Serialization(_) => true,
            Inner::Input { .. } | Inner::Refused(_) => false,
        }
    }

    /// Whether the failed request's outcome is unknown: it may have been executed and no
    /// answer says it was refused ([`es_api::es_transport::Error::outcome_unknown`]); an
    /// answer that could not be read counts as unknown. `false` for rejected bulk items (each
    /// was answered), refused and never-sent work.
    pub fn outcome_unknown(&self) -> bool {
        match &self.inner.kind {
            Inner::Transport(e) | Inner::ScanLost { source: e, .. } => e.outcome_unknown(),
            Inner::Scan(_) | Inner::Serialization(_) => true,
            Inner::Items(_) | Inner::Input { .. } | Inner::Refused(_) => false,
        }
    }

    pub(crate) fn refused(message: impl Into<String>) -> Self {
        Error::new(Inner::Refused(message.into()))
    }

    pub(crate) fn transport(e: es_api::es_transport::Error) -> Self {
        Error::new(Inner::Transport(e))
    }

    pub(crate) fn items(items: Vec<BulkItem>) -> Self {
        Error::new(Inner::Items(items))
    }

    pub(crate) fn scan(message: impl Into<String>) -> Self {
        Error::new(Inner::Scan(message.into()))
    }

    pub(crate) fn serialization(message: impl Into<String>) -> Self {
        Error::new(Inner::Serialization(message.into()))
    }

    pub(crate) fn input(after: u64, message: impl Into<String>) -> Self {
        Error::new(Inner::Input {
            after,
            message: message.into(),
        })
    }

    /// What kind of failure this is.
    pub fn kind(&self) -> ErrorKind {
        match &self.inner.kind {
            // A response that arrived but cannot be read as expected is a (de)serialization
            // failure, whichever layer found it.
            Inner::Transport(e) if e.kind() == es_api::ErrorKind::Serialization => {
                ErrorKind::Serialization
            }
            Inner::Transport(_) => ErrorKind::Transport,
            Inner::ScanLost { .. } => ErrorKind::Scan,
            Inner::Items(_) => ErrorKind::BulkItems,
            Inner::Scan(_) => ErrorKind::Scan,
            Inner::Serialization(_) => ErrorKind::Serialization,
            Inner::Input { .. } => ErrorKind::Input,
            Inner::Refused(_) => ErrorKind::Refused,
        }
    }

    /// The transport's error, for [`ErrorKind::Transport`] (and for a response that
    /// [`ErrorKind::Serialization`] could not read).
    pub fn transport_error(&self) -> Option<&es_api::es_transport::Error> {
        match &self.inner.kind {
            Inner::Transport(e) | Inner::ScanLost { source: e, .. } => Some(e),
            _ => None,
        }
    }

    /// The rejected items, for [`ErrorKind::BulkItems`] (the failures of one chunk).
    pub fn failed_items(&self) -> &[BulkItem] {
        match &self.inner.kind {
            Inner::Items(items) => items,
            _ => &[],
        }
    }

    /// The HTTP status of a transport API error, or of the first rejected item (none for an
    /// item that got no answer, status 0); the same type as [`es_api::Error::status`].
    pub fn status(&self) -> Option<StatusCode> {
        match &self.inner.kind {
            Inner::Transport(e) | Inner::ScanLost { source: e, .. } => e.status(),
            Inner::Items(items) => items
                .first()
                .and_then(|i| StatusCode::from_u16(i.status()).ok()),
            _ => None,
        }
    }

    /// For [`ErrorKind::Input`]: how many actions were read from the input before it
    /// panicked.
    pub fn input_actions_read(&self) -> Option<u64> {
        match &self.inner.kind {
            Inner::Input { after, .. } => Some(*after),
            _ => None,
        }
    }

    /// Whether [`Error::status`] is 404 Not Found.
    pub fn is_not_found(&self) -> bool {
        self.status() == Some(StatusCode::NOT_FOUND)
    }

    /// Whether [`Error::status`] is 409 Conflict.
    pub fn is_conflict(&self) -> bool {
        self.status() == Some(StatusCode::CONFLICT)
    }

    /// Whether [`Error::status`] is 401 Unauthorized.
    pub fn is_unauthorized(&self) -> bool {
        self.status() == Some(StatusCode::UNAUTHORIZED)
    }

    /// Whether [`Error::status`] is 403 Forbidden.
    pub fn is_forbidden(&self) -> bool {
        self.status() == Some(StatusCode::FORBIDDEN)
    }

    /// Whether [`Error::status`] is 429 Too Many Requests.
    pub fn is_too_many_requests(&self) -> bool {
        self.status() == Some(StatusCode::TOO_MANY_REQUESTS)
    }
}

impl From<es_api::Error> for Error {
    /// A client error as an [`ErrorKind::Transport`] error of the helpers.
    fn from(e: es_api::Error) -> Self {
        Error::transport(e)
    }
}

impl ErrorExt for Error {
    fn http_status(&self) -> Option<StatusCode> {
        self.status()
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.inner.kind, f)
    }
}

impl fmt::Debug for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&self.inner.kind, f)
    }
}

impl fmt::Debug for Inner {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Inner::Transport(e) => f.debug_tuple("Error::Transport").field(e).finish(),
            Inner::Items(items) => f
                .debug_struct("Error::BulkItems")
                .field("count", &items.len())
                .field("first", &items.first())
                .finish(),
            Inner::Scan(m) => f.debug_tuple("Error::Scan").field(m).finish(),
            Inner::ScanLost { yielded, source } => f
                .debug_struct("Error::ScanLost")
                .field("yielded", yielded)
                .field("source", source)
                .finish(),
            Inner::Serialization(m) => f.debug_tuple("Error::Serialization").field(m).finish(),
            Inner::Refused(m) => f.debug_tuple("Error::Refused").field(m).finish(),
            Inner::Input { after, message } => f
                .debug_struct("Error::Input")
                .field("after", after)
                .field("message", message)
                .finish(),
        }
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        std::error::Error::source(&self.inner.kind)
    }
}
