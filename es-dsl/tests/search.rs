//! `Search<T>`: the body it builds, and typed hits and aggregation results from a real
//! server (osmem-server over real sockets; see `es_tests::server`).

use es_dsl::es_api::Client;
use es_dsl::es_api::params::Refresh;
use es_dsl::es_api::types::aggregations::{Aggregate, Buckets};
use es_dsl::es_api::types::common::SortOrder;
use es_dsl::{Agg, ErrorKind, Query, Search, Sort};
use serde::{Deserialize, Serialize};
use serde_json::json;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct Post {
    title: String,
    status: String,
    tags: Vec<String>,
    price: f64,
}

#[test]
fn each_call_returns_a_new_search() {
    let base: Search = Search::new()
        .index("posts")
        .query(Query::match_("title", "rust"));
    let page2 = base.clone().slice(10..20);
    let filtered = base.clone().filter(Query::term("status", "published"));
    assert_eq!(
        base.to_json(),
        json!({"query": {"match": {"title": {"query": "rust"}}}})
    );
    assert_eq!(page2.to_json()["from"], 10);
    assert_eq!(page2.to_json()["size"], 10);
    assert_eq!(
        filtered.to_json()["query"],
        json!({"bool": {
            "must": [{"match": {"title": {"query": "rust"}}}],
            "filter": [{"term": {"status": {"value": "published"}}}]
        }})
    );
}

#[test]
fn query_calls_combine_with_and() {
    // elasticsearch-dsl: s.query(a).query(b) is a & b.
    let s: Search = Search::new()
        .query(Query::match_("title", "python"))
        .query(Query::match_("title", "django"));
    assert_eq!(
        s.to_json()["query"],
        json!({"bool": {"must": [
            {"match": {"title": {"query": "python"}}},
            {"match": {"title": {"query": "django"}}}
        ]}})
    );
    let replaced = s.set_query(Query::match_all());
    assert_eq!(replaced.to_json()["query"], json!({"match_all": {}}));
}

#[test]
fn sort_source_highlight_and_friends() {
    let s: Search = Search::new()
        .sort("-published")
        .sort("title")
        .sort(Sort::asc("price").missing("_last"))
        .sort("_score")
        .source_includes(["title", "tags"])
        .source_excludes(["body"])
        .highlight(["title"])
        .collapse("user.id")
        .track_total_hits(true)
        .script_field("double_price", "doc['price'].value * 2")
        .post_filter(Query::term("tags", "rust"));
    assert_eq!(
        s.to_json(),
        json!({
            "sort": [{"published": {"order": "desc"}}, "title",
                     {"price": {"order": "asc", "missing": "_last"}}, "_score"],
            "_source": {"includes": ["title", "tags"], "excludes": ["body"]},
            "highlight": {"fields": [{"title": {}}]},
            "collapse": {"field": "user.id"},
            "track_total_hits": true,
            "script_fields": {"double_price": {"script": {"source": "doc['price'].value * 2"}}},
            "post_filter": {"term": {"tags": {"value": "rust"}}}
        })
    );
}

#[test]
fn a_stored_body_can_be_edited() {
    let stored = json!({
        "query": {"match": {"title": "rust"}},
        "aggs": {"by_tag": {"terms": {"field": "tags"}}},
        "size": 5
    });
    let s: Search = Search::from_json(stored)
        .unwrap()
        .filter(Query::term("status", "published"));
    let body = s.to_json();
    assert_eq!(body["size"], 5);
    assert_eq!(
        body["aggregations"]["by_tag"],
        json!({"terms": {"field": "tags"}})
    );
    assert_eq!(
        body["query"]["bool"]["filter"],
        json!([{"term": {"status": {"value": "published"}}}])
    );
    let err = Search::<serde_json::Value>::from_json(json!({"size": "many"})).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Invalid);
}

#[test]
fn pipeline_aggregations_by_bucket_path() {
    let s: Search = Search::new()
        .agg(
            "sales_per_month",
            Agg::date_histogram(
                "date",
                es_dsl::es_api::types::aggregations::CalendarInterval::Month,
            )
            .agg("sales", Agg::sum("price")),
        )
        .agg(
            "avg_monthly_sales",
            Agg::avg_bucket("sales_per_month>sales"),
        );
    // The reference's avg_bucket example.
    assert_eq!(
        s.to_json()["aggregations"],
        json!({
            "sales_per_month": {
                "date_histogram": {"field": "date", "calendar_interval": "month"},
                "aggs": {"sales": {"sum": {"field": "price"}}}
            },
            "avg_monthly_sales": {"avg_bucket": {"buckets_path": "sales_per_month>sales"}}
        })
    );
}

