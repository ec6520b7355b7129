//! The typed responses (`es_api::response`) read Elasticsearch's documented answers.
//!
//! Every fixture in `tests/golden/responses/` is an example response from Elasticsearch's
//! documentation (the specification's `examples`, or the reference pages; see the README
//! there), never output of this code. Each test reads one as its typed response and checks
//! concrete values; [`unknown_fields_are_tolerated`] adds fields the types do not know at
//! every struct level of every fixture and expects the same typed value.

use std::path::{Path, PathBuf};

use es_api::response::{
    AcknowledgedResponse, BulkOperation, BulkResponse, ByQueryResponse, CatRows,
    ClosePointInTimeResponse, ClusterHealthResponse, CountResponse, CreateIndexResponse,
    GetAliasResponse, GetMappingResponse, GetResponse, GetSettingsResponse, HealthStatus,
    InfoResponse, MgetResponse, MsearchResponse, OpenPointInTimeResponse, RefreshResponse,
    SearchResponse, TotalHitsRelation, WriteResponse, WriteResult,
};
use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};

fn dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/golden/responses")
}

fn text(name: &str) -> String {
    let path = dir().join(name);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// Reads fixture `name` as `T` (from the text, as a response body is read).
#[track_caller]
fn read<T: DeserializeOwned>(name: &str) -> T {
    serde_json::from_str(&text(name)).unwrap_or_else(|e| panic!("{name}: {e}"))
}

/// The `_source` of the search and get examples (`my-index-000001`), typed.
#[derive(Debug, Clone, PartialEq, Deserialize)]
struct LogEvent {
    #[serde(rename = "@timestamp")]
    timestamp: String,
    message: String,
    user: User,
    http: Http,
    source: Source,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
struct User {
    id: String,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
struct Http {
    request: HttpRequest,
    response: HttpResponse,
    version: String,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
struct HttpRequest {
    method: String,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
struct HttpResponse {
    status_code: u16,
    bytes: u64,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
struct Source {
    ip: String,
}

fn kimchy_event() -> LogEvent {
    LogEvent {
        timestamp: "2099-11-15T14:12:12".into(),
        message: "GET /search HTTP/1.1 200 1070000".into(),
        user: User {
            id: "kimchy".into(),
        },
        http: Http {
            request: HttpRequest {
                method: "get".into(),
            },
            response: HttpResponse {
                status_code: 200,
                bytes: 1_070_000,
            },
            version: "1.1".into(),
        },
        source: Source {
            ip: "127.0.0.1".into(),
        },
    }
}

#[test]
fn search_hits_total_shards_and_timed_out() {
    let r: SearchResponse<LogEvent> = read("search.json");
    assert_eq!(r.took, 5);
    assert!(!r.timed_out);
    assert_eq!(
        (
            r.shards.total,
            r.shards.successful,
            r.shards.skipped,
            r.shards.failed
        ),
        (1, 1, 0, 0)
    );
    assert!(r.shards.failures.is_empty());
    let total = r.hits.total.unwrap();
    assert_eq!((total.value, total.relation), (20, TotalHitsRelation::Eq));
    assert_eq!(r.hits.max_score, Some(1.3862942));
    assert_eq!(r.hits.hits.len(), 1);
    let hit = &r.hits.hits[0];
    assert_eq!(hit.index, "my-index-000001");
    assert_eq!(hit.id.as_deref(), Some("0"));
    assert_eq!(hit.score, Some(1.3862942));
    assert_eq!(hit.source, Some(kimchy_event()));
    assert_eq!(
        (hit.sort.as_ref(), hit.version, hit.seq_no),
        (None, None, None)
    );
    assert!(r.aggregations.is_none() && r.scroll_id.is_none() && r.pit_id.is_none());

    // The same body with `_source` as JSON.
    let raw: SearchResponse = read("search.json");
    let source = raw.hits.hits[0].source.as_ref().unwrap();
    assert_eq!(source["http"]["response"]["bytes"], 1_070_000);
    assert_eq!(source["user"]["id"], "kimchy");
}

#[test]
fn search_aggregations_stay_raw_json() {
    // The reference shows only the `aggregations` section (`...` for the rest): the other
    // sections take their defaults.
    let r: SearchResponse = read("search_terms_aggregation.json");
    let aggs = r.aggregations.as_ref().unwrap();
    let genres = &aggs["genres"];
    assert_eq!(genres["doc_count_error_upper_bound"], 0);
    assert_eq!(genres["sum_other_doc_count"], 0);
    let buckets: Vec<(&str, u64)> = genres["buckets"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| (b["key"].as_str().unwrap(), b["doc_count"].as_u64().unwrap()))
        .collect();
    assert_eq!(buckets, [("electronic", 6), ("rock", 3), ("jazz", 2)]);
    assert_eq!((r.took, r.timed_out, r.shards.total), (0, false, 0));
    assert!(r.hits.hits.is_empty() && r.hits.total.is_none());
}

#[test]
fn msearch_a_search_and_a_failed_one() {
    let r: MsearchResponse<LogEvent> = read("msearch.json");
    assert_eq!(r.took, 5);
    assert_eq!(r.responses.len(), 2);
    assert_eq!(r.responses[0].status, Some(200));
    let ok = r.responses[0].result().unwrap();
    assert_eq!(ok.hits.total.unwrap().value, 20);
    assert_eq!(ok.hits.hits[0].source, Some(kimchy_event()));
    assert_eq!(r.responses[1].status, Some(404));
    let err = r.responses[1].result().unwrap_err();
    assert_eq!(err.error_type, "index_not_found_exception");
    assert_eq!(
        err.reason.as_deref(),
        Some("no such index [my-index-000002]")
    );
    assert_eq!(err.other["index"], "my-index-000002");
    assert_eq!(
        err.other["root_cause"][0]["type"],
        "index_not_found_exception"
    );
}

#[test]
fn bulk_without_errors() {
    let r: BulkResponse = read("bulk_success.json");
    assert_eq!(r.took, 30);
    assert!(!r.errors);
    assert_eq!(r.failed().count(), 0);
    let ops: Vec<_> = r.items.iter().map(|i| i.operation).collect();
    assert_eq!(
        ops,
        [
            BulkOperation::Index,
            BulkOperation::Delete,
            BulkOperation::Create,
            BulkOperation::Update
        ]
    );
    let rows: Vec<_> = r
        .items
        .iter()
        .map(|i| {
            let r = &i.result;
            (
                r.id.as_deref().unwrap(),
                r.status,
                r.result.unwrap(),
                r.version.unwrap(),
                r.seq_no.unwrap(),
                r.primary_term.unwrap(),
            )
        })
        .collect();
    assert_eq!(
        rows,
        [
            ("1", 201, WriteResult::Created, 1, 0, 1),
            ("2", 404, WriteResult::NotFound, 1, 1, 2),
            ("3", 201, WriteResult::Created, 1, 2, 3),
            ("1", 200, WriteResult::Updated, 2, 3, 4),
        ]
    );
    for item in &r.items {
        assert_eq!(item.result.index, "test");
        assert!(item.result.error.is_none());
        let shards = item.result.shards.as_ref().unwrap();
        assert_eq!((shards.total, shards.successful, shards.failed), (2, 1, 0));
    }
}

#[test]
fn bulk_with_errors() {
    let r: BulkResponse = read("bulk_errors.json");
    assert_eq!(r.took, 486);
    assert!(r.errors);
    let failed: Vec<_> = r.failed().collect();
    assert_eq!(failed.len(), 2);
    for (item, id) in failed.iter().zip(["5", "6"]) {
        assert_eq!(item.operation, BulkOperation::Update);
        let res = &item.result;
        assert_eq!(
            (res.index.as_str(), res.id.as_deref()),
            ("index1", Some(id))
        );
        assert_eq!(res.status, 404);
        assert_eq!(res.result, None);
        assert_eq!(res.version, None);
        let err = res.error.as_ref().unwrap();
        assert_eq!(err.error_type, "document_missing_exception");
        assert_eq!(
            err.reason.as_deref(),
            Some(format!("[{id}]: document missing").as_str())
        );
        assert_eq!(err.other["index_uuid"], "aAsFqTI0Tc2W0LCWgPNrOA");
        assert_eq!(err.other["shard"], "0");
        assert_eq!(err.other["index"], "index1");
    }
    let created = &r.items[2];
    assert_eq!(created.operation, BulkOperation::Create);
    assert_eq!(created.result.status, 201);
    assert_eq!(created.result.result, Some(WriteResult::Created));
    assert_eq!(created.result.id.as_deref(), Some("7"));
    assert!(created.result.error.is_none());

    // `filter_path=items.*.error`: only the errors are left; the rest defaults.
    let filtered: BulkResponse = read("bulk_filter_path_errors.json");
    assert_eq!((filtered.took, filtered.errors), (0, false));
    assert_eq!(filtered.items.len(), 2);
    assert_eq!(filtered.failed().count(), 2);
    let first = &filtered.items[0].result;
    assert_eq!(
        (first.index.as_str(), first.id.as_deref(), first.status),
        ("", None, 0)
    );
    assert_eq!(
        first.error.as_ref().unwrap().reason.as_deref(),
        Some("[5]: document missing")
    );
}

#[test]
fn get_found_with_source_fields_and_routing() {
    let g: GetResponse<LogEvent> = read("get_found.json");
    assert!(g.found);
    assert_eq!((g.index.as_str(), g.id.as_str()), ("my-index-000001", "0"));
    assert_eq!(
        (g.version, g.seq_no, g.primary_term),
        (Some(1), Some(0), Some(1))
    );
    assert_eq!(g.source, Some(kimchy_event()));
    assert_eq!((g.routing.as_ref(), g.fields.as_ref()), (None, None));

    let stored: GetResponse = read("get_stored_fields.json");
    assert!(stored.found);
    assert_eq!(stored.id, "1");
    assert_eq!(stored.seq_no, Some(22));
    assert_eq!(stored.source, None);
    assert_eq!(stored.fields.unwrap()["tags"], json!(["production"]));

    let routed: GetResponse = read("get_routing.json");
    assert_eq!(routed.id, "2");
    assert_eq!(routed.routing.as_deref(), Some("user1"));
    assert_eq!(routed.seq_no, Some(13));
    assert_eq!(routed.fields.unwrap()["tags"], json!(["env2"]));
}

#[test]
fn get_not_found() {
    // The 404 body: no `_source`, no version; `_type` (older servers) is ignored.
    let g: GetResponse<LogEvent> = read("get_not_found.json");
    assert!(!g.found);
    assert_eq!((g.index.as_str(), g.id.as_str()), ("website", "124"));
    assert_eq!((g.source, g.version, g.seq_no), (None, None, None));
    assert!(g.error.is_none());
}

#[derive(Debug, PartialEq, Deserialize)]
#[serde(untagged)]
enum WebsiteDoc {
    Blog { title: String, text: String },
    Pageviews { views: u64 },
}

#[test]
fn mget_found_and_missing() {
    let m: MgetResponse<WebsiteDoc> = read("mget.json");
    assert_eq!(m.docs.len(), 2);
    assert!(m.docs.iter().all(|d| d.found && d.index == "website"));
    assert_eq!((m.docs[0].id.as_str(), m.docs[0].version), ("2", Some(10)));
    assert_eq!(
        m.docs[0].source,
        Some(WebsiteDoc::Blog {
            title: "My first external blog entry".into(),
            text: "This is a piece of cake...".into()
        })
    );
    assert_eq!((m.docs[1].id.as_str(), m.docs[1].version), ("1", Some(2)));
    assert_eq!(m.docs[1].source, Some(WebsiteDoc::Pageviews { views: 2 }));

    let m: MgetResponse<WebsiteDoc> = read("mget_missing.json");
    assert!(m.docs[0].found);
    let missing = &m.docs[1];
    assert!(!missing.found);
    assert_eq!(missing.id, "1");
    assert_eq!((missing.source.as_ref(), missing.version), (None, None));
    assert!(missing.error.is_none());
}

#[test]
fn index_create_update_delete_results() {
    let generated: WriteResponse = read("index_generated_id.json");
    assert_eq!(generated.id, "W0tpsmIBdwcYyG50zbta");
    assert_eq!(generated.result, WriteResult::Created);
    let with_id: WriteResponse = read("index_with_id.json");
    for w in [&generated, &with_id] {
        assert_eq!(w.index, "my-index-000001");
        assert_eq!(w.version, 1);
        assert_eq!((w.seq_no, w.primary_term), (Some(0), Some(1)));
        assert_eq!(
            (w.shards.total, w.shards.successful, w.shards.failed),
            (2, 2, 0)
        );
        assert_eq!((w.forced_refresh, w.get.as_ref()), (None, None));
    }
    assert_eq!(with_id.id, "1");

    let created: WriteResponse = read("create.json");
    assert_eq!(created.result, WriteResult::Created);
    assert_eq!((created.shards.total, created.shards.successful), (1, 1));

    // An update that changed nothing: no shard was written.
    let noop: WriteResponse = read("update_noop.json");
    assert_eq!(noop.result, WriteResult::Noop);
    assert_eq!((noop.index.as_str(), noop.id.as_str()), ("test", "1"));
    assert_eq!(
        (noop.version, noop.seq_no, noop.primary_term),
        (2, Some(1), Some(1))
    );
    assert_eq!(
        (
            noop.shards.total,
            noop.shards.successful,
            noop.shards.failed
        ),
        (0, 0, 0)
    );

    let deleted: WriteResponse = read("delete.json");
    assert_eq!(deleted.result, WriteResult::Deleted);
    assert_eq!((deleted.version, deleted.seq_no), (2, Some(5)));
    assert_eq!(deleted.shards.successful, 2);
}

/// Elasticsearch's answer to an update whose script ran (`"result": "updated"`, the version
/// bumped): the documented bulk example's `update` item. osmem refuses scripted updates
/// (see `osmem.rs`, `update_doc_upsert_and_script`).
#[test]
fn update_that_ran_reads_updated() {
    let r: BulkResponse = read("bulk_success.json");
    let update = r
        .items
        .iter()
        .find(|i| i.operation == BulkOperation::Update)
        .unwrap();
    assert_eq!(update.result.result, Some(WriteResult::Updated));
    assert_eq!(
        (update.result.status, update.result.version),
        (200, Some(2))
    );
}

#[test]
fn count() {
    let c: CountResponse = read("count.json");
    assert_eq!(c.count, 1);
    assert_eq!(
        (
            c.shards.total,
            c.shards.successful,
            c.shards.skipped,
            c.shards.failed
        ),
        (1, 1, 0, 0)
    );
}

#[test]
fn by_query_and_reindex() {
    let d: ByQueryResponse = read("delete_by_query.json");
    assert_eq!((d.took, d.timed_out), (147, false));
    assert_eq!((d.total, d.deleted, d.updated, d.created), (119, 119, 0, 0));
    assert_eq!((d.batches, d.version_conflicts, d.noops), (1, 0, 0));
    assert!(d.failures.is_empty() && d.task.is_none());

    let r: ByQueryResponse = read("reindex.json");
    assert_eq!(r.took, 639);
    assert_eq!((r.total, r.created, r.updated, r.deleted), (5, 5, 0, 0));
    assert_eq!((r.version_conflicts, r.batches), (2, 1));
}

/// Elasticsearch's `POST /{index}/_pit` and `DELETE /_pit`. osmem answers neither (it speaks
/// OpenSearch's point-in-time endpoints; see `osmem.rs`, `point_in_time`).
#[test]
fn open_and_close_point_in_time() {
    let open: OpenPointInTimeResponse = read("open_point_in_time.json");
    assert!(open.id.starts_with("46ToAwMDaWR5BXV1aWQy"), "{}", open.id);
    assert!(open.id.ends_with("_gAAAAA="), "{}", open.id);
    assert_eq!(open.creation_time, None);
    assert_eq!((open.shards.total, open.shards.successful), (10, 10));

    let closed: ClosePointInTimeResponse = read("close_point_in_time.json");
    assert!(closed.succeeded);
    assert_eq!(closed.num_freed, 3);
}

#[test]
fn cluster_health() {
    let h: ClusterHealthResponse = read("cluster_health.json");
    assert_eq!(h.cluster_name, "testcluster");
    assert_eq!(h.status, HealthStatus::Yellow);
    assert!(!h.timed_out);
    assert_eq!((h.number_of_nodes, h.number_of_data_nodes), (1, 1));
    assert_eq!((h.active_primary_shards, h.active_shards), (1, 1));
    assert_eq!(
        (
            h.relocating_shards,
            h.initializing_shards,
            h.unassigned_shards,
            h.delayed_unassigned_shards
        ),
        (0, 0, 1, 0)
    );
    assert_eq!(
        (
            h.number_of_pending_tasks,
            h.number_of_in_flight_fetch,
            h.task_max_waiting_in_queue_millis
        ),
        (0, 0, 0)
    );
    assert_eq!(h.active_shards_percent_as_number, 50.0);
    assert!(h.indices.is_none());
}

#[test]
fn info_stack_and_serverless() {
    let info: InfoResponse = read("info_stack.json");
    assert_eq!(info.name, "instance-0000000000");
    assert_eq!(info.cluster_name, "my_test_cluster");
    assert_eq!(info.cluster_uuid, "zk-HjQtYQGyL3NFSSu7InA");
    assert_eq!(info.tagline, "You Know, for Search");
    let v = &info.version;
    assert_eq!(v.number, "9.1.0");
    assert_eq!(v.build_flavor.as_deref(), Some("default"));
    assert_eq!(v.build_type.as_deref(), Some("docker"));
    // The example writes the hash as the number 0 (the spec types it a string).
    assert_eq!(v.build_hash.as_deref(), Some("0"));
    assert_eq!(v.build_date.as_deref(), Some("2025-07-09T22:10:13.578Z"));
    assert!(!v.build_snapshot);
    assert_eq!(v.lucene_version.as_deref(), Some("10.2.2"));
    assert_eq!(
        v.minimum_wire_compatibility_version.as_deref(),
        Some("8.19.0")
    );
    assert_eq!(
        v.minimum_index_compatibility_version.as_deref(),
        Some("8.0.0")
    );
    assert_eq!(v.distribution, None);

    let serverless: InfoResponse = read("info_serverless.json");
    assert_eq!(serverless.name, "serverless");
    assert_eq!(
        serverless.version.build_flavor.as_deref(),
        Some("serverless")
    );
    assert_eq!(
        serverless.version.build_hash.as_deref(),
        Some("6b73650b7c4192d4a7ef1d75a368dad7d28f1ae0")
    );
    assert_eq!(serverless.version.number, "9.4.0");
}

#[test]
fn cat_rows() {
    let indices: CatRows = read("cat_indices.json");
    assert_eq!(indices.len(), 2);
    let cols = |r: &serde_json::Map<String, Value>, keys: &[&str]| -> Vec<String> {
        keys.iter()
            .map(|k| r[*k].as_str().unwrap().to_owned())
            .collect()
    };
    let keys = [
        "health",
        "status",
        "index",
        "pri",
        "rep",
        "docs.count",
        "store.size",
    ];
    assert_eq!(
        cols(&indices[0], &keys),
        [
            "yellow",
            "open",
            "my-index-000001",
            "1",
            "1",
            "1200",
            "88.1kb"
        ]
    );
    assert_eq!(
        cols(&indices[1], &keys),
        ["green", "open", "my-index-000002", "1", "0", "0", "260b"]
    );
    // Cells are kept as written (the second uuid ends in a space in the example).
    assert_eq!(indices[1]["uuid"], "nYFWZEO7TUiOjLQXBaYJpA ");

    let health: CatRows = read("cat_health.json");
    assert_eq!(health.len(), 1);
    assert_eq!(
        cols(
            &health[0],
            &[
                "cluster",
                "status",
                "node.total",
                "shards",
                "active_shards_percent"
            ]
        ),
        ["elasticsearch", "green", "1", "1", "100.0%"]
    );

    let count: CatRows = read("cat_count.json");
    assert_eq!(
        cols(&count[0], &["epoch", "timestamp", "count"]),
        ["1475868259", "15:24:20", "120"]
    );
}

#[test]
fn indices_create_delete_refresh() {
    let c: CreateIndexResponse = read("indices_create.json");
    assert!(c.acknowledged && c.shards_acknowledged);
    assert_eq!(c.index, "test");
    let d: AcknowledgedResponse = read("indices_delete.json");
    assert!(d.acknowledged);
    // Read as the acknowledged answer, the create body keeps `acknowledged`.
    let ack: AcknowledgedResponse = read("indices_create.json");
    assert!(ack.acknowledged);
    let r: RefreshResponse = read("refresh.json");
    assert_eq!(
        (r.shards.total, r.shards.successful, r.shards.failed),
        (2, 1, 0)
    );
}

#[test]
fn indices_mapping_alias_and_settings() {
    let m: GetMappingResponse = read("indices_get_mapping.json");
    assert_eq!(m.keys().collect::<Vec<_>>(), ["test"]);
    assert_eq!(
        m["test"].mappings,
        json!({"properties": {"foo": {"type": "keyword"}}})
    );

    let a: GetAliasResponse = read("indices_get_alias.json");
    let aliases = &a["logs_20302801"].aliases;
    assert_eq!(aliases.keys().collect::<Vec<_>>(), ["2030", "current_day"]);
    assert_eq!(aliases["current_day"], json!({}));
    assert_eq!(aliases["2030"]["filter"], json!({"term": {"year": 2030}}));

    let s: GetSettingsResponse = read("indices_get_settings.json");
    let index = &s["my-index-000001"].settings["index"];
    assert_eq!(index["number_of_shards"], "1");
    assert_eq!(index["number_of_replicas"], "1");
    assert_eq!(index["uuid"], "n6gzFZTgS664GUfx0Xrpjw");
    assert_eq!(
        index["routing"]["allocation"]["include"]["_tier_preference"],
        "data_content"
    );
    assert!(s["my-index-000001"].defaults.is_none());

    let flat: GetSettingsResponse = read("indices_get_settings_flat.json");
    let settings = &flat["my-index-000001"].settings;
    assert_eq!(settings["index.number_of_shards"], "1");
    assert_eq!(settings["index.provided_name"], "my-index-000001");
    assert_eq!(
        settings["index.routing.allocation.include._tier_preference"],
        "data_content"
    );
}

/// Adds `"x_unknown_field"` (an object) to the object at each JSON pointer of `at`.
fn with_unknown(mut v: Value, at: &[&str]) -> Value {
    for pointer in at {
        let target = v
            .pointer_mut(pointer)
            .unwrap_or_else(|| panic!("no {pointer}"));
        let map = target
            .as_object_mut()
            .unwrap_or_else(|| panic!("{pointer} is not an object"));
        map.insert(
            "x_unknown_field".into(),
            json!({"nested": [1, "two", null], "deep": {"x": true}}),
        );
        map.insert("x_unknown_number".into(), json!(1.5e300));
    }
    v
}

/// Reads `name` as `T` with unknown fields added at `at`, and expects the value read from
/// the fixture as it is.
#[track_caller]
fn tolerant<T: DeserializeOwned + PartialEq + std::fmt::Debug>(name: &str, at: &[&str]) {
    let original: Value = read(name);
    let expected: T = read(name);
    let changed = with_unknown(original, at);
    let got: T = serde_json::from_value(changed.clone())
        .unwrap_or_else(|e| panic!("{name} with unknown fields: {e}\n{changed}"));
    assert_eq!(got, expected, "{name}");
}

#[test]
fn unknown_fields_are_tolerated() {
    let search = ["", "/_shards", "/hits", "/hits/total", "/hits/hits/0"];
    tolerant::<SearchResponse<LogEvent>>("search.json", &search);
    tolerant::<SearchResponse>("search_terms_aggregation.json", &[""]);
    tolerant::<MsearchResponse<LogEvent>>(
        "msearch.json",
        &[
            "",
            "/responses/0",
            "/responses/0/hits/hits/0",
            "/responses/1",
        ],
    );
    let bulk = ["", "/items/0/index", "/items/0/index/_shards"];
    tolerant::<BulkResponse>("bulk_success.json", &bulk);
    tolerant::<BulkResponse>("bulk_errors.json", &["", "/items/0/update"]);
    tolerant::<BulkResponse>("bulk_filter_path_errors.json", &["", "/items/1/update"]);
    for get in [
        "get_found.json",
        "get_stored_fields.json",
        "get_routing.json",
    ] {
        tolerant::<GetResponse>(get, &[""]);
    }
    tolerant::<GetResponse<LogEvent>>("get_found.json", &[""]);
    tolerant::<GetResponse<LogEvent>>("get_not_found.json", &[""]);
    tolerant::<MgetResponse<WebsiteDoc>>("mget.json", &["", "/docs/0", "/docs/1"]);
    tolerant::<MgetResponse<WebsiteDoc>>("mget_missing.json", &["", "/docs/1"]);
    for write in [
        "index_generated_id.json",
        "index_with_id.json",
        "create.json",
        "update_noop.json",
        "delete.json",
    ] {
        tolerant::<WriteResponse>(write, &["", "/_shards"]);
    }
    tolerant::<CountResponse>("count.json", &["", "/_shards"]);
    tolerant::<ByQueryResponse>("delete_by_query.json", &[""]);
    tolerant::<ByQueryResponse>("reindex.json", &[""]);
    tolerant::<OpenPointInTimeResponse>("open_point_in_time.json", &["", "/_shards"]);
    tolerant::<ClosePointInTimeResponse>("close_point_in_time.json", &[""]);
    tolerant::<ClusterHealthResponse>("cluster_health.json", &[""]);
    tolerant::<InfoResponse>("info_stack.json", &["", "/version"]);
    tolerant::<InfoResponse>("info_serverless.json", &["", "/version"]);
    tolerant::<CreateIndexResponse>("indices_create.json", &[""]);
    tolerant::<AcknowledgedResponse>("indices_delete.json", &[""]);
    tolerant::<RefreshResponse>("refresh.json", &["", "/_shards"]);
    tolerant::<GetMappingResponse>("indices_get_mapping.json", &["/test"]);
    tolerant::<GetAliasResponse>("indices_get_alias.json", &["/logs_20302801"]);
    tolerant::<GetSettingsResponse>("indices_get_settings.json", &["/my-index-000001"]);
    tolerant::<GetSettingsResponse>("indices_get_settings_flat.json", &["/my-index-000001"]);
    // Cat rows are maps: a new column is just another cell.
    let rows: CatRows =
        serde_json::from_value(with_unknown(read("cat_health.json"), &["/0"])).unwrap();
    assert_eq!(rows[0]["x_unknown_number"], 1.5e300);
    assert_eq!(rows[0]["status"], "green");
}

/// Every fixture is read by a test above (a new file without a test fails here).
#[test]
fn every_fixture_is_covered() {
    let this = include_str!("responses.rs");
    let mut files: Vec<String> = std::fs::read_dir(dir())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|f| f.ends_with(".json"))
        .collect();
    files.sort();
    assert!(files.len() >= 30, "{files:?}");
    let unread: Vec<_> = files
        .iter()
        .filter(|f| !this.contains(&format!("read(\"{f}\")")))
        .collect();
    assert!(unread.is_empty(), "fixtures no test reads: {unread:?}");
}
