//! The constructors write the query DSL as the reference documents it (long forms, as the
//! server reads them), and every generated query type converts into a `Query`.

use es_dsl::Query;
use es_dsl::es_api::types::query_dsl::{MatchAllQuery, QueryContainer};
use serde_json::{Value, json};

fn j(q: impl Into<Query>) -> Value {
    serde_json::to_value(q.into()).unwrap()
}

#[test]
fn constructors_write_the_reference_json() {
    assert_eq!(j(Query::match_all()), json!({"match_all": {}}));
    assert_eq!(j(Query::match_none()), json!({"match_none": {}}));
    assert_eq!(
        j(Query::match_("message", "this is a test")),
        json!({"match": {"message": {"query": "this is a test"}}})
    );
    assert_eq!(
        j(Query::match_phrase("message", "this is a test")),
        json!({"match_phrase": {"message": {"query": "this is a test"}}})
    );
    assert_eq!(
        j(Query::multi_match("this is a test", ["subject", "message"])),
        json!({"multi_match": {"query": "this is a test", "fields": ["subject", "message"]}})
    );
    assert_eq!(
        j(Query::term("user.id", "kimchy")),
        json!({"term": {"user.id": {"value": "kimchy"}}})
    );
    assert_eq!(
        j(Query::term("age", 7)),
        json!({"term": {"age": {"value": 7}}})
    );
    assert_eq!(
        j(Query::term("active", true)),
        json!({"term": {"active": {"value": true}}})
    );
    assert_eq!(
        j(Query::terms("user.id", ["kimchy", "elkbee"])),
        json!({"terms": {"user.id": ["kimchy", "elkbee"]}})
    );
    assert_eq!(
        j(Query::range("age").gte(10).lte(20).boost(2.0)),
        json!({"range": {"age": {"gte": 10, "lte": 20, "boost": 2.0}}})
    );
    assert_eq!(
        j(Query::range("timestamp")
            .gte("now-1d/d")
            .lt("now/d")
            .time_zone("+01:00")),
        json!({"range": {"timestamp": {"gte": "now-1d/d", "lt": "now/d", "time_zone": "+01:00"}}})
    );
    assert_eq!(
        j(Query::exists("user")),
        json!({"exists": {"field": "user"}})
    );
    assert_eq!(
        j(Query::ids(["1", "4", "100"])),
        json!({"ids": {"values": ["1", "4", "100"]}})
    );
    assert_eq!(
        j(Query::prefix("user.id", "ki")),
        json!({"prefix": {"user.id": {"value": "ki"}}})
    );
    assert_eq!(
        j(Query::wildcard("user.id", "ki*y")),
        json!({"wildcard": {"user.id": {"value": "ki*y"}}})
    );
    assert_eq!(
        j(Query::regexp("user.id", "k.*y")),
        json!({"regexp": {"user.id": {"value": "k.*y"}}})
    );
    assert_eq!(
        j(Query::query_string("(new york city) OR (big apple)")),
        json!({"query_string": {"query": "(new york city) OR (big apple)"}})
    );
    assert_eq!(
        j(Query::nested("obj1", Query::match_("obj1.name", "blue"))),
        json!({"nested": {"path": "obj1", "query": {"match": {"obj1.name": {"query": "blue"}}}}})
    );
    assert_eq!(
        j(Query::constant_score(Query::term("user.id", "kimchy"), 1.2)),
        json!({"constant_score": {"filter": {"term": {"user.id": {"value": "kimchy"}}}, "boost": 1.2}})
    );
    assert_eq!(
        j(Query::knn("image-vector", vec![-5.0, 9.0, -12.0], 10, 100)),
        json!({"knn": {"field": "image-vector", "query_vector": [-5.0, 9.0, -12.0], "k": 10, "num_candidates": 100}})
    );
    assert_eq!(
        j(Query::bool()
            .must(Query::term("user.id", "kimchy"))
            .filter(Query::term("tags", "production"))
            .must_not(Query::range("age").gte(10).lte(20))
            .should(Query::term("tags", "env1"))
            .should(Query::term("tags", "deployed"))
            .minimum_should_match(1)
            .boost(1.0)),
        json!({"bool": {
            "must": [{"term": {"user.id": {"value": "kimchy"}}}],
            "filter": [{"term": {"tags": {"value": "production"}}}],
            "must_not": [{"range": {"age": {"gte": 10, "lte": 20}}}],
            "should": [{"term": {"tags": {"value": "env1"}}}, {"term": {"tags": {"value": "deployed"}}}],
            "minimum_should_match": 1,
            "boost": 1.0
        }})
    );
}

#[test]
fn generated_types_and_raw_json_convert() {
    assert_eq!(Query::from(MatchAllQuery::default()), Query::match_all());
    let q: Query = QueryContainer::MatchAll(MatchAllQuery::default()).into();
    assert_eq!(q, Query::match_all());
    // The short form reads as the long one.
    assert_eq!(
        Query::raw(json!({"term": {"user.id": "kimchy"}})).unwrap(),
        Query::term("user.id", "kimchy")
    );
    // A plugin's query is kept and written back as it was.
    let plugin = json!({"my_plugin": {"field": "x"}});
    assert_eq!(j(Query::raw(plugin.clone()).unwrap()), plugin);
    // Not a query: an error, not a panic.
    assert!(Query::raw(json!("match")).is_err());
    assert!(Query::raw(json!({})).is_err());
}

/// Long operator chains merge into one flat `bool` (elasticsearch-dsl's rules), in order.
/// Each `&` / `|` moves the clauses already merged rather than copying them, so a chain of n
/// operators is linear: 20,000 clauses here (a quadratic merge would copy 200 million
/// clauses and stall this test; its speed is measured, not asserted, see the changelog).
#[test]
fn long_operator_chains_merge_flat() {
    const N: i64 = 20_000;
    let mut and = Query::term("n", 0);
    let mut or = Query::term("n", 0);
    for i in 1..N {
        and = and & Query::term("n", i);
        or = or | Query::term("n", i);
    }
    let and = j(and);
    let must = and["bool"]["must"].as_array().expect("one flat must list");
    assert_eq!(must.len(), N as usize);
    assert_eq!(must[0], json!({"term": {"n": {"value": 0}}}));
    assert_eq!(
        must[N as usize - 1],
        json!({"term": {"n": {"value": N - 1}}})
    );
    assert_eq!(and["bool"].as_object().unwrap().len(), 1, "only must");
    let or = j(or);
    let should = or["bool"]["should"]
        .as_array()
        .expect("one flat should list");
    assert_eq!(should.len(), N as usize);
    assert_eq!(should[1], json!({"term": {"n": {"value": 1}}}));
    assert_eq!(or["bool"].as_object().unwrap().len(), 1, "only should");
}
