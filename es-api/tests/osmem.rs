//! The typed API against a real server: `osmem-server`, the in-memory
//! Elasticsearch-compatible server (see `es_tests::server`). Every test starts its own
//! server, so the tests are independent and run in parallel.
//!
//! Where osmem answers differently from Elasticsearch the test says so (`osmem:` comments).

use es_api::response::{
    AcknowledgedResponse, BulkOperation, BulkResponse, ByQueryResponse, CatRows,
    ClearScrollResponse, ClusterHealthResponse, CountResponse, CreateIndexResponse,
    GetAliasResponse, GetMappingResponse, GetResponse, GetSettingsResponse, HealthStatus,
    InfoResponse, MgetResponse, MsearchResponse, OpenPointInTimeResponse, RefreshResponse,
    SearchResponse, TotalHitsRelation, WriteResponse, WriteResult,
};
use es_api::{Client, Error, ErrorKind, Response};
use es_tests::OsmemServer;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use std::future::IntoFuture;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct Doc {
    title: String,
    tag: String,
    n: i64,
}

fn doc(title: &str, tag: &str, n: i64) -> Doc {
    Doc {
        title: title.to_owned(),
        tag: tag.to_owned(),
        n,
    }
}

/// A fresh server and a client to it (keep the server alive for the test).
fn start() -> (OsmemServer, Client) {
    let server = OsmemServer::start();
    let client = Client::from_url(&server.url()).expect("client");
    (server, client)
}

/// Creates `index` with an explicit mapping and three documents `1`, `2`, `3`, refreshed.
async fn seed(client: &Client, index: &str) {
    client
        .indices()
        .create(index)
        .body(json!({
            "settings": {"number_of_shards": 1},
            "mappings": {"properties": {
                "title": {"type": "text"},
                "tag": {"type": "keyword"},
                "n": {"type": "integer"}
            }}
        }))
        .await
        .expect("create index");
    let docs = [
        ("1", doc("hello world", "a", 1)),
        ("2", doc("hello there", "b", 2)),
        ("3", doc("goodbye world", "a", 3)),
    ];
    let mut lines = Vec::new();
    for (id, d) in &docs {
        lines.push(json!({"index": {"_index": index, "_id": id}}));
        lines.push(serde_json::to_value(d).unwrap());
    }
    let bulk: BulkResponse = client
        .bulk()
        .body(lines)
        .refresh(true)
        .await
        .expect("seed bulk")
        .json()
        .unwrap();
    assert!(!bulk.errors, "{bulk:?}");
}

/// Sends a request, expecting success, and reads the body as `T`.
trait Typed: IntoFuture<Output = es_api::Result<Response>> + Sized {
    async fn typed<T: DeserializeOwned>(self) -> T {
        let response = self.await.expect("request failed");
        response
            .json()
            .unwrap_or_else(|e| panic!("{e}; body: {}", response.text()))
    }
}

impl<F: IntoFuture<Output = es_api::Result<Response>>> Typed for F {}

/// The status and `error.type` of an API error.
#[track_caller]
fn api_failure(result: es_api::Result<es_api::Response>) -> (u16, Option<String>, Error) {
    let err = result.expect_err("expected an API error");
    assert_eq!(err.kind(), ErrorKind::Api, "{err}");
    let api = err.api_error().expect("api error details");
    let status = api.status().as_u16();
    assert_eq!(err.status().map(|s| s.as_u16()), Some(status));
    let error_type = api.error_type().map(str::to_owned);
    (status, error_type, err)
}

#[tokio::test]
async fn info_and_ping() {
    let (server, client) = start();
    let response = client.info().await.unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(
        response.headers()["x-elastic-product"],
        "Elasticsearch",
        "osmem announces itself as Elasticsearch"
    );
    let info: InfoResponse = response.json().unwrap();
    assert_eq!(info.cluster_name, "osmem");
    assert!(!info.name.is_empty() && !info.cluster_uuid.is_empty());
    assert_eq!(Some(info.version.number.as_str()), server.version());
    // osmem: `version.distribution` is "opensearch" and the tagline OpenSearch's (the
    // reference's `GET /` answers are read in `responses.rs`, `info_stack_and_serverless`).
    assert_eq!(info.version.distribution.as_deref(), Some("opensearch"));
    assert_eq!(
        info.tagline,
        "The OpenSearch Project: https://opensearch.org/"
    );

    assert!(client.ping().await.unwrap());
}

#[tokio::test]
async fn index_with_and_without_id() {
    let (_server, client) = start();
    let created: WriteResponse = client
        .index("docs")
        .id("1")
        .body(doc("first", "a", 1))
        .refresh(true)
        .typed()
        .await;
    assert_eq!(created.index, "docs");
    assert_eq!(created.id, "1");
    assert_eq!(created.version, 1);
    assert_eq!(created.result, WriteResult::Created);
    assert_eq!(created.forced_refresh, Some(true));
    assert_eq!(created.shards.successful, 1);
    assert!(created.seq_no.is_some() && created.primary_term.is_some());

    let response = client
        .index("docs")
        .id("1")
        .body(doc("second", "a", 2))
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let replaced: WriteResponse = response.json().unwrap();
    assert_eq!(replaced.result, WriteResult::Updated);
    assert_eq!(replaced.version, 2);
    assert_eq!(replaced.forced_refresh, None);
    assert!(replaced.seq_no > created.seq_no);

    // Optimistic concurrency: a stale seq_no is a conflict, the current one succeeds.
    let (status, error_type, _) = api_failure(
        client
            .index("docs")
            .id("1")
            .if_seq_no(created.seq_no.unwrap())
            .if_primary_term(created.primary_term.unwrap())
            .body(doc("stale", "a", 0))
            .await,
    );
    assert_eq!(status, 409);
    assert_eq!(
        error_type.as_deref(),
        Some("version_conflict_engine_exception")
    );
    let guarded: WriteResponse = client
        .index("docs")
        .id("1")
        .if_seq_no(replaced.seq_no.unwrap())
        .if_primary_term(replaced.primary_term.unwrap())
        .body(doc("second", "a", 2))
        .typed()
        .await;
    assert_eq!(guarded.version, 3);

    let response = client
        .index("docs")
        .body(doc("generated id", "b", 3))
        .refresh(es_api::params::Refresh::WaitFor)
        .await
        .unwrap();
    assert_eq!(response.status(), 201);
    let generated: WriteResponse = response.json().unwrap();
    assert_eq!(generated.result, WriteResult::Created);
    assert!(!generated.id.is_empty());

    let got: GetResponse<Doc> = client.get("docs", &generated.id).typed().await;
    assert_eq!(got.source, Some(doc("generated id", "b", 3)));
    let count: CountResponse = client.count().index("docs").typed().await;
    assert_eq!(count.count, 2);
}

