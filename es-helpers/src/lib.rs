//! Bulk, scan and reindex helpers for Elasticsearch (work in progress).

pub use es_api;
