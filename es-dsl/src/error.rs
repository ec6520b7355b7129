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
    #[error("mapping of `{field}`: {msg}")]
    Mapping { field: String, msg: String },
    #[error("validation failed (not sent): {0}")]
    Validation(String),
    #[error(transparent)]
    Api(#[from] es_api::Error),
    #[error(transparent)]
    Helpers(#[from] es_helpers::Error),
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
    /// A document type's mapping cannot be built (an option its field type lacks).
    Mapping,
    /// A document's `validate()` refused it; nothing was sent.
    Validation,
}

impl Error {
    pub(crate) fn invalid(what: &'static str, source: serde_json::Error) -> Error {
        Error(Inner::Invalid { what, source })
    }

    pub(crate) fn input(msg: impl Into<String>) -> Error {
        Error(Inner::Input(msg.into()))
    }

    pub(crate) fn mapping(field: &str, msg: impl Into<String>) -> Error {
        Error(Inner::Mapping {
            field: field.to_string(),
            msg: msg.into(),
        })
    }

    pub(crate) fn validation(msg: impl Into<String>) -> Error {
        Error(Inner::Validation(msg.into()))
    }

    /// The kind of failure.
    pub fn kind(&self) -> ErrorKind {
        match &self.0 {
            Inner::Invalid { .. } => ErrorKind::Invalid,
            Inner::Input(_) => ErrorKind::Input,
            Inner::Api(_) => ErrorKind::Api,
            Inner::Mapping { .. } => ErrorKind::Mapping,
            Inner::Validation(_) => ErrorKind::Validation,
            Inner::Helpers(_) => ErrorKind::Api,
        }
    }

    /// The HTTP status of a request that failed with one (the same type as es-api's and
    /// es-helpers' `Error::status`).
    pub fn status(&self) -> Option<es_api::es_transport::http::StatusCode> {
        self.api()?.api_error().map(|a| a.status())
    }

    /// A version conflict (409): the document changed since it was read.
    pub fn is_conflict(&self) -> bool {
        use es_api::ErrorExt;
        self.api().is_some_and(|e| e.is_conflict())
    }

    /// The document or index does not exist (404).
    pub fn is_not_found(&self) -> bool {
        use es_api::ErrorExt;
        self.api().is_some_and(|e| e.is_not_found())
    }

    /// The request's error (status, server error, transport failure), if the request failed.
    pub fn api(&self) -> Option<&es_api::Error> {
        match &self.0 {
            Inner::Api(e) => Some(e),
            _ => None,
        }
    }

    /// The helper's error (bulk, scan), if a helper failed.
    pub fn helpers(&self) -> Option<&es_helpers::Error> {
        match &self.0 {
            Inner::Helpers(e) => Some(e),
            _ => None,
        }
    }
}

impl From<es_helpers::Error> for Error {
    fn from(e: es_helpers::Error) -> Error {
        Error(Inner::Helpers(e))
    }
}

impl From<es_api::Error> for Error {
    fn from(e: es_api::Error) -> Error {
        Error(Inner::Api(e))
    }
}