fn post(title: &str, status: &str, tags: &[&str], price: f64) -> Post {
    Post {
        title: title.into(),
        status: status.into(),
        tags: tags.iter().map(|t| t.to_string()).collect(),
        price,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn typed_hits_and_aggregations_from_a_real_server() {
    let server = es_tests::OsmemServer::start();
    let client = Client::from_url(&server.url()).unwrap();
    // The mapping, from the generated mapping types: tags and status are keywords (text
    // fields cannot be aggregated or sorted on).
    use es_dsl::es_api::types::mapping::{
        DoubleNumberProperty, KeywordProperty, Property, TextProperty, TypeMapping,
    };
    let mapping = TypeMapping {
        properties: Some(
            [
                ("title", Property::Text(TextProperty::default())),
                ("status", Property::Keyword(KeywordProperty::default())),
                ("tags", Property::Keyword(KeywordProperty::default())),
                ("price", Property::Double(DoubleNumberProperty::default())),
            ]
            .into_iter()
            .map(|(k, v)| (k.to_string(), v))
            .collect(),
        ),
        ..Default::default()
    };
    client
        .indices()
        .create("posts")
        .body(json!({ "mappings": mapping }))
        .send()
        .await
        .unwrap();
    let posts = [
        post(
            "Rust async in practice",
            "published",
            &["rust", "async"],
            10.0,
        ),
        post("Rust ownership", "published", &["rust"], 20.0),
        post("Rust draft notes", "draft", &["rust"], 30.0),
        post("Python typing", "published", &["python"], 40.0),
        post("Async Python", "published", &["python", "async"], 50.0),
    ];
    for (i, p) in posts.iter().enumerate() {
        client
            .index("posts")
            .id(i.to_string())
            .body(p)
            .refresh(Refresh::True)
            .send()
            .await
            .unwrap();
    }

    let search = Search::<Post>::new()
        .index("posts")
        .query(Query::match_("title", "rust"))
        .exclude(Query::term("status", "draft"))
        .agg(
            "by_tag",
            Agg::terms("tags")
                .size(10)
                .order("_key", SortOrder::Asc)
                .agg("avg_price", Agg::avg("price")),
        )
        .agg("max_price", Agg::max("price"))
        .sort(Sort::asc("price"))
        .size(10);
    let response = match search.execute(&client).await {
        Ok(r) => r,
        Err(e) => panic!(
            "{e}: {:?}",
            e.api()
                .and_then(|a| a.api_error())
                .map(|a| String::from_utf8_lossy(a.body()).to_string())
        ),
    };
    let titles: Vec<&str> = response.documents().map(|p| p.title.as_str()).collect();
    assert_eq!(titles, ["Rust async in practice", "Rust ownership"]);
    assert_eq!(response.total(), Some(2));

    // Typed results by name, and the typed values beneath (the spec's enum).
    let tags = response.aggs().terms("by_tag").unwrap();
    let keys: Vec<(&str, i64)> = tags
        .iter()
        .map(|b| (b.key_str().unwrap(), b.doc_count))
        .collect();
    assert_eq!(keys, [("async", 1), ("rust", 2)]);
    assert_eq!(tags[1].aggs().value("avg_price").unwrap(), Some(15.0));
    assert_eq!(response.aggs().value("max_price").unwrap(), Some(20.0));
    let Ok(Aggregate::StringTerms(raw)) = response.aggs().get("by_tag") else {
        panic!("the spec's typed result is there too");
    };
    let Buckets::Array(list) = &raw.buckets else {
        panic!("array buckets");
    };
    assert_eq!(list.len(), 2);
    // A missing or mistyped name is an error that says what is there.
    let err = response.aggs().terms("by_tags").unwrap_err();
    assert!(err.to_string().contains("by_tag"), "{err}");
    let err = response.aggs().terms("max_price").unwrap_err();
    assert!(err.to_string().contains("max"), "{err}");

    // _count with the same query.
    assert_eq!(search.count(&client).await.unwrap(), 2);

    // The server's refusal is an error, never an empty result.
    let bad = Search::<Post>::new()
        .index("posts")
        .query(Query::raw(json!({"no_such_query": {}})).unwrap());
    let err = bad.execute(&client).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Api, "{err}");

    // A point in time names no index: refused before sending.
    let err = Search::<Post>::new()
        .index("posts")
        .pit("abc", "1m")
        .execute(&client)
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Input);
}