#[tokio::test]
async fn create_and_conflict() {
    let (_server, client) = start();
    let created: WriteResponse = client
        .create("docs", "1")
        .body(doc("only once", "a", 1))
        .typed()
        .await;
    assert_eq!(created.result, WriteResult::Created);
    assert_eq!(created.version, 1);

    let (status, error_type, err) =
        api_failure(client.create("docs", "1").body(doc("again", "a", 2)).await);
    assert_eq!(status, 409);
    assert_eq!(
        error_type.as_deref(),
        Some("version_conflict_engine_exception")
    );
    let reason = err.api_error().unwrap().reason().unwrap();
    assert!(reason.contains("already exists"), "{reason}");

    // `index` with op_type=create is the same conflict.
    let (status, _, _) = api_failure(
        client
            .index("docs")
            .id("1")
            .op_type(es_api::params::OpType::Create)
            .body(doc("again", "a", 2))
            .await,
    );
    assert_eq!(status, 409);

    // The first document is untouched.
    let source: Doc = client.get_source("docs", "1").typed().await;
    assert_eq!(source, doc("only once", "a", 1));
}

#[tokio::test]
async fn get_get_source_and_exists() {
    let (_server, client) = start();
    seed(&client, "docs").await;

    let got: GetResponse<Doc> = client.get("docs", "2").typed().await;
    assert!(got.found);
    assert_eq!((got.index.as_str(), got.id.as_str()), ("docs", "2"));
    assert_eq!(got.version, Some(1));
    assert!(got.seq_no.is_some());
    assert_eq!(got.source, Some(doc("hello there", "b", 2)));

    // A missing document is a 404 error by default…
    let (status, error_type, _) = api_failure(client.get("docs", "404").await);
    assert_eq!(status, 404);
    // Elasticsearch's body is `{"_index":…,"_id":…,"found":false}`: no `error` object.
    assert_eq!(error_type, None);
    // …and a response with `ignore_status([404])`.
    let response = client
        .get("docs", "404")
        .ignore_status([404])
        .await
        .unwrap();
    assert_eq!(response.status(), 404);
    let missing: GetResponse<Doc> = response.json().unwrap();
    assert!(!missing.found);
    assert_eq!(missing.id, "404");
    assert_eq!(missing.source, None);

    // A missing index is a 404 with an error type.
    let (status, error_type, _) = api_failure(client.get("nope", "1").await);
    assert_eq!(status, 404);
    assert_eq!(error_type.as_deref(), Some("index_not_found_exception"));

    let source: Doc = client.get_source("docs", "3").typed().await;
    assert_eq!(source, doc("goodbye world", "a", 3));
    let filtered: Value = client
        .get_source("docs", "3")
        ._source_includes("tag")
        .typed()
        .await;
    assert_eq!(filtered, json!({"tag": "a"}));

    assert!(client.exists("docs", "1").await.unwrap());
    assert!(!client.exists("docs", "404").await.unwrap());
    assert!(client.exists_source("docs", "1").await.unwrap());
    assert!(!client.exists_source("docs", "404").await.unwrap());
    assert!(client.indices().exists("docs").await.unwrap());
    assert!(!client.indices().exists("nope").await.unwrap());
}

#[tokio::test]
async fn update_doc_upsert_and_script() {
    let (_server, client) = start();
    seed(&client, "docs").await;

    let updated: WriteResponse = client
        .update("docs", "1")
        .body(json!({"doc": {"n": 10}}))
        .refresh(true)
        .typed()
        .await;
    assert_eq!(updated.result, WriteResult::Updated);
    assert_eq!(updated.version, 2);
    let got: GetResponse<Doc> = client.get("docs", "1").typed().await;
    assert_eq!(got.source, Some(doc("hello world", "a", 10)));

    // The same partial document again changes nothing.
    let noop: WriteResponse = client
        .update("docs", "1")
        .body(json!({"doc": {"n": 10}}))
        .typed()
        .await;
    assert_eq!(noop.result, WriteResult::Noop);
    assert_eq!(noop.version, 2);

    // `_source=true` returns the updated document in `get`.
    let with_source: WriteResponse = client
        .update("docs", "1")
        .body(json!({"doc": {"n": 11}}))
        ._source("true")
        .typed()
        .await;
    assert_eq!(with_source.get.unwrap()["_source"]["n"], 11);

    // doc_as_upsert creates a missing document.
    let upserted: WriteResponse = client
        .update("docs", "9")
        .body(json!({"doc": doc("upserted", "c", 9), "doc_as_upsert": true}))
        .typed()
        .await;
    assert_eq!(upserted.result, WriteResult::Created);

    // A script with an upsert on a missing document inserts the upsert.
    let body = json!({
        "script": {"source": "ctx._source.n += params.k", "params": {"k": 5}},
        "upsert": doc("scripted", "s", 0)
    });
    let inserted: WriteResponse = client.update("docs", "10").body(&body).typed().await;
    assert_eq!(inserted.result, WriteResult::Created);
    // On an existing document the script runs on Elasticsearch (`updated`, n = 5; the typed
    // read of that answer is `responses.rs`, `update_that_ran_reads_updated`). osmem: scripts
    // are not supported, a 400 `unsupported_operation_exception`, and the document is
    // unchanged.
    let (status, error_type, err) = api_failure(client.update("docs", "10").body(&body).await);
    assert_eq!(status, 400);
    assert_eq!(
        error_type.as_deref(),
        Some("unsupported_operation_exception")
    );
    assert_eq!(
        err.api_error().unwrap().reason(),
        Some("update with script is not supported by osmem")
    );
    let d: Doc = client.get_source("docs", "10").typed().await;
    assert_eq!(d, doc("scripted", "s", 0));

    // Updating a missing document without an upsert is a 404.
    let (status, error_type, _) = api_failure(
        client
            .update("docs", "404")
            .body(json!({"doc": {"n": 1}}))
            .await,
    );
    assert_eq!(status, 404);
    assert_eq!(error_type.as_deref(), Some("document_missing_exception"));
}

