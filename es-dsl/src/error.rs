//! The error of es-dsl: bad input, or the request's failure.

/// What went wrong: [`Error::kind`] tells which, [`Error::api`] gives the request's error.
#[derive(Debug, thiserror::Error)]
#[error(transparent)]
pub struct Error(#[from] Inner);

#[derive(Debug, thiserror::Error)]
enum Inner {
    #[error("not {what}: {source}")]
    Invalid {
        what: &'static str,
        #[source]
        source: serde_json::Error,
    },
    #[error("{0}")]
    Input(String),
    #[error(transparent)]
    Api(#[from] es_api::Error),
}

/// The kind of an [`Error`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum ErrorKind {
    /// JSON given to `raw` / `from_json` is not what it should be.
    Invalid,
    /// A search that cannot be sent as built (it was not sent).
    Input,
    /// The request failed: see [`Error::api`].
    Api,
}

impl Error {
    pub(crate) fn invalid(what: &'static str, source: serde_json::Error) -> Error {
        Error(Inner::Invalid { what, source })
    }

    pub(crate) fn input(msg: impl Into<String>) -> Error {
        Error(Inner::Input(msg.into()))
    }

    /// The kind of failure.
    pub fn kind(&self) -> ErrorKind {
        match &self.0 {
            Inner::Invalid { .. } => ErrorKind::Invalid,
            Inner::Input(_) => ErrorKind::Input,
            Inner::Api(_) => ErrorKind::Api,
        }
    }

    /// The request's error (status, server error, transport failure), if the request failed.
    pub fn api(&self) -> Option<&es_api::Error> {
        match &self.0 {
            Inner::Api(e) => Some(e),
            _ => None,
        }
    }
}

impl From<es_api::Error> for Error {
    fn from(e: es_api::Error) -> Error {
        Error(Inner::Api(e))
    }
}