/// The reference's "Nested sorting examples" (sort-search-results, `nested` sort option),
/// written from the documentation by hand: the built search reads the same as the
/// documented body (whose short query forms the typed parse normalizes), and the sort keys
/// are exactly the documented ones.
#[test]
fn nested_sort_as_the_reference_documents_it() {
    use es_dsl::es_api::types::common::SortMode;

    // "the field price of the nested offer objects, average of the blue offers".
    let documented = json!({
        "query": {"term": {"product": "chocolate"}},
        "sort": [{
            "offer.price": {
                "mode": "avg",
                "order": "asc",
                "nested": {
                    "path": "offer",
                    "filter": {"term": {"offer.color": "blue"}}
                }
            }
        }]
    });
    let built: Search = Search::new()
        .query(Query::term("product", "chocolate"))
        .sort(
            Sort::asc("offer.price")
                .mode(SortMode::Avg)
                .nested_filter("offer", Query::term("offer.color", "blue")),
        );
    assert_eq!(built, Search::from_json(documented).unwrap());
    assert_eq!(
        built.to_json()["sort"],
        json!([{"offer.price": {
            "mode": "avg",
            "order": "asc",
            "nested": {"path": "offer", "filter": {"term": {"offer.color": {"value": "blue"}}}}
        }}])
    );

    // Multi-level: "parent.child.age" inside "parent", each level with its own filter.
    let documented = json!({
        "query": {
            "nested": {
                "path": "parent",
                "query": {
                    "bool": {
                        "must": {"range": {"parent.age": {"gte": 21}}},
                        "filter": {
                            "nested": {
                                "path": "parent.child",
                                "query": {"match": {"parent.child.name": "matt"}}
                            }
                        }
                    }
                }
            }
        },
        "sort": [{
            "parent.child.age": {
                "mode": "min",
                "order": "asc",
                "nested": {
                    "path": "parent",
                    "filter": {"range": {"parent.age": {"gte": 21}}},
                    "nested": {
                        "path": "parent.child",
                        "filter": {"match": {"parent.child.name": "matt"}}
                    }
                }
            }
        }]
    });
    let mut documented_search: Search = Search::from_json(documented).unwrap();
    let built: Search = Search::new()
        .set_query(Query::nested(
            "parent",
            Query::bool()
                .must(Query::range("parent.age").gte(21))
                .filter(Query::nested(
                    "parent.child",
                    Query::match_("parent.child.name", "matt"),
                )),
        ))
        .sort(
            Sort::asc("parent.child.age")
                .mode(SortMode::Min)
                .nested_filter("parent", Query::range("parent.age").gte(21))
                .nested_filter("parent.child", Query::match_("parent.child.name", "matt")),
        );
    // The sort reads the same as the documented one.
    assert_eq!(
        built.body().sort,
        documented_search.body().sort,
        "{}",
        built.to_json()["sort"]
    );
    // The query too, once the documented single `must` and `filter` clauses are written as
    // one-clause lists (the same query: `T | T[]`; the builder writes lists) and the short
    // forms long.
    documented_search.body_mut().sort = None;
    let mut without_sort = built.clone();
    without_sort.body_mut().sort = None;
    assert_eq!(
        without_sort.to_json(),
        json!({"query": {"nested": {
            "path": "parent",
            "query": {"bool": {
                "must": [{"range": {"parent.age": {"gte": 21}}}],
                "filter": [{"nested": {
                    "path": "parent.child",
                    "query": {"match": {"parent.child.name": {"query": "matt"}}}
                }}]
            }}
        }}})
    );
    assert_eq!(
        documented_search.to_json(),
        json!({"query": {"nested": {
            "path": "parent",
            "query": {"bool": {
                "must": {"range": {"parent.age": {"gte": 21}}},
                "filter": {"nested": {
                    "path": "parent.child",
                    "query": {"match": {"parent.child.name": {"query": "matt"}}}
                }}
            }}
        }}})
    );
    let sort = &built.to_json()["sort"][0]["parent.child.age"];
    assert_eq!(sort["nested"]["path"], "parent");
    assert_eq!(sort["nested"]["nested"]["path"], "parent.child");
    assert_eq!(
        sort["nested"]["nested"]["filter"],
        json!({"match": {"parent.child.name": {"query": "matt"}}})
    );

    // max_children applies to the deepest level; a bare field name takes options too; the
    // non-field sorts take none.
    let s = Sort::from("offer.price")
        .nested("offer")
        .nested_max_children(3);
    assert_eq!(
        serde_json::to_value(&s.0).unwrap(),
        json!({"offer.price": {"nested": {"path": "offer", "max_children": 3}}})
    );
    let score = Sort::desc("_score").nested("offer").mode(SortMode::Max);
    assert_eq!(
        serde_json::to_value(&score.0).unwrap(),
        json!({"_score": {"order": "desc"}})
    );
}

