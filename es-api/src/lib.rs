//! The typed, generated Elasticsearch API.

pub use es_transport;
