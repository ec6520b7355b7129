//! The one error type of the helpers: a transport failure, rejected bulk items, a failed scan.

use std::fmt;

use crate::bulk::BulkItem;

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
    /// A search page reported failed shards, or a scroll / point in time could not be
    /// continued. The request reached the server.
    Scan,
    /// A document or a response could not be (de)serialized.
    Serialization,
}

/// The error of every helper.
///
/// Opaque: ask it with [`Error::kind`], [`Error::transport_error`], [`Error::failed_items`].
pub struct Error {
    inner: Box<Inner>,
}

enum Inner {
    Transport(es_api::es_transport::Error),
    Items(Vec<BulkItem>),
    Scan(String),
    Serialization(String),
}

impl Error {
    pub(crate) fn transport(e: es_api::es_transport::Error) -> Self {
        Error {
            inner: Box::new(Inner::Transport(e)),
        }
    }

    pub(crate) fn items(items: Vec<BulkItem>) -> Self {
        Error {
            inner: Box::new(Inner::Items(items)),
        }
    }

    pub(crate) fn scan(message: impl Into<String>) -> Self {
        Error {
            inner: Box::new(Inner::Scan(message.into())),
        }
    }

    pub(crate) fn serialization(message: impl Into<String>) -> Self {
        Error {
            inner: Box::new(Inner::Serialization(message.into())),
        }
    }

    /// What kind of failure this is.
    pub fn kind(&self) -> ErrorKind {
        match &*self.inner {
            Inner::Transport(_) => ErrorKind::Transport,
            Inner::Items(_) => ErrorKind::BulkItems,
            Inner::Scan(_) => ErrorKind::Scan,
            Inner::Serialization(_) => ErrorKind::Serialization,
        }
    }

    /// The transport's error, for [`ErrorKind::Transport`].
    pub fn transport_error(&self) -> Option<&es_api::es_transport::Error> {
        match &*self.inner {
            Inner::Transport(e) => Some(e),
            _ => None,
        }
    }

    /// The rejected items, for [`ErrorKind::BulkItems`] (the failures of one chunk).
    pub fn failed_items(&self) -> &[BulkItem] {
        match &*self.inner {
            Inner::Items(items) => items,
            _ => &[],
        }
    }

    /// The HTTP status of a transport API error, or of the first rejected item.
    pub fn status(&self) -> Option<u16> {
        match &*self.inner {
            Inner::Transport(e) => e.status().map(|s| s.as_u16()),
            Inner::Items(items) => items.first().map(BulkItem::status),
            _ => None,
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &*self.inner {
            Inner::Transport(e) => write!(f, "request failed: {e}"),
            Inner::Items(items) => {
                write!(f, "{} bulk item(s) failed", items.len())?;
                if let Some(first) = items.first() {
                    write!(f, "; first: {first}")?;
                }
                Ok(())
            }
            Inner::Scan(m) => write!(f, "scan failed: {m}"),
            Inner::Serialization(m) => write!(f, "serialization error: {m}"),
        }
    }
}

impl fmt::Debug for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &*self.inner {
            Inner::Transport(e) => f.debug_tuple("Error::Transport").field(e).finish(),
            Inner::Items(items) => f
                .debug_struct("Error::BulkItems")
                .field("count", &items.len())
                .field("first", &items.first())
                .finish(),
            Inner::Scan(m) => f.debug_tuple("Error::Scan").field(m).finish(),
            Inner::Serialization(m) => f.debug_tuple("Error::Serialization").field(m).finish(),
        }
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match &*self.inner {
            Inner::Transport(e) => Some(e),
            _ => None,
        }
    }
}
