//! The constructors write the query DSL as the reference documents it (long forms, as the
//! server reads them), and every generated query type converts into a `Query`.

use es_dsl::es_api::types::OneOrMany;
use es_dsl::es_api::types::query_dsl::{BoolQuery, MatchAllQuery, QueryContainer};
use es_dsl::{Query, Search};
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

/// The address of the heap buffer of a term clause's field name (of the term inside a
/// `bool.must_not` for a negated one). A moved clause keeps it; a copied one cannot (a
/// `String` clone allocates its buffer while the original is still alive).
fn field_addr(q: &QueryContainer) -> *const u8 {
    match q {
        QueryContainer::Term(t) => t.key.as_ptr(),
        QueryContainer::Bool(b) => {
            let not = b.must_not.as_deref().expect("a negated term");
            assert_eq!(not.len(), 1);
            field_addr(not.iter().next().expect("one clause"))
        }
        other => panic!("not a term: {other:?}"),
    }
}

/// The addresses of the clauses of one list of `q`'s `bool`.
fn list_addrs(
    q: &QueryContainer,
    list: impl Fn(&BoolQuery) -> Option<&OneOrMany<QueryContainer>>,
) -> Vec<*const u8> {
    let QueryContainer::Bool(b) = q else {
        panic!("not a bool: {q:?}")
    };
    list(b)
        .expect("the clause list")
        .iter()
        .map(field_addr)
        .collect()
}

/// Merging moves clauses, never copies them: after every `&`, `|`, `Search::filter` and
/// `Search::exclude` of a chain, each clause merged so far (the earliest included) is still
/// the same heap object it was built as. A merge that copied the clauses already merged
/// (quadratic over a chain) fails at its first copy. The flat result is checked as JSON too.
#[test]
fn merging_moves_the_clauses_into_one_flat_bool() {
    const N: i64 = 50;
    let term = |i: i64| Query::term("n", i);
    let addr = |q: &Query| field_addr(&q.0);

    let (mut and, mut or) = (term(0), term(0));
    let (mut and_built, mut or_built) = (vec![addr(&and)], vec![addr(&or)]);
    for i in 1..N {
        let (a, o) = (term(i), term(i));
        and_built.push(addr(&a));
        or_built.push(addr(&o));
        and = and & a;
        or = or | o;
        assert_eq!(
            list_addrs(&and.0, |b| b.must.as_deref()),
            and_built,
            "& {i}"
        );
        assert_eq!(
            list_addrs(&or.0, |b| b.should.as_deref()),
            or_built,
            "| {i}"
        );
    }
    // A mergeable bool on the right gives up its clauses by move as well.
    let (x, y) = (term(N), term(N + 1));
    and_built.extend([addr(&x), addr(&y)]);
    and = and & (x & y);
    assert_eq!(list_addrs(&and.0, |b| b.must.as_deref()), and_built);

    let and = j(and);
    let must = and["bool"]["must"].as_array().expect("one flat must list");
    assert_eq!(must.len(), N as usize + 2);
    assert_eq!(must[0], json!({"term": {"n": {"value": 0}}}));
    assert_eq!(
        must[N as usize + 1],
        json!({"term": {"n": {"value": N + 1}}})
    );
    assert_eq!(and["bool"].as_object().unwrap().len(), 1, "only must");
    let or = j(or);
    let should = or["bool"]["should"]
        .as_array()
        .expect("one flat should list");
    assert_eq!(should.len(), N as usize);
    assert_eq!(should[1], json!({"term": {"n": {"value": 1}}}));
    assert_eq!(or["bool"].as_object().unwrap().len(), 1, "only should");

    // Search::filter and Search::exclude, one clause a call, into the one bool.filter list.
    let mut s: Search = Search::new().query(Query::match_("title", "rust"));
    let mut built = Vec::new();
    for i in 0..2 * N {
        let q = term(i);
        built.push(addr(&q));
        s = if i < N { s.filter(q) } else { s.exclude(q) };
        let query = s.body().query.as_deref().expect("a query");
        assert_eq!(
            list_addrs(query, |b| b.filter.as_deref()),
            built,
            "filter {i}"
        );
    }
    let body = s.to_json();
    let bool_ = body["query"]["bool"].as_object().unwrap();
    assert_eq!(
        bool_.keys().collect::<Vec<_>>(),
        ["filter", "must"],
        "one bool, no nesting"
    );
    assert_eq!(
        bool_["must"],
        json!([{"match": {"title": {"query": "rust"}}}])
    );
    let filters = bool_["filter"].as_array().unwrap();
    assert_eq!(filters.len(), 2 * N as usize);
    assert_eq!(filters[0], json!({"term": {"n": {"value": 0}}}));
    assert_eq!(
        filters[N as usize],
        json!({"bool": {"must_not": [{"term": {"n": {"value": N}}}]}})
    );
}
