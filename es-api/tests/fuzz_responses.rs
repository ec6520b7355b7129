//! Mutation fuzzing of the typed responses (`es_api::response`), on the stable toolchain, with
//! the mutator es-transport's parser targets use (`es_tests::fuzz`).
//!
//! Each target is seeded with Elasticsearch's documented answers (the fixtures of
//! `tests/golden/responses/`, see `responses.rs`) and reads `FUZZ_ITERS` mutated bodies
//! (default 2,000, so the suite stays fast) as its typed response, from bytes as
//! `Response::json` does. The property: no panic; an error is fine, and a value that parsed
//! serializes again without panicking. Seeds are fixed, so a failure reproduces; a crash found
//! here becomes a named regression test at the end of this file.
//!
//! `FUZZ_ITERS=100000 cargo test -p es-api --test fuzz_responses --release` for a longer run.

use std::path::Path;

use es_api::response::{
    BulkResponse, ByQueryResponse, ClusterHealthResponse, CountResponse, GetResponse, InfoResponse,
    MgetResponse, MsearchResponse, OpenPointInTimeResponse, SearchResponse, WriteResponse,
};
use es_tests::fuzz::{iterations, mutations};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// The suite's inputs per target (`FUZZ_ITERS` overrides).
const DEFAULT_ITERS: usize = 2_000;

fn fixture(name: &str) -> Vec<u8> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/golden/responses")
        .join(name);
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// Reads every mutation of the `seeds` fixtures as `T`; returns how many parsed.
fn fuzz<T: DeserializeOwned + Serialize>(seeds: &[&str], seed: u64) -> usize {
    let corpus: Vec<Vec<u8>> = seeds.iter().map(|s| fixture(s)).collect();
    let corpus: Vec<&[u8]> = corpus.iter().map(Vec::as_slice).collect();
    // Every seed parses: the corpus starts from valid answers.
    for (name, body) in seeds.iter().zip(&corpus) {
        serde_json::from_slice::<T>(body).unwrap_or_else(|e| panic!("seed {name}: {e}"));
    }
    let count = iterations(DEFAULT_ITERS);
    let mut parsed = 0;
    for input in mutations(&corpus, seed, count) {
        match serde_json::from_slice::<T>(&input) {
            Ok(value) => {
                parsed += 1;
                let _ = serde_json::to_vec(&value);
            }
            Err(e) => {
                let _ = e.to_string();
            }
        }
    }
    let name = std::any::type_name::<T>();
    eprintln!("{name}: {parsed} of {count} inputs parsed");
    // About a tenth to a quarter of the mutations are still a valid `T`: the typed readers,
    // not only the JSON syntax, see mutated input.
    assert!(count < 1_000 || parsed > 0, "{name}: no mutation parsed");
    parsed
}

/// A typed `_source` for the search and get examples (`my-index-000001`), with nested
/// structs, a renamed field and narrow integers.
#[derive(Debug, Serialize, Deserialize)]
struct LogEvent {
    #[serde(rename = "@timestamp")]
    timestamp: String,
    message: String,
    user: User,
    http: Http,
}

#[derive(Debug, Serialize, Deserialize)]
struct User {
    id: String,
}

#[derive(Debug, Serialize, Deserialize)]
struct Http {
    response: HttpResponse,
    version: String,
}

#[derive(Debug, Serialize, Deserialize)]
struct HttpResponse {
    status_code: u16,
    bytes: u32,
}

const SEARCH: &[&str] = &["search.json", "search_terms_aggregation.json", "count.json"];

#[test]
fn fuzz_search_response_value() {
    fuzz::<SearchResponse<Value>>(SEARCH, 101);
}

#[test]
fn fuzz_search_response_typed() {
    fuzz::<SearchResponse<LogEvent>>(&["search.json"], 102);
}

#[test]
fn fuzz_msearch_response() {
    fuzz::<MsearchResponse<Value>>(&["msearch.json", "search.json"], 103);
}

#[test]
fn fuzz_bulk_response() {
    let seeds = [
        "bulk_success.json",
        "bulk_errors.json",
        "bulk_filter_path_errors.json",
    ];
    fuzz::<BulkResponse>(&seeds, 104);
}

#[test]
fn fuzz_get_response() {
    let seeds = [
        "get_found.json",
        "get_stored_fields.json",
        "get_routing.json",
        "get_not_found.json",
    ];
    fuzz::<GetResponse<Value>>(&seeds, 105);
    fuzz::<GetResponse<LogEvent>>(&["get_found.json"], 106);
}

#[test]
fn fuzz_mget_response() {
    fuzz::<MgetResponse<Value>>(&["mget.json", "mget_missing.json"], 107);
}

/// The other typed answers, one run each.
#[test]
fn fuzz_other_responses() {
    let writes = ["index_with_id.json", "update_noop.json", "delete.json"];
    fuzz::<WriteResponse>(&writes, 108);
    fuzz::<ByQueryResponse>(&["delete_by_query.json", "reindex.json"], 109);
    fuzz::<InfoResponse>(&["info_stack.json", "info_serverless.json"], 110);
    fuzz::<ClusterHealthResponse>(&["cluster_health.json"], 111);
    fuzz::<CountResponse>(&["count.json"], 112);
    fuzz::<OpenPointInTimeResponse>(&["open_point_in_time.json"], 113);
}