/// Request bodies from the search API reference, written by hand from the documentation:
/// the built search reads the same as the documented body (short query forms normalized by
/// the typed parse), and writes the documented sections.
#[test]
fn body_features_as_the_reference_documents_them() {
    use es_dsl::es_api::types::common::KnnSearch;
    use es_dsl::es_api::types::mapping::{RuntimeField, RuntimeFieldType};
    use es_dsl::es_api::types::search::{Rescore, RescoreQuery};

    // fields (Retrieve selected fields: "fields": ["user.id", "http.response.*"], no _source).
    let documented = json!({
        "query": {"match": {"user.id": "kimchy"}},
        "fields": ["user.id", "http.response.*"],
        "_source": false
    });
    let built: Search = Search::new()
        .query(Query::match_("user.id", "kimchy"))
        .fields(["user.id", "http.response.*"])
        .source(false);
    assert_eq!(built, Search::from_json(documented).unwrap());

    // suggest (term suggester).
    let documented = json!({
        "query": {"match": {"message": "tring out Elasticsearch"}},
        "suggest": {
            "my-suggestion": {
                "text": "tring out Elasticsearch",
                "term": {"field": "message"}
            }
        }
    });
    let built: Search = Search::new()
        .query(Query::match_("message", "tring out Elasticsearch"))
        .suggest_term("my-suggestion", "tring out Elasticsearch", "message");
    assert_eq!(built, Search::from_json(documented.clone()).unwrap());
    assert_eq!(built.to_json()["suggest"], documented["suggest"]);

    // knn (approximate kNN search).
    let documented = json!({
        "knn": {
            "field": "image-vector",
            "query_vector": [-5, 9, -12],
            "k": 10,
            "num_candidates": 100
        },
        "fields": ["title", "file-type"]
    });
    let mut knn = KnnSearch::new("image-vector");
    knn.query_vector = Some(vec![-5.0, 9.0, -12.0]);
    knn.k = Some(10);
    knn.num_candidates = Some(100);
    let built: Search = Search::new().knn(knn).fields(["title", "file-type"]);
    // The builder writes `knn` as a list (`T | T[]`): one search, the documented one.
    assert!(es_tests::json::same_json(
        &built.to_json()["knn"],
        &json!([documented["knn"]])
    ));

    // rescore (query rescorer).
    let documented = json!({
        "query": {"match": {"message": {"operator": "or", "query": "the quick brown"}}},
        "rescore": {
            "window_size": 50,
            "query": {
                "rescore_query": {
                    "match_phrase": {"message": {"query": "the quick brown", "slop": 2}}
                },
                "query_weight": 0.7,
                "rescore_query_weight": 1.2
            }
        }
    });
    let mut phrase =
        Query::raw(json!({"match_phrase": {"message": {"query": "the quick brown", "slop": 2}}}))
            .unwrap();
    let mut rq = RescoreQuery::new(std::mem::replace(&mut phrase, Query::match_all()).0);
    rq.query_weight = Some(0.7);
    rq.rescore_query_weight = Some(1.2);
    let mut rescore = Rescore::from(rq);
    rescore.window_size = Some(50);
    let built: Search = Search::new()
        .query(
            Query::raw(
                json!({"match": {"message": {"operator": "or", "query": "the quick brown"}}}),
            )
            .unwrap(),
        )
        .rescore(rescore);
    assert!(es_tests::json::same_json(
        &built.to_json()["rescore"],
        &json!([documented["rescore"]])
    ));

    // Runtime fields in a search request.
    let documented = json!({
        "runtime_mappings": {
            "day_of_week": {
                "type": "keyword",
                "script": {
                    "source": "emit(doc['@timestamp'].value.dayOfWeekEnum.getDisplayName(TextStyle.FULL, Locale.ENGLISH))"
                }
            }
        },
        "aggs": {"day_of_week": {"terms": {"field": "day_of_week"}}}
    });
    let mut rf = RuntimeField::new(RuntimeFieldType::Keyword);
    rf.script = Some(
        es_dsl::InlineScript::new(
            "emit(doc['@timestamp'].value.dayOfWeekEnum.getDisplayName(TextStyle.FULL, Locale.ENGLISH))",
        )
        .into(),
    );
    let built: Search = Search::new()
        .runtime_field("day_of_week", rf)
        .agg("day_of_week", Agg::terms("day_of_week"));
    assert_eq!(built, Search::from_json(documented.clone()).unwrap());
    assert_eq!(
        built.to_json()["runtime_mappings"],
        documented["runtime_mappings"]
    );

    // script_fields (the documented example, without its `"lang": "painless"`, the default).
    let documented = json!({
        "query": {"match_all": {}},
        "script_fields": {
            "test1": {"script": {"source": "doc['price'].value * 2"}}
        }
    });
    let built: Search = Search::new()
        .query(Query::match_all())
        .script_field("test1", "doc['price'].value * 2");
    assert_eq!(built, Search::from_json(documented.clone()).unwrap());
    assert_eq!(built.to_json(), documented);
}

