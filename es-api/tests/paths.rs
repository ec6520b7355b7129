//! URL building: path selection, percent-encoding of tricky names, method choice, bodies.
//! No server: requests are inspected with `into_request()`.

use es_api::{Client, ErrorKind};
use http::Method;
use serde_json::json;

fn client() -> Client {
    Client::from_url("http://localhost:9200").unwrap()
}

fn line(req: &es_api::es_transport::Request) -> String {
    format!("{} {}", req.method(), req.path())
}

#[test]
fn index_names_are_percent_encoded() {
    let c = client();
    let req = c.indices().create("my index").into_request().unwrap();
    assert_eq!(line(&req), "PUT /my%20index");
    let req = c.get("a+b/c", "id/1 2").into_request().unwrap();
    assert_eq!(line(&req), "GET /a%2Bb%2Fc/_doc/id%2F1%202");
    let req = c.search().index("<logs-{now/d}>").into_request().unwrap();
    assert_eq!(line(&req), "GET /%3Clogs-%7Bnow%2Fd%7D%3E/_search");
    let req = c.indices().delete("é?#&").into_request().unwrap();
    assert_eq!(line(&req), "DELETE /%C3%A9%3F%23%26");
}

#[test]
fn lists_are_comma_joined_and_wildcards_kept() {
    let c = client();
    let req = c
        .search()
        .index(["logs-*", "my index", "a,b"])
        .into_request()
        .unwrap();
    assert_eq!(line(&req), "GET /logs-*,my%20index,a,b/_search");
    let names = vec!["x".to_owned(), "y".to_owned()];
    let req = c.indices().refresh().index(names).into_request().unwrap();
    assert_eq!(line(&req), "GET /x,y/_refresh");
}

#[test]
fn the_most_specific_path_whose_parts_are_set_wins() {
    let c = client();
    assert_eq!(line(&c.search().into_request().unwrap()), "GET /_search");
    let doc = json!({"title": "t"});
    let req = c.index("i").body(&doc).into_request().unwrap();
    assert_eq!(line(&req), "POST /i/_doc");
    let req = c.index("i").id("1").body(&doc).into_request().unwrap();
    assert_eq!(line(&req), "PUT /i/_doc/1");
    let req = c.indices().get_alias().into_request().unwrap();
    assert_eq!(line(&req), "GET /_alias");
    let req = c
        .indices()
        .get_alias()
        .name("al")
        .index("i")
        .into_request()
        .unwrap();
    assert_eq!(line(&req), "GET /i/_alias/al");
    let req = c.cluster().health().index("i").into_request().unwrap();
    assert_eq!(line(&req), "GET /_cluster/health/i");
}

#[test]
fn a_body_switches_get_to_post() {
    let c = client();
    let req = c
        .search()
        .index("i")
        .body(json!({"query": {"match_all": {}}}))
        .into_request()
        .unwrap();
    assert_eq!(req.method(), Method::POST);
    assert_eq!(
        req.body().unwrap().as_ref(),
        br#"{"query":{"match_all":{}}}"#
    );
    assert_eq!(req.headers()["content-type"], "application/json");
    assert_eq!(req.endpoint(), Some("search"));
}

#[test]
fn ndjson_bodies_are_lines() {
    let c = client();
    let lines = [json!({"index": {"_id": "1"}}), json!({"title": "a\nb"})];
    let req = c.bulk().index("i").body(&lines).into_request().unwrap();
    assert_eq!(line(&req), "POST /i/_bulk");
    assert_eq!(req.headers()["content-type"], "application/x-ndjson");
    assert_eq!(
        req.body().unwrap().as_ref(),
        b"{\"index\":{\"_id\":\"1\"}}\n{\"title\":\"a\\nb\"}\n"
    );
    let req = c.msearch().raw_body("{}\n{}\n").into_request().unwrap();
    assert_eq!(req.body().unwrap().as_ref(), b"{}\n{}\n");
}

#[test]
fn empty_path_parts_are_rejected() {
    let err = client().indices().delete("").into_request().unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Config);
    assert!(err.to_string().contains("index"), "{err}");
    let err = client()
        .indices()
        .delete(Vec::<String>::new())
        .into_request()
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Config);
}

#[test]
fn head_endpoints() {
    let c = client();
    let req = c.indices().exists("my index").into_request().unwrap();
    assert_eq!(line(&req), "HEAD /my%20index");
    let req = c.exists("i", "1").into_request().unwrap();
    assert_eq!(line(&req), "HEAD /i/_doc/1");
}

#[test]
fn dynamic_call_fills_parts_and_query() {
    let c = client();
    let params = [
        ("index", json!(["a b", "c"])),
        ("wait_for_active_shards", json!(1)),
        ("pretty", json!(true)),
        ("ignored", json!(null)),
    ];
    let req = c
        .call("indices.refresh", params, None)
        .into_request()
        .unwrap();
    assert_eq!(
        line(&req),
        "GET /a%20b,c/_refresh?wait_for_active_shards=1&pretty=true"
    );
    let req = c
        .call(
            "bulk",
            [("refresh", json!("wait_for"))],
            Some(json!([{"delete": {"_index": "i", "_id": "1"}}])),
        )
        .into_request()
        .unwrap();
    assert_eq!(line(&req), "POST /_bulk?refresh=wait_for");
    assert_eq!(
        req.body().unwrap().as_ref(),
        b"{\"delete\":{\"_id\":\"1\",\"_index\":\"i\"}}\n"
    );
    let req = c
        .call(
            "indices.create",
            [("index", json!("x"))],
            Some(json!({"settings": {}})),
        )
        .into_request()
        .unwrap();
    assert_eq!(line(&req), "PUT /x");
    // A `null` body is no body: `GET`, not `POST` with the text `null`.
    let req = c
        .call("count", [("index", json!("x"))], Some(json!(null)))
        .into_request()
        .unwrap();
    assert_eq!(line(&req), "GET /x/_count");
    assert!(req.body().is_none());
    let err = c
        .call("no.such_endpoint", Vec::<(String, _)>::new(), None)
        .into_request()
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Config);
    let err = c
        .call("indices.create", Vec::<(String, _)>::new(), None)
        .into_request()
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Config, "missing required part");
}

