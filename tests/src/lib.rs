//! Test harness: real `osmem-server` instances, a fault-injecting proxy and
//! a counting "null" server, all on loopback sockets.
//!
//! - [`OsmemServer`]: runs the in-memory Elasticsearch-compatible
//!   `osmem-server` on a free port (see [`find_binary`] for where it is
//!   looked up; a test that needs it and cannot find it panics with install
//!   instructions).
//! - [`FaultProxy`]: an HTTP/1.1 proxy in front of a server that can
//!   forward, refuse, reset, stall, answer a fixed status or garbage, per
//!   mode or per request ([`Mode`], [`Action`]), and rewrite responses.
//! - [`CountingServer`]: a minimal keep-alive server that answers at once
//!   and counts connections and requests.
//! - [`client`]: a tiny independent HTTP/1.1 client.
//! - [`fuzz`]: the stable-toolchain mutation fuzzer of the fuzz targets.

/// The README's Rust code blocks, compiled as doctests (`no_run`: they need a cluster), so
/// that the README's examples keep building as the crates change.
#[cfg(doctest)]
#[doc = include_str!("../../README.md")]
pub struct ReadmeDoctests;

pub mod client;
pub mod counting;
pub mod fuzz;
pub mod json;
pub mod proxy;
pub mod server;
pub mod wire;

pub use counting::{
    CountingServer, CountingServerBuilder, Responder, bulk_responder, bulk_success_body,
};
pub use proxy::{Action, FaultProxy, Mode, ProxyHandle, RequestRecord, Rewriter, Rule};
pub use server::{INSTALL_HINT, OsmemServer, find_binary};
pub use wire::{ProxyResponse, RequestInfo};