#[tokio::test]
async fn delete_document() {
    let (_server, client) = start();
    seed(&client, "docs").await;

    let deleted: WriteResponse = client.delete("docs", "1").refresh(true).typed().await;
    assert_eq!(deleted.result, WriteResult::Deleted);
    assert_eq!(deleted.version, 2);
    assert!(!client.exists("docs", "1").await.unwrap());

    // Deleting it again: 404, whose body is still a write result.
    let (status, _, _) = api_failure(client.delete("docs", "1").await);
    assert_eq!(status, 404);
    let response = client
        .delete("docs", "1")
        .ignore_status([404])
        .await
        .unwrap();
    let not_found: WriteResponse = response.json().unwrap();
    assert_eq!(not_found.result, WriteResult::NotFound);
    assert_eq!(not_found.id, "1");
}

#[tokio::test]
async fn delete_and_update_by_query() {
    let (_server, client) = start();
    seed(&client, "docs").await;

    let updated: ByQueryResponse = client
        .update_by_query("docs")
        .body(json!({"query": {"term": {"tag": "b"}}}))
        .refresh(true)
        .typed()
        .await;
    assert_eq!((updated.total, updated.updated), (1, 1));
    assert!(updated.failures.is_empty());

    let deleted: ByQueryResponse = client
        .delete_by_query("docs")
        .body(json!({"query": {"term": {"tag": "a"}}}))
        .refresh(true)
        .typed()
        .await;
    assert_eq!((deleted.total, deleted.deleted), (2, 2));
    assert_eq!(deleted.version_conflicts, 0);
    assert!(!deleted.timed_out);

    let count: CountResponse = client.count().index("docs").typed().await;
    assert_eq!(count.count, 1);
    assert!(client.exists("docs", "2").await.unwrap());
}

#[tokio::test]
async fn count() {
    let (_server, client) = start();
    seed(&client, "docs").await;
    let all: CountResponse = client.count().index("docs").typed().await;
    assert_eq!(all.count, 3);
    assert_eq!(all.shards.failed, 0);
    let tagged: CountResponse = client
        .count()
        .index("docs")
        .body(json!({"query": {"term": {"tag": "a"}}}))
        .typed()
        .await;
    assert_eq!(tagged.count, 2);
    let q: CountResponse = client.count().index("docs").q("tag:b").typed().await;
    assert_eq!(q.count, 1);
    let (status, error_type, _) = api_failure(client.count().index("nope").await);
    assert_eq!(status, 404);
    assert_eq!(error_type.as_deref(), Some("index_not_found_exception"));
}

#[tokio::test]
async fn search_typed_hits_total_and_aggregations() {
    let (_server, client) = start();
    seed(&client, "docs").await;

    let found: SearchResponse<Doc> = client
        .search()
        .index("docs")
        .body(json!({
            "query": {"match": {"title": "hello"}},
            "aggs": {
                "tags": {"terms": {"field": "tag"}},
                "total_n": {"sum": {"field": "n"}}
            }
        }))
        .typed()
        .await;
    assert!(!found.timed_out);
    assert_eq!(found.shards.failed, 0);
    let total = found.hits.total.unwrap();
    assert_eq!(total.value, 2);
    assert_eq!(total.relation, TotalHitsRelation::Eq);
    assert!(found.hits.max_score.unwrap() > 0.0);
    let mut ids: Vec<_> = found
        .hits
        .hits
        .iter()
        .map(|h| h.id.clone().unwrap())
        .collect();
    ids.sort();
    assert_eq!(ids, ["1", "2"]);
    for hit in &found.hits.hits {
        assert_eq!(hit.index, "docs");
        assert!(hit.score.unwrap() > 0.0);
        assert!(hit.source.as_ref().unwrap().title.starts_with("hello"));
    }
    let aggs = found.aggregations.unwrap();
    assert_eq!(aggs["total_n"]["value"], 3.0);
    let mut buckets: Vec<(String, u64)> = aggs["tags"]["buckets"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| {
            (
                b["key"].as_str().unwrap().to_owned(),
                b["doc_count"].as_u64().unwrap(),
            )
        })
        .collect();
    buckets.sort();
    assert_eq!(buckets, [("a".to_owned(), 1), ("b".to_owned(), 1)]);

    // Sorted, paged, with a lower-bound total.
    let page: SearchResponse<Doc> = client
        .search()
        .index("docs")
        .body(json!({"query": {"match_all": {}}, "sort": [{"n": "desc"}]}))
        .size(2)
        .track_total_hits(1)
        .typed()
        .await;
    let ns: Vec<i64> = page
        .hits
        .hits
        .iter()
        .map(|h| h.source.as_ref().unwrap().n)
        .collect();
    assert_eq!(ns, [3, 2]);
    assert_eq!(page.hits.hits[0].sort, Some(vec![json!(3)]));
    let total = page.hits.total.unwrap();
    assert_eq!(
        (total.value, total.relation),
        (1, TotalHitsRelation::Gte),
        "track_total_hits=1 counts up to 1"
    );

    // Several indices (the comma is not encoded) and `filter_path`: the typed response
    // reads the filtered body, missing sections take their defaults.
    client
        .index("other")
        .id("x")
        .body(doc("hello other", "o", 9))
        .refresh(true)
        .await
        .unwrap();
    let filtered: SearchResponse<Doc> = client
        .search()
        .index(["docs", "other"])
        .q("title:hello")
        .filter_path(["hits.hits._id", "hits.hits._index", "hits.total"])
        .typed()
        .await;
    assert_eq!(filtered.hits.total.unwrap().value, 3);
    assert_eq!(filtered.took, 0);
    assert!(filtered.hits.hits.iter().all(|h| h.source.is_none()));
    let mut indices: Vec<_> = filtered
        .hits
        .hits
        .iter()
        .map(|h| h.index.as_str())
        .collect();
    indices.sort_unstable();
    assert_eq!(indices, ["docs", "docs", "other"]);

    // `rest_total_hits_as_int` and `_source: false`.
    let bare: SearchResponse<Doc> = client
        .search()
        .index("docs")
        .q("tag:a")
        ._source("false")
        .rest_total_hits_as_int(true)
        .typed()
        .await;
    assert_eq!(bare.hits.total.unwrap().value, 2);
    assert!(bare.hits.hits.iter().all(|h| h.source.is_none()));
}