/// A search response as the reference documents one (hits with highlight, inner hits,
/// fields; shards), written by hand, read through `SearchResults`.
#[test]
fn results_read_highlight_inner_hits_fields_and_shards() {
    let documented = json!({
        "took": 5,
        "timed_out": false,
        "_shards": {"total": 2, "successful": 1, "skipped": 0, "failed": 1,
            "failures": [{"shard": 1, "index": "test", "node": "n1",
                "reason": {"type": "illegal_argument_exception", "reason": "boom"}}]},
        "hits": {
            "total": {"value": 1, "relation": "eq"},
            "max_score": 1.0,
            "hits": [{
                "_index": "test",
                "_id": "1",
                "_score": 1.0,
                "_source": {"title": "Test title"},
                "highlight": {"message": [" with the <em>number</em>", " <em>1</em>"]},
                "fields": {"user.id": ["kimchy"], "@timestamp": ["4098435132000"]},
                "inner_hits": {
                    "comments": {
                        "hits": {
                            "total": {"value": 1, "relation": "eq"},
                            "max_score": 1.0,
                            "hits": [{
                                "_index": "test",
                                "_id": "1",
                                "_nested": {"field": "comments", "offset": 1},
                                "_score": 1.0,
                                "_source": {"author": "nik9000", "number": 2}
                            }]
                        }
                    }
                }
            }]
        }
    });
    let r: es_dsl::SearchResults<serde_json::Value> = serde_json::from_value(documented).unwrap();
    assert_eq!(r.took(), 5);
    let shards = r.shards();
    assert_eq!((shards.total, shards.successful, shards.failed), (2, 1, 1));
    assert_eq!(shards.skipped, Some(0));
    assert_eq!(shards.failures.as_ref().map(Vec::len), Some(1));
    let hit = &r.hits()[0];
    let hl = hit.highlight.as_ref().unwrap();
    assert_eq!(hl["message"], [" with the <em>number</em>", " <em>1</em>"]);
    let fields = hit.fields.as_ref().unwrap();
    assert_eq!(fields["user.id"], json!(["kimchy"]));
    assert_eq!(fields["@timestamp"], json!(["4098435132000"]));
    let inner = &hit.inner_hits.as_ref().unwrap()["comments"];
    let inner_hit = serde_json::to_value(&inner.hits.hits[0]).unwrap();
    assert_eq!(
        inner_hit["_nested"],
        json!({"field": "comments", "offset": 1})
    );
    assert_eq!(
        inner_hit["_source"],
        json!({"author": "nik9000", "number": 2})
    );
}

