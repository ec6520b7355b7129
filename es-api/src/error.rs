//! The error type: the transport's [`Error`], re-exported so one error type crosses layers.
//!
//! API errors (status >= 400) are `ErrorKind::Api` with the parsed server error in
//! [`Error::api_error`]; invalid arguments (an empty path part) are `ErrorKind::Config`; a
//! body that fails to serialize is `ErrorKind::Serialization`. None of those leave the client.

pub use es_transport::{ApiError, Error, ErrorKind};

/// A `Result` whose error is [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;