#[tokio::test]
async fn msearch_typed_with_a_failed_search() {
    let (_server, client) = start();
    seed(&client, "docs").await;
    let response: MsearchResponse<Doc> = client
        .msearch()
        .index("docs")
        .body([
            json!({}),
            json!({"query": {"term": {"tag": "a"}}}),
            json!({"index": "nope"}),
            json!({"query": {"match_all": {}}}),
            json!({"index": "docs"}),
            json!({"query": {"ids": {"values": ["2"]}}}),
        ])
        .typed()
        .await;
    assert_eq!(response.responses.len(), 3);
    let first = response.responses[0].result().unwrap();
    assert_eq!(first.hits.total.unwrap().value, 2);
    assert_eq!(response.responses[0].status, Some(200));
    let failed = response.responses[1].result().unwrap_err();
    assert_eq!(failed.error_type, "index_not_found_exception");
    assert_eq!(response.responses[1].status, Some(404));
    let third = response.responses[2].result().unwrap();
    assert_eq!(third.hits.hits[0].source, Some(doc("hello there", "b", 2)));
}

#[tokio::test]
async fn mget_found_missing_and_failed() {
    let (_server, client) = start();
    seed(&client, "docs").await;

    let response: MgetResponse<Doc> = client
        .mget()
        .body(json!({"docs": [
            {"_index": "docs", "_id": "1"},
            {"_index": "docs", "_id": "404"},
            {"_index": "nope", "_id": "1"}
        ]}))
        .typed()
        .await;
    assert_eq!(response.docs.len(), 3);
    assert!(response.docs[0].found);
    assert_eq!(response.docs[0].source, Some(doc("hello world", "a", 1)));
    assert!(!response.docs[1].found && response.docs[1].error.is_none());
    assert_eq!(response.docs[1].id, "404");
    let error = response.docs[2].error.as_ref().unwrap();
    assert_eq!(error.error_type, "index_not_found_exception");
    assert_eq!(error.other["index"], "nope");

    let by_ids: MgetResponse<Doc> = client
        .mget()
        .index("docs")
        .body(json!({"ids": ["3", "2"]}))
        .typed()
        .await;
    let titles: Vec<_> = by_ids
        .docs
        .iter()
        .map(|d| d.source.as_ref().unwrap().title.as_str())
        .collect();
    assert_eq!(titles, ["goodbye world", "hello there"]);
}

#[tokio::test]
async fn bulk_per_item_results() {
    let (_server, client) = start();
    let response: BulkResponse = client
        .bulk()
        .index("docs")
        .refresh(true)
        .body([
            json!({"index": {"_id": "1"}}),
            json!(doc("one", "a", 1)),
            json!({"create": {"_id": "1"}}),
            json!(doc("one again", "a", 1)),
            json!({"update": {"_id": "1"}}),
            json!({"doc": {"n": 100}}),
            json!({"delete": {"_id": "404"}}),
            json!({"create": {}}),
            json!(doc("auto id", "b", 2)),
            json!({"delete": {"_index": "other", "_id": "x"}}),
        ])
        .typed()
        .await;
    assert!(response.errors);
    let ops: Vec<_> = response.items.iter().map(|i| i.operation).collect();
    assert_eq!(
        ops,
        [
            BulkOperation::Index,
            BulkOperation::Create,
            BulkOperation::Update,
            BulkOperation::Delete,
            BulkOperation::Create,
            BulkOperation::Delete,
        ]
    );
    let r: Vec<_> = response.items.iter().map(|i| &i.result).collect();
    assert_eq!(
        (r[0].status, r[0].result),
        (201, Some(WriteResult::Created))
    );
    assert_eq!(r[0].version, Some(1));
    assert_eq!(r[0].id.as_deref(), Some("1"));
    assert_eq!(r[0].index, "docs");
    assert_eq!(r[1].status, 409);
    assert_eq!(
        r[1].error.as_ref().unwrap().error_type,
        "version_conflict_engine_exception"
    );
    assert_eq!(r[1].result, None);
    assert_eq!(
        (r[2].status, r[2].result),
        (200, Some(WriteResult::Updated))
    );
    assert_eq!(r[2].version, Some(2));
    assert_eq!(
        (r[3].status, r[3].result),
        (404, Some(WriteResult::NotFound))
    );
    assert!(
        r[3].error.is_none(),
        "a delete of a missing doc is no failure"
    );
    assert_eq!(r[4].status, 201);
    assert!(!r[4].id.as_deref().unwrap().is_empty());
    // A delete in a missing index fails (the index is not created for it).
    assert_eq!((r[5].index.as_str(), r[5].status), ("other", 404));
    assert_eq!(
        r[5].error.as_ref().unwrap().error_type,
        "index_not_found_exception"
    );
    let failed: Vec<_> = response.failed().map(|i| i.operation).collect();
    assert_eq!(failed, [BulkOperation::Create, BulkOperation::Delete]);

    let one: Doc = client.get_source("docs", "1").typed().await;
    assert_eq!(one, doc("one", "a", 100));
    let count: CountResponse = client.count().index("docs").typed().await;
    assert_eq!(count.count, 2);
}