/// A path part no URL would use is an error, not silently dropped: `cluster.state` with an
/// `index` but no `metric` used to send `/_cluster/state` (the whole cluster state).
#[test]
fn a_path_part_no_url_uses_is_an_error() {
    let c = client();
    let err = c.cluster().state().index("i").into_request().unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Config);
    let message = err.to_string();
    assert!(message.contains("cluster.state"), "{message}");
    assert!(message.contains("`index`"), "{message}");
    assert!(
        message.contains("/_cluster/state/{metric}/{index}"),
        "{message}"
    );
    let req = c
        .cluster()
        .state()
        .metric("metadata")
        .index("i")
        .into_request()
        .unwrap();
    assert_eq!(line(&req), "GET /_cluster/state/metadata/i");
    let req = c.cluster().state().into_request().unwrap();
    assert_eq!(line(&req), "GET /_cluster/state");

    // The same for the other endpoints with a part that needs another one.
    let err = c
        .nodes()
        .stats()
        .index_metric("docs")
        .into_request()
        .unwrap_err();
    assert!(err.to_string().contains("`index_metric`"), "{err}");
    let err = c
        .snapshot()
        .status()
        .snapshot("s")
        .into_request()
        .unwrap_err();
    assert!(err.to_string().contains("{repository}"), "{err}");
    let req = c
        .snapshot()
        .status()
        .repository("r")
        .snapshot("s")
        .into_request()
        .unwrap();
    assert_eq!(line(&req), "GET /_snapshot/r/s/_status");

    // And for the dynamic entry point, which shares the path choice.
    let err = c
        .call("cluster.state", [("index", json!("i"))], None)
        .into_request()
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Config);
    assert!(err.to_string().contains("`index`"), "{err}");
}

/// `Client::call` reaches a deprecated URL when only it takes the parts given, instead of
/// dropping them (`scroll_id` in the path of `scroll`).
#[test]
fn dynamic_call_prefers_the_url_using_every_part() {
    let req = client()
        .call("clear_scroll", [("scroll_id", json!("abc"))], None)
        .into_request()
        .unwrap();
    assert_eq!(line(&req), "DELETE /_search/scroll/abc");
    let req = client()
        .call("clear_scroll", Vec::<(String, _)>::new(), None)
        .into_request()
        .unwrap();
    assert_eq!(line(&req), "DELETE /_search/scroll");
}

/// A body the spec requires is checked before sending; optional bodies stay optional.
#[test]
fn a_required_body_must_be_set() {
    let c = client();
    let err = c.index("i").into_request().unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Config);
    assert!(
        err.to_string().contains("index: the body is required"),
        "{err}"
    );
    let err = c.bulk().into_request().unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Config);
    let err = c.indices().put_mapping("i").into_request().unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Config);
    // Set, even empty, it is sent as given.
    let req = c.bulk().raw_body("").into_request().unwrap();
    assert_eq!(line(&req), "POST /_bulk");
    let req = c.index("i").body(json!({})).into_request().unwrap();
    assert_eq!(line(&req), "POST /i/_doc");
    // An optional body may be left out.
    let req = c.search().into_request().unwrap();
    assert_eq!(line(&req), "GET /_search");
    let req = c.indices().create("i").into_request().unwrap();
    assert_eq!(line(&req), "PUT /i");
    let err = c
        .call("index", [("index", json!("i"))], None)
        .into_request()
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Config);
}

/// Query parameters the spec requires are arguments of the endpoint method, after the path
/// parts; `Client::call` checks them before sending.
#[test]
fn required_query_parameters_are_arguments() {
    let c = client();
    let req = c.open_point_in_time("i", "1m").into_request().unwrap();
    assert_eq!(line(&req), "POST /i/_pit?keep_alive=1m");
    let req = c.reindex_rethrottle("t:1", -1.0).into_request().unwrap();
    assert_eq!(
        line(&req),
        "POST /_reindex/t%3A1/_rethrottle?requests_per_second=-1"
    );
    let req = c
        .update_by_query_rethrottle("t:1", 50)
        .into_request()
        .unwrap();
    assert_eq!(
        line(&req),
        "POST /_update_by_query/t%3A1/_rethrottle?requests_per_second=50"
    );
    let req = c
        .text_structure()
        .find_field_structure("logs", "message")
        .into_request()
        .unwrap();
    assert_eq!(
        line(&req),
        "GET /_text_structure/find_field_structure?index=logs&field=message"
    );
    let err = c
        .call("open_point_in_time", [("index", json!("i"))], None)
        .into_request()
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Config);
    assert!(
        err.to_string().contains("`keep_alive` is required"),
        "{err}"
    );
    let err = c
        .call(
            "text_structure.find_field_structure",
            Vec::<(String, _)>::new(),
            None,
        )
        .into_request()
        .unwrap_err();
    assert!(
        err.to_string().contains("`index`, `field` are required"),
        "{err}"
    );
    let req = c
        .call(
            "open_point_in_time",
            [("index", json!("i")), ("keep_alive", json!("1m"))],
            None,
        )
        .into_request()
        .unwrap();
    assert_eq!(line(&req), "POST /i/_pit?keep_alive=1m");
}