/// A term suggester's answer (the reference's response, with `typed_keys` as `execute`
/// asks), read through `SearchResults::suggest` / `suggestion_texts`.
#[test]
fn results_read_suggestions() {
    let documented = json!({
        "took": 1, "timed_out": false,
        "_shards": {"total": 1, "successful": 1, "skipped": 0, "failed": 0},
        "hits": {"total": {"value": 0, "relation": "eq"}, "max_score": null, "hits": []},
        "suggest": {
            "term#my-suggest-1": [
                {"text": "tring", "offset": 0, "length": 5,
                 "options": [{"text": "trying", "score": 0.8, "freq": 1}]},
                {"text": "out", "offset": 6, "length": 3, "options": []},
                {"text": "elasticsearch", "offset": 10, "length": 13, "options": []}
            ]
        }
    });
    let r: es_dsl::SearchResults<serde_json::Value> = serde_json::from_value(documented).unwrap();
    assert_eq!(r.suggest("my-suggest-1").unwrap().len(), 3);
    assert_eq!(
        r.suggestion_texts("my-suggest-1").unwrap(),
        vec![vec!["trying"], vec![], vec![]]
    );
    let err = r.suggest("no-such").unwrap_err();
    assert!(err.to_string().contains("my-suggest-1"), "{err}");
}

/// The request parameters as the search reference writes them
/// (`GET /posts/_search?routing=…&preference=_local&request_cache=true&timeout=2s`), seen on
/// the wire through the fault proxy in front of osmem; and `_msearch` carrying them in each
/// search's header line (`routing`, `preference`, `request_cache`: the msearch header's
/// fields) and `timeout` in its body (the header has no `timeout`).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn request_parameters_on_the_wire_and_in_msearch_headers() {
    use std::collections::BTreeSet;
    use std::sync::{Arc, Mutex};

    let server = es_tests::OsmemServer::start();
    let proxy = es_tests::FaultProxy::start(server.addr());
    // (path with query, body) of every request.
    type Seen = Arc<Mutex<Vec<(String, Vec<u8>)>>>;
    let bodies: Seen = Arc::default();
    let seen = bodies.clone();
    proxy.set_rule(Arc::new(move |req: &es_tests::RequestInfo| {
        seen.lock()
            .unwrap()
            .push((req.path.clone(), req.body.to_vec()));
        None
    }));
    let client = Client::from_url(&proxy.url()).unwrap();
    client
        .index("posts")
        .id("1")
        .body(post("Rust", "published", &["rust"], 10.0))
        .refresh(Refresh::True)
        .send()
        .await
        .unwrap();

    let s = Search::<Post>::new()
        .index("posts")
        .query(Query::match_("title", "rust"))
        .routing("user1")
        .preference("_local")
        .request_cache(true)
        .timeout("2s");
    let r = s.execute(&client).await.unwrap();
    // osmem's index has one shard: every routing value reaches it.
    assert_eq!(r.documents().count(), 1);
    let (path, _) = bodies.lock().unwrap().last().cloned().unwrap();
    let (p, q) = path.split_once('?').unwrap();
    assert_eq!(p, "/posts/_search");
    let params: BTreeSet<&str> = q.split('&').collect();
    let expected: BTreeSet<&str> = [
        "typed_keys=true",
        "routing=user1",
        "preference=_local",
        "request_cache=true",
        "timeout=2s",
    ]
    .into_iter()
    .collect();
    assert_eq!(params, expected);

    // _msearch: the same search, and a plain one with only a timeout.
    let mut ms = es_dsl::MultiSearch::new();
    let a = ms.add(s.clone());
    let b = ms.add(Search::<Post>::new().index("posts").timeout("1s"));
    let results = ms.execute(&client).await.unwrap();
    let (path, body) = bodies.lock().unwrap().last().cloned().unwrap();
    assert_eq!(path, "/_msearch?typed_keys=true");
    let lines: Vec<serde_json::Value> = String::from_utf8(body)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(
        lines,
        [
            json!({"index": ["posts"], "routing": "user1", "preference": "_local", "request_cache": true}),
            json!({"query": {"match": {"title": {"query": "rust"}}}, "timeout": "2s"}),
            json!({"index": ["posts"]}),
            json!({"timeout": "1s"}),
        ]
    );
    assert_eq!(results.get(b).unwrap().documents().count(), 1);
    assert!(results.get(a).is_ok());
}