#[tokio::test]
async fn scroll_and_clear_scroll() {
    let (_server, client) = start();
    seed(&client, "docs").await;
    let mut page: SearchResponse<Doc> = client
        .search()
        .index("docs")
        .scroll("1m")
        .size(2)
        .sort("_doc")
        .typed()
        .await;
    assert_eq!(page.hits.total.unwrap().value, 3);
    let mut ids = Vec::new();
    let mut scroll_id = page.scroll_id.clone().expect("a scroll id");
    while !page.hits.hits.is_empty() {
        ids.extend(page.hits.hits.iter().map(|h| h.id.clone().unwrap()));
        scroll_id = page.scroll_id.clone().expect("a scroll id");
        page = client
            .scroll()
            .body(json!({"scroll": "1m", "scroll_id": scroll_id}))
            .typed()
            .await;
        assert!(ids.len() <= 3, "scrolling does not end: {ids:?}");
    }
    ids.sort();
    assert_eq!(ids, ["1", "2", "3"]);

    // The deprecated scroll id in the path (`GET /_search/scroll/{scroll_id}`, base64 with
    // `=` to encode) works too.
    #[allow(deprecated)]
    let again: SearchResponse<Doc> = client
        .scroll()
        .scroll_id(&scroll_id)
        .scroll("1m")
        .typed()
        .await;
    assert!(again.hits.hits.is_empty());

    let cleared: ClearScrollResponse = client
        .clear_scroll()
        .body(json!({"scroll_id": scroll_id}))
        .typed()
        .await;
    assert!(cleared.succeeded);
    assert_eq!(cleared.num_freed, 1);
    // Clearing it again: Elasticsearch (and osmem) answer 404 with the same body shape.
    let response = client
        .clear_scroll()
        .body(json!({"scroll_id": scroll_id}))
        .ignore_status([404])
        .await
        .unwrap();
    assert_eq!(response.status(), 404);
    let cleared: ClearScrollResponse = response.json().unwrap();
    assert_eq!(cleared.num_freed, 0);
}

/// Point in time on osmem. Elasticsearch's `POST /{index}/_pit` + `DELETE /_pit` (the
/// generated `open_point_in_time` / `close_point_in_time`) are refused by osmem, which speaks
/// OpenSearch's `POST /{index}/_search/point_in_time` + `DELETE /_search/point_in_time`, so the
/// point in time is opened and closed through the transport; [`OpenPointInTimeResponse`]
/// reads OpenSearch's answer (`pit_id`). Elasticsearch's answers are read from the
/// reference's examples in `responses.rs` (`open_and_close_point_in_time`).
#[tokio::test]
async fn point_in_time() {
    let (_server, client) = start();
    seed(&client, "docs").await;
    let transport = client.transport();
    let post = es_api::es_transport::http::Method::POST;
    let delete = es_api::es_transport::http::Method::DELETE;

    // osmem: `POST /docs/_pit` has no handler (400, a string error).
    let (status, error_type, err) =
        api_failure(client.open_point_in_time("docs", "1m").send().await);
    assert_eq!(status, 400);
    assert_eq!(error_type, None);
    assert_eq!(
        err.api_error().unwrap().reason(),
        Some("no handler found for uri [/docs/_pit] and method [POST]")
    );

    let response = transport
        .send(es_api::es_transport::Request::new(
            post,
            "/docs/_search/point_in_time?keep_alive=1m",
        ))
        .await
        .unwrap();
    let pit: OpenPointInTimeResponse = response.json().unwrap();
    assert!(!pit.id.is_empty());
    assert!(pit.creation_time.is_some());
    assert_eq!(
        (pit.shards.total, pit.shards.successful, pit.shards.failed),
        (1, 1, 0)
    );

    // Writes after opening are invisible to the point in time.
    client
        .index("docs")
        .id("4")
        .body(doc("late", "z", 4))
        .refresh(true)
        .await
        .unwrap();
    let found: SearchResponse<Doc> = client
        .search()
        .body(json!({
            "pit": {"id": pit.id, "keep_alive": "1m"},
            "sort": [{"n": "asc"}],
            "size": 10
        }))
        .typed()
        .await;
    assert_eq!(found.hits.total.unwrap().value, 3);
    assert_eq!(found.hits.hits.len(), 3);
    assert!(found.pit_id.is_some());

    // osmem: `DELETE /_pit` is read as an index named `_pit` (400
    // invalid_index_name_exception); OpenSearch's close answers
    // `{"pits":[{"pit_id":…,"successful":true}]}`.
    let (status, error_type, _) = api_failure(
        client
            .close_point_in_time()
            .body(json!({"id": pit.id}))
            .await,
    );
    assert_eq!(status, 400);
    assert_eq!(error_type.as_deref(), Some("invalid_index_name_exception"));
    let response = transport
        .send(
            es_api::es_transport::Request::new(delete, "/_search/point_in_time")
                .with_json_body(json!({"pit_id": [pit.id]}).to_string()),
        )
        .await
        .unwrap();
    let closed: Value = response.json().unwrap();
    assert_eq!(closed["pits"][0]["successful"], true);
    assert_eq!(closed["pits"][0]["pit_id"], pit.id.as_str());
}

