//! Typed query, aggregation and search builders for Elasticsearch (work in progress).

pub use es_api;
