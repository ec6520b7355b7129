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
    /// A request whose outcome is unknown: it may have been executed (`note` says what
    /// to check), `source` is how it failed.
    #[error("{note}: {source}")]
    Unknown {
        note: String,
        task: Option<String>,
        #[source]
        source: Box<Error>,
    },
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

    /// `source` as a failure whose outcome is unknown, with `note` before its message and
    /// the server-side task it started, if any.
    pub(crate) fn unknown(source: Error, note: impl Into<String>, task: Option<&str>) -> Error {
        Error(Inner::Unknown {
            note: note.into(),
            task: task.map(str::to_owned),
            source: Box::new(source),
        })
    }

    /// The id of the server-side task the failed operation started (`node:number`), when
    /// it started one (by-query runs and reindex on a server with a tasks API): it may
    /// still be running; `GET _tasks/<id>` tells, and it must not be started again before.
    pub fn task_id(&self) -> Option<&str> {
        match &self.0 {
            Inner::Unknown { task, source, .. } => task.as_deref().or_else(|| source.task_id()),
            _ => None,
        }
    }

    /// Whether the failed operation may have been executed by the server (its answer was
    /// lost, or it started a task whose end was not seen): check before doing it again.
    /// `false` for input refused before sending.
    pub fn may_have_reached_server(&self) -> bool {
        match &self.0 {
            Inner::Unknown { .. } => true,
            Inner::Api(e) => e.may_have_reached_server(),
            Inner::Helpers(e) => e.may_have_reached_server(),
            Inner::Invalid { .. }
            | Inner::Input(_)
            | Inner::Mapping { .. }
            | Inner::Validation(_) => false,
        }
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
            Inner::Unknown { source, .. } => source.kind(),
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
            Inner::Unknown { source, .. } => source.api(),
            _ => None,
        }
    }

    /// The helper's error (bulk, scan), if a helper failed.
    pub fn helpers(&self) -> Option<&es_helpers::Error> {
        match &self.0 {
            Inner::Helpers(e) => Some(e),
            Inner::Unknown { source, .. } => source.helpers(),
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