#[tokio::test]
async fn indices_create_exists_get_delete() {
    let (_server, client) = start();
    let created: CreateIndexResponse = client
        .indices()
        .create("books")
        .body(json!({"settings": {"number_of_shards": 1, "number_of_replicas": 0}}))
        .typed()
        .await;
    assert!(created.acknowledged && created.shards_acknowledged);
    assert_eq!(created.index, "books");
    assert!(client.indices().exists("books").await.unwrap());

    let (status, error_type, _) = api_failure(client.indices().create("books").await);
    assert_eq!(status, 400);
    assert_eq!(
        error_type.as_deref(),
        Some("resource_already_exists_exception")
    );

    let got: Value = client.indices().get("books").typed().await;
    assert_eq!(got["books"]["settings"]["index"]["number_of_shards"], "1");
    assert!(got["books"]["mappings"].is_object());

    let deleted: AcknowledgedResponse = client.indices().delete("books").typed().await;
    assert!(deleted.acknowledged);
    assert!(!client.indices().exists("books").await.unwrap());
    let (status, error_type, _) = api_failure(client.indices().delete("books").await);
    assert_eq!(status, 404);
    assert_eq!(error_type.as_deref(), Some("index_not_found_exception"));
}

#[tokio::test]
async fn indices_mappings() {
    let (_server, client) = start();
    seed(&client, "docs").await;
    let mapping: GetMappingResponse = client.indices().get_mapping().index("docs").typed().await;
    let props = &mapping["docs"].mappings["properties"];
    assert_eq!(props["title"]["type"], "text");
    assert_eq!(props["tag"]["type"], "keyword");
    assert_eq!(props["n"]["type"], "integer");

    let ack: AcknowledgedResponse = client
        .indices()
        .put_mapping("docs")
        .body(json!({"properties": {"added": {"type": "keyword"}}}))
        .typed()
        .await;
    assert!(ack.acknowledged);
    let all: GetMappingResponse = client.indices().get_mapping().typed().await;
    assert_eq!(all.len(), 1);
    assert_eq!(
        all["docs"].mappings["properties"]["added"]["type"],
        "keyword"
    );
    let field: Value = client
        .indices()
        .get_field_mapping("added")
        .index("docs")
        .typed()
        .await;
    assert_eq!(
        field["docs"]["mappings"]["added"]["mapping"]["added"]["type"],
        "keyword"
    );
}

#[tokio::test]
async fn indices_settings() {
    let (_server, client) = start();
    seed(&client, "docs").await;
    let settings: GetSettingsResponse = client.indices().get_settings().index("docs").typed().await;
    assert_eq!(settings["docs"].settings["index"]["number_of_shards"], "1");

    let ack: AcknowledgedResponse = client
        .indices()
        .put_settings()
        .index("docs")
        .body(json!({"index": {"number_of_replicas": 2, "refresh_interval": "5s"}}))
        .typed()
        .await;
    assert!(ack.acknowledged);
    let one: GetSettingsResponse = client
        .indices()
        .get_settings()
        .index("docs")
        .name("index.number_of_replicas")
        .typed()
        .await;
    assert_eq!(
        one["docs"].settings,
        json!({"index": {"number_of_replicas": "2"}})
    );
    let flat: GetSettingsResponse = client
        .indices()
        .get_settings()
        .index("docs")
        .flat_settings(true)
        .typed()
        .await;
    assert_eq!(flat["docs"].settings["index.refresh_interval"], "5s");
}

#[tokio::test]
async fn indices_aliases() {
    let (_server, client) = start();
    seed(&client, "docs").await;
    client.indices().create("other").await.unwrap();

    let ack: AcknowledgedResponse = client.indices().put_alias("docs", "all").typed().await;
    assert!(ack.acknowledged);
    let ack: AcknowledgedResponse = client
        .indices()
        .update_aliases()
        .body(json!({"actions": [
            {"add": {"index": "docs", "alias": "only-a", "filter": {"term": {"tag": "a"}}}},
            {"add": {"index": "other", "alias": "all"}}
        ]}))
        .typed()
        .await;
    assert!(ack.acknowledged);

    let of_docs: GetAliasResponse = client.indices().get_alias().index("docs").typed().await;
    let names: Vec<_> = of_docs["docs"].aliases.keys().cloned().collect();
    assert_eq!(names, ["all", "only-a"]);
    assert_eq!(
        of_docs["docs"].aliases["only-a"]["filter"],
        json!({"term": {"tag": "a"}})
    );
    let all: GetAliasResponse = client.indices().get_alias().name("all").typed().await;
    let indices: Vec<_> = all.keys().cloned().collect();
    assert_eq!(indices, ["docs", "other"]);

    assert!(client.indices().exists_alias("only-a").await.unwrap());
    assert!(!client.indices().exists_alias("nope").await.unwrap());

    // A filtered alias filters.
    let count: CountResponse = client.count().index("only-a").typed().await;
    assert_eq!(count.count, 2);

    let ack: AcknowledgedResponse = client
        .indices()
        .delete_alias("docs", "only-a")
        .typed()
        .await;
    assert!(ack.acknowledged);
    assert!(!client.indices().exists_alias("only-a").await.unwrap());
    let (status, _, err) = api_failure(client.indices().get_alias().name("only-a").await);
    assert_eq!(status, 404);
    // Elasticsearch answers `{"error":"alias [only-a] missing","status":404}`: a string error.
    let reason = err.api_error().unwrap().reason().unwrap_or_default();
    assert!(reason.contains("only-a"), "{reason}");
}

#[tokio::test]
async fn indices_refresh_and_stats() {
    let (_server, client) = start();
    seed(&client, "docs").await;
    client
        .index("docs")
        .id("4")
        .body(doc("fresh", "c", 4))
        .await
        .unwrap();
    let refreshed: RefreshResponse = client.indices().refresh().index("docs").typed().await;
    // One primary and its unassigned replica.
    let shards = &refreshed.shards;
    assert_eq!((shards.total, shards.successful, shards.failed), (2, 1, 0));
    let everything: RefreshResponse = client.indices().refresh().typed().await;
    let shards = &everything.shards;
    assert_eq!((shards.total, shards.successful, shards.failed), (2, 1, 0));
    let count: CountResponse = client.count().index("docs").typed().await;
    assert_eq!(count.count, 4);

    let stats: Value = client
        .indices()
        .stats()
        .index("docs")
        .metric("docs")
        .typed()
        .await;
    assert_eq!(stats["_all"]["primaries"]["docs"]["count"], 4);
    assert_eq!(stats["indices"]["docs"]["primaries"]["docs"]["count"], 4);
}

#[tokio::test]
async fn cluster_health() {
    let (_server, client) = start();
    seed(&client, "docs").await;
    let health: ClusterHealthResponse = client.cluster().health().typed().await;
    assert_eq!(health.cluster_name, "osmem");
    // One node: the index's replica (number_of_replicas defaults to 1) is unassigned, so
    // yellow, as on Elasticsearch (osmem models that too).
    assert_eq!(health.status, HealthStatus::Yellow);
    assert_eq!(health.number_of_nodes, 1);
    assert_eq!(health.active_primary_shards, 1);
    assert_eq!((health.active_shards, health.unassigned_shards), (1, 1));
    assert_eq!(health.active_shards_percent_as_number, 50.0);
    assert!(!health.timed_out);
    assert!(health.indices.is_none());

    let per_index: ClusterHealthResponse = client
        .cluster()
        .health()
        .index("docs")
        .level(es_api::params::Level::Indices)
        .wait_for_status(es_api::params::WaitForStatus::Yellow)
        .typed()
        .await;
    let indices = per_index.indices.unwrap();
    assert_eq!(indices["docs"]["number_of_shards"], 1);
}

/// Invalid requests fail in the client: nothing reaches the server (counted by a proxy in
/// front of it).
#[tokio::test]
async fn invalid_requests_are_not_sent() {
    let server = OsmemServer::start();
    let proxy = es_tests::FaultProxy::start(server.addr());
    let client = Client::from_url(&proxy.url()).expect("client");
    seed(&client, "docs").await;
    proxy.reset_counters();

    // An `index` without a `metric` fits no `cluster.state` URL; it used to be dropped and
    // `/_cluster/state` (the whole state) sent.
    let err = client.cluster().state().index("docs").await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Config, "{err}");
    assert!(err.to_string().contains("`index`"), "{err}");
    assert!(!err.may_have_reached_server(), "{err}");
    let err = client
        .call("cluster.state", [("index", json!("docs"))], None)
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Config, "{err}");
    assert_eq!(proxy.requests(), 0, "{:?}", proxy.request_log());

    // With the metric it is sent, to the URL that takes both.
    let state: Value = client
        .cluster()
        .state()
        .metric("metadata")
        .index("docs")
        .typed()
        .await;
    assert!(state["metadata"]["indices"]["docs"].is_object(), "{state}");
    assert_eq!(proxy.requests_for("/_cluster/state/metadata/docs"), 1);
    proxy.reset_counters();

    // A body the spec requires: missing, the request fails before it is sent (the server
    // would answer 400); through `Client::call` too.
    let err = client.index("docs").id("9").await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Config, "{err}");
    assert!(err.to_string().contains("body is required"), "{err}");
    assert!(!err.may_have_reached_server(), "{err}");
    let err = client.bulk().await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Config, "{err}");
    let err = client
        .call(
            "index",
            [("index", json!("docs")), ("id", json!("9"))],
            None,
        )
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Config, "{err}");
    // A required query parameter left out of `Client::call` (the typed method takes it).
    let err = client
        .call("open_point_in_time", [("index", json!("docs"))], None)
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Config, "{err}");
    assert!(err.to_string().contains("`keep_alive`"), "{err}");
    assert_eq!(proxy.requests(), 0, "{:?}", proxy.request_log());

    // With the body it is sent.
    client
        .index("docs")
        .id("9")
        .body(doc("nine", "n", 9))
        .await
        .expect("index with a body");
    assert_eq!(proxy.requests_for("/docs/_doc/9"), 1);
    assert_eq!(proxy.requests(), 1);
}

#[tokio::test]
async fn cat_as_json_rows() {
    let (_server, client) = start();
    seed(&client, "docs").await;
    client.indices().create("empty").await.unwrap();

    let mut rows: CatRows = client.cat().indices().format("json").typed().await;
    rows.sort_by(|a, b| a["index"].as_str().cmp(&b["index"].as_str()));
    let listed: Vec<_> = rows
        .iter()
        .map(|r| {
            (
                r["index"].as_str().unwrap(),
                r["docs.count"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(listed, [("docs", "3"), ("empty", "0")]);
    assert!(rows.iter().all(|r| r["status"] == "open"));

    let selected: CatRows = client
        .cat()
        .indices()
        .index("docs")
        .h(["index", "pri"])
        .format("json")
        .typed()
        .await;
    assert_eq!(selected.len(), 1);
    assert_eq!(
        selected[0].keys().collect::<Vec<_>>(),
        ["index", "pri"],
        "only the asked columns"
    );

    let count: CatRows = client
        .cat()
        .count()
        .index("docs")
        .format("json")
        .typed()
        .await;
    assert_eq!(count[0]["count"], "3");

    let health: CatRows = client.cat().health().format("json").typed().await;
    assert_eq!(health.len(), 1);
    assert_eq!(health[0]["cluster"], "osmem");
    // One node, two indices with an unassigned replica each: yellow (see `cluster_health`).
    assert_eq!(health[0]["status"], "yellow", "{health:?}");
    assert_eq!(
        (health[0]["pri"].as_str(), health[0]["unassign"].as_str()),
        (Some("2"), Some("2")),
        "{health:?}"
    );
}

#[tokio::test]
async fn dynamic_call() {
    let (_server, client) = start();
    let response = client
        .call(
            "indices.create",
            [
                ("index", json!("dyn")),
                ("wait_for_active_shards", json!(1)),
            ],
            Some(json!({"mappings": {"properties": {"k": {"type": "keyword"}}}})),
        )
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let created: CreateIndexResponse = response.json().unwrap();
    assert_eq!(created.index, "dyn");

    let written: WriteResponse = client
        .call(
            "index",
            [
                ("index", json!("dyn")),
                ("id", json!("a b")),
                ("refresh", json!(true)),
            ],
            Some(json!({"k": "v"})),
        )
        .typed()
        .await;
    assert_eq!(written.id, "a b");
    assert_eq!(written.forced_refresh, Some(true));

    let bulk: BulkResponse = client
        .call(
            "bulk",
            [("index", json!("dyn")), ("refresh", json!("true"))],
            Some(json!([{"index": {"_id": "2"}}, {"k": "w"}])),
        )
        .typed()
        .await;
    assert!(!bulk.errors);

    let found: SearchResponse = client
        .call(
            "search",
            [("index", json!(["dyn"])), ("q", json!("k:w"))],
            None,
        )
        .typed()
        .await;
    assert_eq!(found.hits.hits[0].id.as_deref(), Some("2"));

    // HEAD endpoints answer a response here, and 404 is an answer, not an error.
    let head = client
        .call("indices.exists", [("index", json!("dyn"))], None)
        .await
        .unwrap();
    assert_eq!(head.status(), 200);
    let head = client
        .call(
            "exists",
            [("index", json!("dyn")), ("id", json!("nope"))],
            None,
        )
        .await
        .unwrap();
    assert_eq!(head.status(), 404);
    // Other endpoints keep 404 an error.
    let (status, _, _) = api_failure(
        client
            .call(
                "get",
                [("index", json!("dyn")), ("id", json!("nope"))],
                None,
            )
            .await,
    );
    assert_eq!(status, 404);

    let err = client
        .call("no.such.endpoint", Vec::<(String, Value)>::new(), None)
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Config);
}

/// Ids with characters that must be percent-encoded in the path round-trip unchanged; so do
/// index names with `+` and non-ASCII letters (spaces, `/`, `*`, `?`, … are invalid in
/// index names).
#[tokio::test]
async fn ids_and_index_names_that_need_encoding() {
    let (_server, client) = start();
    let ids = [
        "with space",
        "a/b",
        "a+b",
        "100%",
        "50%25",
        "a,b",
        "q?x=1&y#z",
        "ünï cødé/✓",
        "..",
    ];
    for (n, id) in ids.iter().enumerate() {
        let written: WriteResponse = client
            .index("docs")
            .id(*id)
            .body(json!({"id": id, "n": n}))
            .typed()
            .await;
        assert_eq!(written.id, *id);
        assert_eq!(written.result, WriteResult::Created, "{id}");
    }
    client.indices().refresh().index("docs").await.unwrap();
    for id in ids {
        let got: GetResponse = client.get("docs", id).typed().await;
        assert_eq!(got.id, id);
        assert_eq!(got.source.unwrap()["id"], id);
        assert!(client.exists("docs", id).await.unwrap(), "{id}");
    }
    let count: CountResponse = client.count().index("docs").typed().await;
    assert_eq!(count.count, ids.len() as u64);
    let all: MgetResponse = client
        .mget()
        .index("docs")
        .body(json!({"ids": ids}))
        .typed()
        .await;
    assert!(all.docs.iter().all(|d| d.found));
    let deleted: WriteResponse = client.delete("docs", "a/b").typed().await;
    assert_eq!(deleted.result, WriteResult::Deleted);
    assert!(client.exists("docs", "a").await.is_ok_and(|e| !e));

    for index in ["c++", "ünïcode-ïdx"] {
        client.indices().create(index).await.unwrap();
        assert!(client.indices().exists(index).await.unwrap(), "{index}");
        let written: WriteResponse = client
            .index(index)
            .id("x y")
            .body(json!({"k": 1}))
            .typed()
            .await;
        assert_eq!(written.index, index);
        let got: GetResponse = client.get(index, "x y").typed().await;
        assert_eq!((got.index.as_str(), got.id.as_str()), (index, "x y"));
    }
    let (status, error_type, _) = api_failure(client.indices().create("with space").await);
    assert_eq!(status, 400);
    assert_eq!(error_type.as_deref(), Some("invalid_index_name_exception"));
}

/// The blocking facade against the real server.
#[cfg(feature = "blocking")]
#[test]
fn blocking_against_osmem() {
    let (_server, client) = start();
    let info: InfoResponse = client.info().send_blocking().unwrap().json().unwrap();
    assert_eq!(info.cluster_name, "osmem");
    let written: WriteResponse = client
        .index("docs")
        .id("a/b c")
        .body(doc("blocking", "x", 1))
        .refresh(true)
        .send_blocking()
        .unwrap()
        .json()
        .unwrap();
    assert_eq!(written.result, WriteResult::Created);
    assert!(client.exists("docs", "a/b c").send_blocking().unwrap());
    assert!(!client.exists("docs", "nope").send_blocking().unwrap());
    let found: SearchResponse<Doc> = client
        .search()
        .index("docs")
        .send_blocking()
        .unwrap()
        .json()
        .unwrap();
    assert_eq!(found.hits.hits[0].source, Some(doc("blocking", "x", 1)));
    let err = client.get("docs", "nope").send_blocking().unwrap_err();
    assert_eq!(err.status().map(|s| s.as_u16()), Some(404));
}
